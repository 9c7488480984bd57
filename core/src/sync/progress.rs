//! Sync progress reporting: what the client is doing and how far it has got.

use serde::Serialize;

/// What a sync is doing.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Sending a request (the outbox, or asking for the next page).
    Exchanging,
    /// Waiting before retrying after a network or server failure.
    Retrying,
    /// Applying a received page to the local store.
    Applying,
    /// The server revoked the device: wiping the local store.
    Wiping,
    /// Finished.
    Done,
}

/// A snapshot of a sync's progress, reported after every step.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SyncProgress {
    /// Round trips completed.
    pub round_trips: u32,
    /// Changes the server acknowledged so far.
    pub pushed: u64,
    /// Changes received so far.
    pub pulled: u64,
    /// Changes still waiting in the outbox.
    pub pending: u64,
    /// Request body bytes sent (protocol messages, without HTTP headers).
    pub bytes_up: u64,
    /// Response body bytes received.
    pub bytes_down: u64,
    /// The device's cursor.
    pub cursor: u64,
    /// The server log's head seq (the cursor reaches it when the pull is complete).
    pub head_seq: u64,
    /// Failed attempts retried so far.
    pub retries: u32,
    /// Changes the server refused for good in this sync, now quarantined (see
    /// [`crate::sync::quarantine`]).
    pub quarantined: u32,
    /// Pulled changes held back in this sync until a change they depend on arrives (a record
    /// whose history has a gap is then fetched whole).
    pub held: u64,
    /// Pulled changes set aside in this sync because they can never be applied (corrupt, or
    /// contradicting their record); the rest of the page was applied.
    pub refused: u64,
}

/// Receives progress reports. Implementations must be quick: they are called on the sync task.
pub trait ProgressSink: Send + Sync {
    /// Called after each step with the phase entered and the totals so far.
    fn report(&self, phase: SyncPhase, progress: &SyncProgress);
}

/// A [`ProgressSink`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _phase: SyncPhase, _progress: &SyncProgress) {}
}

impl<F: Fn(SyncPhase, &SyncProgress) + Send + Sync> ProgressSink for F {
    fn report(&self, phase: SyncPhase, progress: &SyncProgress) {
        self(phase, progress);
    }
}
