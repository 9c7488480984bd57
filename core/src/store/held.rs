//! Changes received but not part of their documents (see `apply.rs`): listed for the sync
//! status screen, and the documents whose history has gaps, which the sync client fetches whole.

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use super::apply::MISSING_DEPS;
use crate::error::{CoreError, Result};

/// A change this device received but has not made part of its document.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldChange {
    /// The change's hash, lowercase hex (for a change too corrupt to have one, the SHA-256 of
    /// its bytes).
    pub hash: String,
    /// Its document.
    pub doc_id: Uuid,
    /// Why: `missing_deps` (waiting for an earlier change; applied when it arrives), or why it
    /// can never be applied (`corrupt_change`, `kind_mismatch`, `apply_failed`).
    pub reason: String,
    /// Details, in English.
    pub detail: String,
    /// When it arrived (ms since the epoch, device clock).
    pub held_at: i64,
}

/// Most held changes [`Store::held_changes`] lists.
const LIST_LIMIT: i64 = 1000;

impl Store {
    /// The changes held back, oldest first (at most 1,000).
    ///
    /// # Errors
    /// Storage errors; [`CoreError::BadChange`] for an unreadable stored id.
    pub fn held_changes(&self) -> Result<Vec<HeldChange>> {
        let rows = set_aside_rows(
            &self.conn,
            "SELECT hash, doc_id, reason, detail, held_at FROM held_change
             ORDER BY held_at, hash LIMIT ?1",
            [LIST_LIMIT],
        )?;
        Ok(rows.into_iter().map(held).collect())
    }

    /// How many changes are held back: `(waiting for dependencies, refused for good)`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn held_counts(&self) -> Result<(u64, u64)> {
        let (waiting, refused): (i64, i64) = self.conn.prepare_cached(
            "SELECT coalesce(sum(reason = ?1), 0), coalesce(sum(reason <> ?1), 0) FROM held_change",
        )?
        .query_row(params![MISSING_DEPS], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((waiting.unsigned_abs(), refused.unsigned_abs()))
    }

    /// Held changes that can never be applied (every reason but `missing_deps`) and were not
    /// yet reported to the server, oldest first (at most `limit`).
    ///
    /// # Errors
    /// Storage errors; [`CoreError::BadChange`] for an unreadable stored id.
    pub fn unreported_held(&self, limit: usize) -> Result<Vec<HeldChange>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = set_aside_rows(
            &self.conn,
            "SELECT hash, doc_id, reason, detail, held_at FROM held_change
             WHERE reason <> ?1 AND reported = 0 ORDER BY held_at, hash LIMIT ?2",
            params![MISSING_DEPS, limit],
        )?;
        Ok(rows.into_iter().map(held).collect())
    }

    /// Marks these held changes (hashes as [`HeldChange::hash`], lowercase hex) reported to the
    /// server; hashes not held (or not hex) are skipped. Returns how many were marked.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark_held_reported(&mut self, hashes: &[String]) -> Result<u64> {
        self.in_write(|tx| {
            let mut stmt =
                tx.prepare_cached("UPDATE held_change SET reported = 1 WHERE hash = ?1")?;
            let mut n = 0u64;
            for h in hashes {
                if let Ok(key) = hex::decode(h) {
                    n += stmt.execute([key])? as u64;
                }
            }
            Ok(n)
        })
    }

    /// Documents with changes waiting for dependencies (at most `limit`): their history has a
    /// gap this device should fill by fetching them whole.
    ///
    /// # Errors
    /// Storage errors.
    pub fn docs_with_gaps(&self, limit: usize) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT doc_id FROM held_change WHERE reason = ?1 ORDER BY doc_id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![MISSING_DEPS, limit], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for id in rows {
            if let Ok(id) = Uuid::from_slice(&id?) {
                out.push(id);
            }
        }
        Ok(out)
    }
}

fn held((hash, doc_id, reason, detail, held_at): SetAside) -> HeldChange {
    HeldChange { hash, doc_id, reason, detail, held_at }
}

/// A change kept out of its document or the outbox: hash (hex), document, code, message, when.
pub(super) type SetAside = (String, Uuid, String, String, i64);

/// The rows of a list of set-aside changes (held or quarantined): `sql` selects hash, document
/// id, code, message and time, in that order.
///
/// # Errors
/// Storage errors; [`CoreError::BadChange`] for an unreadable stored id.
pub(super) fn set_aside_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SetAside>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (hash, doc, code, message, at) = row?;
        let doc_id = Uuid::from_slice(&doc).map_err(|e| CoreError::BadChange {
            doc_id: hex::encode(&doc),
            reason: e.to_string(),
        })?;
        out.push((hex::encode(hash), doc_id, code, message, at));
    }
    Ok(out)
}
