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

use super::error::SyncError;
use crate::error::Result;
pub use crate::store::QuarantinedChange;
use crate::store::Store;

/// Server error codes that refuse a pushed change permanently (`docs/sync-protocol.md`, "Push
/// validation"): sending the same change again can only be refused again.
const PERMANENT_REFUSALS: [&str; 16] = [
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
    "unknown_department",
    "department_not_held",
    "details_locked",
    "role_not_allowed",
];

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

/// Quarantines the outbox change `hash` (see [`Store::quarantine_change`]).
///
/// # Errors
/// Storage errors.
pub(crate) fn quarantine(
    store: &mut Store,
    hash: &[u8; 32],
    code: &str,
    message: &str,
) -> Result<bool> {
    store.quarantine_change(hash, code, message)
}

/// The quarantined changes, oldest first (see [`Store::quarantined_changes`]).
///
/// # Errors
/// Storage errors; [`crate::CoreError::BadChange`] for an unreadable stored id.
pub fn quarantined(store: &Store) -> Result<Vec<QuarantinedChange>> {
    store.quarantined_changes()
}

/// Puts every quarantined change back into the outbox (see [`Store::release_quarantined`]).
///
/// # Errors
/// Storage errors.
pub fn release_quarantined(store: &mut Store) -> Result<u64> {
    store.release_quarantined()
}
