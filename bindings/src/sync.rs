//! What the sync object reports through (DESIGN §2, §6). The sync object itself — enrol with a
//! code, `sync_now` as an async export with a [`SyncProgressObserver`], cancel, status, pending
//! counts, attachment queue — is added once the core's sync client exists; its observer and
//! progress types are fixed here so apps can be written against them now.

use crate::UtcDateTime;
use crate::error::Result;

/// A step of one sync run, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncPhase {
    /// Reaching the server and authenticating the device.
    Connecting,
    /// Sending this device's changes (the outbox).
    Pushing,
    /// Receiving and applying others' changes.
    Pulling,
    /// Uploading and downloading photos and other attachments.
    Attachments,
    /// Finished (successfully, or see [`SyncStatus::last_error`]).
    Done,
}

/// Progress of a sync run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// The current phase.
    pub phase: SyncPhase,
    /// Items (changes or attachments) done in this phase.
    pub done: u64,
    /// Items in this phase, when known.
    pub total: Option<u64>,
}

/// What still waits to leave this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PendingCounts {
    /// Record changes not yet acknowledged by the server.
    pub changes: u64,
    /// Attachments (photos) not yet uploaded.
    pub attachments: u64,
}

/// The state of sync on this device, for a status line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Whether the device is enrolled with a server.
    pub enrolled: bool,
    /// Whether a sync run is in progress.
    pub running: bool,
    /// When the last run finished successfully.
    pub last_success_at: Option<UtcDateTime>,
    /// The error code of the last run, if it failed (see `GridworkError.code`).
    pub last_error: Option<String>,
    /// What waits to be sent.
    pub pending: PendingCounts,
}

/// Implemented by the app to show sync progress (a progress bar, a notification).
///
/// Called on the sync's worker thread; hand work to the UI thread and return quickly.
#[uniffi::export(with_foreign)]
pub trait SyncProgressObserver: Send + Sync {
    /// The run moved on.
    ///
    /// # Errors
    /// An observer that fails (throws) is ignored; the sync run goes on.
    fn on_progress(&self, progress: SyncProgress) -> Result<()>;
}
