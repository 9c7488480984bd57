"""Two phones edit one household offline and exchange changes: the conflict surfaces on both."""

import gridwork as g
from fixtures import Recorder, exchange, household, store_for, worker


def test_a_concurrent_edit_surfaces_as_a_conflict():
    a = store_for(worker("w1", "李娟"))
    b = store_for(worker("w2", "陈刚"))
    rec = Recorder()
    sub = b.subscribe(rec)

    hid = a.add_household(household("王芳", "幸福小区5幢101室", "13812345678"))
    assert exchange(a, b).applied == 1
    assert a.household(hid) == b.household(hid)
    assert [c.origin for c in rec.heard] == [g.ChangeOrigin.REMOTE]
    assert rec.heard[0].ids == [hid]
    assert exchange(a, b).duplicates == 1

    a.acknowledge([g.change_hash(c) for c in a.outbox(1 << 20)])
    assert a.pending_changes() == 0

    a.update_household(hid, household("王 芳", "幸福小区5幢101室", "13812345678"))
    b.update_household(hid, household("汪芳", "幸福小区5幢101室", "13998765432"))
    exchange(a, b)
    exchange(b, a)

    ha = a.household(hid)
    assert ha == b.household(hid)
    assert ha.phone == "13998765432"
    conflicts = a.conflicts(g.RecordKind.HOUSEHOLD, hid)
    assert conflicts == b.conflicts(g.RecordKind.HOUSEHOLD, hid)
    (c,) = conflicts
    assert c.field == "head_name"
    assert set(c.values) == {"王 芳", "汪芳"}
    assert c.values[0] == ha.head_name
    assert {e.by for e in a.history(g.RecordKind.HOUSEHOLD, hid)} == {"w1", "w2"}

    a.resolve_conflict(g.RecordKind.HOUSEHOLD, hid, "head_name", "王芳")
    exchange(a, b)
    for s in (a, b):
        assert s.conflicts(g.RecordKind.HOUSEHOLD, hid) == []
        assert s.household(hid).head_name == "王芳"
    origins = [c.origin for c in rec.heard]
    assert origins.count(g.ChangeOrigin.REMOTE) == 3
    assert origins.count(g.ChangeOrigin.LOCAL) == 1

    heard = len(rec.heard)
    sub.cancel()
    a.update_household(hid, household("王芳", "幸福小区5幢101室", "13811112222"))
    exchange(a, b)
    assert len(rec.heard) == heard
