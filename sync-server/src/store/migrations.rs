//! Numbered schema migrations of the server's database, one list per backend.
//!
//! # Layout
//! Each migration is a file `migrations/<backend>/NNNN_name.sql` beside this module, registered
//! by one line in [`SQLITE`] or [`POSTGRES`]. A database records what ran in
//! `schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`.
//!
//! # Running
//! Opening a store applies the missing migrations in version order, each in its own transaction
//! together with its `schema_migrations` row: a migration that fails is rolled back whole and
//! the database stays at the version before it ([`StoreError::MigrationFailed`]). A database
//! that records a version newer than this server knows is refused
//! ([`StoreError::SchemaTooNew`]), never used. On PostgreSQL every migration transaction first
//! takes an advisory lock, so servers starting together migrate one after the other and the
//! later ones find the work done; on SQLite the transactions are `IMMEDIATE` (the file's write
//! lock) for the same reason.
//!
//! # Baseline
//! Migration 1 is the schema as servers made it before numbered migrations. A database made then
//! has the tables (`changes` among them) but no `schema_migrations`: it is recorded at version 1
//! without running migration 1, and the later migrations bring it up to date. Migration 2 holds
//! what those servers added to existing databases at every start (columns of `changes` and
//! `documents`, a unique index), written so that it changes nothing where they are present.
//!
//! # Adding a migration
//! 1. Write `migrations/sqlite/NNNN_name.sql` and `migrations/postgres/NNNN_name.sql`, `NNNN`
//!    the next number: plain statements (no `BEGIN`/`COMMIT`: the runner wraps the file in a
//!    transaction; no `IF NOT EXISTS`: it runs once).
//! 2. Add one line for each at the end of [`SQLITE`] and [`POSTGRES`].
//!
//! Never edit, renumber or remove a migration that has shipped: databases in the field record it.

use std::convert::Infallible;

use rusqlite::{Connection, TransactionBehavior};
use thiserror::Error;

use super::{StoreError, StoreResult};

/// A step a SQLite migration runs before its SQL, in the same transaction, for what SQLite's
/// SQL cannot say (it has no `ADD COLUMN IF NOT EXISTS`).
pub type SqlitePrepare = fn(&rusqlite::Transaction<'_>) -> StoreResult<()>;

/// One numbered schema migration of one backend.
#[derive(Debug, Clone, Copy)]
pub struct Migration<P> {
    /// Its number: 1, 2, 3… in the order they run.
    pub version: u32,
    /// A short name (the file name's tail), for logs and errors.
    pub name: &'static str,
    /// The statements it runs.
    pub sql: &'static str,
    /// A step run before `sql`, in the same transaction (SQLite only; rarely needed).
    pub prepare: Option<P>,
}

/// A SQLite migration.
pub type SqliteMigration = Migration<SqlitePrepare>;

/// A PostgreSQL migration (SQL only: PostgreSQL's SQL says everything needed).
pub type PgMigration = Migration<Infallible>;

impl<P> Migration<P> {
    /// The migration `version`, `name`, running `sql`.
    pub const fn new(version: u32, name: &'static str, sql: &'static str) -> Self {
        Migration { version, name, sql, prepare: None }
    }
}

impl SqliteMigration {
    /// This migration with `prepare` run before its SQL.
    pub const fn prepared_by(self, prepare: SqlitePrepare) -> Self {
        Migration { version: self.version, name: self.name, sql: self.sql, prepare: Some(prepare) }
    }
}

/// The version a database made before numbered migrations is at (see "Baseline" above).
pub const BASELINE: u32 = 1;

/// SQLite's migrations, in version order. A new migration is one more line here.
pub static SQLITE: &[SqliteMigration] = &[
    Migration::new(1, "init", include_str!("migrations/sqlite/0001_init.sql")),
    Migration::new(2, "change_origin", include_str!("migrations/sqlite/0002_change_origin.sql"))
        .prepared_by(add_missing_columns),
    Migration::new(3, "read_model", include_str!("migrations/sqlite/0003_read_model.sql")),
    Migration::new(4, "change_reports", include_str!("migrations/sqlite/0004_change_reports.sql")),
    Migration::new(5, "departments", include_str!("migrations/sqlite/0005_departments.sql")),
    Migration::new(6, "staff", include_str!("migrations/sqlite/0006_staff.sql")),
    Migration::new(7, "query", include_str!("migrations/sqlite/0007_query.sql")),
    Migration::new(8, "workbench", include_str!("migrations/sqlite/0008_workbench.sql")),
    Migration::new(9, "ledgers", include_str!("migrations/sqlite/0009_ledgers.sql")),
    Migration::new(10, "hotline", include_str!("migrations/sqlite/0010_hotline.sql")),
    Migration::new(11, "hotline_scale", include_str!("migrations/sqlite/0011_hotline_scale.sql")),
];

/// PostgreSQL's migrations, in version order. A new migration is one more line here.
pub static POSTGRES: &[PgMigration] = &[
    Migration::new(1, "init", include_str!("migrations/postgres/0001_init.sql")),
    Migration::new(2, "change_origin", include_str!("migrations/postgres/0002_change_origin.sql")),
    Migration::new(3, "read_model", include_str!("migrations/postgres/0003_read_model.sql")),
    Migration::new(
        4,
        "change_reports",
        include_str!("migrations/postgres/0004_change_reports.sql"),
    ),
    Migration::new(5, "departments", include_str!("migrations/postgres/0005_departments.sql")),
    Migration::new(6, "staff", include_str!("migrations/postgres/0006_staff.sql")),
    Migration::new(7, "query", include_str!("migrations/postgres/0007_query.sql")),
    Migration::new(8, "workbench", include_str!("migrations/postgres/0008_workbench.sql")),
    Migration::new(9, "ledgers", include_str!("migrations/postgres/0009_ledgers.sql")),
    Migration::new(10, "hotline", include_str!("migrations/postgres/0010_hotline.sql")),
    Migration::new(11, "hotline_scale", include_str!("migrations/postgres/0011_hotline_scale.sql")),
];

/// The table of applied migrations, the same in both dialects.
const SCHEMA_MIGRATIONS: &str =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// Why a database's migration history does not fit this server's migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SchemaProblem {
    /// The database records a migration this server does not have (older than its newest).
    #[error("the database records migration {version}, which this server does not have")]
    Unknown {
        /// The recorded version.
        version: u32,
    },
    /// The database lacks a migration this server has, older than one it records.
    #[error("the database lacks migration {version} but records {database}")]
    Missing {
        /// The migration missing.
        version: u32,
        /// The newest version the database records.
        database: u32,
    },
    /// This server's own list does not start at the baseline or is out of order (a bug).
    #[error("this server's migration {version} is out of order")]
    Unordered {
        /// The misplaced version.
        version: u32,
    },
}

/// What opening a database did to its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The version the database was at (`None`: a new, empty database). A database from before
    /// numbered migrations counts as being at [`BASELINE`].
    pub from: Option<u32>,
    /// The version it is at now: the newest migration of the list.
    pub to: u32,
    /// Whether it was made before numbered migrations and recorded at the baseline now.
    pub adopted: bool,
    /// The migrations run, in order.
    pub applied: Vec<u32>,
}

impl Migrated {
    /// Logs what happened, if anything did.
    pub(crate) fn log(&self, backend: &'static str) {
        if self.adopted {
            tracing::info!(
                backend,
                "schema: database from before numbered migrations, recorded at the baseline"
            );
        }
        if !self.applied.is_empty() {
            tracing::info!(
                backend,
                from = ?self.from,
                to = self.to,
                applied = ?self.applied,
                "schema migrated"
            );
        }
    }
}

/// The next migration to run given the versions a database records (ascending), or `None`
/// when it is up to date.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] when it records a version above every known one;
/// [`StoreError::SchemaHistory`] when its history does not fit `known` otherwise, or `known`
/// is not strictly increasing from [`BASELINE`].
pub(crate) fn next<'a, P>(
    known: &'a [Migration<P>],
    applied: &[u32],
) -> StoreResult<Option<&'a Migration<P>>> {
    let mut expect = BASELINE;
    for m in known {
        if m.version != expect {
            return Err(StoreError::SchemaHistory(SchemaProblem::Unordered { version: m.version }));
        }
        expect = expect.saturating_add(1);
    }
    let latest = known.last().map_or(0, |m| m.version);
    let Some(&top) = applied.iter().max() else {
        return Ok(known.first());
    };
    if top > latest {
        return Err(StoreError::SchemaTooNew { database: top, known: latest });
    }
    if let Some(&version) = applied.iter().find(|v| !known.iter().any(|m| m.version == **v)) {
        return Err(StoreError::SchemaHistory(SchemaProblem::Unknown { version }));
    }
    let mut missing = known.iter().filter(|m| !applied.contains(&m.version));
    match missing.next() {
        Some(m) if m.version < top => Err(StoreError::SchemaHistory(SchemaProblem::Missing {
            version: m.version,
            database: top,
        })),
        other => Ok(other),
    }
}

fn version_of(v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("schema_migrations version {v}")))
}

fn failed<P>(m: &Migration<P>, previous: u32, e: StoreError) -> StoreError {
    StoreError::MigrationFailed { version: m.version, name: m.name, previous, source: Box::new(e) }
}

/// Brings a SQLite database to the newest of `known` (see the module's documentation).
///
/// # Errors
/// [`StoreError::SchemaTooNew`], [`StoreError::SchemaHistory`] (nothing written);
/// [`StoreError::MigrationFailed`] (that migration rolled back, earlier ones kept);
/// [`StoreError::Sqlite`] reading the history.
pub fn migrate_sqlite(
    conn: &mut Connection,
    known: &[SqliteMigration],
    now: i64,
) -> StoreResult<Migrated> {
    let mut report = Migrated { from: None, to: 0, adopted: false, applied: Vec::new() };
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists = |name: &str| -> StoreResult<bool> {
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get(0),
            )?;
            Ok(n > 0)
        };
        if !exists("schema_migrations")? {
            let legacy = exists("changes")?;
            tx.execute_batch(SCHEMA_MIGRATIONS)?;
            if legacy {
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    rusqlite::params![BASELINE, now],
                )?;
                report.adopted = true;
            }
        }
        let applied = {
            let mut stmt = tx.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
            let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
            rows.map(|v| version_of(v?)).collect::<StoreResult<Vec<u32>>>()?
        };
        let current = applied.last().copied();
        if report.applied.is_empty() {
            report.from = current;
        }
        let Some(m) = next(known, &applied)? else {
            tx.commit()?;
            report.to = current.unwrap_or(0);
            return Ok(report);
        };
        let run = || -> StoreResult<()> {
            if let Some(prepare) = m.prepare {
                prepare(&tx)?;
            }
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                rusqlite::params![m.version, now],
            )?;
            Ok(())
        };
        let outcome = match run() {
            Ok(()) => tx.commit().map_err(StoreError::from),
            Err(e) => Err(e),
        };
        outcome.map_err(|e| failed(m, current.unwrap_or(0), e))?;
        report.applied.push(m.version);
    }
}

/// Brings a PostgreSQL database (the schema `client`'s `search_path` names) to the newest of
/// `known`, each transaction holding the advisory lock `lock` (see the module's documentation).
///
/// # Errors
/// As [`migrate_sqlite`], with [`StoreError::Postgres`].
pub async fn migrate_postgres(
    client: &mut tokio_postgres::Client,
    known: &[PgMigration],
    lock: i64,
    now: i64,
) -> StoreResult<Migrated> {
    let mut report = Migrated { from: None, to: 0, adopted: false, applied: Vec::new() };
    loop {
        let tx = client.transaction().await?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({lock})")).await?;
        let exists = async |name: &str| -> StoreResult<bool> {
            Ok(tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await?.get(0))
        };
        if !exists("schema_migrations").await? {
            let legacy = exists("changes").await?;
            tx.batch_execute(SCHEMA_MIGRATIONS).await?;
            if legacy {
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1::bigint, $2)",
                    &[&i64::from(BASELINE), &now],
                )
                .await?;
                report.adopted = true;
            }
        }
        let applied = tx
            .query("SELECT version::bigint FROM schema_migrations ORDER BY version", &[])
            .await?
            .iter()
            .map(|r| version_of(r.get(0)))
            .collect::<StoreResult<Vec<u32>>>()?;
        let current = applied.last().copied();
        if report.applied.is_empty() {
            report.from = current;
        }
        let Some(m) = next(known, &applied)? else {
            tx.commit().await?;
            report.to = current.unwrap_or(0);
            return Ok(report);
        };
        let run = async || -> StoreResult<()> {
            tx.batch_execute(m.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1::bigint, $2)",
                &[&i64::from(m.version), &now],
            )
            .await?;
            Ok(())
        };
        let outcome = match run().await {
            Ok(()) => tx.commit().await.map_err(StoreError::from),
            Err(e) => Err(e),
        };
        outcome.map_err(|e| failed(m, current.unwrap_or(0), e))?;
        report.applied.push(m.version);
    }
}

/// Migration 2's step on SQLite: adds the columns servers added to existing databases before
/// numbered migrations, where they are missing (a database made by the baseline has them).
fn add_missing_columns(tx: &rusqlite::Transaction<'_>) -> StoreResult<()> {
    const COLUMNS: [(&str, &str, &str); 4] = [
        ("changes", "prev_area_key", "TEXT"),
        ("changes", "actor", "BLOB"),
        ("changes", "actor_seq", "INTEGER"),
        ("documents", "area_op", "BLOB"),
    ];
    for (table, column, decl) in COLUMNS {
        let present: i64 = tx.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get(0),
        )?;
        if present == 0 {
            // Names and types come from the list above, never from input.
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_SCHEMA: &str = include_str!("../../tests/fixtures/sqlite-schema-v1.sql");

    fn versions(conn: &Connection) -> Vec<u32> {
        let mut stmt =
            conn.prepare("SELECT version FROM schema_migrations ORDER BY version").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    fn has_table(conn: &Connection, name: &str) -> bool {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            > 0
    }

    fn columns(conn: &Connection, table: &str) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)").unwrap();
        stmt.query_map([table], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    fn latest() -> u32 {
        SQLITE.last().unwrap().version
    }

    fn m(version: u32, sql: &'static str) -> SqliteMigration {
        Migration::new(version, "test", sql)
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let s: Vec<_> = SQLITE.iter().map(|m| (m.version, m.name)).collect();
        let p: Vec<_> = POSTGRES.iter().map(|m| (m.version, m.name)).collect();
        assert_eq!(s, p);
        assert_eq!(next(SQLITE, &[]).unwrap().unwrap().version, BASELINE);
        assert_eq!(next(POSTGRES, &[]).unwrap().unwrap().version, BASELINE);
    }

    #[test]
    fn planning() {
        let known = [m(1, ""), m(2, ""), m(3, "")];
        let plan = |applied: &[u32]| next(&known, applied).map(|m| m.map(|m| m.version));
        assert_eq!(plan(&[]).unwrap(), Some(1));
        assert_eq!(plan(&[1]).unwrap(), Some(2));
        assert_eq!(plan(&[1, 2, 3]).unwrap(), None);
        assert!(matches!(
            plan(&[1, 2, 3, 4]),
            Err(StoreError::SchemaTooNew { database: 4, known: 3 })
        ));
        assert!(matches!(
            plan(&[1, 3]),
            Err(StoreError::SchemaHistory(SchemaProblem::Missing { version: 2, database: 3 }))
        ));
        assert!(matches!(
            plan(&[0, 1]),
            Err(StoreError::SchemaHistory(SchemaProblem::Unknown { version: 0 }))
        ));
        for bad in [vec![m(1, ""), m(3, "")], vec![m(2, "")], vec![m(1, ""), m(1, "")]] {
            assert!(matches!(
                next(&bad, &[]),
                Err(StoreError::SchemaHistory(SchemaProblem::Unordered { .. }))
            ));
        }
    }

    #[test]
    fn fresh_database_gets_every_migration_and_reopening_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        let r = migrate_sqlite(&mut conn, SQLITE, 5).unwrap();
        let all: Vec<u32> = SQLITE.iter().map(|m| m.version).collect();
        assert_eq!(r, Migrated { from: None, to: latest(), adopted: false, applied: all.clone() });
        assert_eq!(versions(&conn), all);
        assert!(columns(&conn, "changes").contains(&"actor_seq".to_owned()));
        let r = migrate_sqlite(&mut conn, SQLITE, 6).unwrap();
        assert_eq!(
            r,
            Migrated { from: Some(latest()), to: latest(), adopted: false, applied: vec![] }
        );
        let stamps: Vec<i64> = conn
            .prepare("SELECT applied_at FROM schema_migrations")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(stamps.iter().all(|t| *t == 5), "{stamps:?}");
    }

    #[test]
    fn a_failing_migration_leaves_the_version_before_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        let bad = [
            m(1, "CREATE TABLE a (x INTEGER);"),
            m(
                2,
                "CREATE TABLE half (x INTEGER); INSERT INTO a VALUES (1); INSERT INTO nope VALUES (1);",
            ),
        ];
        let e = migrate_sqlite(&mut conn, &bad, 1).unwrap_err();
        assert!(matches!(e, StoreError::MigrationFailed { version: 2, previous: 1, .. }), "{e}");
        assert!(e.to_string().contains("stays at version 1"), "{e}");
        assert_eq!(versions(&conn), vec![1]);
        assert!(has_table(&conn, "a") && !has_table(&conn, "half"));
        let n: i64 = conn.query_row("SELECT count(*) FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "the failed migration's rows are rolled back too");

        // A failing prepare step too; then the fixed migration runs.
        fn refuse(_: &rusqlite::Transaction<'_>) -> StoreResult<()> {
            Err(StoreError::Corrupt("no".into()))
        }
        let bad = [m(1, ""), m(2, "CREATE TABLE half (x INTEGER);").prepared_by(refuse)];
        assert!(matches!(
            migrate_sqlite(&mut conn, &bad, 1),
            Err(StoreError::MigrationFailed { version: 2, .. })
        ));
        assert_eq!(versions(&conn), vec![1]);
        let fixed = [m(1, ""), m(2, "CREATE TABLE half (x INTEGER);")];
        assert_eq!(migrate_sqlite(&mut conn, &fixed, 2).unwrap().applied, vec![2]);
        assert_eq!(versions(&conn), vec![1, 2]);
    }

    #[test]
    fn a_failing_first_migration_leaves_an_empty_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        let bad = [m(1, "CREATE TABLE a (x INTEGER); SELECT nope;")];
        assert!(matches!(
            migrate_sqlite(&mut conn, &bad, 1),
            Err(StoreError::MigrationFailed { version: 1, previous: 0, .. })
        ));
        assert!(!has_table(&conn, "a") && !has_table(&conn, "schema_migrations"));
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_sqlite(&mut conn, SQLITE, 1).unwrap();
        conn.execute("INSERT INTO schema_migrations VALUES (?1, 2)", [latest() + 1]).unwrap();
        let e = migrate_sqlite(&mut conn, SQLITE, 3).unwrap_err();
        assert!(
            matches!(e, StoreError::SchemaTooNew { database, known }
                if database == latest() + 1 && known == latest()),
            "{e}"
        );
        assert!(e.to_string().contains("newer than this server knows"), "{e}");
        let mut all: Vec<u32> = SQLITE.iter().map(|m| m.version).collect();
        all.push(latest() + 1);
        assert_eq!(versions(&conn), all);
    }

    #[test]
    fn a_database_from_before_migrations_is_at_the_baseline() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        // What the last server before migrations added at every start.
        conn.execute_batch(
            "CREATE UNIQUE INDEX changes_actor_seq ON changes (doc_id, actor, actor_seq)
             WHERE actor IS NOT NULL",
        )
        .unwrap();
        let before = columns(&conn, "changes");
        let r = migrate_sqlite(&mut conn, SQLITE, 7).unwrap();
        assert_eq!(r.from, Some(BASELINE));
        assert!(r.adopted);
        assert_eq!(r.applied, (BASELINE + 1..=latest()).collect::<Vec<_>>());
        assert_eq!(versions(&conn), (BASELINE..=latest()).collect::<Vec<_>>());
        // Migration 2 adds nothing twice; migration 4 adds `withheld`.
        let mut expected = before;
        expected.push("withheld".to_owned());
        assert_eq!(columns(&conn, "changes"), expected, "nothing added twice");
    }

    #[test]
    fn a_database_from_an_older_server_gets_the_later_columns() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        conn.execute_batch(
            "ALTER TABLE changes DROP COLUMN prev_area_key;
             ALTER TABLE changes DROP COLUMN actor;
             ALTER TABLE changes DROP COLUMN actor_seq;
             ALTER TABLE documents DROP COLUMN area_op;",
        )
        .unwrap();
        migrate_sqlite(&mut conn, SQLITE, 7).unwrap();
        let cols = columns(&conn, "changes");
        for c in ["prev_area_key", "actor", "actor_seq"] {
            assert!(cols.contains(&c.to_owned()), "{c}");
        }
        assert!(columns(&conn, "documents").contains(&"area_op".to_owned()));
        let index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'changes_actor_seq'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 1);
    }
}
