//! The read model follows the log, on both backends: the demo district's records, folded by the
//! projector into the read model, give one row per record; folding in small pages (as after a
//! crash, page by page) and a rebuild from the log give identical rows; a caught-up projector
//! does nothing more; a commit replaces a record's rows, and keeps a sensitive record out of
//! the shared table; SQLite and PostgreSQL hold as many rows of each table for the same seeded
//! demo. PostgreSQL runs when `GRIDWORK_TEST_PG_URL` is set (and must under `CI`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gridwork_core::{AreaPath, RecordKind};
use gridwork_sync_server::demo;
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::read_model::projector::{DocState, Projector, ReadModelStore, RmBatch};
use gridwork_sync_server::read_model::rows::{KindColumns, RecordRow};
use gridwork_sync_server::store::sqlite::SqliteStore;
use gridwork_sync_server::store::{DynStore, Store};
use uuid::Uuid;

const DEMO: CoreDemoRecords = CoreDemoRecords { households_per_worker: 6, seed: 7 };

/// Seeds the demo into `store`, folds it in small pages, checks the rows, rebuilds and checks
/// the rebuild gives identical rows; returns the rows.
async fn fold_and_rebuild<S: Store + ReadModelStore + 'static>(
    store: Arc<S>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let log: DynStore = store.clone();
    let rm = store.as_ref();
    demo::seed(&log, &DEMO).await.unwrap();
    let changes = log.change_count().await.unwrap();
    assert_eq!(rm.rm_cursor().await.unwrap(), 0);
    assert!(rm.rm_rows().await.unwrap().is_empty(), "a new read model is empty");

    // Small pages: many steps, each committing rows, states and cursor together.
    let mut small = Projector::new(2, 2_000);
    let folded = small.catch_up(&log, rm, now).await.unwrap();
    assert_eq!(folded as u64, changes, "every logged change folded once");
    assert_eq!(rm.rm_cursor().await.unwrap(), log.head_seq().await.unwrap());
    assert_eq!(small.catch_up(&log, rm, now).await.unwrap(), 0, "caught up");
    let by_pages = rm.rm_rows().await.unwrap();
    let digest = rm.rm_digest().await.unwrap();
    let counts = counts(&by_pages);
    let count = |t: &str| counts.get(t).copied().unwrap_or(0);
    let (records, work_orders, households) =
        (count("rm_records"), count("rm_work_orders"), count("rm_households"));
    assert!(households >= 6, "{households} households");
    assert!(work_orders >= 3, "{work_orders} work orders");
    assert!(records >= households + work_orders);
    assert_eq!(count("rm_cursor"), 1);
    assert!(count("rm_docs") >= records + count("rm_sensitive"), "{counts:?}");
    // The grid head took the first order through accept and dispatch (demo_records.rs).
    assert!(by_pages.iter().any(|r| r.starts_with("rm_work_orders|") && r.contains("dispatched")));

    // A rebuild with a fresh projector (nothing cached) and one big page per step.
    rm.rm_clear().await.unwrap();
    assert_eq!(rm.rm_cursor().await.unwrap(), 0);
    assert!(rm.rm_rows().await.unwrap().is_empty(), "rm_clear empties every rm_ table");
    let mut fresh = Projector::new(1024, 4 << 20);
    assert_eq!(fresh.catch_up(&log, rm, now).await.unwrap() as u64, changes);
    assert_eq!(rm.rm_rows().await.unwrap(), by_pages, "a rebuild gives identical rows");
    assert_eq!(rm.rm_digest().await.unwrap(), digest);
    by_pages
}

/// Commits hand-made rows: a sensitive record lands only in `rm_sensitive`; committing a record
/// again replaces its rows (and its state, and the cursor) rather than adding any.
async fn commit_replaces_rows<S: ReadModelStore>(rm: &S) {
    let area = AreaPath::parse("320612/001").unwrap();
    let (resident, household) = (Uuid::now_v7(), Uuid::now_v7());
    let sensitive = |key: Option<&str>| RecordRow {
        id: resident,
        kind: RecordKind::Sensitive,
        area: area.clone(),
        deleted: false,
        created_at: 1,
        columns: KindColumns::Sensitive {
            resident_id: resident,
            household_id: household,
            key_population: key.map(str::to_owned),
        },
        json: "{\"secret\":1}".into(),
    };
    let home = |head: &str, deleted: bool| RecordRow {
        id: household,
        kind: RecordKind::Household,
        area: area.clone(),
        deleted,
        created_at: 2,
        columns: KindColumns::Household {
            head_name: head.into(),
            address: "a|b\nc".into(),
            tags: String::new(),
        },
        json: "{}".into(),
    };
    let state = |bytes: Vec<u8>| DocState {
        id: household,
        kind: RecordKind::Household,
        state: bytes,
        received: BTreeMap::from([([7u8; 32], 42)]),
    };
    let batch = RmBatch {
        rows: vec![sensitive(None), home("张三", false)],
        states: vec![state(vec![1])],
        cursor: 5,
    };
    rm.rm_commit(&batch).await.unwrap();
    let first = rm.rm_rows().await.unwrap();
    assert_eq!(rm.rm_cursor().await.unwrap(), 5);
    let c = counts(&first);
    assert_eq!(c.get("rm_sensitive"), Some(&1), "{first:?}");
    assert_eq!(c.get("rm_records"), Some(&1), "only the household: {first:?}");
    assert!(!first.iter().any(|r| r.starts_with("rm_records|") && r.contains("secret")));
    let states = rm.rm_states(&[resident, household]).await.unwrap();
    assert_eq!(states, vec![state(vec![1])]);

    let batch = RmBatch {
        rows: vec![sensitive(Some("x")), home("李四", true)],
        states: vec![state(vec![2])],
        cursor: 9,
    };
    rm.rm_commit(&batch).await.unwrap();
    let second = rm.rm_rows().await.unwrap();
    // The household's search tokens (migration 7) are replaced too: a deleted one has none.
    assert!(first.iter().any(|r| r.starts_with("rm_search|\"张三\"|")), "{first:?}");
    assert!(!second.iter().any(|r| r.starts_with("rm_search|")), "{second:?}");
    let without_search = |rows: &[String]| {
        let mut n = counts(rows);
        n.remove("rm_search");
        n
    };
    assert_eq!(without_search(&second), without_search(&first), "replaced, not added");
    assert_ne!(second, first);
    assert!(second.iter().any(|r| r.starts_with("rm_households|") && r.contains("李四")));
    assert!(second.iter().any(|r| r.starts_with("rm_sensitive|") && r.contains("\"x\"")));
    assert_eq!(rm.rm_cursor().await.unwrap(), 9);
    assert_eq!(rm.rm_states(&[household]).await.unwrap(), vec![state(vec![2])]);
    rm.rm_clear().await.unwrap();
    assert!(rm.rm_rows().await.unwrap().is_empty());
}

/// Rows per table.
fn counts(rows: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        let table = r.split('|').next().unwrap_or_default().to_owned();
        *out.entry(table).or_insert(0) += 1;
    }
    out
}

/// The households' rows without their (random, UUIDv7) ids: what the seeded demo fixes.
fn households(rows: &[String]) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .filter(|r| r.starts_with("rm_households|"))
        .map(|r| r.split('|').skip(2).collect::<Vec<_>>().join("|"))
        .collect();
    out.sort();
    out
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_folds_the_log_into_rows_and_a_rebuild_gives_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    commit_replaces_rows(store.as_ref()).await;
    // A fixed `now` so that rows folded at different times compare equal.
    fold_and_rebuild(store, Utc::now()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_folds_the_log_into_rows_and_agrees_with_sqlite() {
    let Some(pg) = common::pg_store().await else { return };
    commit_replaces_rows(&pg).await;
    let now = Utc::now();
    let pg_rows = fold_and_rebuild(Arc::new(pg), now).await;
    // The same demo seeded into SQLite: ids and receive times differ, the rows do not.
    let dir = tempfile::tempdir().unwrap();
    let lite_rows = fold_and_rebuild(sqlite_store(&dir).await, now).await;
    assert_eq!(counts(&pg_rows), counts(&lite_rows), "rows per table");
    assert_eq!(households(&pg_rows), households(&lite_rows));
}
