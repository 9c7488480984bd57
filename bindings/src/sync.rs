//! The sync object (DESIGN §2, §6): enrolment with a one-time code, `sync_now` as an async export
//! reporting through a [`SyncProgressObserver`], cancel, status, pending counts and the attachment
//! queue. Everything protocol-related is the core's [`SyncClient`] and attachment client; this
//! file only adapts them to the FFI (async on UniFFI's tokio runtime, typed errors, observers).

use std::sync::{Arc, Mutex};

use gridwork_core::HeldChange;
use gridwork_core::sync::attachment::{PendingDownload, PendingUpload};
use gridwork_core::sync::attachment_client::{
    self, AttachmentClient, AttachmentSyncError, TransferReport as CoreTransferReport,
};
use gridwork_core::sync::{
    CancelToken, EnrolRequest, EnrolledUser, ProgressSink, RepairOutcome, SyncClient, SyncConfig,
    SyncError, SyncPhase, SyncProgress, SyncState,
};

use crate::error::{GridworkError, Result};
use crate::observer::ChangeOrigin;
use crate::store::GridworkStore;

/// One progress report of a sync run: the phase entered and the totals so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncStep {
    /// What the sync is doing now.
    pub phase: SyncPhase,
    /// Round trips, changes pushed and pulled, bytes, cursor so far.
    pub progress: SyncProgress,
}

/// What still waits to leave (or reach) this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PendingCounts {
    /// Record changes not yet acknowledged by the server.
    pub changes: u64,
    /// Attachments (photos) queued for upload.
    pub uploads: u64,
    /// Attachments records refer to that this device still has to download.
    pub downloads: u64,
}

/// The state of sync on this device, for a status line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// What the store remembers: enrolment, server URL, device id, cursor, last sync (ms since
    /// the epoch), the last error's code, pending changes.
    pub state: SyncState,
    /// Whether a sync run of this object is in progress.
    pub running: bool,
    /// Whether the server revoked this device during this object's lifetime: the store was
    /// wiped and the device must be enrolled again.
    pub revoked: bool,
    /// What waits to be sent or fetched.
    pub pending: PendingCounts,
}

/// What one attachment transfer run did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransferReport {
    /// Attachments now whole on the other side.
    pub completed: u64,
    /// Payload bytes sent or received.
    pub bytes: u64,
    /// Hashes of the attachments that failed this time (they stay queued; the queue lists why).
    pub failed: Vec<String>,
}

impl From<CoreTransferReport> for TransferReport {
    fn from(r: CoreTransferReport) -> Self {
        TransferReport {
            completed: u64::try_from(r.completed).unwrap_or(u64::MAX),
            bytes: r.bytes,
            failed: r.failed.into_iter().map(|(hash, _)| hash).collect(),
        }
    }
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
    fn on_progress(&self, step: SyncStep) -> Result<()>;
}

/// Adapts a foreign observer to the core's progress sink.
struct Sink(Option<Arc<dyn SyncProgressObserver>>);

impl ProgressSink for Sink {
    fn report(&self, phase: SyncPhase, progress: &SyncProgress) {
        if let Some(o) = &self.0 {
            // A failing observer must not fail the sync.
            let _ = o.on_progress(SyncStep { phase, progress: *progress });
        }
    }
}

/// The settings a sync object starts with: the core's defaults for phones (10 s connect, 60 s
/// request timeout, 6 attempts with exponential backoff, 1 MiB pushes).
#[uniffi::export]
pub fn default_sync_config() -> SyncConfig {
    SyncConfig::default()
}

/// Syncs one store with its server. Create one per store and keep it; every method is
/// thread-safe. Network methods are async (Kotlin `suspend`, Swift `async`, Python coroutines).
#[derive(uniffi::Object)]
pub struct GridworkSync {
    store: Arc<GridworkStore>,
    client: SyncClient,
    /// The cancel token of the run in progress, if any.
    running: Mutex<Option<CancelToken>>,
    revoked: Mutex<bool>,
}

impl std::fmt::Debug for GridworkSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridworkSync").finish_non_exhaustive()
    }
}

/// Clears the running slot when a run ends, however it ends (error, cancellation, drop).
struct RunGuard<'a>(&'a Mutex<Option<CancelToken>>);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

impl GridworkSync {
    /// Marks a run as started, or refuses when one is already running.
    fn begin(&self) -> Result<(CancelToken, RunGuard<'_>)> {
        let mut slot = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_some() {
            return Err(GridworkError::SyncRunning);
        }
        let token = CancelToken::new();
        *slot = Some(token.clone());
        Ok((token, RunGuard(&self.running)))
    }

    /// Maps a sync error, remembering a revocation and telling observers the data is gone.
    fn failed(&self, e: SyncError) -> GridworkError {
        if matches!(e, SyncError::Revoked) {
            *self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
            self.store.notify_everything(ChangeOrigin::Remote);
        }
        e.into()
    }

    /// The attachment client for the current enrolment.
    fn attachments(&self) -> Result<AttachmentClient> {
        let e = self
            .store
            .with(|s| gridwork_core::sync::enrolment(s))?
            .ok_or(GridworkError::NotEnrolled)?;
        AttachmentClient::new(&e.server_url, &e.credential).map_err(|x| self.attachment_failed(x))
    }

    /// Maps an attachment error; a revoked device is wiped as on a record sync.
    fn attachment_failed(&self, e: AttachmentSyncError) -> GridworkError {
        match e {
            AttachmentSyncError::Unauthorized { code, .. } if code == "device_revoked" => {
                match self.store.with(|s| s.wipe()) {
                    Ok(()) => self.failed(SyncError::Revoked),
                    Err(wipe) => wipe,
                }
            }
            other => other.into(),
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl GridworkSync {
    /// A sync object for `store` with the default settings.
    ///
    /// # Errors
    /// [`GridworkError::Network`] if the HTTP client cannot be set up (no TLS roots).
    #[uniffi::constructor]
    pub fn new(store: Arc<GridworkStore>) -> Result<Arc<Self>> {
        Self::with_config(store, SyncConfig::default())
    }

    /// A sync object for `store` with these settings (start from [`default_sync_config`]).
    ///
    /// # Errors
    /// [`GridworkError::Network`] if the HTTP client cannot be set up.
    #[uniffi::constructor]
    pub fn with_config(store: Arc<GridworkStore>, config: SyncConfig) -> Result<Arc<Self>> {
        let client = SyncClient::new(config)?;
        Ok(Arc::new(GridworkSync {
            store,
            client,
            running: Mutex::default(),
            revoked: Mutex::default(),
        }))
    }

    /// Enrols this device with the server at `request.server_url` using a one-time code: the
    /// server binds the store's actor id to a new device, the user is signed in and the areas of
    /// their scope are loaded.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `server_url`; [`GridworkError::ServerRefused`]
    /// with the server's code (`enrolment_code_unknown`, `enrolment_code_used`,
    /// `enrolment_code_expired`, `actor_taken`…); [`GridworkError::Network`];
    /// [`GridworkError::Protocol`]; store errors.
    pub async fn enrol(&self, request: EnrolRequest) -> Result<EnrolledUser> {
        let user = self.client.enrol(self.store.inner(), &request).await?;
        *self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        self.store.notify_everything(ChangeOrigin::Remote);
        Ok(user)
    }

    /// Syncs now: pushes this device's changes and pulls everyone else's, page by page, telling
    /// `observer` after every step. A run cut off at any point loses nothing; the next resumes.
    /// Data observers of the store hear of received changes when the run ends.
    ///
    /// # Errors
    /// [`GridworkError::NotEnrolled`]; [`GridworkError::Revoked`] (the store has been wiped);
    /// [`GridworkError::Cancelled`] after [`GridworkSync::cancel`];
    /// [`GridworkError::SyncRunning`] when a run is already in progress;
    /// [`GridworkError::ServerRefused`] for a refused push; [`GridworkError::Network`] after the
    /// retries; [`GridworkError::Protocol`]; store errors.
    pub async fn sync_now(
        &self,
        observer: Option<Arc<dyn SyncProgressObserver>>,
    ) -> Result<SyncProgress> {
        let (cancel, _guard) = self.begin()?;
        let result = self.client.sync(self.store.inner(), &Sink(observer), &cancel).await;
        match result {
            Ok(report) => {
                if report.pulled > 0 {
                    self.store.notify_everything(ChangeOrigin::Remote);
                }
                Ok(report)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Checks this device's records against the server's ("check my data"): compares every
    /// record of the user's area by digest, fetches those that differ and queues this device's
    /// own changes the server lacks for the next sync. `sync_now` also runs it once a day.
    ///
    /// # Errors
    /// [`GridworkError::NotEnrolled`]; [`GridworkError::SyncRunning`];
    /// [`GridworkError::Revoked`] (the store has been wiped); network, server and store errors.
    pub async fn check_data(&self) -> Result<RepairOutcome> {
        let (cancel, _guard) = self.begin()?;
        match self.client.repair(self.store.inner(), &cancel).await {
            Ok(outcome) => {
                if outcome.fetched > 0 {
                    self.store.notify_everything(ChangeOrigin::Remote);
                }
                Ok(outcome)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The changes received but not part of their records, oldest first (at most 1,000): those
    /// waiting for an earlier change, and those set aside because they can never be applied,
    /// with the reason — for a sync status screen.
    ///
    /// # Errors
    /// Storage errors.
    pub fn held_changes(&self) -> Result<Vec<HeldChange>> {
        self.store.with(|s| s.held_changes())
    }

    /// Fetches the areas of the user's scope again and loads them; returns how many.
    ///
    /// # Errors
    /// [`GridworkError::NotEnrolled`]; [`GridworkError::Revoked`] (the store has been wiped);
    /// network, server and store errors.
    pub async fn refresh_areas(&self) -> Result<u64> {
        match self.client.refresh_areas(self.store.inner()).await {
            Ok(n) => Ok(u64::try_from(n).unwrap_or(u64::MAX)),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Uploads every queued attachment, resuming each where the server left off. An attachment
    /// that fails stays queued and is listed in the report; the others carry on.
    ///
    /// # Errors
    /// [`GridworkError::NotEnrolled`]; [`GridworkError::SyncRunning`];
    /// [`GridworkError::Revoked`] (the store has been wiped); [`GridworkError::ServerRefused`]
    /// when the server refuses the device; store errors.
    pub async fn upload_attachments(&self) -> Result<TransferReport> {
        let (_cancel, _guard) = self.begin()?;
        let client = self.attachments()?;
        attachment_client::upload_pending(&client, self.store.inner(), &mut |_| {})
            .await
            .map(Into::into)
            .map_err(|e| self.attachment_failed(e))
    }

    /// Downloads the attachments that records refer to and this device lacks.
    ///
    /// # Errors
    /// As [`GridworkSync::upload_attachments`].
    pub async fn download_attachments(&self) -> Result<TransferReport> {
        let (_cancel, _guard) = self.begin()?;
        let client = self.attachments()?;
        attachment_client::download_missing(&client, self.store.inner(), &mut |_| {})
            .await
            .map(Into::into)
            .map_err(|e| self.attachment_failed(e))
    }

    /// Asks the run in progress to stop at its next step (what it applied stays); does nothing
    /// when no run is in progress. The run then fails with [`GridworkError::Cancelled`].
    ///
    /// # Errors
    /// None: cancelling cannot fail.
    pub fn cancel(&self) {
        if let Some(t) = &*self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            t.cancel();
        }
    }

    /// The state of sync on this device: enrolment, cursor, last sync, last error, revoked,
    /// running, pending counts.
    ///
    /// # Errors
    /// Storage errors.
    pub fn status(&self) -> Result<SyncStatus> {
        let state = self.store.with(|s| gridwork_core::sync::sync_state(s))?;
        Ok(SyncStatus {
            state,
            running: self
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_some(),
            revoked: *self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            pending: self.pending()?,
        })
    }

    /// What waits to be sent or fetched: changes, uploads, downloads.
    ///
    /// # Errors
    /// Storage errors.
    pub fn pending(&self) -> Result<PendingCounts> {
        self.store.with(|s| {
            let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
            Ok(PendingCounts {
                changes: s.outbox_len()?,
                uploads: n(s.pending_uploads()?.len()),
                downloads: n(s.pending_downloads()?.len()),
            })
        })
    }

    /// The attachment upload queue, oldest first: each photo, the bytes the server confirmed,
    /// attempts and the last error.
    ///
    /// # Errors
    /// Storage errors.
    pub fn upload_queue(&self) -> Result<Vec<PendingUpload>> {
        self.store.with(|s| s.pending_uploads())
    }

    /// The attachment download queue: each photo, the bytes held, attempts and the last error.
    ///
    /// # Errors
    /// Storage errors.
    pub fn download_queue(&self) -> Result<Vec<PendingDownload>> {
        self.store.with(|s| s.pending_downloads())
    }
}
