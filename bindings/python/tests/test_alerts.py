"""My alerts through the FFI: a step the centre took on my report, a task due soon, marking seen
(kept when the store is reopened), and an unknown alert refused."""

from datetime import timedelta

import pytest

import gridwork as g
from fixtures import MICRO, now, store_for, worker

CENTRE = g.SignedInUser(user_id="op", name="陈敏", role=g.Role.TOWN_OPERATOR, scope="320612/001")


def incident():
    return g.IncidentInput(
        area=MICRO, category="sanitation", severity=g.Severity.IMPORTANT, title="垃圾桶满溢",
        description="", location=None, photos=[], source=g.IncidentSource.GRID_REPORT,
        household_id=None, patrol_id=None, reported_at=now(),
    )


def test_alerts_raised_seen_and_kept(tmp_path):
    path = str(tmp_path / "alerts.db")
    s = store_for(path=path)
    wid = s.report_incident(incident())
    assert s.alerts(now(), False) == []
    s.sign_in(CENTRE)
    s.act_on_work_order(wid, g.WorkOrderAction(event_type=g.EventType.ACCEPT, department=None,
                                               note=None, extension_hours=None, at=now()))
    s.create_task(g.TaskInput(area="320612/001", title="冬季消防排查", instructions="",
                              households=[], due_at=now() + timedelta(hours=6), assignee=None))
    s.sign_in(worker())
    alerts = s.alerts(now(), False)
    assert {a.kind for a in alerts} == {g.AlertKind.WORK_ORDER_CHANGED, g.AlertKind.TASK_DUE_SOON}
    assert len(alerts) == 2
    changed = next(a for a in alerts if a.kind == g.AlertKind.WORK_ORDER_CHANGED)
    assert changed.record_id == wid and changed.record_kind == g.RecordKind.WORK_ORDER
    assert "accepted" in changed.text and not changed.seen
    assert s.unseen_alert_count(now()) == 2

    s.ack_alert(changed.id, now())
    with pytest.raises(g.GridworkError.NotFound) as e:
        s.ack_alert("work_order_changed:nope", now())
    assert e.value.kind == "alert"
    del s
    again = g.GridworkStore.open(path, None)
    assert [a.kind for a in again.alerts(now(), False)] == [g.AlertKind.TASK_DUE_SOON]
    seen = [a for a in again.alerts(now(), True) if a.seen]
    assert [a.id for a in seen] == [changed.id]
    assert again.unseen_alert_count(now()) == 1
