//! The repair path (DESIGN §2; sans-IO like [`super::session`]): compare per-document digests
//! of the signed-in user's area with the server's, fetch the documents that differ, and send
//! this device's own changes of every document the server lacks or holds differently.
//!
//! The cursor alone cannot see a server that lost changes without noticing (a restore that
//! kept its epoch, a bug): the digest can. It loads every document of the area, so the client
//! runs it once a day and after any bootstrap, not on every sync.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::error::{SyncError, SyncResult};
use crate::area::AreaPath;
use crate::protocol::{DigestRequest, DigestResponse, DocDigest, SyncStatus, WireMessage};
use crate::store::Store;

/// `meta` key: when the last repair pass completed (ms since the epoch, device clock).
pub(crate) const LAST_REPAIR: &str = "sync.last_repair_at";

/// How often the client runs the digest comparison.
pub const REPAIR_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

/// What a digest comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairPlan {
    /// Documents to fetch whole (the server's differ from this device's, or this device lacks them).
    pub fetch: Vec<Uuid>,
    /// How many own changes went back into the outbox (documents the server lacks or differs on).
    pub requeued: u64,
}

/// The digest request for the signed-in user's area, or `None` when nobody is signed in.
///
/// # Errors
/// Store errors.
pub fn request(store: &mut Store) -> SyncResult<Option<(AreaPath, Vec<u8>)>> {
    let Some(area) = store.user().map(|u| u.scope.clone()) else { return Ok(None) };
    let docs = store
        .change_hashes(Some(&area))?
        .into_iter()
        .map(|(id, hashes)| DocDigest::from_hashes(id, &hashes))
        .collect();
    let body = DigestRequest { area: area.clone(), docs }.encode();
    Ok(Some((area, body)))
}

/// Reads the server's answer: own changes of every document that differs or that the server
/// lacks go back into the outbox (pushing is idempotent), and the documents to fetch are
/// returned.
///
/// # Errors
/// [`SyncError::Revoked`] after wiping the store; [`SyncError::Protocol`] for an answer that
/// breaks the protocol; store errors.
pub fn apply(store: &mut Store, body: &[u8]) -> SyncResult<RepairPlan> {
    let resp = DigestResponse::decode(body)?;
    match resp.status {
        SyncStatus::Revoked => {
            store.wipe()?;
            return Err(SyncError::Revoked);
        }
        SyncStatus::BootstrapRequired => return Ok(RepairPlan::default()),
        SyncStatus::Ok => {}
    }
    let resend: BTreeSet<Uuid> =
        resp.divergent.iter().chain(&resp.unknown_to_server).copied().collect();
    let resend: Vec<Uuid> = resend.into_iter().collect();
    let before = store.outbox_len()?;
    let after = store.requeue_own_changes_of(&resend)?;
    store.meta_set(LAST_REPAIR, chrono::Utc::now().timestamp_millis().to_string().as_bytes())?;
    Ok(RepairPlan { fetch: resp.divergent, requeued: after.saturating_sub(before) })
}

/// Whether the daily repair is due. The first call starts the clock instead: a phone that
/// just bootstrapped its scope has nothing to compare yet.
///
/// # Errors
/// Store errors.
pub fn due(store: &mut Store) -> SyncResult<bool> {
    let now = chrono::Utc::now().timestamp_millis();
    let last = store
        .meta_get(LAST_REPAIR)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.parse::<i64>().ok());
    match last {
        Some(t) => Ok(now - t >= REPAIR_EVERY_MS),
        None => {
            store.meta_set(LAST_REPAIR, now.to_string().as_bytes())?;
            Ok(false)
        }
    }
}
