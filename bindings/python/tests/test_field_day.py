"""A grid worker's day, start to finish, on an encrypted store; a visit edited on two phones."""

from datetime import timedelta

import pytest

import gridwork as g
from fixtures import AREAS, GRID, MICRO, exchange, household, now, store_for, visit, worker

KEY = bytes((i * 7 + 1) % 256 for i in range(32))


def test_record_a_day_of_field_work(tmp_path):
    path = str(tmp_path / "gridwork.db")
    store = g.GridworkStore.open(path, KEY)
    assert store.load_areas(AREAS) == len(AREAS)
    store.sign_in(worker())
    assert store.signed_in_user().name == "李娟"
    assert [a.path for a in store.child_areas("320612")] == ["320612/001", "320612/002"]
    assert store.area(GRID).name == "第一网格"

    elderly = store.add_household(household("王秀英", "幸福小区3幢2单元301室", "13812345678",
                                            [g.HouseholdTag.ELDERLY_ALONE], members=1))
    others = store.add_households([
        household("张伟", "幸福小区3幢2单元302室", "0513-86123456"),
        household("刘洋", "幸福小区3幢2单元401室", tags=[g.HouseholdTag.RENTAL]),
    ])
    assert len(others) == 2

    day = store.my_day(now() - timedelta(hours=1), now() + timedelta(seconds=60))
    assert len(day.due_visits) == 3 and day.due_visit_count == 3
    assert day.pending_changes == 3
    assert day.user_id == "w1" and day.scope == "320612/001/001/01"

    later = now()
    v1 = store.record_visit(visit(elderly, later, situation="独居，身体尚可", needs="希望安装扶手",
                                  satisfaction=5, location=g.Location(lat=32.0, lon=120.86)))
    store.record_visit(visit(others[0], later, outcome=g.VisitOutcome.NOT_HOME))
    met = store.visit(v1)
    assert (met.needs, met.satisfaction, met.visitor) == ("希望安装扶手", 5, "w1")
    assert met.location.lat == 32.0
    h = store.household(elderly)
    assert h.interval_days == 7
    assert abs((h.last_visit_at - later).total_seconds()) < 0.002
    assert [v.id for v in store.visits_of_household(elderly)] == [v1]

    due = [d.household.id for d in store.due_visits(GRID, later + timedelta(seconds=60), 10)]
    assert elderly not in due and others[0] in due and others[1] in due
    next_week = [d.household.id for d in store.due_visits(GRID, later + timedelta(days=8), 10)]
    assert elderly in next_week

    store.update_household(others[1], household("刘洋", "幸福小区3幢2单元401室", "13900001111",
                                                [g.HouseholdTag.RENTAL], members=4))
    trail = store.history(g.RecordKind.HOUSEHOLD, others[1])
    assert [e.op for e in trail] == ["add_household", "update_household"]
    assert {"phone", "member_count"} <= set(trail[1].fields)
    assert store.conflicts(g.RecordKind.HOUSEHOLD, others[1]) == []

    assert store.count_records(g.RecordKind.HOUSEHOLD) == 3
    assert store.count_records(g.RecordKind.VISIT) == 2
    assert store.pending_changes() == 6
    assert store.integrity_check()
    store.checkpoint()
    del store

    with pytest.raises(g.GridworkError.Locked):
        g.GridworkStore.open(path, None)
    with pytest.raises(g.GridworkError.Locked):
        g.GridworkStore.open(path, bytes(32))
    again = g.GridworkStore.open(path, KEY)
    assert again.signed_in_user().name == "李娟"
    assert len(again.households_in(MICRO, 100)) == 3
    assert again.pending_changes() == 6


def test_edit_a_visit_on_two_phones():
    a = store_for(worker("w1", "李娟"))
    b = store_for(worker("w2", "陈刚"))
    hid = a.add_household(household("王秀英", "幸福小区3幢2单元301室"))
    at = now() - timedelta(hours=1)
    vid = a.record_visit(visit(hid, at, situation="独居，身体尚可", satisfaction=4))
    exchange(a, b)
    form = a.visit(vid)

    # Offline, one phone corrects the needs, the other the satisfaction: both are kept.
    a.update_visit(vid, visit(hid, form.visited_at, situation=form.situation, needs="希望安装扶手",
                              satisfaction=4))
    b.update_visit(vid, visit(hid, form.visited_at, situation=form.situation, satisfaction=5))
    trail = a.history(g.RecordKind.VISIT, vid)
    assert [e.op for e in trail] == ["record_visit", "update_visit"]
    assert trail[1].fields == ["needs"]
    exchange(a, b)
    exchange(b, a)
    va = a.visit(vid)
    assert va == b.visit(vid)
    assert (va.situation, va.needs, va.satisfaction, va.visitor) == ("独居，身体尚可", "希望安装扶手", 5, "w1")
    assert a.conflicts(g.RecordKind.VISIT, vid) == []

    # Refused edits name the field; nothing is written.
    pending = a.pending_changes()
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        a.update_visit(vid, visit(hid, form.visited_at, satisfaction=0))
    assert e.value.field == "satisfaction"
    other = a.add_household(household("张伟", "幸福小区3幢2单元302室"))
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        a.update_visit(vid, visit(other, form.visited_at))
    assert e.value.field == "household_id"
    assert a.pending_changes() == pending + 1  # the second household only
    a.delete_record(g.RecordKind.VISIT, vid)
    with pytest.raises(g.GridworkError.NotFound):
        a.update_visit(vid, visit(hid, form.visited_at))
