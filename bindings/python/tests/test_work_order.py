"""A work order's whole life, each step by the role that may take it, and a refused step."""

from datetime import datetime, timedelta, timezone

import pytest

import gridwork as g
from fixtures import GRID, store_for, worker


def now():
    return datetime.now(timezone.utc)


def incident(title):
    return g.IncidentInput(
        area=GRID, category="sanitation", severity=g.Severity.IMPORTANT, title=title,
        description="楼道堆放杂物", location=None, photos=[], source=g.IncidentSource.PATROL,
        household_id=None, patrol_id=None, reported_at=now(),
    )


def step(event_type, department=None, note=None, photos=None):
    # `photos` left out: the binding's default (no photos) applies.
    extra = {} if photos is None else {"photos": photos}
    return g.WorkOrderAction(event_type=event_type, department=department, note=note,
                             extension_hours=None, at=now(), **extra)


HEAD = g.SignedInUser(user_id="h1", name="周强", role=g.Role.GRID_HEAD, scope=GRID)
HANDLER = g.SignedInUser(user_id="d1", name="城管孙", role=g.Role.DEPARTMENT_HANDLER, scope=GRID)


def act(store, user, wid, action):
    store.sign_in(user)
    return store.act_on_work_order(wid, action)


def test_report_to_close():
    s = store_for()
    wid = s.report_incident(incident("楼道堆物"))
    assert s.work_order_summary(wid, now()).state == g.WorkOrderState.REPORTED
    with pytest.raises(g.GridworkError.WorkOrderRefused) as e:
        s.act_on_work_order(wid, step(g.EventType.CLOSE))
    assert "illegal_transition" == e.value.code
    assert len(s.work_order(wid).summary.events) == 1

    assert act(s, HEAD, wid, step(g.EventType.ACCEPT)).state == g.WorkOrderState.ACCEPTED
    d = act(s, HEAD, wid, step(g.EventType.DISPATCH, "城管"))
    assert d.departments == {"城管": g.WorkOrderState.DISPATCHED}
    assert act(s, HANDLER, wid, step(g.EventType.HANDLE, "城管")).state == g.WorkOrderState.HANDLING
    assert act(s, HANDLER, wid, step(g.EventType.FEEDBACK, "城管")).state == g.WorkOrderState.FED_BACK
    assert act(s, worker(), wid, step(g.EventType.VERIFY)).state == g.WorkOrderState.VERIFIED
    closed = act(s, HEAD, wid, step(g.EventType.CLOSE))
    assert closed.state == g.WorkOrderState.CLOSED
    assert closed.closed_on_time is True
    assert [e.event_type for e in s.work_order(wid).summary.events] == [
        g.EventType.REPORT, g.EventType.ACCEPT, g.EventType.DISPATCH, g.EventType.HANDLE,
        g.EventType.FEEDBACK, g.EventType.VERIFY, g.EventType.CLOSE]
    assert s.open_work_orders(GRID, now(), 10) == []
    with pytest.raises(g.GridworkError.WorkOrderRefused):
        act(s, HEAD, wid, step(g.EventType.DISPATCH, "城管"))


def details(store, wid, **changes):
    wo = store.work_order(wid)
    fields = dict(title=wo.title, description=wo.description, category=wo.category,
                  severity=wo.summary.severity, location=wo.location)
    fields.update(changes)
    return g.IncidentDetails(**fields)


def test_edit_details_and_the_deadline_follows_severity():
    s = store_for()
    wid = s.report_incident(incident("楼道堆物"))
    # The reporter corrects the report before it is accepted.
    summary = s.update_incident(wid, details(s, wid, title="楼道电动车充电", category="fire_safety"))
    assert summary.state == g.WorkOrderState.REPORTED
    wo = s.work_order(wid)
    assert (wo.title, wo.category) == ("楼道电动车充电", "fire_safety")
    assert [e.op for e in s.history(g.RecordKind.WORK_ORDER, wid)][-1] == "update_incident"
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        s.update_incident(wid, details(s, wid, category="no_such"))
    assert e.value.field == "category"

    # Accepted: the reporter may no longer; the grid head may, and the deadline follows.
    accepted = act(s, HEAD, wid, step(g.EventType.ACCEPT))
    assert accepted.deadline - accepted.clock_started_at == timedelta(hours=24)
    s.sign_in(worker())
    with pytest.raises(g.GridworkError.WorkOrderRefused) as e:
        s.update_incident(wid, details(s, wid, title="再改"))
    assert e.value.code == "details_locked"
    s.sign_in(HANDLER)
    with pytest.raises(g.GridworkError.WorkOrderRefused) as e:
        s.update_incident(wid, details(s, wid, title="再改"))
    assert e.value.code == "role_not_allowed"
    s.sign_in(HEAD)
    urgent = s.update_incident(wid, details(s, wid, severity=g.Severity.URGENT))
    assert urgent.severity == g.Severity.URGENT
    assert urgent.deadline - urgent.clock_started_at == timedelta(hours=2)
    (row,) = s.open_work_orders(GRID, now(), 10)
    assert (row.severity, row.deadline) == (g.Severity.URGENT, urgent.deadline)
    assert [o.id for o in s.overdue_work_orders(GRID, now() + timedelta(hours=3), 10)] == [wid]


def being_handled():
    """A store holding an order the city-management department is handling."""
    s = store_for()
    wid = s.report_incident(incident("楼道堆物"))
    act(s, HEAD, wid, step(g.EventType.ACCEPT))
    act(s, HEAD, wid, step(g.EventType.DISPATCH, "城管"))
    act(s, HANDLER, wid, step(g.EventType.HANDLE, "城管"))
    return s, wid


def test_a_feedback_carries_a_photo_of_the_finished_work():
    s, wid = being_handled()
    photo = s.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(range(64)), "image/png")
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        act(s, HANDLER, wid, step(g.EventType.FEEDBACK, "城管", photos=[photo] * 21))
    assert e.value.field == "photos"
    fed = act(s, HANDLER, wid, step(g.EventType.FEEDBACK, "城管", "已清理", photos=[photo]))
    assert fed.state == g.WorkOrderState.FED_BACK
    feedback = [e for e in fed.events if e.event_type == g.EventType.FEEDBACK]
    assert [p.hash for p in feedback[0].photos] == [photo.hash]
    assert s.work_order(wid).photos == [], "the incident's own photos are untouched"


def test_a_photo_of_a_cancelled_form_is_thrown_away():
    s, wid = being_handled()
    kept = s.add_attachment(b"\xff\xd8\xff\xe0" + bytes(range(32)), "image/jpeg")
    cancelled = s.add_attachment(b"\xff\xd8\xff\xe0" + bytes(range(33)), "image/jpeg")
    act(s, HANDLER, wid, step(g.EventType.FEEDBACK, "城管", photos=[kept]))
    assert s.discard_photo(kept.hash) is False, "the feedback shows it"
    assert s.discard_photo(cancelled.hash) is True
    assert s.attachment_bytes(cancelled.hash) is None
    assert s.attachment_bytes(kept.hash) is not None
    with pytest.raises(g.GridworkError.InvalidInput) as e:
        s.discard_photo("xyz")
    assert e.value.field == "hash"

