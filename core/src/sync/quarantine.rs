//! Quarantine of changes the server refuses for good.
//!
//! The server stores a push all or nothing and names the change at fault (`change_index`). A
//! refusal such as `out_of_scope` or `foreign_actor` repeats on every retry, so without this one
//! bad change would block the device's outbox — and, since one round trip both pushes and
//! pulls, its pulls too — forever. The sync client therefore quarantines such a change: it stays
//! part of its document on this device, the server's code and message are kept, and its document
//! sends nothing more (its later changes depend on the refused one, and a peer cannot apply a
//! change whose dependencies it never receives). Everything else syncs on. [`quarantined`] lists
//! them for a status screen; [`release_quarantined`] puts them back into the outbox (after an
//! admin fixed the user's roles, say).

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::error::SyncError;
use crate::error::Result;
use crate::store::Store;
use crate::store::outbox_state::{QUARANTINED, WAITING};

/// Server error codes that refuse a pushed change permanently (`docs/sync-protocol.md`, "Push
/// validation"): sending the same change again can only be refused again.
const PERMANENT_REFUSALS: [&str; 12] = [
    "corrupt_change",
    "change_too_large",
    "foreign_actor",
    "out_of_scope",
    "kind_not_allowed",
    "event_role_not_held",
    "kind_mismatch",
    "unknown_kind",
    "invalid_area",
    "move_not_allowed",
    "area_mismatch",
    "duplicate_seq",
];

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

/// The index (in the pushed batch) of the change a server error refuses permanently, with the
/// code and message, if the error is such a refusal.
pub(crate) fn refused_change(error: &SyncError) -> Option<(usize, &str, &str)> {
    match error {
        SyncError::Server { status, code, message, change_index: Some(i) }
            if (400..500).contains(status) && PERMANENT_REFUSALS.contains(&code.as_str()) =>
        {
            Some((*i, code, message))
        }
        _ => None,
    }
}

/// Quarantines the outbox change `hash` (and so its document's outbox) with the server's `code`
/// and `message`. Returns false when no such change waits in the outbox.
///
/// # Errors
/// Storage errors.
pub(crate) fn quarantine(
    store: &mut Store,
    hash: &[u8; 32],
    code: &str,
    message: &str,
) -> Result<bool> {
    let now = chrono::Utc::now().timestamp_millis();
    store.in_write(|tx| {
        let moved = tx.execute(
            "UPDATE change SET outbox = ?2 WHERE hash = ?1 AND outbox = ?3",
            params![&hash[..], QUARANTINED, WAITING],
        )?;
        if moved > 0 {
            tx.execute(
                "INSERT OR REPLACE INTO sync_quarantine(hash, doc_id, code, message, at)
                 SELECT hash, doc_id, ?2, ?3, ?4 FROM change WHERE hash = ?1",
                params![&hash[..], code, message, now],
            )?;
        }
        Ok(moved > 0)
    })
}

/// The quarantined changes, oldest first.
///
/// # Errors
/// Storage errors; [`crate::CoreError::BadChange`] for an unreadable stored id.
pub fn quarantined(store: &Store) -> Result<Vec<QuarantinedChange>> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT hash, doc_id, code, message, at FROM sync_quarantine ORDER BY at, hash",
    )?;
    let rows = stmt.query_map([], |r| {
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
        let (hash, doc, code, message, at_ms) = row?;
        let doc_id = Uuid::from_slice(&doc).map_err(|e| crate::CoreError::BadChange {
            doc_id: hex::encode(&doc),
            reason: e.to_string(),
        })?;
        out.push(QuarantinedChange { hash: hex::encode(hash), doc_id, code, message, at_ms });
    }
    Ok(out)
}

/// Puts every quarantined change back into the outbox (the next sync pushes them and their
/// documents' later changes again); returns how many were quarantined.
///
/// # Errors
/// Storage errors.
pub fn release_quarantined(store: &mut Store) -> Result<u64> {
    store.in_write(|tx| {
        tx.execute("UPDATE change SET outbox = ?2 WHERE outbox = ?1", [QUARANTINED, WAITING])?;
        let n = tx.execute("DELETE FROM sync_quarantine", [])?;
        Ok(n as u64)
    })
}
