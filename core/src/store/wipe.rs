//! Wiping the store: what a revoked device does at its next contact with the server. Every
//! table is dropped and the file is vacuumed (with `secure_delete`, so freed pages are zeroed),
//! the write-ahead log is truncated, and a fresh empty schema with a new actor id is created:
//! the device holds no resident data afterwards and can be enrolled again.

use rusqlite::Connection;

use super::Store;
use super::open::{load_or_make_actor, migrate};
use crate::error::Result;

fn tables(conn: &Connection, virtual_only: bool) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND (?1 = 0 OR sql LIKE 'CREATE VIRTUAL TABLE%')",
    )?;
    let names = stmt.query_map([i64::from(virtual_only)], |r| r.get(0))?;
    Ok(names.collect::<Result<Vec<String>, _>>()?)
}

impl Store {
    /// Deletes all data in the store: records, outbox, projections, areas, the signed-in user,
    /// the sync enrolment and the actor id. The store stays open, empty, with a new actor id.
    ///
    /// # Errors
    /// [`crate::CoreError::Invalid`] naming `batch` inside [`Store::batch`]; storage errors.
    pub fn wipe(&mut self) -> Result<()> {
        if self.batch.is_some() {
            return Err(crate::CoreError::invalid("batch", "cannot wipe inside a batch"));
        }
        self.cache.clear();
        self.user = None;
        self.conn.execute_batch("PRAGMA secure_delete = ON")?;
        {
            let tx = self.conn.transaction()?;
            // Virtual tables first: dropping one drops its shadow tables too.
            for name in tables(&tx, true)? {
                tx.execute_batch(&format!("DROP TABLE IF EXISTS \"{name}\""))?;
            }
            for name in tables(&tx, false)? {
                tx.execute_batch(&format!("DROP TABLE IF EXISTS \"{name}\""))?;
            }
            let indexes: Vec<String> = tx
                .prepare("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND name NOT LIKE 'sqlite_%'")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for name in indexes {
                let _ = tx.execute_batch(&format!("DROP INDEX IF EXISTS \"{name}\""));
            }
            tx.execute_batch("PRAGMA user_version = 0")?;
            tx.commit()?;
        }
        self.conn.execute_batch("VACUUM")?;
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        migrate(&mut self.conn)?;
        self.actor = load_or_make_actor(&self.conn)?;
        Ok(())
    }
}
