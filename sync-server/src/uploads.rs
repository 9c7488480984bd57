//! Photos uploaded inside a JSON body, base64-encoded: by the 12345 platform with an order (the
//! signature then covers the bytes) and by a person in the workbench with a work-order step.
//! Decoded, checked against the size limit, and stored as the server's own content-addressed
//! attachments (`store::blobs`), the same ones phones upload. The record refers to them as
//! photos, so the phones in its scope download them by their ordinary attachment sync
//! (`GET /v1/attachments/{sha256}`, allowed by the reference) and staff see them through
//! `GET /api/v1/attachments/{sha256}`.

use base64::Engine;
use gridwork_core::PhotoRef;
use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

use crate::api::attachments::MAX_CHUNK_BYTES;
use crate::store::{AttachmentChunk, ChunkProblem, DynStore, StoreError, now_ms};

/// Largest uploaded photo (decoded bytes); larger: 413 `attachment_too_large`.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024;

/// The device id recorded as the uploader of photos that came through no device (the platform,
/// the workbench): the server.
pub const SERVER_UPLOADER: Uuid = Uuid::nil();

/// Why an upload was refused.
#[derive(Debug, Error)]
pub enum UploadError {
    /// Larger than [`MAX_UPLOAD_BYTES`].
    #[error("upload {index} declares {size} bytes; at most {limit} are accepted")]
    TooLarge {
        /// Its position in the request.
        index: usize,
        /// Its (decoded) size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not base64, empty, or not an image.
    #[error("upload {index}: {reason}")]
    Invalid {
        /// Its position in the request.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Storing it failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The decoded size of `b64` (standard alphabet, padded), without decoding it.
pub fn decoded_len(b64: &str) -> u64 {
    let t = b64.trim_end();
    let pad = t.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (t.len() as u64 / 4 * 3).saturating_sub(pad)
}

/// Whether `mime` names an image type the server accepts for an upload.
pub fn is_image_mime(mime: &str) -> bool {
    mime.starts_with("image/") && mime.len() <= 64 && !mime.contains(char::is_whitespace)
}

/// Decodes upload `index`, refusing it when larger than [`MAX_UPLOAD_BYTES`] (checked before
/// decoding), not base64 or empty.
///
/// # Errors
/// [`UploadError::TooLarge`]; [`UploadError::Invalid`].
pub fn decode(index: usize, b64: &str) -> Result<Vec<u8>, UploadError> {
    let size = decoded_len(b64);
    if size > MAX_UPLOAD_BYTES {
        return Err(UploadError::TooLarge { index, size, limit: MAX_UPLOAD_BYTES });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim_end())
        .map_err(|e| UploadError::Invalid { index, reason: format!("not base64 ({e})") })?;
    if bytes.is_empty() {
        return Err(UploadError::Invalid { index, reason: "empty".into() });
    }
    Ok(bytes)
}

/// Stores `bytes` as a complete attachment of type `mime` (idempotent: content-addressed; a
/// partial upload of the same bytes, e.g. by another server process at the same time, is
/// continued, not repeated); returns the reference a record carries, and whether the server
/// held none of these bytes before (so a caller whose record is refused may take them back).
///
/// # Errors
/// Storage errors; [`StoreError::Chunk`] when the same bytes were declared with another MIME
/// type.
pub async fn store(
    store: &DynStore,
    bytes: &[u8],
    mime: &str,
) -> Result<(PhotoRef, bool), UploadError> {
    let hash: [u8; 32] = Sha256::digest(bytes).into();
    let size = bytes.len() as u64;
    let photo = PhotoRef { hash: hex::encode(hash), size, mime: mime.to_owned() };
    let held = store.attachment(hash).await?;
    let new = held.is_none();
    let mut offset = match held {
        Some(i) if i.complete => return Ok((photo, false)),
        Some(i) => i.received,
        None => 0,
    };
    while offset < size {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
        let end = start.saturating_add(MAX_CHUNK_BYTES).min(bytes.len());
        let chunk = AttachmentChunk {
            hash,
            size,
            mime: mime.to_owned(),
            offset,
            bytes: bytes[start..end].to_vec(),
            device_id: SERVER_UPLOADER,
            now: now_ms(),
        };
        match store.append_attachment(&chunk).await {
            Ok(info) if info.complete => return Ok((photo, new)),
            Ok(info) => offset = info.received,
            // Someone else appended meanwhile (the same bytes: the hash names them).
            Err(StoreError::Chunk(ChunkProblem::Offset { received })) => offset = received,
            Err(e) => return Err(e.into()),
        }
    }
    // The bytes are ours and were hashed above; the stored copy is checked like a phone's.
    let whole = store.read_attachment(hash, 0, size).await?;
    let stored: [u8; 32] = Sha256::digest(&whole).into();
    if stored != hash {
        store.discard_attachment(hash).await?;
        return Err(UploadError::Store(StoreError::Corrupt(format!(
            "attachment {} did not store intact",
            photo.hash
        ))));
    }
    store.complete_attachment(hash, now_ms()).await?;
    Ok((photo, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_length_without_decoding() {
        let e = base64::engine::general_purpose::STANDARD;
        for n in 0..10usize {
            let s = e.encode(vec![7u8; n]);
            assert_eq!(decoded_len(&s), n as u64, "{s}");
        }
    }

    #[test]
    fn oversized_refused_before_decoding() {
        let big = "A".repeat(usize::try_from(MAX_UPLOAD_BYTES / 3 * 4 + 8).unwrap_or(0));
        assert!(matches!(decode(2, &big), Err(UploadError::TooLarge { index: 2, .. })));
        assert!(matches!(decode(0, "!!!!"), Err(UploadError::Invalid { index: 0, .. })));
        assert!(
            is_image_mime("image/png")
                && !is_image_mime("text/plain")
                && !is_image_mime("image/ png")
        );
        assert_eq!(decode(0, "aGk=").unwrap_or_default(), b"hi");
    }
}
