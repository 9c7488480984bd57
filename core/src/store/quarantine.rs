//! The outbox's quarantine: a change the server refused for good leaves the outbox (with its
//! document's later changes, which depend on it) and is kept with the server's reason, until a
//! person releases it. Which refusals count as "for good" is the sync client's policy
//! (`sync/quarantine.rs`); this is the storage side, the only writer of the outbox state.

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use super::outbox::state::{QUARANTINED, WAITING};
use crate::error::Result;

/// A change the server refused for good, kept out of the outbox with its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedChange {
    /// The change's hash, lowercase hex.
    pub hash: String,
    /// Its document (which sends nothing while this change is quarantined).
    pub doc_id: Uuid,
    /// The server's error code, e.g. `out_of_scope`.
    pub code: String,
    /// The server's message.
    pub message: String,
    /// When it was quarantined (ms since the epoch, device clock).
    pub at_ms: i64,
}

impl Store {
    /// Quarantines the outbox change `hash` (and so its document's outbox) with the server's
    /// `code` and `message`. Returns false when no such change waits in the outbox.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn quarantine_change(
        &mut self,
        hash: &[u8; 32],
        code: &str,
        message: &str,
    ) -> Result<bool> {
        let now = chrono::Utc::now().timestamp_millis();
        self.in_write(|tx| {
            let moved = tx
                .prepare_cached("UPDATE change SET outbox = ?2 WHERE hash = ?1 AND outbox = ?3")?
                .execute(params![&hash[..], QUARANTINED, WAITING])?;
            if moved > 0 {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO sync_quarantine(hash, doc_id, code, message, at)
                     SELECT hash, doc_id, ?2, ?3, ?4 FROM change WHERE hash = ?1",
                )?
                .execute(params![&hash[..], code, message, now])?;
            }
            Ok(moved > 0)
        })
    }

    /// The quarantined changes, oldest first.
    ///
    /// # Errors
    /// Storage errors; [`crate::CoreError::BadChange`] for an unreadable stored id.
    pub fn quarantined_changes(&self) -> Result<Vec<QuarantinedChange>> {
        let rows = super::held::set_aside_rows(
            self.conn(),
            "SELECT hash, doc_id, code, message, at FROM sync_quarantine ORDER BY at, hash",
            [],
        )?;
        Ok(rows
            .into_iter()
            .map(|(hash, doc_id, code, message, at_ms)| QuarantinedChange {
                hash,
                doc_id,
                code,
                message,
                at_ms,
            })
            .collect())
    }

    /// Puts every quarantined change back into the outbox (the next sync pushes them and their
    /// documents' later changes again); returns how many were quarantined.
    ///
    /// # Errors
    /// Storage errors.
    pub fn release_quarantined(&mut self) -> Result<u64> {
        self.in_write(|tx| {
            tx.prepare_cached("UPDATE change SET outbox = ?2 WHERE outbox = ?1")?
                .execute([QUARANTINED, WAITING])?;
            let n = tx.prepare_cached("DELETE FROM sync_quarantine")?.execute([])?;
            Ok(n as u64)
        })
    }
}
