//! What the device remembers about its sync server, kept in the store's `meta` table: the
//! server URL, the device id and credential from enrolment, whether the enrolment still waits
//! for its reference data, the cursor, and the last sync.

use serde::Serialize;

use crate::error::{CoreError, Result};
use crate::store::{SignedInUser, Store};

const SERVER_URL: &str = "sync.server_url";
const DEVICE_ID: &str = "sync.device_id";
const CREDENTIAL: &str = "sync.credential";
pub(crate) const CURSOR: &str = "sync.cursor";
pub(crate) const BOOTSTRAP: &str = "sync.bootstrap";
pub(crate) const EPOCH: &str = "sync.epoch";
const LAST_SYNC: &str = "sync.last_sync_at";
const LAST_ERROR: &str = "sync.last_error";
/// The user to sign in once the reference data arrives (JSON [`SignedInUser`]); present while
/// an enrolment is "enrolled, reference data pending".
const PENDING_USER: &str = "sync.enrol_pending_user";

/// The enrolment this device holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The server's base URL, e.g. `https://sync.example.cn`.
    pub server_url: String,
    /// The device's id on the server.
    pub device_id: String,
    /// The device's secret credential (`gwd_…`).
    pub credential: String,
}

/// A device's sync status, for status screens and `gridwork status`.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    /// Whether the device is enrolled.
    pub enrolled: bool,
    /// Whether the enrolment still waits for its reference data (the areas of the user's scope;
    /// the user is signed in when they arrive): the areas call after enrolment failed. The next
    /// `enrol`, `sync` or `refresh_areas` completes it.
    pub reference_pending: bool,
    /// The server URL, when enrolled.
    pub server_url: Option<String>,
    /// The device id, when enrolled.
    pub device_id: Option<String>,
    /// The highest server seq applied.
    pub cursor: u64,
    /// Whether the next sync re-pulls everything (after `bootstrap_required`).
    pub bootstrap_pending: bool,
    /// End of the last successful sync, ms since the epoch (device clock).
    pub last_sync_at: Option<i64>,
    /// Code of the last failed sync's error, cleared by a successful one.
    pub last_error: Option<String>,
    /// Changes waiting to be pushed.
    pub pending: u64,
    /// Received changes waiting for a change they depend on (fetched at the next sync).
    pub held: u64,
    /// Received changes set aside because they can never be applied (see
    /// [`Store::held_changes`]); each costs only its own record.
    pub refused: u64,
}

fn text(store: &Store, key: &str) -> Result<Option<String>> {
    store
        .meta_get(key)?
        .map(|b| {
            String::from_utf8(b)
                .map_err(|_| CoreError::corrupt(key, "stored setting is not UTF-8 text"))
        })
        .transpose()
}

fn number(store: &Store, key: &str) -> Result<Option<i64>> {
    text(store, key)?
        .map(|s| s.parse().map_err(|_| CoreError::corrupt(key, "stored setting is not a number")))
        .transpose()
}

/// The device's enrolment, if it has one.
///
/// # Errors
/// Storage errors; [`CoreError::Invalid`] for an unreadable setting.
pub fn enrolment(store: &Store) -> Result<Option<Enrolment>> {
    let (Some(server_url), Some(device_id), Some(credential)) =
        (text(store, SERVER_URL)?, text(store, DEVICE_ID)?, text(store, CREDENTIAL)?)
    else {
        return Ok(None);
    };
    Ok(Some(Enrolment { server_url, device_id, credential }))
}

/// Stores an enrolment in the state "enrolled, reference data pending": the credential is kept
/// before the areas are fetched, so a failure after the server bound the actor never loses it;
/// `user` is signed in when the reference data arrives ([`take_pending_user`]). The caller
/// wraps this in one transaction. The cursor starts at 0 for a new device, and is kept when the
/// server completed this device's earlier enrolment again (same server, same device id).
pub(crate) fn save_pending_enrolment(
    store: &mut Store,
    e: &Enrolment,
    user: &SignedInUser,
) -> Result<()> {
    let same_device = enrolment(store)?
        .is_some_and(|old| old.server_url == e.server_url && old.device_id == e.device_id);
    store.meta_set(SERVER_URL, e.server_url.as_bytes())?;
    store.meta_set(DEVICE_ID, e.device_id.as_bytes())?;
    store.meta_set(CREDENTIAL, e.credential.as_bytes())?;
    if !same_device {
        store.meta_set(CURSOR, b"0")?;
    }
    let json = serde_json::to_vec(user)
        .map_err(|e| CoreError::Internal { reason: format!("cannot encode the user: {e}") })?;
    store.meta_set(PENDING_USER, &json)
}

/// Whether the enrolment waits for its reference data.
///
/// # Errors
/// Storage errors.
pub(crate) fn reference_pending(store: &Store) -> Result<bool> {
    Ok(store.meta_get(PENDING_USER)?.is_some_and(|v| !v.is_empty()))
}

/// Ends the pending state (the caller loads the reference data in the same transaction) and
/// returns the user to sign in, if an enrolment was pending.
///
/// # Errors
/// Storage errors; [`CoreError::Invalid`] for an unreadable setting.
pub(crate) fn take_pending_user(store: &mut Store) -> Result<Option<SignedInUser>> {
    let Some(json) = store.meta_get(PENDING_USER)?.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let user = serde_json::from_slice(&json)
        .map_err(|_| CoreError::corrupt(PENDING_USER, "stored setting is not a user"))?;
    store.meta_set(PENDING_USER, b"")?;
    Ok(Some(user))
}

/// The cursor: the highest server seq this device has applied.
///
/// # Errors
/// Storage errors; [`CoreError::Invalid`] for an unreadable setting.
pub fn cursor(store: &Store) -> Result<u64> {
    Ok(number(store, CURSOR)?.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// The server log's identity this device's cursor belongs to, once known.
pub(crate) fn epoch(store: &Store) -> Result<Option<uuid::Uuid>> {
    Ok(text(store, EPOCH)?.and_then(|t| uuid::Uuid::parse_str(&t).ok()))
}

/// Whether the next pull is a bootstrap (from 0, including the device's own changes).
pub(crate) fn bootstrap_pending(store: &Store) -> Result<bool> {
    Ok(number(store, BOOTSTRAP)?.unwrap_or(0) != 0)
}

/// Makes the next sync a bootstrap (cursor 0, own changes included): after the device's scope
/// changed, the new scope's records logged before the cursor must be pulled too.
pub(crate) fn request_bootstrap(store: &mut Store) -> Result<()> {
    store.meta_set(CURSOR, b"0")?;
    store.meta_set(BOOTSTRAP, b"1")
}

/// Records the end of a sync: its time on success, its error code on failure.
pub(crate) fn record_outcome(store: &mut Store, error: Option<&str>) -> Result<()> {
    match error {
        None => {
            store.meta_set(
                LAST_SYNC,
                chrono::Utc::now().timestamp_millis().to_string().as_bytes(),
            )?;
            store.meta_set(LAST_ERROR, b"")
        }
        Some(code) => store.meta_set(LAST_ERROR, code.as_bytes()),
    }
}

/// The device's sync status.
///
/// # Errors
/// Storage errors; [`CoreError::Invalid`] for an unreadable setting.
pub fn sync_state(store: &Store) -> Result<SyncState> {
    let e = enrolment(store)?;
    let (held, refused) = store.held_counts()?;
    Ok(SyncState {
        enrolled: e.is_some(),
        reference_pending: reference_pending(store)?,
        server_url: e.as_ref().map(|e| e.server_url.clone()),
        device_id: e.map(|e| e.device_id),
        cursor: cursor(store)?,
        bootstrap_pending: bootstrap_pending(store)?,
        last_sync_at: number(store, LAST_SYNC)?,
        last_error: text(store, LAST_ERROR)?.filter(|s| !s.is_empty()),
        pending: store.outbox_len()?,
        held,
        refused,
    })
}
