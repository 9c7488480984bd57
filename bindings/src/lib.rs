//! Gridwork's FFI layer: the one library the Android and iOS apps (and Python scripts) link.
//!
//! Everything a phone does with Gridwork goes through here (DESIGN §7):
//!
//! - [`GridworkStore`]: the offline record store — areas, households, residents, sensitive
//!   records, visits, due visits, patrols, incidents and work orders, tasks, search, history and
//!   unresolved concurrent values, my day, my alerts, the assessment, photos and the change exchange
//!   (outbox / apply) that sync builds on. Thread-safe: the core's single-writer store sits
//!   behind a `Mutex`.
//! - [`GridworkError`]: the small public error enum every fallible call returns; nothing panics
//!   across the FFI.
//! - [`DataObserver`] / [`Subscription`]: a foreign trait the UI implements to refresh when data
//!   changes, and the handle that unsubscribes when it is dropped or cancelled.
//! - [`GridworkSync`]: enrolment, `sync_now` (async, with a [`SyncProgressObserver`]), cancel,
//!   status, pending counts and the attachment queue, over the core's sync client.
//!
//! The core's records and enums (households, visits, areas…) reach the bindings from
//! `gridwork-core` itself (its `uniffi` feature): no type is written twice. Bindings are generated
//! from the built library by `bindings/generate.sh`.

uniffi::setup_scaffolding!();

mod alerts;
mod error;
mod observer;
mod records;
mod store;
pub mod sync;
mod types;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use error::{GridworkError, Result};
pub use observer::{ChangeOrigin, DataChanged, DataObserver, Subscription};
pub use store::GridworkStore;
pub use sync::{
    GridworkSync, PendingCounts, SyncProgressObserver, SyncStatus, SyncStep, TransferReport,
    default_sync_config,
};
pub use types::ApplyReport;

/// A point in time as the core's records carry it.
pub type UtcDateTime = DateTime<Utc>;

// The core declares how its foreign types cross the FFI; this crate uses those declarations.
uniffi::use_remote_type!(gridwork_core::Uuid);
uniffi::use_remote_type!(gridwork_core::UtcDateTime);

/// The version of the Gridwork library, e.g. `0.1.0`: apps log it and send it when enrolling.
#[uniffi::export]
pub fn gridwork_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Checks an area code path typed or scanned by a user (`320612/004/017/03/02`) and returns it
/// normalised, so a form can show a field error before using it.
///
/// # Errors
/// [`GridworkError::InvalidInput`] naming `area` and what is malformed.
#[uniffi::export]
pub fn parse_area_path(path: String) -> Result<gridwork_core::AreaPath> {
    Ok(gridwork_core::AreaPath::parse(path.trim())?)
}

/// Checks and normalises a contact phone number (mainland mobile or fixed line), as household
/// forms do before saving.
///
/// # Errors
/// [`GridworkError::InvalidInput`] naming `phone` when it is not a valid number.
#[uniffi::export]
pub fn normalize_phone(phone: String) -> Result<String> {
    Ok(gridwork_core::validate::phone(&phone)?)
}

/// The hash (32 bytes, SHA-256 as Automerge defines it) that identifies a change: what
/// [`GridworkStore::acknowledge`] takes once the server has stored the change.
///
/// # Errors
/// [`GridworkError::InvalidInput`] naming `change` when the bytes are not one valid change.
#[uniffi::export]
pub fn change_hash(change: gridwork_core::ChangeEnvelope) -> Result<Vec<u8>> {
    Ok(change.hash()?.to_vec())
}
