//! Writes held until the end of the transaction: the rows of full-text (FTS5) indexes.
//!
//! SQLite's FTS5 keeps an index's new rows in memory until the transaction ends, but flushes
//! them to a new on-disk segment at every savepoint — and every statement that needs a
//! statement journal opens one. Written row by row in the middle of a page (or of a batch of a
//! thousand records), the search index was flushed and merged after almost every record: a
//! fifth of the apply path's CPU. Held here instead, each row's final tokens are written once,
//! in rowid order, just before the transaction (or the [`Store::batch`](super::Store::batch))
//! commits; a write that fails drops what it held, as its rolled-back rows are dropped.
//!
//! Searches run outside write transactions, so none sees the index behind its table.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use crate::error::Result;

/// Full-text index rows to write at commit: for each (index table, rowid), the tokens the row
/// ends with, or `None` when it ends deleted. The last write of a row wins.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    text: BTreeMap<(&'static str, i64), Option<String>>,
}

impl Deferred {
    /// Sets row `rowid` of FTS5 table `table` (a contentless table with one `tokens` column) to
    /// `tokens`, or deletes it.
    pub(crate) fn set_text(&mut self, table: &'static str, rowid: i64, tokens: Option<String>) {
        self.text.insert((table, rowid), tokens);
    }

    /// Takes over `later`'s writes, which come after this one's.
    pub(crate) fn absorb(&mut self, later: Deferred) {
        self.text.extend(later.text);
    }

    /// Writes everything held, in the caller's open transaction.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn flush(self, conn: &Connection) -> Result<()> {
        for ((table, rowid), tokens) in self.text {
            // Replacing a row of a contentless-delete FTS5 table is a delete and an insert.
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE rowid = ?1"))?
                .execute([rowid])?;
            if let Some(tokens) = tokens {
                conn.prepare_cached(&format!(
                    "INSERT INTO {table}(rowid, tokens) VALUES (?1, ?2)"
                ))?
                .execute(params![rowid, tokens])?;
            }
        }
        Ok(())
    }
}
