//! The HTTP side of attachment sync (`reqwest`, rustls): [`upload_pending`] and
//! [`download_missing`] drive the steps of [`super::attachment`] against a server, resumably —
//! every confirmed chunk is recorded in the store before the next one, so a dropped connection,
//! a timeout or a cancelled future (drop it) loses at most the chunk in flight. Attachments go
//! on their own requests and never block record sync.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use serde::Deserialize;

use super::attachment::{
    AttachmentProgress, DEFAULT_CHUNK_BYTES, DownloadProgress, PendingDownload, PendingUpload,
    ServerAttachmentStatus, download_path, status_path,
};
use crate::error::CoreError;
use crate::store::Store;

/// Bytes buffered from a download before they are committed to the store.
const DOWNLOAD_COMMIT_BYTES: usize = 256 * 1024;
/// How often in a row an upload may be told its offset is wrong before it is given up for now.
const MAX_OFFSET_RETRIES: u32 = 3;

/// Errors of attachment sync that stop the whole run (per-attachment failures are recorded in
/// the queues and reported in [`TransferReport::failed`] instead).
#[derive(Debug, thiserror::Error)]
pub enum AttachmentSyncError {
    /// The server refused the device's credential (401) or the device is revoked (403
    /// `device_revoked`).
    #[error("the server refused this device: {code}: {message}")]
    Unauthorized {
        /// The server's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The local store failed.
    #[error("local store: {0}")]
    Store(#[from] CoreError),
    /// The store's lock was poisoned by a panic elsewhere.
    #[error("the store's lock is poisoned")]
    Poisoned,
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferReport {
    /// Attachments now whole on the other side.
    pub completed: usize,
    /// Payload bytes sent or received.
    pub bytes: u64,
    /// Attachments that failed this time, with the reason (they stay queued).
    pub failed: Vec<(String, String)>,
}

/// Talks to one server as one enrolled device.
#[derive(Debug, Clone)]
pub struct AttachmentClient {
    http: reqwest::Client,
    base: String,
    credential: String,
    chunk_bytes: usize,
}

/// A JSON error answer of the server.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Debug, Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
}

/// A failure of one request.
enum Failure {
    /// Stop everything.
    Fatal(AttachmentSyncError),
    /// This attachment failed; carry on with the next.
    Item(String),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Fatal(e.into())
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        Failure::Item(format!("network: {e}"))
    }
}

async fn error_of(resp: reqwest::Response) -> Failure {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (status.as_str().to_owned(), "no JSON error".to_owned()),
    };
    if status == StatusCode::UNAUTHORIZED || code == "device_revoked" {
        Failure::Fatal(AttachmentSyncError::Unauthorized { code, message })
    } else {
        Failure::Item(format!("{status} {code}: {message}"))
    }
}

async fn json_of<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, Failure> {
    let body = resp.bytes().await?;
    serde_json::from_slice(&body).map_err(|e| Failure::Item(format!("unreadable answer: {e}")))
}

fn lock(store: &Mutex<Store>) -> Result<MutexGuard<'_, Store>, Failure> {
    store.lock().map_err(|_| Failure::Fatal(AttachmentSyncError::Poisoned))
}

impl AttachmentClient {
    /// A client for the server at `base` (e.g. `https://grid.example.cn`) and a device
    /// credential (`gwd_…`), with 10 s connect and 60 s read timeouts.
    ///
    /// # Errors
    /// [`AttachmentSyncError::Client`] if the TLS stack cannot be set up.
    pub fn new(base: &str, credential: &str) -> Result<Self, AttachmentSyncError> {
        super::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| AttachmentSyncError::Client(e.to_string()))?;
        Ok(Self::with_http(http, base, credential))
    }

    /// A client over a given `reqwest::Client` (shared connection pool, custom timeouts).
    pub fn with_http(http: reqwest::Client, base: &str, credential: &str) -> Self {
        AttachmentClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credential: credential.to_owned(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }

    /// Sets the upload chunk size (clamped to 1 byte – 1 MiB by the store).
    pub fn chunk_bytes(mut self, n: usize) -> Self {
        self.chunk_bytes = n;
        self
    }

    async fn server_status(&self, hash: &str) -> Result<ServerAttachmentStatus, Failure> {
        let resp = self
            .http
            .get(format!("{}{}", self.base, status_path(hash)))
            .bearer_auth(&self.credential)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        json_of(resp).await
    }

    async fn upload_one(
        &self,
        store: &Mutex<Store>,
        item: &PendingUpload,
        report: &mut TransferReport,
        progress: &mut (dyn FnMut(&AttachmentProgress) + Send),
    ) -> Result<(), Failure> {
        let hash = item.photo.hash.as_str();
        let st = self.server_status(hash).await?;
        lock(store)?.record_upload_offset(hash, st.received, st.complete)?;
        if st.complete {
            report.completed += 1;
            return Ok(());
        }
        let mut mismatches = 0;
        loop {
            let Some(chunk) = lock(store)?.next_upload_chunk(hash, self.chunk_bytes)? else {
                return Err(Failure::Item("server has every byte but no verified blob".into()));
            };
            let len = chunk.bytes.len() as u64;
            let resp = self
                .http
                .put(format!("{}{}", self.base, chunk.path()))
                .bearer_auth(&self.credential)
                .header(CONTENT_TYPE, chunk.photo.mime.as_str())
                .body(chunk.bytes)
                .send()
                .await?;
            if resp.status() == StatusCode::CONFLICT {
                mismatches += 1;
                if mismatches > MAX_OFFSET_RETRIES {
                    return Err(error_of(resp).await);
                }
                let st = self.server_status(hash).await?;
                lock(store)?.record_upload_offset(hash, st.received, st.complete)?;
                if st.complete {
                    report.completed += 1;
                    return Ok(());
                }
                continue;
            }
            if !resp.status().is_success() {
                let f = error_of(resp).await;
                // A hash mismatch discarded the server's copy: start from 0 next time.
                lock(store)?.record_upload_offset(hash, 0, false)?;
                return Err(f);
            }
            let st: ServerAttachmentStatus = json_of(resp).await?;
            report.bytes += len;
            lock(store)?.record_upload_offset(hash, st.received, st.complete)?;
            progress(&AttachmentProgress {
                hash: hash.to_owned(),
                done: st.received,
                total: item.photo.size,
            });
            if st.complete {
                report.completed += 1;
                return Ok(());
            }
        }
    }

    async fn download_one(
        &self,
        store: &Mutex<Store>,
        item: &PendingDownload,
        report: &mut TransferReport,
        progress: &mut (dyn FnMut(&AttachmentProgress) + Send),
    ) -> Result<(), Failure> {
        let hash = item.photo.hash.as_str();
        let mut req = self
            .http
            .get(format!("{}{}", self.base, download_path(hash)))
            .bearer_auth(&self.credential);
        if let Some(r) = item.range_header() {
            req = req.header(RANGE, r);
        }
        let mut resp = req.send().await?;
        let mut skip = match resp.status() {
            StatusCode::OK => item.have,
            StatusCode::PARTIAL_CONTENT => {
                let start = resp
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(item.have) {
                    return Err(Failure::Item("server answered another range".into()));
                }
                0
            }
            _ => return Err(error_of(resp).await),
        };
        let mut have = item.have;
        let mut buf = Vec::with_capacity(DOWNLOAD_COMMIT_BYTES);
        let mut finished = false;
        while !finished {
            let next = match resp.chunk().await {
                Ok(n) => n,
                Err(e) => {
                    // Keep what arrived: commit it, then report the drop.
                    if !buf.is_empty() {
                        lock(store)?.store_download_chunk(hash, have, &buf)?;
                    }
                    return Err(e.into());
                }
            };
            let mut piece: &[u8] = next.as_deref().unwrap_or_default();
            finished = next.is_none();
            if skip > 0 {
                let n = usize::try_from(skip).unwrap_or(usize::MAX).min(piece.len());
                piece = &piece[n..];
                skip -= n as u64;
            }
            buf.extend_from_slice(piece);
            if buf.len() >= DOWNLOAD_COMMIT_BYTES || (finished && !buf.is_empty()) {
                let step = lock(store)?.store_download_chunk(hash, have, &buf)?;
                have += buf.len() as u64;
                report.bytes += buf.len() as u64;
                buf.clear();
                progress(&AttachmentProgress {
                    hash: hash.to_owned(),
                    done: have,
                    total: item.photo.size,
                });
                match step {
                    DownloadProgress::Complete => {
                        report.completed += 1;
                        return Ok(());
                    }
                    DownloadProgress::Discarded => {
                        return Err(Failure::Item("downloaded bytes do not match the hash".into()));
                    }
                    DownloadProgress::Partial { .. } => {}
                }
            }
        }
        Err(Failure::Item(format!("the answer ended after {have} of {} bytes", item.photo.size)))
    }
}

/// Uploads every queued attachment, resuming each from the offset the server confirms, in
/// chunks; calls `progress` after every confirmed chunk. An attachment that fails is recorded
/// (attempts, last error), left queued and reported; the others carry on.
///
/// # Errors
/// [`AttachmentSyncError::Unauthorized`] (stop syncing; on `device_revoked` wipe the store),
/// [`AttachmentSyncError::Store`], [`AttachmentSyncError::Poisoned`].
pub async fn upload_pending(
    client: &AttachmentClient,
    store: &Mutex<Store>,
    progress: &mut (dyn FnMut(&AttachmentProgress) + Send),
) -> Result<TransferReport, AttachmentSyncError> {
    let pending = lock_fatal(store)?.pending_uploads()?;
    let mut report = TransferReport::default();
    for item in &pending {
        match client.upload_one(store, item, &mut report, progress).await {
            Ok(()) => {}
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Item(why)) => {
                lock_fatal(store)?.record_upload_error(&item.photo.hash, &why)?;
                report.failed.push((item.photo.hash.clone(), why));
            }
        }
    }
    Ok(report)
}

/// Queues the attachments that records refer to and this device lacks, then downloads every
/// queued one, resuming from the bytes held (`Range`), committing every 256 KiB, checking the
/// SHA-256 at the end. Failures are recorded, left queued and reported.
///
/// # Errors
/// As [`upload_pending`].
pub async fn download_missing(
    client: &AttachmentClient,
    store: &Mutex<Store>,
    progress: &mut (dyn FnMut(&AttachmentProgress) + Send),
) -> Result<TransferReport, AttachmentSyncError> {
    let pending = {
        let mut s = lock_fatal(store)?;
        s.queue_referenced_downloads()?;
        s.pending_downloads()?
    };
    let mut report = TransferReport::default();
    for item in &pending {
        match client.download_one(store, item, &mut report, progress).await {
            Ok(()) => {}
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Item(why)) => {
                lock_fatal(store)?.record_download_error(&item.photo.hash, &why)?;
                report.failed.push((item.photo.hash.clone(), why));
            }
        }
    }
    Ok(report)
}

fn lock_fatal(store: &Mutex<Store>) -> Result<MutexGuard<'_, Store>, AttachmentSyncError> {
    store.lock().map_err(|_| AttachmentSyncError::Poisoned)
}
