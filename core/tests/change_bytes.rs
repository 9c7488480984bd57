//! Change bytes at rest are compressed with the shipped zstd dictionary (`store/change_bytes.rs`):
//! what is read back from disk is byte-identical to what was received or made, stores written
//! before compression (raw rows) still open and read — also once new, compressed rows join
//! them — and a damaged compressed row is an error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{household, store_at};
use gridwork_core::{RecordKind, Store};
use rusqlite::Connection;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const AUTOMERGE_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The stored `change.bytes` rows of a store file.
fn rows(path: &std::path::Path) -> Vec<Vec<u8>> {
    let c = Connection::open(path).unwrap();
    let mut st = c.prepare("SELECT bytes FROM change ORDER BY hash").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// The stored bytes (`doc.snapshot`) of the documents that have some.
fn doc_bytes(path: &std::path::Path) -> Vec<Vec<u8>> {
    let c = Connection::open(path).unwrap();
    let mut st = c.prepare("SELECT snapshot FROM doc WHERE snapshot IS NOT NULL").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn received_and_own_changes_read_back_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sqlite");
    let mut a = store_at(None, "w1");
    let ids: Vec<_> = (0..20).map(|i| a.households().add(household(i)).unwrap()).collect();
    let mut edited = household(3);
    edited.phone = Some("13800000000".into());
    a.households().update(ids[3], edited).unwrap();
    let sent = a.outbox(usize::MAX).unwrap();

    let mut b = store_at(Some(&path), "w2");
    b.apply_changes(&sent).unwrap();
    let own = b.households().add(household(99)).unwrap();
    let own_sent = b.outbox(usize::MAX).unwrap();
    drop(b);

    // On disk: the own change waits in its row, the received ones are in their documents'
    // stored bytes (no rows); all are zstd frames, smaller than the changes they hold.
    let own_rows = rows(&path);
    assert_eq!(own_rows.len(), own_sent.len());
    let docs = doc_bytes(&path);
    assert_eq!(docs.len(), ids.len(), "one stored form per received document");
    let stored: Vec<Vec<u8>> = own_rows.into_iter().chain(docs).collect();
    let raw_total: usize = sent.iter().chain(&own_sent).map(|e| e.bytes.len()).sum();
    let stored_total: usize = stored.iter().map(Vec::len).sum();
    assert!(stored.iter().all(|r| r.starts_with(&ZSTD_MAGIC)));
    assert!(stored_total * 2 < raw_total, "{stored_total} B stored for {raw_total} B of changes");

    // Read back after a reopen (nothing cached): the same bytes, so the same hashes.
    let mut b = Store::open(&path, None).unwrap();
    assert_eq!(b.outbox(usize::MAX).unwrap(), own_sent);
    let mut back: Vec<Vec<u8>> =
        b.changes_missing_from(&[], None).unwrap().into_iter().map(|e| e.bytes).collect();
    let mut expected: Vec<Vec<u8>> =
        sent.iter().chain(&own_sent).map(|e| e.bytes.clone()).collect();
    back.sort();
    expected.sort();
    assert_eq!(back, expected);
    assert_eq!(b.households().get(ids[3]).unwrap().unwrap().phone.as_deref(), Some("13800000000"));
    assert!(b.households().get(own).unwrap().is_some());
    // Re-delivering them is recognised as duplicates.
    let report = b.apply_changes(&sent).unwrap();
    assert_eq!(report.duplicates, sent.len());
}

#[test]
fn a_store_of_raw_rows_reads_and_takes_compressed_ones_alongside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/store-schema4.sqlite");
    std::fs::copy(fixture, &path).unwrap();
    let raw_before = rows(&path);
    assert!(raw_before.iter().all(|r| r.starts_with(&AUTOMERGE_MAGIC)), "fixture rows are raw");

    let mut s = Store::open(&path, None).unwrap();
    let households = s.count_records(RecordKind::Household).unwrap();
    let outbox_before = s.outbox(usize::MAX).unwrap();
    let added = s.households().add(household(7)).unwrap();
    drop(s);

    let stored = rows(&path);
    assert!(stored.iter().any(|r| r.starts_with(&ZSTD_MAGIC)), "the new change is compressed");
    assert!(stored.iter().any(|r| r.starts_with(&AUTOMERGE_MAGIC)), "old rows stay as they were");
    let mut s = Store::open(&path, None).unwrap();
    assert_eq!(s.count_records(RecordKind::Household).unwrap(), households + 1);
    assert!(s.households().get(added).unwrap().is_some());
    let outbox = s.outbox(usize::MAX).unwrap();
    assert_eq!(outbox[..outbox_before.len()], outbox_before[..], "old unsent changes unchanged");
    assert_eq!(outbox.len(), outbox_before.len() + 1);
}

#[test]
fn a_damaged_compressed_row_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite");
    let mut s = store_at(Some(&path), "w1");
    let id = s.households().add(household(1)).unwrap();
    drop(s);
    {
        let c = Connection::open(&path).unwrap();
        let row: Vec<u8> = c.query_row("SELECT bytes FROM change", [], |r| r.get(0)).unwrap();
        assert!(row.starts_with(&ZSTD_MAGIC));
        let cut = row[..row.len() / 2].to_vec();
        c.execute("UPDATE change SET bytes = ?1", [cut]).unwrap();
    }
    let mut s = Store::open(&path, None).unwrap();
    // The projection row is intact; the document cannot be loaded.
    assert!(s.households().get(id).unwrap().is_some());
    let err = s.changes_missing_from(&[], None).unwrap_err();
    assert_eq!(err.code(), "corrupt_data", "{err}");
    assert_eq!(s.outbox(usize::MAX).unwrap_err().code(), "corrupt_data");
}

/// Schema 10 keeps no heads for a document that is its one loose change: the digest still gives
/// its head (that change's hash), and heads are written out as soon as it has a second change or
/// a snapshot (compaction drops the sent changes they could be read from).
#[test]
fn a_one_change_document_keeps_no_heads_and_its_digest_stays_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let mut s = store_at(Some(&path), "w1");
    let id = s.households().add(household(1)).unwrap();
    let first = s.outbox(usize::MAX).unwrap()[0].hash().unwrap();
    let stored_heads = |path: &std::path::Path| -> Option<Vec<u8>> {
        let c = Connection::open(path).unwrap();
        c.query_row("SELECT heads FROM doc", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(stored_heads(&path), None);
    assert_eq!(s.digest(None).unwrap()[0].heads, vec![first]);

    // Edited until compacted, then every change acknowledged (the sent rows go).
    let mut h = household(1);
    for i in 0..20 {
        h.phone = Some(format!("1380000{i:04}"));
        s.households().update(id, h.clone()).unwrap();
    }
    let sent: Vec<[u8; 32]> =
        s.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
    let last = *sent.last().unwrap();
    s.acknowledge(&sent).unwrap();
    drop(s);
    let c = Connection::open(&path).unwrap();
    let (snapshots, rows): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM doc WHERE snapshot IS NOT NULL),
                    (SELECT count(*) FROM change)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(c);
    assert_eq!(snapshots, 1, "compacted");
    assert!(rows < 21, "sent changes inside the snapshot were dropped ({rows} left)");
    assert_eq!(stored_heads(&path), Some(last.to_vec()));
    let s = Store::open(&path, None).unwrap();
    assert_eq!(s.digest(None).unwrap()[0].heads, vec![last]);

    // A peer that applies the history shows the same heads.
    let mut b = store_at(None, "w2");
    let mut a = Store::open(&path, None).unwrap();
    b.apply_changes(&a.changes_missing_from(&[], None).unwrap()).unwrap();
    assert_eq!(b.digest(None).unwrap(), a.digest(None).unwrap());
}
