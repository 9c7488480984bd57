//! Attachments on the wire (DESIGN §5): the transport-agnostic steps a sync client drives to
//! upload this device's photos and download the ones its records refer to, resumably and with
//! the SHA-256 checked at both ends. The queues themselves live in the store
//! ([`crate::Store::pending_uploads`], [`crate::Store::pending_downloads`]).
//!
//! Upload, per pending attachment: ask the server's status (`GET /v1/attachments/{hash}/status`)
//! and [`crate::Store::record_upload_offset`] its `received`; while not complete, send
//! [`crate::Store::next_upload_chunk`] as `PUT` [`UploadChunk::path`] and record the answer's
//! offset. On a `409 offset_mismatch` ask the status again. Download, per pending one: `GET`
//! [`download_path`] with `Range: bytes={have}-` ([`PendingDownload::range_header`]) and hand
//! the bytes, in order, to [`crate::Store::store_download_chunk`].

use serde::{Deserialize, Serialize};

use crate::attachment::PhotoRef;

/// Largest chunk the server accepts in one `PUT` (1 MiB).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Default upload chunk: small enough to make progress on a weak mobile link.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;

/// An attachment waiting to be uploaded.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The attachment.
    pub photo: PhotoRef,
    /// Bytes the server confirmed receiving so far.
    pub sent: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// The next chunk to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadChunk {
    /// The attachment.
    pub photo: PhotoRef,
    /// Where the chunk starts.
    pub offset: u64,
    /// The chunk's bytes.
    pub bytes: Vec<u8>,
}

impl UploadChunk {
    /// The request path of this chunk: `/v1/attachments/{hash}?offset=N&size=TOTAL`.
    pub fn path(&self) -> String {
        format!(
            "/v1/attachments/{}?offset={}&size={}",
            self.photo.hash, self.offset, self.photo.size
        )
    }
}

/// An attachment a record refers to that this device lacks.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDownload {
    /// The attachment.
    pub photo: PhotoRef,
    /// Bytes already held here (resume from this offset).
    pub have: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

impl PendingDownload {
    /// The `Range` header value that resumes this download, if anything is held already.
    pub fn range_header(&self) -> Option<String> {
        (self.have > 0).then(|| format!("bytes={}-", self.have))
    }
}

/// What storing a downloaded chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadProgress {
    /// More bytes are needed; this many are held.
    Partial {
        /// Bytes held.
        have: u64,
    },
    /// The attachment is whole and its SHA-256 matches.
    Complete,
    /// The whole blob did not hash to its id: every byte was discarded (start again).
    Discarded,
}

/// The server's answer about an upload (`PUT` and `…/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAttachmentStatus {
    /// SHA-256, hex.
    pub hash: String,
    /// Declared total size (absent when the server holds nothing).
    #[serde(default)]
    pub size: Option<u64>,
    /// Declared MIME type (absent when the server holds nothing).
    #[serde(default)]
    pub mime: Option<String>,
    /// Bytes received so far.
    pub received: u64,
    /// Whether the blob is whole and verified.
    pub complete: bool,
}

/// Progress of one attachment transfer, for progress bars.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentProgress {
    /// The attachment's hash.
    pub hash: String,
    /// Bytes transferred (held by the receiver) so far.
    pub done: u64,
    /// Total bytes.
    pub total: u64,
}

/// The status path of an attachment.
pub fn status_path(hash: &str) -> String {
    format!("/v1/attachments/{hash}/status")
}

/// The download path of an attachment.
pub fn download_path(hash: &str) -> String {
    format!("/v1/attachments/{hash}")
}
