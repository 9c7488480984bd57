"""Finding households by Chinese name, address fragment, pinyin or phone digits."""

from fixtures import GRID, OTHER_TOWN, household, store_for


def test_search_chinese_names():
    s = store_for()
    wang = s.add_household(household("王芳", "幸福小区3幢2单元301室", "13812345678"))
    ouyang = s.add_household(household("欧阳娜娜", "和平路18号", "13900001111",
                                       area="320612/001/001/01/02"))
    s.add_households([household(f"住户{i}", f"人民路{i}号") for i in range(1, 21)])

    def find(q):
        return [h.id for h in s.search_households(GRID, q, 50)]

    for q in ["王芳", "芳", "wf", "wangfang", "5678", "幸福", "301"]:
        assert wang in find(q), q
        assert ouyang not in find(q), q
    for q in ["欧阳", "娜娜", "oy", "1111", "和平路"]:
        assert ouyang in find(q), q
    assert find("王芳")[0] == wang
    assert find("   ") == []
    assert s.search_households(OTHER_TOWN, "王芳", 10) == []
    assert [h.id for h in s.search_households("320612/001/001/01/02", "娜", 10)] == [ouyang]
    for q in ['"', "王 OR 芳", "*", "NEAR(", "a:b"]:
        s.search_households(GRID, q, 10)
