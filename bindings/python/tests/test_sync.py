"""Two phones sync through a real gridwork-server: enrol, record, pull, conflict, revoke."""

import asyncio

import pytest

import gridwork as g
from fixtures import GRID, MICRO, household
from server import GridworkServer


@pytest.fixture(scope="module")
def server():
    s = GridworkServer()
    s.create_areas()
    s.user_id = s.create_user("李娟", "grid_worker", GRID)
    yield s
    s.close()


class Steps(g.SyncProgressObserver):
    def __init__(self):
        self.steps = []

    def on_progress(self, step):
        self.steps.append(step)


def phone(server, tmp_path, name):
    store = g.GridworkStore.open(str(tmp_path / f"{name}.db"), None)
    sync = g.GridworkSync(store)
    user = asyncio.run(sync.enrol(g.EnrolRequest(
        server_url=server.url, code=server.enrolment_code(server.user_id), device_name=name, role=None)))
    assert user.user_id == server.user_id
    assert user.scope == GRID
    return store, sync


def test_two_phones_sync_through_the_server(server, tmp_path):
    a, sync_a = phone(server, tmp_path, "a")
    b, sync_b = phone(server, tmp_path, "b")
    assert a.signed_in_user().name == "李娟"
    assert a.area(MICRO) is not None

    hid = a.add_household(household("王芳", "幸福小区3幢201室", "13812345678"))
    assert sync_a.pending().changes == 1
    steps = Steps()
    report = asyncio.run(sync_a.sync_now(steps))
    assert report.pushed == 1
    assert steps.steps[-1].phase == g.SyncPhase.DONE
    assert sync_a.pending().changes == 0
    status = sync_a.status()
    assert status.state.enrolled and status.state.last_sync_at is not None and not status.running

    pulled = asyncio.run(sync_b.sync_now(None))
    assert pulled.pulled >= 1
    assert b.household(hid) == a.household(hid)

    a.update_household(hid, household("王 芳", "幸福小区3幢201室", "13812345678"))
    b.update_household(hid, household("汪芳", "幸福小区3幢201室", "13812345678"))
    for s in (sync_a, sync_b, sync_a):
        asyncio.run(s.sync_now(None))
    ca = a.conflicts(g.RecordKind.HOUSEHOLD, hid)
    assert [c.field for c in ca] == ["head_name"]
    assert set(ca[0].values) == {"王 芳", "汪芳"}
    assert ca == b.conflicts(g.RecordKind.HOUSEHOLD, hid)

    # "Check my data": both phones agree with the server, nothing is held back.
    for s in (sync_a, sync_b):
        check = asyncio.run(s.check_data())
        assert (check.divergent, check.requeued) == (0, 0)
        assert s.held_changes() == []
        assert s.status().state.held == 0 and s.status().state.refused == 0


def test_a_revoked_phone_is_wiped(server, tmp_path):
    store, sync = phone(server, tmp_path, "lost")
    store.add_household(household("赵敏", "幸福小区9幢101室"))
    server.revoke(sync.status().state.device_id)
    with pytest.raises(g.GridworkError.Revoked):
        asyncio.run(sync.sync_now(None))
    assert sync.status().revoked
    assert not sync.status().state.enrolled
    assert store.count_records(g.RecordKind.HOUSEHOLD) == 0
    with pytest.raises(g.GridworkError.NotEnrolled):
        asyncio.run(sync.sync_now(None))


def test_a_used_code_is_refused(server):
    code = server.enrolment_code(server.user_id)
    request = g.EnrolRequest(server_url=server.url, code=code, device_name="一号机", role=None)
    asyncio.run(g.GridworkSync(g.GridworkStore.open_in_memory()).enrol(request))
    with pytest.raises(g.GridworkError.ServerRefused) as e:
        asyncio.run(g.GridworkSync(g.GridworkStore.open_in_memory()).enrol(request))
    assert e.value.status == 403
    assert "enrolment_code_used" in str(e.value)
