//! Attachment (photo) blobs in the server's storage (DESIGN §5): content-addressed by SHA-256,
//! uploaded in chunks appended at the offset received so far, verified and marked complete
//! once whole. Both backends keep the bytes in the database (an `attachment_chunks` table of
//! ≤ 1 MiB rows), so they share one transactional model, one backup and one test suite.
//!
//! The storage layer holds no policy: the API layer checks sizes, MIME types, the hash and who
//! may read what.

use uuid::Uuid;

/// What the server knows of one attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// SHA-256 of the whole content.
    pub hash: [u8; 32],
    /// Declared total size in bytes.
    pub size: u64,
    /// Declared MIME type.
    pub mime: String,
    /// Bytes received so far (the offset the next chunk must start at).
    pub received: u64,
    /// Whether all bytes arrived and the hash was verified.
    pub complete: bool,
    /// The device that started the upload.
    pub uploaded_by: Uuid,
}

/// One chunk of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentChunk {
    /// SHA-256 of the whole content.
    pub hash: [u8; 32],
    /// Declared total size.
    pub size: u64,
    /// Declared MIME type.
    pub mime: String,
    /// Where this chunk starts; must equal the bytes received so far.
    pub offset: u64,
    /// The chunk's bytes.
    pub bytes: Vec<u8>,
    /// The uploading device.
    pub device_id: Uuid,
    /// Now (ms since the epoch).
    pub now: i64,
}

/// A record's reference to an attachment, found in a pushed change: who may download it is
/// decided by the areas and kinds of the records referring to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttachmentRef {
    /// SHA-256 of the attachment.
    pub hash: [u8; 32],
    /// The referring record.
    pub doc_id: Uuid,
    /// Its kind.
    pub kind: gridwork_core::RecordKind,
    /// Its area.
    pub area: gridwork_core::AreaPath,
}

/// Why a chunk was not appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkProblem {
    /// The chunk does not start at the bytes received so far.
    Offset {
        /// Bytes received so far: resume from here.
        received: u64,
    },
    /// The upload was started with another size or MIME type.
    Declared {
        /// The size declared first.
        size: u64,
        /// The MIME type declared first.
        mime: String,
    },
}

impl std::fmt::Display for ChunkProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkProblem::Offset { received } => {
                write!(f, "chunk does not start at the {received} bytes received so far")
            }
            ChunkProblem::Declared { size, mime } => {
                write!(f, "upload was started as {size} bytes of {mime}")
            }
        }
    }
}

/// Cuts stored chunks `(offset, bytes)` (in offset order) to the byte range `start..end`.
pub(crate) fn slice_chunks(
    chunks: impl IntoIterator<Item = (u64, Vec<u8>)>,
    start: u64,
    end: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(end.saturating_sub(start)).unwrap_or(0));
    for (off, bytes) in chunks {
        let len = bytes.len() as u64;
        let from = start.max(off).saturating_sub(off);
        let to = end.min(off + len).saturating_sub(off);
        if from < to {
            let (from, to) = (usize::try_from(from).unwrap_or(0), usize::try_from(to).unwrap_or(0));
            out.extend_from_slice(&bytes[from..to]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_across_chunks() {
        let chunks = vec![(0, vec![0, 1, 2]), (3, vec![3, 4]), (5, vec![5, 6, 7])];
        assert_eq!(slice_chunks(chunks.clone(), 0, 8), (0..8).collect::<Vec<u8>>());
        assert_eq!(slice_chunks(chunks.clone(), 2, 6), vec![2, 3, 4, 5]);
        assert_eq!(slice_chunks(chunks, 7, 8), vec![7]);
    }
}
