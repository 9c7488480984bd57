//! Where a change lives once the server has it: received and acknowledged changes join their
//! document's stored bytes and keep no row of their own; only own changes the server still
//! lacks have rows (the outbox). These tests check that nothing is lost or changed on the way:
//! the bytes read back are the ones received, digests and duplicates stay exact, a received
//! change that depends on a still-unsent own change loads in either order, and forgetting a
//! document takes its receive times along.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MICRO, area, household, store_as, store_at};
use gridwork_core::{ChangeEnvelope, Incoming, Received, RecordKind, Role, Store};
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
    assert_eq!(count(&path, "SELECT count(*) FROM doc WHERE heads IS NULL"), 0);
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

#[test]
fn a_document_that_moves_away_takes_its_receive_times_along() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sqlite");
    let mut town = store_as("t", Role::TownOperator, "320612/001");
    let id = town.households().add(household(9)).unwrap();
    let mut phone = store_at(Some(&path), "w1");
    let page = |changes: Vec<ChangeEnvelope>| Incoming {
        changes: changes
            .into_iter()
            .map(|envelope| Received { envelope, received_at: Some(1_700_000_000_000) })
            .collect(),
        acks: vec![],
        meta: vec![],
    };
    phone.apply_incoming(page(town.outbox(usize::MAX).unwrap())).unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM change_received"), 1);
    let sent: Vec<[u8; 32]> =
        town.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
    town.acknowledge(&sent).unwrap();

    // The town moves the household to a grid outside the phone's scope.
    let mut moved = household(9);
    moved.area = area("320612/001/002/01/01");
    assert_ne!(moved.area, area(MICRO));
    town.households().update(id, moved).unwrap();
    let r = phone.apply_incoming(page(town.outbox(usize::MAX).unwrap())).unwrap();
    assert_eq!(r.moved_out, 1, "{r:?}");
    assert_eq!(phone.record_kind(id).unwrap(), None::<RecordKind>);
    assert_eq!(count(&path, "SELECT count(*) FROM doc"), 0);
    assert_eq!(count(&path, "SELECT count(*) FROM change_received"), 0, "no receive time left");
}
