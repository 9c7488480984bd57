//! Opening a store: encryption key, pragmas, schema migrations and the device's actor id.

use std::path::Path;

use automerge::ActorId;
use lru::LruCache;
use rusqlite::{Connection, OpenFlags};

use super::Store;
use crate::error::{CoreError, Result};

/// One schema migration: its SQL and, where rows need more than SQL can do, a step run after
/// it in the same transaction.
struct Migration {
    sql: &'static str,
    after: Option<fn(&rusqlite::Transaction<'_>) -> Result<()>>,
}

/// The schema migrations, in order; `PRAGMA user_version` is how many have run.
const MIGRATIONS: &[Migration] = &[
    Migration { sql: include_str!("schema/001_init.sql"), after: None },
    Migration { sql: include_str!("schema/002_attachments.sql"), after: None },
    Migration { sql: include_str!("schema/003_quarantine.sql"), after: None },
    Migration {
        sql: include_str!("schema/004_held_outbox_order.sql"),
        after: Some(super::outbox::number_unordered),
    },
    Migration { sql: include_str!("schema/005_doc_photos.sql"), after: None },
    Migration { sql: include_str!("schema/006_task_area_progress.sql"), after: None },
    Migration { sql: include_str!("schema/007_held_reported.sql"), after: None },
    Migration { sql: include_str!("schema/008_alert_seen.sql"), after: None },
    Migration { sql: include_str!("schema/009_reference.sql"), after: None },
    Migration { sql: include_str!("schema/010_smaller_store.sql"), after: None },
];

/// The schema version whose migration rewrites the largest tables (`change`, `doc`): a store
/// upgraded across it is vacuumed once afterwards, so the pages the old tables held go back to
/// the file system instead of staying in the file as free pages.
const REWRITES_TABLES: usize = 10;

/// Length in bytes of a raw SQLCipher key.
pub const KEY_LEN: usize = 32;

impl Store {
    /// Opens (creating if needed) the store at `path`. With `key`, the file is encrypted with
    /// SQLCipher using that raw 32-byte key, which the apps keep in the Android Keystore / iOS
    /// Keychain; without, it is a plain SQLite file.
    ///
    /// # Errors
    /// - [`CoreError::Invalid`] naming `key` if the key is not 32 bytes;
    /// - [`CoreError::Locked`] if the file is encrypted and the key is missing or wrong (or the
    ///   file is not a Gridwork store);
    /// - [`CoreError::Storage`] for I/O and SQLite failures.
    pub fn open(path: impl AsRef<Path>, key: Option<&[u8]>) -> Result<Store> {
        // Checked before the file is created: bad input writes nothing.
        check_key(key)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        Self::from_connection(conn, key)
    }

    /// Opens a throwaway in-memory store (tests, previews).
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_in_memory() -> Result<Store> {
        Self::from_connection(Connection::open_in_memory()?, None)
    }

    fn from_connection(conn: Connection, key: Option<&[u8]>) -> Result<Store> {
        // A wrong key is reported as `CoreError::Locked`; SQLCipher's own stderr log would only
        // repeat it on the phone's console.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        check_key(key)?;
        if let Some(key) = key {
            conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key)))?;
        }
        // The first read decrypts page 1: a wrong key or a foreign file fails here.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(
            |e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    CoreError::Locked
                }
                other => CoreError::Storage(other),
            },
        )?;
        // `secure_delete`: what a delete or an overwrite frees is zeroed, so a record that left
        // the user's scope, or a corrected ID number, does not linger in free pages (measured:
        // no cost on the apply and import benches).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;
             PRAGMA temp_store = MEMORY;
             PRAGMA busy_timeout = 5000;
             PRAGMA secure_delete = ON;",
        )?;
        // Every write path runs a few dozen distinct statements; the default cache of 16 would
        // re-parse most of them on every record.
        conn.set_prepared_statement_cache_capacity(256);
        // Query plans never depend on bound values (SQLite's "query planner stability
        // guarantee"). Without it this build of SQLite (STAT4) marks statements whose plan could
        // depend on a parameter — `LIMIT ?`, a column compared to `?` that a partial index
        // mentions — for re-preparation whenever that parameter changes, which re-parsed the
        // write path's upserts on almost every record. Every query here is written for one plan.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let mut conn = conn;
        migrate(&mut conn)?;
        let actor = load_or_make_actor(&conn)?;
        let next_ord = super::outbox::next_ord(&conn)?;
        let mut store = Store {
            conn,
            actor,
            next_ord,
            cache: LruCache::new(Store::cache_capacity()),
            user: None,
            batch: None,
        };
        store.user = store.load_user()?;
        Ok(store)
    }
}

/// Runs the migrations not yet applied, each in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(CoreError::invalid(
            "store",
            format!("store schema version {version} is newer than this app ({})", MIGRATIONS.len()),
        ));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        if let Some(after) = m.after {
            after(&tx)?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    // A new store (version 0) has nothing to give back.
    if (1..REWRITES_TABLES).contains(&version) && MIGRATIONS.len() >= REWRITES_TABLES {
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// The device's actor id, made (random, 16 bytes) and stored on first open.
pub(super) fn load_or_make_actor(conn: &Connection) -> Result<ActorId> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if let Some(bytes) = existing {
        return Ok(ActorId::from(bytes));
    }
    let actor = ActorId::from(uuid::Uuid::new_v4().as_bytes().as_slice());
    conn.execute("INSERT INTO meta(key, value) VALUES ('actor', ?1)", [actor.to_bytes()])?;
    Ok(actor)
}

/// An encryption key, when given, must be exactly [`KEY_LEN`] bytes.
fn check_key(key: Option<&[u8]>) -> Result<()> {
    match key {
        Some(k) if k.len() != KEY_LEN => Err(CoreError::invalid(
            "key",
            format!("an encryption key must be {KEY_LEN} bytes, got {}", k.len()),
        )),
        _ => Ok(()),
    }
}
