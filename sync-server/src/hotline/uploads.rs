//! Attachments the hotline platform uploads with an order (base64 in the signed JSON body, so
//! the signature covers the bytes): decoded, checked against the size limit, and stored as the
//! server's own content-addressed attachments (`store::blobs`), the same ones phones upload.
//! The work order refers to them as photos, so the grid's phones download them by their
//! ordinary attachment sync (`GET /v1/attachments/{sha256}`, allowed by the reference).

use base64::Engine;
use gridwork_core::PhotoRef;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::HotlineError;
use crate::api::attachments::MAX_CHUNK_BYTES;
use crate::store::{AttachmentChunk, ChunkProblem, DynStore, StoreError, now_ms};

/// Largest uploaded attachment (decoded bytes); larger: 413 `attachment_too_large`.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024;

/// The device id recorded as the uploader of the platform's attachments (no device: the server).
pub const SERVER_UPLOADER: Uuid = Uuid::nil();

/// The decoded size of `b64` (standard alphabet, padded), without decoding it.
pub fn decoded_len(b64: &str) -> u64 {
    let t = b64.trim_end();
    let pad = t.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (t.len() as u64 / 4 * 3).saturating_sub(pad)
}

/// Decodes upload `index`, refusing it when larger than [`MAX_UPLOAD_BYTES`] (checked before
/// decoding) or not base64.
///
/// # Errors
/// [`HotlineError::AttachmentTooLarge`]; [`HotlineError::Invalid`] naming `attachments`.
pub fn decode(index: usize, b64: &str) -> Result<Vec<u8>, HotlineError> {
    let size = decoded_len(b64);
    if size > MAX_UPLOAD_BYTES {
        return Err(HotlineError::AttachmentTooLarge { index, size, limit: MAX_UPLOAD_BYTES });
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim_end()).map_err(|e| {
        HotlineError::invalid("attachments", format!("attachment {index}: not base64 ({e})"))
    })?;
    if bytes.is_empty() {
        return Err(HotlineError::invalid("attachments", format!("attachment {index} is empty")));
    }
    Ok(bytes)
}

/// Stores `bytes` as a complete attachment of type `mime` (idempotent: content-addressed; a
/// partial upload of the same bytes, e.g. by another server process at the same time, is
/// continued, not repeated); returns the reference a record carries.
///
/// # Errors
/// Storage errors; [`StoreError::Chunk`] when the same bytes were declared with another MIME
/// type.
pub async fn store(store: &DynStore, bytes: &[u8], mime: &str) -> Result<PhotoRef, HotlineError> {
    let hash: [u8; 32] = Sha256::digest(bytes).into();
    let size = bytes.len() as u64;
    let photo = PhotoRef { hash: hex::encode(hash), size, mime: mime.to_owned() };
    let mut offset = match store.attachment(hash).await? {
        Some(i) if i.complete => return Ok(photo),
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
            Ok(info) if info.complete => return Ok(photo),
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
        return Err(HotlineError::Store(StoreError::Corrupt(format!(
            "attachment {} did not store intact",
            photo.hash
        ))));
    }
    store.complete_attachment(hash, now_ms()).await?;
    Ok(photo)
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
        assert!(matches!(decode(2, &big), Err(HotlineError::AttachmentTooLarge { index: 2, .. })));
        assert!(matches!(decode(0, "!!!!"), Err(HotlineError::Invalid { .. })));
        assert_eq!(decode(0, "aGk=").unwrap_or_default(), b"hi");
    }
}
