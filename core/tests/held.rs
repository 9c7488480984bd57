//! Changes that arrive before the changes they depend on: held (persisted), applied when the
//! missing ones arrive, never blocking anything; and the outbox sent in the order changes were
//! made, so the server's log never puts an edit before its record's creation.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gridwork_core::{ChangeEnvelope, Incoming, Received, RecordKind, Store};

/// A household created and then edited twice on a worker's phone: its three changes, oldest
/// first (the outbox order).
fn created_then_edited(seed: u64) -> (uuid::Uuid, Vec<ChangeEnvelope>) {
    let mut w = store_at(None, "w");
    let id = w.households().add(household(seed)).unwrap();
    for n in 21..23 {
        let mut input = household(seed);
        input.member_count = n;
        w.households().update(id, input).unwrap();
    }
    let out = w.outbox(usize::MAX).unwrap();
    assert_eq!(out.len(), 3);
    (id, out)
}

#[test]
fn an_edit_before_its_creation_is_held_then_applied_and_survives_a_reopen() {
    let (id, changes) = created_then_edited(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    {
        let mut phone = store_at(Some(&path), "colleague");
        // The last edit arrives alone: it waits, the store stays usable.
        let r = phone.apply_changes(&changes[2..]).unwrap();
        assert_eq!((r.applied, r.held), (0, 1));
        assert!(phone.households().get(id).unwrap().is_none(), "an incomplete record is not shown");
        assert_eq!(phone.held_counts().unwrap(), (1, 0));
        assert_eq!(phone.docs_with_gaps(10).unwrap(), vec![id]);
        // Power cut: the store is dropped without anything else.
    }
    let mut phone = Store::open(&path, None).unwrap();
    assert_eq!(phone.held_counts().unwrap(), (1, 0), "held changes are persisted");
    assert!(phone.integrity_check().unwrap());
    // The first edit arrives, still without the creation: held too.
    let r = phone.apply_changes(&changes[1..2]).unwrap();
    assert_eq!((r.applied, r.held), (0, 1));
    // The creation arrives: everything applies in one go.
    let r = phone.apply_changes(&changes[..1]).unwrap();
    assert_eq!(r.applied, 3, "{r:?}");
    assert_eq!(phone.held_counts().unwrap(), (0, 0));
    assert_eq!(phone.households().get(id).unwrap().unwrap().member_count, 22);
    assert!(phone.docs_with_gaps(10).unwrap().is_empty());
    // The record loads from disk (not only from the cache) and can be edited.
    drop(phone);
    let mut phone = Store::open(&path, None).unwrap();
    assert_eq!(phone.households().get(id).unwrap().unwrap().member_count, 22);
    phone
        .sign_in(gridwork_core::SignedInUser {
            user_id: "colleague".into(),
            name: "同事".into(),
            role: gridwork_core::Role::GridWorker,
            scope: area(GRID),
        })
        .unwrap();
    let mut input = household(1);
    input.member_count = 5;
    phone.households().update(id, input).unwrap();
    assert_eq!(phone.households().get(id).unwrap().unwrap().member_count, 5);
}

#[test]
fn changes_in_any_order_and_any_split_end_the_same() {
    let (id, changes) = created_then_edited(2);
    let mut expected = store_at(None, "a");
    expected.apply_changes(&changes).unwrap();
    let want = expected.households().get(id).unwrap().unwrap();
    for order in [[2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 2, 1]] {
        let mut phone = store_at(None, "b");
        for i in order {
            phone.apply_changes(&changes[i..=i]).unwrap();
        }
        assert_eq!(phone.households().get(id).unwrap().unwrap(), want, "order {order:?}");
        assert_eq!(phone.held_counts().unwrap(), (0, 0));
        assert_eq!(phone.digest(None).unwrap(), expected.digest(None).unwrap());
    }
}

#[test]
fn the_outbox_goes_out_in_the_order_changes_were_made() {
    let mut w = store_at(None, "w");
    let ids: Vec<_> = (0..60).map(|i| w.households().add(household(i)).unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut input = household(i as u64);
        input.member_count = 7;
        w.households().update(*id, input).unwrap();
    }
    // Pushed one change at a time, as with the smallest push size.
    let mut sent: Vec<ChangeEnvelope> = Vec::new();
    loop {
        let next = w.outbox(1).unwrap();
        let Some(c) = next.into_iter().next() else { break };
        w.acknowledge(&[c.hash().unwrap()]).unwrap();
        sent.push(c);
    }
    assert_eq!(sent.len(), 120);
    for id in &ids {
        let positions: Vec<usize> =
            sent.iter().enumerate().filter(|(_, c)| c.doc_id == *id).map(|(i, _)| i).collect();
        assert_eq!(positions.len(), 2);
        let first = gridwork_core::ChangeEnvelope::decode(&sent[positions[0]]).unwrap();
        assert!(first.deps().is_empty(), "the creation of {id} goes out before its edit");
    }
    // A peer applying them one by one in that order never holds anything back.
    let mut peer = store_at(None, "p");
    for c in &sent {
        let r = peer.apply_changes(std::slice::from_ref(c)).unwrap();
        assert_eq!(r.held, 0);
    }
    assert_eq!(peer.count_records(RecordKind::Household).unwrap(), 60);
}

#[test]
fn a_bad_change_from_the_server_is_set_aside_and_the_rest_applies() {
    let (id, changes) = created_then_edited(3);
    let (other, more) = created_then_edited(4);
    let mut phone = store_at(None, "p");
    phone.apply_changes(&more[..1]).unwrap();
    let mut corrupt = changes[1].clone();
    corrupt.bytes.truncate(corrupt.bytes.len() / 2);
    let mut wrong_kind = more[1].clone();
    wrong_kind.kind = RecordKind::Visit;
    let page: Vec<Received> = vec![changes[0].clone(), corrupt, wrong_kind, more[2].clone()]
        .into_iter()
        .map(|envelope| Received { envelope, received_at: Some(1_700_000_000_000) })
        .collect();
    let r = phone
        .apply_incoming(Incoming {
            changes: page,
            acks: vec![],
            meta: vec![("sync.cursor", b"42")],
        })
        .unwrap();
    assert_eq!((r.refused, r.held), (2, 1), "{r:?}");
    assert_eq!(
        phone.households().get(id).unwrap().unwrap().member_count,
        household(3).member_count
    );
    // The other household's edit was refused: it keeps what it had, its next edit waits.
    assert_eq!(
        phone.households().get(other).unwrap().unwrap().member_count,
        household(4).member_count
    );
    let held = phone.held_changes().unwrap();
    let reasons: Vec<&str> = held.iter().map(|h| h.reason.as_str()).collect();
    assert!(reasons.contains(&"corrupt_change") && reasons.contains(&"kind_mismatch"), "{held:?}");
    assert!(reasons.contains(&"missing_deps"), "{held:?}");
    assert_eq!(gridwork_core::sync::state::cursor(&phone).unwrap(), 42, "the page committed");
    // The two refused for good are to be reported to the server, once; the waiting one is not.
    let unreported = phone.unreported_held(10).unwrap();
    let mut reasons: Vec<&str> = unreported.iter().map(|h| h.reason.as_str()).collect();
    reasons.sort_unstable();
    assert_eq!(reasons, ["corrupt_change", "kind_mismatch"]);
    let (_, body) = gridwork_core::sync::held_report::request(&phone).unwrap().unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sent["changes"].as_array().unwrap().len(), 2);
    let hashes: Vec<String> = unreported.iter().map(|h| h.hash.clone()).collect();
    assert_eq!(phone.mark_held_reported(&hashes[..1]).unwrap(), 1);
    assert_eq!(phone.unreported_held(10).unwrap().len(), 1);
    assert_eq!(phone.mark_held_reported(&hashes).unwrap(), 2);
    assert!(phone.unreported_held(10).unwrap().is_empty());
    assert!(gridwork_core::sync::held_report::request(&phone).unwrap().is_none());
    assert_eq!(phone.held_changes().unwrap().len(), 3, "reported changes stay listed");
    // Direct callers still get an error for the same input, and nothing is stored.
    let mut strict = store_at(None, "s");
    let mut corrupt = changes[1].clone();
    corrupt.bytes.truncate(3);
    assert!(strict.apply_changes(&[changes[0].clone(), corrupt]).is_err());
    assert!(strict.households().get(id).unwrap().is_none());
}

/// A store from before schema 4 (no `change.ord`, no `held_change`) opens, migrates, keeps its
/// records and sends its unsent changes in the order they were made.
#[test]
fn a_schema_3_store_migrates_and_keeps_its_outbox_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let ids: Vec<uuid::Uuid> = {
        let mut s = store_at(Some(&path), "w");
        let ids: Vec<_> = (0..20).map(|i| s.households().add(household(i)).unwrap()).collect();
        for (i, id) in ids.iter().enumerate() {
            let mut input = household(i as u64);
            input.member_count = 30;
            s.households().update(*id, input).unwrap();
        }
        ids
    };
    // Turn the file back into schema 3, as the previous app version left it.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP INDEX change_outbox;
             DROP TABLE held_change;
             ALTER TABLE change DROP COLUMN ord;
             ALTER TABLE change DROP COLUMN area;
             ALTER TABLE doc DROP COLUMN photos;
             DROP TABLE task_area_progress;
             DROP TABLE reference_data;
             ALTER TABLE work_order DROP COLUMN clock_started_at;
             ALTER TABLE work_order DROP COLUMN extension_hours;
             CREATE INDEX change_outbox ON change(outbox) WHERE outbox = 1;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let s = Store::open(&path, None).unwrap();
    assert_eq!(s.count_records(RecordKind::Household).unwrap(), 20);
    assert_eq!(s.held_counts().unwrap(), (0, 0));
    let out = s.outbox(usize::MAX).unwrap();
    assert_eq!(out.len(), 40);
    for id in &ids {
        let first = out.iter().find(|c| c.doc_id == *id).unwrap();
        assert!(first.decode().unwrap().deps().is_empty(), "{id}: creation first after migrating");
    }
}
