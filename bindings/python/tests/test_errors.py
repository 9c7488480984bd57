"""Bad input from Python gets typed errors naming the problem, never a crash."""

import gc
import uuid
from datetime import timedelta

import pytest

import gridwork as g
from fixtures import AREAS, GRID, OTHER_TOWN, Recorder, household, now, store_for, visit


def invalid(field, fn, *args):
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        fn(*args)
    assert e.value.field == field, e.value
    assert e.value.code() == "invalid_input"


def test_forms_get_field_errors():
    s = store_for()
    invalid("head_name", s.add_household, household("", "和平路1号"))
    invalid("address", s.add_household, household("张三", "  "))
    invalid("member_count", s.add_household, household("张三", "和平路1号", members=0))
    invalid("phone", s.add_household, household("张三", "和平路1号", phone="12345"))
    invalid("tags", s.add_household, household("张三", "和平路1号", tags=[g.HouseholdTag.DRUG_REHAB]))
    invalid("area", s.households_in, "32061", 10)
    invalid("area", s.due_visits, "abc", now(), 10)
    invalid("area", s.search_households, "", "王", 10)
    invalid("parent", s.child_areas, "x/y")
    invalid("path", s.area, "320612/")
    invalid("query", s.search_households, GRID, "王" * 1000, 10)
    invalid("hashes", s.acknowledge, [b"abc"])
    invalid("key", g.GridworkStore.open, "unused.db", b"12345")
    invalid("path", g.GridworkStore.open, "", None)
    invalid("change", g.change_hash,
            g.ChangeEnvelope(doc_id=str(uuid.uuid4()), kind=g.RecordKind.VISIT, area=GRID, bytes=b"\x01"))
    invalid("area", g.parse_area_path, "320612/abcd")
    invalid("phone", g.normalize_phone, "call me")
    assert g.normalize_phone("+86 138-1234-5678") == "13812345678"
    assert g.parse_area_path(f" {GRID} ") == GRID
    assert g.gridwork_version()

    h = s.add_household(household("张三", "和平路1号"))
    invalid("satisfaction", s.record_visit, visit(h, now(), satisfaction=9))
    invalid("follow_up_due", s.record_visit, visit(h, now(), follow_up_due=now() - timedelta(days=1)))
    invalid("satisfaction", s.resolve_conflict, g.RecordKind.HOUSEHOLD, h, "satisfaction", "x")


def test_missing_records_scope_and_sign_in_are_typed():
    s = store_for()
    nobody = str(uuid.uuid4())
    assert s.household(nobody) is None
    with pytest.raises(g.GridworkError.NotFound) as nf:
        s.visit(nobody)
    assert nf.value.code() == "not_found"
    for fn, args in [
        (s.record_visit, (visit(nobody, now()),)),
        (s.history, (g.RecordKind.HOUSEHOLD, nobody)),
        (s.conflicts, (g.RecordKind.VISIT, nobody)),
        (s.delete_record, (g.RecordKind.HOUSEHOLD, nobody)),
        (s.update_household, (nobody, household("张三", "和平路1号"))),
        (s.add_household, (household("张三", "和平路1号", area="320612/001/001/01/09"),)),
    ]:
        with pytest.raises(g.GridworkError.NotFound):
            fn(*args)
    with pytest.raises(g.GridworkError.OutOfScope) as scope:
        s.add_household(household("张三", "和平路1号", area=OTHER_TOWN))
    assert (scope.value.area, scope.value.scope) == (OTHER_TOWN, GRID)
    with pytest.raises(g.GridworkError.InvalidInput):
        s.add_households([household("甲", "一号"), household("", "二号")])
    assert s.count_records(g.RecordKind.HOUSEHOLD) == 0
    with pytest.raises(g.GridworkError.BadChange) as bad:
        s.apply_changes([g.ChangeEnvelope(doc_id=nobody, kind=g.RecordKind.HOUSEHOLD, area=GRID,
                                          bytes=b"\x00\x01\x02")])
    assert bad.value.doc_id == nobody

    fresh = g.GridworkStore.open_in_memory()
    fresh.load_areas(AREAS)
    with pytest.raises(g.GridworkError.NotSignedIn):
        fresh.add_household(household("张三", "和平路1号"))
    with pytest.raises(g.GridworkError.NotSignedIn):
        fresh.my_day(now(), now())
    invalid("user_id", fresh.sign_in, g.SignedInUser(user_id="", name="张三", role=g.Role.LIAISON, scope=GRID))
    with pytest.raises(g.GridworkError.NotFound):
        fresh.load_areas([g.Area(path="320699/001", name="孤儿")])
    invalid("name", fresh.load_areas, [g.Area(path="320699", name=" ")])


def test_malformed_values_inside_records_fail_the_call_not_the_process():
    s = store_for()
    with pytest.raises(g.InternalError) as e:
        s.add_household(household("张三", "和平路1号", area="not/an/area"))
    assert "area" in str(e.value)
    with pytest.raises(Exception):
        s.visit("not-a-uuid")
    assert s.count_records(g.RecordKind.HOUSEHOLD) == 0
    s.add_household(household("张三", "和平路1号"))
    assert s.count_records(g.RecordKind.HOUSEHOLD) == 1


def test_a_throwing_observer_never_fails_the_write():
    class Broken(g.DataObserver):
        calls = 0

        def on_data_changed(self, change):
            Broken.calls += 1
            raise RuntimeError("UI is gone")

    s = store_for()
    sub = s.subscribe(Broken())
    hid = s.add_household(household("张三", "和平路1号"))
    assert s.household(hid).head_name == "张三"
    s.add_household(household("李四", "和平路2号"))
    assert Broken.calls == 2
    del sub


def test_dropping_the_subscription_unsubscribes():
    s = store_for()
    rec = Recorder()
    sub = s.subscribe(rec)
    s.add_household(household("张三", "和平路1号"))
    assert len(rec.heard) == 1
    del sub
    gc.collect()
    s.add_household(household("李四", "和平路2号"))
    assert len(rec.heard) == 1
