//! Where a change lives once the server has it: received and acknowledged changes join their
//! document's stored bytes and keep no row of their own; only own changes the server still
//! lacks have rows (the outbox). These tests check that nothing is lost or changed on the way:
//! the bytes read back are the ones received, digests and duplicates stay exact, a received
//! change that depends on a still-unsent own change loads in either order, and forgetting a
//! document takes its receive times along.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{area, household, incident, store_at};
use gridwork_core::work_order::{IncidentDetails, Severity};
use gridwork_core::{ChangeEnvelope, Incoming, Received, RecordKind, Store};
use rusqlite::Connection;

fn count(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn sorted_bytes(changes: impl IntoIterator<Item = ChangeEnvelope>) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = changes.into_iter().map(|e| e.bytes).collect();
    v.sort();
    v
}

#[test]
fn an_acknowledged_change_joins_its_document_and_keeps_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let mut s = store_at(Some(&path), "w1");
    let ids: Vec<_> = (0..3).map(|i| s.households().add(household(i)).unwrap()).collect();
    let mut edited = household(1);
    edited.member_count += 2;
    s.households().update(ids[1], edited.clone()).unwrap();
    let sent = s.outbox(usize::MAX).unwrap();
    let digest = s.digest(None).unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM change"), 4);

    let hashes: Vec<[u8; 32]> = sent.iter().map(|e| e.hash().unwrap()).collect();
    s.acknowledge(&hashes).unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM change"), 0, "acknowledged: no rows left");
    assert_eq!(count(&path, "SELECT count(*) FROM doc WHERE snapshot IS NULL"), 0);
    // The two households never edited are one change each: their stored bytes are that change
    // and they keep no heads (the digest reads the head from the bytes); the edited one does.
    assert_eq!(count(&path, "SELECT count(*) FROM doc WHERE heads IS NULL"), 2);
    drop(s);

    // After a reopen (nothing cached): the same records, heads and change bytes.
    let mut s = Store::open(&path, None).unwrap();
    assert_eq!(s.outbox_len().unwrap(), 0);
    assert_eq!(s.digest(None).unwrap(), digest);
    assert_eq!(s.households().get(ids[1]).unwrap().unwrap().member_count, edited.member_count);
    assert_eq!(
        sorted_bytes(s.changes_missing_from(&[], None).unwrap()),
        sorted_bytes(sent.clone())
    );
    // The server sending them back (a repeated page) is recognised as duplicates.
    let r = s.apply_changes(&sent).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, sent.len()), "{r:?}");
    // The next edit goes out on top of the acknowledged history.
    edited.member_count += 1;
    s.households().update(ids[1], edited).unwrap();
    let next = s.outbox(usize::MAX).unwrap();
    assert_eq!(next.len(), 1);
    let mut peer = store_at(None, "p");
    peer.apply_changes(&sent).unwrap();
    let r = peer.apply_changes(&next).unwrap();
    assert_eq!((r.applied, r.held), (1, 0), "{r:?}");
    assert_eq!(peer.digest(None).unwrap(), s.digest(None).unwrap());
}

#[test]
fn a_received_change_on_top_of_an_unsent_own_change_loads_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    // A creates a household; B got the creation (the server has it, A's ack was lost) and
    // edits it; A receives B's edit while its own creation still waits in the outbox.
    let mut a = store_at(Some(&path), "w1");
    let id = a.households().add(household(5)).unwrap();
    let created = a.outbox(usize::MAX).unwrap();
    let mut b = store_at(None, "w2");
    b.apply_changes(&created).unwrap();
    let mut edited = household(5);
    edited.head_name = "王建华".into();
    b.households().update(id, edited).unwrap();
    let from_b = b.outbox(usize::MAX).unwrap();
    let r = a.apply_changes(&from_b).unwrap();
    assert_eq!((r.applied, r.held), (1, 0), "{r:?}");
    drop(a);

    // Stored: B's edit in the document's bytes, A's creation (its dependency) in its row.
    let mut a = Store::open(&path, None).unwrap();
    assert_eq!(a.households().get(id).unwrap().unwrap().head_name, "王建华");
    assert_eq!(a.outbox(usize::MAX).unwrap(), created);
    a.acknowledge(&[created[0].hash().unwrap()]).unwrap();
    drop(a);

    // Acknowledged: the creation is now stored after the edit that depends on it.
    let mut a = Store::open(&path, None).unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM change"), 0);
    assert_eq!(a.households().get(id).unwrap().unwrap().head_name, "王建华");
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());
    let mut again = household(5);
    again.head_name = "王建国".into();
    a.households().update(id, again).unwrap();
    b.apply_changes(&a.outbox(usize::MAX).unwrap()).unwrap();
    assert_eq!(b.households().get(id).unwrap().unwrap().head_name, "王建国");
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());
}

#[test]
fn an_older_change_delivered_again_is_a_duplicate() {
    let mut w = store_at(None, "w1");
    let id = w.households().add(household(8)).unwrap();
    let mut h = household(8);
    for n in 0..2 {
        h.member_count += n + 1;
        w.households().update(id, h.clone()).unwrap();
    }
    let changes = w.outbox(usize::MAX).unwrap();
    assert_eq!(changes.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sqlite");
    let mut phone = store_at(Some(&path), "p");
    phone.apply_changes(&changes).unwrap();
    drop(phone);
    let mut phone = Store::open(&path, None).unwrap();
    let digest = phone.digest(None).unwrap();
    // The creation is no head: it is found inside the document's stored bytes.
    let r = phone.apply_changes(&changes[..1]).unwrap();
    assert_eq!((r.applied, r.duplicates, r.documents), (0, 1, 0), "{r:?}");
    assert_eq!(phone.digest(None).unwrap(), digest);
    assert_eq!(phone.households().get(id).unwrap().unwrap().member_count, h.member_count);
}

/// A pulled page: every change with the server's receive time.
fn page(changes: Vec<ChangeEnvelope>) -> Incoming<'static> {
    Incoming {
        changes: changes
            .into_iter()
            .map(|envelope| Received { envelope, received_at: Some(1_700_000_000_000) })
            .collect(),
        acks: vec![],
        meta: vec![],
    }
}

#[test]
fn receive_times_are_kept_for_work_orders_only_and_leave_with_their_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sqlite");
    let mut other = store_at(None, "w2");
    let household = other.households().add(household(9)).unwrap();
    let order = other.work_orders().report(incident(Severity::Ordinary)).unwrap();
    let mut phone = store_at(Some(&path), "w1");
    phone.apply_incoming(page(other.outbox(usize::MAX).unwrap())).unwrap();
    // A work order's deadlines and fold order read the server's clock; a household's rules
    // read none, so its receive time is not kept.
    assert_eq!(count(&path, "SELECT count(*) FROM change_received"), 1);
    let history = phone.history(RecordKind::WorkOrder, order).unwrap();
    assert_eq!(history[0].received_at.map(|t| t.timestamp_millis()), Some(1_700_000_000_000));
    assert_eq!(phone.history(RecordKind::Household, household).unwrap()[0].received_at, None);
    let sent: Vec<[u8; 32]> =
        other.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
    other.acknowledge(&sent).unwrap();

    // The server says the order is now elsewhere (its envelope carries its current area): the
    // phone forgets it, and the receive times of the changes in its stored bytes go too.
    let mut fixed = phone.work_orders().get(order).unwrap();
    fixed.title = "楼道堆放杂物（已核实）".into();
    other.work_orders().update_incident(order, IncidentDetails::from(&fixed)).unwrap();
    let mut moved = other.outbox(usize::MAX).unwrap();
    moved[0].area = area("320612/001/002/01/01");
    let r = phone.apply_incoming(page(moved)).unwrap();
    assert_eq!(r.moved_out, 1, "{r:?}");
    assert_eq!(phone.record_kind(order).unwrap(), None::<RecordKind>);
    assert_eq!(count(&path, "SELECT count(*) FROM doc"), 1, "the household stays");
    assert_eq!(count(&path, "SELECT count(*) FROM change_received"), 0, "no receive time left");
}
