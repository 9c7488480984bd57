//! Schema migrations on both backends: a new database gets every migration, opening it again
//! changes nothing, a database a newer server migrated is refused untouched, a failing migration
//! leaves the version before it, servers starting together migrate once — and databases made by
//! the server before numbered migrations (`tests/fixtures/`) upgrade and serve everything they
//! held. PostgreSQL tests skip without `GRIDWORK_TEST_PG_URL` (fail under CI).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::area;
use gridwork_core::{ChangeEnvelope, RecordKind};
use gridwork_sync_server::auth::hash_secret;
use gridwork_sync_server::store::migrations::{self, Migration, PgMigration};
use gridwork_sync_server::store::postgres::PgStore;
use gridwork_sync_server::store::sqlite::SqliteStore;
use gridwork_sync_server::store::{DynStore, NewChange, PullQuery, ReadScope, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// Tables of the pre-migration schema, parents first.
const TABLES: [&str; 14] = [
    "admin_tokens",
    "areas",
    "users",
    "user_roles",
    "enrolment_codes",
    "devices",
    "log_meta",
    "seq_counter",
    "changes",
    "documents",
    "audit_log",
    "attachments",
    "attachment_chunks",
    "attachment_refs",
];
/// What servers added to existing databases before numbered migrations.
const DROP_LATER_COLUMNS: &str = "DROP INDEX IF EXISTS changes_actor_seq;
     ALTER TABLE changes DROP COLUMN prev_area_key;
     ALTER TABLE changes DROP COLUMN actor;
     ALTER TABLE changes DROP COLUMN actor_seq;
     ALTER TABLE documents DROP COLUMN area_op;";

fn all_versions() -> Vec<u32> {
    migrations::SQLITE.iter().map(|m| m.version).collect()
}

fn latest() -> u32 {
    migrations::SQLITE.last().unwrap().version
}

// ---------------------------------------------------------------------------------------------
// The two backends, raw.

/// A database under test, opened by the store or read directly.
enum Db {
    Sqlite { path: PathBuf, _dir: tempfile::TempDir },
    Pg { url: String, schema: String },
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db::Sqlite { path: dir.path().join("gridwork.db"), _dir: dir }
    }

    /// A fresh schema in the test database, or `None` (skip) without `GRIDWORK_TEST_PG_URL`.
    async fn pg() -> Option<Db> {
        let Ok(url) = std::env::var("GRIDWORK_TEST_PG_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "GRIDWORK_TEST_PG_URL is unset under CI: PostgreSQL tests must run, not skip"
            );
            eprintln!("skipping PostgreSQL test: GRIDWORK_TEST_PG_URL is unset");
            return None;
        };
        let schema = format!("m_{}", Uuid::now_v7().simple());
        let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
        Some(Db::Pg { url, schema })
    }

    async fn open(&self) -> Result<DynStore, StoreError> {
        Ok(match self {
            Db::Sqlite { path, .. } => Arc::new(SqliteStore::open(path).await?),
            Db::Pg { url, schema } => {
                Arc::new(PgStore::connect_in_schema(url, Some(schema)).await?)
            }
        })
    }

    /// A connection to the PostgreSQL schema.
    async fn pg_client(&self) -> tokio_postgres::Client {
        let Db::Pg { url, schema } = self else { panic!("not PostgreSQL") };
        let mut cfg: tokio_postgres::Config = url.parse().unwrap();
        cfg.options(format!("-c search_path={schema}"));
        let (c, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        c
    }

    /// Runs statements directly.
    async fn exec(&self, sql: &str) {
        match self {
            Db::Sqlite { path, .. } => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap()
            }
            Db::Pg { .. } => self.pg_client().await.batch_execute(sql).await.unwrap(),
        }
    }

    /// `(version, applied_at)` of every recorded migration.
    async fn recorded(&self) -> Vec<(u32, i64)> {
        let sql = "SELECT version, applied_at FROM schema_migrations ORDER BY version";
        match self {
            Db::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut stmt = c.prepare(sql).unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
            Db::Pg { .. } => self
                .pg_client()
                .await
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (u32::try_from(r.get::<_, i32>(0)).unwrap(), r.get(1)))
                .collect(),
        }
    }

    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        match self {
            Db::Sqlite { path, .. } => {
                rusqlite::Connection::open(path).unwrap().query_row(&sql, [], |r| r.get(0)).unwrap()
            }
            Db::Pg { .. } => self.pg_client().await.query_one(&sql, &[]).await.unwrap().get(0),
        }
    }

    /// A database made by the server before numbered migrations, holding the fixture's rows:
    /// the SQLite fixture itself, or the PostgreSQL schema of then with the rows copied in.
    /// `older`: as a server from before the columns added at every start made it.
    async fn pre_migration(&self, older: bool) {
        match self {
            Db::Sqlite { path, .. } => {
                std::fs::copy(Path::new(FIXTURES).join("sqlite-v1.db"), path).unwrap();
                if older {
                    self.exec(DROP_LATER_COLUMNS).await;
                }
            }
            Db::Pg { .. } => {
                let c = self.pg_client().await;
                let schema =
                    std::fs::read_to_string(Path::new(FIXTURES).join("postgres-schema-v1.sql"))
                        .unwrap();
                c.batch_execute(&schema).await.unwrap();
                if older {
                    c.batch_execute(DROP_LATER_COLUMNS).await.unwrap();
                }
                copy_fixture_rows(&c).await;
            }
        }
    }
}

type Param = Box<dyn ToSql + Sync + Send>;

/// Copies every row of the SQLite fixture into the PostgreSQL tables (the columns they have),
/// converting each value to the column's type.
async fn copy_fixture_rows(pg: &tokio_postgres::Client) {
    use rusqlite::types::ValueRef;
    let src = rusqlite::Connection::open(Path::new(FIXTURES).join("sqlite-v1.db")).unwrap();
    // The schema's own rows (a random epoch, seq 0) give way to the fixture's.
    pg.batch_execute("DELETE FROM log_meta; DELETE FROM seq_counter;").await.unwrap();
    for table in TABLES {
        let cols: Vec<(String, String)> = pg
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
                &[&table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert!(!cols.is_empty(), "{table}");
        let names = cols.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(", ");
        let marks = (1..=cols.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let insert = format!("INSERT INTO {table} ({names}) VALUES ({marks})");
        let mut rows_out: Vec<Vec<Param>> = Vec::new();
        {
            let mut stmt = src.prepare(&format!("SELECT {names} FROM {table}")).unwrap();
            let mut rows = stmt.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                let mut params: Vec<Param> = Vec::new();
                for (i, (col, ty)) in cols.iter().enumerate() {
                    let v = row.get_ref(i).unwrap();
                    let int = if let ValueRef::Integer(n) = v { Some(n) } else { None };
                    params.push(match ty.as_str() {
                        "bigint" => Box::new(int),
                        "integer" => Box::new(int.map(|n| i32::try_from(n).unwrap())),
                        "smallint" => Box::new(int.map(|n| i16::try_from(n).unwrap())),
                        "boolean" => Box::new(int.map(|n| n != 0)),
                        "text" => Box::new(match v {
                            ValueRef::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
                            _ => None,
                        }),
                        "bytea" => Box::new(match v {
                            ValueRef::Blob(b) => Some(b.to_vec()),
                            _ => None,
                        }),
                        other => panic!("{table}.{col}: type {other}"),
                    });
                }
                rows_out.push(params);
            }
        }
        for params in &rows_out {
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
            pg.execute(&insert, &refs).await.unwrap();
        }
    }
    pg.batch_execute(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), (SELECT max(id) FROM audit_log))",
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// What a store serves.

/// Everything a store serves of the district, in the shape of `sqlite-v1.expected.json`.
async fn snapshot(store: &DynStore) -> Value {
    let all = vec![ReadScope::new(area("320612"), RecordKind::ALL.to_vec())];
    let mut changes = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store
            .pull(&PullQuery {
                cursor,
                scopes: all.clone(),
                exclude_device: None,
                max_bytes: 1 << 20,
            })
            .await
            .unwrap();
        for c in &page.changes {
            changes.push(json!({
                "seq": c.seq,
                "doc_id": c.change.doc_id,
                "kind": c.change.kind.code(),
                "area": c.change.area.as_str(),
                "received_at": c.received_at,
                "sha256": hex::encode(Sha256::digest(&c.change.bytes)),
            }));
        }
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    let digests: Vec<Value> = store
        .digests(&area("320612"), &all)
        .await
        .unwrap()
        .iter()
        .map(|d| {
            json!({
                "doc_id": d.doc_id, "change_count": d.change_count,
                "hash_xor": hex::encode(d.hash_xor),
            })
        })
        .collect();
    let areas: Vec<Value> = store
        .list_areas()
        .await
        .unwrap()
        .iter()
        .map(|a| json!({"path": a.path.as_str(), "name": a.name}))
        .collect();
    json!({
        "head_seq": store.head_seq().await.unwrap(),
        "change_count": store.change_count().await.unwrap(),
        "epoch": store.epoch().await.unwrap(),
        "areas": areas,
        "users": serde_json::to_value(store.list_users().await.unwrap()).unwrap(),
        "devices": serde_json::to_value(store.list_devices().await.unwrap()).unwrap(),
        "audit": serde_json::to_value(store.list_audit(1000, None).await.unwrap()).unwrap(),
        "digests": digests,
        "changes": changes,
    })
}

fn expected() -> Value {
    let text =
        std::fs::read_to_string(Path::new(FIXTURES).join("sqlite-v1.expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A change of a new visit with its Automerge origin.
fn visit(origin: (u8, u64), content: u8) -> NewChange {
    let mut hash = [content; 32];
    hash[0] = origin.0;
    let mut c = NewChange::new(
        hash,
        ChangeEnvelope {
            doc_id: Uuid::from_bytes([origin.0; 16]),
            kind: RecordKind::Visit,
            area: area("320612/001/001/01/01"),
            bytes: vec![content; 20],
        },
    );
    c.origin = Some((vec![origin.0; 16], origin.1));
    c
}

/// The migrated store serves exactly what the old server served, authenticates its devices,
/// serves its attachment, and keeps working: the next push gets the next seq and its origin is
/// checked.
async fn serves_the_fixture(store: &DynStore) {
    let want = expected();
    let got = snapshot(store).await;
    for key in got.as_object().unwrap().keys() {
        assert_eq!(got[key], want[key], "{key} differs after the upgrade");
    }
    assert!(want["changes"].as_array().unwrap().len() > 100);

    let auth = store
        .device_by_credential(hash_secret(want["credential"].as_str().unwrap()))
        .await
        .unwrap()
        .expect("the device's credential still works");
    assert_eq!(json!(auth.device.id), want["credential_device"]);

    let hash: [u8; 32] =
        hex::decode(want["attachment"].as_str().unwrap()).unwrap().try_into().unwrap();
    assert!(store.attachment(hash).await.unwrap().unwrap().complete);
    assert_eq!(store.read_attachment(hash, 0, 1 << 20).await.unwrap(), b"not really a jpeg");
    let grid = vec![ReadScope::new(area("320612/001/001/01/02"), vec![RecordKind::Household])];
    assert!(store.attachment_referenced(hash, &grid).await.unwrap());

    let head = store.head_seq().await.unwrap();
    let o = store.push(Uuid::now_v7(), 1, &[visit((9, 1), 1)]).await.unwrap();
    assert_eq!(o.seqs, vec![head + 1]);
    let e = store.push(Uuid::now_v7(), 2, &[visit((9, 1), 2)]).await.unwrap_err();
    assert!(matches!(e, StoreError::DuplicateSeq { .. }), "{e}");
    let all = vec![ReadScope::new(area("320612"), RecordKind::ALL.to_vec())];
    let page = store
        .pull(&PullQuery { cursor: head, scopes: all, exclude_device: None, max_bytes: 1 << 20 })
        .await
        .unwrap();
    assert_eq!(page.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![head + 1]);
}

// ---------------------------------------------------------------------------------------------
// The tests, each on both backends.

async fn fresh_then_reopen(db: Db) {
    let store = db.open().await.unwrap();
    let recorded = db.recorded().await;
    assert_eq!(recorded.iter().map(|r| r.0).collect::<Vec<_>>(), all_versions());
    store.push(Uuid::now_v7(), 1, &[visit((1, 1), 1)]).await.unwrap();
    drop(store);
    let store = db.open().await.unwrap();
    assert_eq!(db.recorded().await, recorded, "opening again runs nothing");
    assert_eq!(store.change_count().await.unwrap(), 1);
}

async fn newer_database_refused(db: Db) {
    let store = db.open().await.unwrap();
    store.push(Uuid::now_v7(), 1, &[visit((1, 1), 1)]).await.unwrap();
    drop(store);
    db.exec(&format!("INSERT INTO schema_migrations VALUES ({}, 1)", latest() + 1)).await;
    let recorded = db.recorded().await;
    let Err(e) = db.open().await else { panic!("a newer database was opened") };
    assert!(
        matches!(e, StoreError::SchemaTooNew { database, known }
            if database == latest() + 1 && known == latest()),
        "{e}"
    );
    assert!(e.to_string().contains("newer than this server knows"), "{e}");
    assert_eq!(db.recorded().await, recorded);
    assert_eq!(db.count("changes").await, 1);
}

async fn pre_migration_fixture(db: Db, older: bool) {
    db.pre_migration(older).await;
    let store = db.open().await.unwrap();
    let recorded = db.recorded().await;
    assert_eq!(recorded.iter().map(|r| r.0).collect::<Vec<_>>(), all_versions());
    serves_the_fixture(&store).await;
    drop(store);
    let store = db.open().await.unwrap();
    assert_eq!(db.recorded().await, recorded, "opening again runs nothing");
    assert_eq!(store.head_seq().await.unwrap(), expected()["head_seq"].as_u64().unwrap() + 1);
}

async fn concurrent_starts(db: Db) {
    let db = Arc::new(db);
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.open().await.map(|_| ()) })
        })
        .collect();
    for o in opens {
        o.await.unwrap().unwrap();
    }
    assert_eq!(db.recorded().await.iter().map(|r| r.0).collect::<Vec<_>>(), all_versions());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_fresh_database_gets_every_migration_and_reopens_unchanged() {
    fresh_then_reopen(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fresh_database_gets_every_migration_and_reopens_unchanged() {
    if let Some(db) = Db::pg().await {
        fresh_then_reopen(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_newer_database_is_refused_untouched() {
    newer_database_refused(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_newer_database_is_refused_untouched() {
    if let Some(db) = Db::pg().await {
        newer_database_refused(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_fixture_from_before_migrations_upgrades_and_serves_everything() {
    pre_migration_fixture(Db::sqlite(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fixture_from_before_migrations_upgrades_and_serves_everything() {
    if let Some(db) = Db::pg().await {
        pre_migration_fixture(db, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_database_from_before_the_later_columns_upgrades() {
    pre_migration_fixture(Db::sqlite(), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_database_from_before_the_later_columns_upgrades() {
    if let Some(db) = Db::pg().await {
        pre_migration_fixture(db, true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_servers_starting_together_migrate_once() {
    concurrent_starts(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_servers_starting_together_migrate_once() {
    if let Some(db) = Db::pg().await {
        concurrent_starts(db).await;
    }
}

/// PostgreSQL's runner, with a broken migration injected: it is rolled back whole, the
/// database stays at the version before it, and a fixed list then completes it. (SQLite's
/// runner has the same test among the unit tests of `store::migrations`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_failing_migration_leaves_the_version_before_it() {
    let Some(db) = Db::pg().await else { return };
    let mut c = db.pg_client().await;
    let good = migrations::POSTGRES[0];
    let bad: PgMigration = Migration::new(
        2,
        "broken",
        "CREATE TABLE half (x INTEGER); INSERT INTO areas VALUES ('320612', 'x');
         INSERT INTO nope VALUES (1);",
    );
    let e = migrations::migrate_postgres(&mut c, &[good, bad], 7, 1).await.unwrap_err();
    assert!(matches!(e, StoreError::MigrationFailed { version: 2, previous: 1, .. }), "{e}");
    assert_eq!(db.recorded().await, vec![(1, 1)]);
    assert_eq!(db.count("areas").await, 0, "the failed migration's rows are rolled back");
    let half: bool =
        c.query_one("SELECT to_regclass('half') IS NOT NULL", &[]).await.unwrap().get(0);
    assert!(!half, "the failed migration's tables are rolled back");
    // Opening with the server's own list applies the rest.
    let store = db.open().await.unwrap();
    assert_eq!(db.recorded().await.iter().map(|r| r.0).collect::<Vec<_>>(), all_versions());
    store.push(Uuid::now_v7(), 1, &[visit((1, 1), 1)]).await.unwrap();
}

/// A failing first migration on PostgreSQL leaves an empty schema (no `schema_migrations`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_failing_first_migration_leaves_nothing() {
    let Some(db) = Db::pg().await else { return };
    let mut c = db.pg_client().await;
    let bad: PgMigration = Migration::new(1, "broken", "CREATE TABLE a (x INTEGER); SELECT nope;");
    let e = migrations::migrate_postgres(&mut c, &[bad], 7, 1).await.unwrap_err();
    assert!(matches!(e, StoreError::MigrationFailed { version: 1, previous: 0, .. }), "{e}");
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
