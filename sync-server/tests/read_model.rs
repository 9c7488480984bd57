//! The read model follows the log: the demo district's records, folded by the projector into
//! the SQLite read model, give one row per record; folding in small pages (as after a crash,
//! page by page) and a rebuild from the log give identical rows; a caught-up projector does
//! nothing more.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::Utc;
use gridwork_sync_server::demo;
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::read_model::projector::{Projector, ReadModelStore};
use gridwork_sync_server::store::DynStore;
use gridwork_sync_server::store::sqlite::SqliteStore;

/// Every row of every read-model table, as text, sorted.
fn dump(path: &std::path::Path) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut out = Vec::new();
    for t in [
        "rm_cursor",
        "rm_records",
        "rm_households",
        "rm_residents",
        "rm_sensitive",
        "rm_visits",
        "rm_patrols",
        "rm_work_orders",
        "rm_tasks",
    ] {
        let mut stmt = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                Ok(format!("{t}|{}", cells.join("|")))
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap());
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_projector_folds_the_log_into_rows_and_a_rebuild_gives_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let sqlite = Arc::new(SqliteStore::open(&path).await.unwrap());
    let log: DynStore = sqlite.clone();
    demo::seed(&log, &CoreDemoRecords { households_per_worker: 6, seed: 7 }).await.unwrap();
    let changes = log.change_count().await.unwrap();
    // A fixed `now` so that rows folded at different times compare equal.
    let now = Utc::now();

    // Small pages: many steps, each committing rows, states and cursor together.
    let mut small = Projector::new(2, 2_000);
    let folded = small.catch_up(&log, sqlite.as_ref(), now).await.unwrap();
    assert_eq!(folded as u64, changes, "every logged change folded once");
    assert_eq!(sqlite.rm_cursor().await.unwrap(), log.head_seq().await.unwrap());
    assert_eq!(small.catch_up(&log, sqlite.as_ref(), now).await.unwrap(), 0, "caught up");
    let by_pages = dump(&path);
    let records = by_pages.iter().filter(|r| r.starts_with("rm_records|")).count();
    let work_orders = by_pages.iter().filter(|r| r.starts_with("rm_work_orders|")).count();
    let households = by_pages.iter().filter(|r| r.starts_with("rm_households|")).count();
    assert!(households >= 6, "{households} households");
    assert!(work_orders >= 3, "{work_orders} work orders");
    assert!(records >= households + work_orders);
    // The grid head took the first order through accept and dispatch (demo_records.rs).
    assert!(by_pages.iter().any(|r| r.starts_with("rm_work_orders|") && r.contains("dispatched")));

    // A rebuild with a fresh projector (nothing cached) and one big page per step.
    sqlite.rm_clear().await.unwrap();
    assert_eq!(sqlite.rm_cursor().await.unwrap(), 0);
    let mut fresh = Projector::new(1024, 4 << 20);
    fresh.catch_up(&log, sqlite.as_ref(), now).await.unwrap();
    assert_eq!(dump(&path), by_pages, "a rebuild gives identical rows");
}
