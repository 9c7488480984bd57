//! Limits on what one protocol message may hold, in one place.
//!
//! A compressed payload can be tiny on the wire and huge in memory: a 2 KB zstd frame declaring
//! 64 MiB of repeated digest entries decodes into well over a million entries. The decoder
//! therefore checks, *before* decompressing, the declared payload length against a cap per
//! message type ([`max_payload_bytes`]), and, while decoding, every list count against a cap
//! per list ([`max_entries`]). Both sides share these numbers, so an honest client never builds
//! a request the server refuses for its size.
//!
//! The server adds its own, configurable limits on top (request body size, size of one change);
//! see `gridwork_sync_server::config`.

use super::{MAX_PAYLOAD_BYTES, MessageType};

/// Most document digests one `DigestRequest` may carry (the documents of one area a device
/// holds). 100,000 entries are about 5 MiB uncompressed.
pub const MAX_DIGEST_DOCS: usize = 100_000;

/// Most document ids one `FetchRequest` may name.
pub const MAX_FETCH_DOCS: usize = 1000;

/// Most changes one `SyncRequest` may push. The client pushes about 1 MiB of changes per
/// request (`SyncConfig::max_push_bytes`); even changes of 32 bytes stay below this count.
pub const MAX_PUSH_CHANGES: usize = 32_768;

/// The default largest single change the server accepts, in bytes (1 MiB). Records are small;
/// photos travel as attachments, not inside changes. The server's `max_change_bytes` setting
/// overrides it.
pub const DEFAULT_MAX_CHANGE_BYTES: usize = 1024 * 1024;

/// Largest uncompressed `SyncRequest` payload (16 MiB, the server's default body limit).
pub const MAX_SYNC_REQUEST_PAYLOAD: u32 = 16 * 1024 * 1024;

/// Largest uncompressed `DigestRequest` payload: [`MAX_DIGEST_DOCS`] entries of at most
/// 16 + 10 + 32 bytes, plus the area and the count (rounded up to 6 MiB).
pub const MAX_DIGEST_REQUEST_PAYLOAD: u32 = 6 * 1024 * 1024;

/// Largest uncompressed `FetchRequest` payload: [`MAX_FETCH_DOCS`] ids of 16 bytes plus two
/// varints (rounded up to 64 KiB).
pub const MAX_FETCH_REQUEST_PAYLOAD: u32 = 64 * 1024;

/// The largest uncompressed payload a message of this type may declare. Requests (what a server
/// decodes from strangers) are capped by what an honest client sends; responses keep the
/// general [`MAX_PAYLOAD_BYTES`].
pub fn max_payload_bytes(ty: MessageType) -> u32 {
    match ty {
        MessageType::SyncRequest => MAX_SYNC_REQUEST_PAYLOAD,
        MessageType::DigestRequest => MAX_DIGEST_REQUEST_PAYLOAD,
        MessageType::FetchRequest => MAX_FETCH_REQUEST_PAYLOAD,
        MessageType::SyncResponse | MessageType::DigestResponse | MessageType::FetchResponse => {
            MAX_PAYLOAD_BYTES
        }
    }
}

/// The most entries the list named `what` (the name the decoder reads it under) may hold, and
/// the error code a longer list is refused with; `None` when only the payload size bounds it.
pub fn max_entries(what: &str) -> Option<(usize, &'static str)> {
    match what {
        "docs" => Some((MAX_DIGEST_DOCS, "too_many_documents")),
        "doc_ids" => Some((MAX_FETCH_DOCS, "too_many_documents")),
        "push" => Some((MAX_PUSH_CHANGES, "too_many_changes")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        DigestRequest, FetchRequest, HEADER_LEN, MAGIC, PROTOCOL_VERSION, ProtocolError,
        WireMessage,
    };
    use uuid::Uuid;

    /// A framed message of type `ty` whose payload is `payload`, zstd-compressed.
    fn zstd_frame(ty: MessageType, payload: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[PROTOCOL_VERSION, ty as u8, 1, 0]);
        b.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
        b.extend_from_slice(&zstd::bulk::compress(payload, 3).unwrap());
        b
    }

    /// The digest bomb of issue 8: a few KB that declare 64 MiB of digest entries.
    #[test]
    fn digest_bomb_is_refused_before_decompressing() {
        let mut payload = vec![6u8];
        payload.extend_from_slice(b"320612");
        let n: u64 = 1_370_000;
        let mut v = n;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            payload.push(if v == 0 { byte } else { byte | 0x80 });
            if v == 0 {
                break;
            }
        }
        payload.resize(payload.len() + 1_370_000 * 49, 0);
        let bomb = zstd_frame(MessageType::DigestRequest, &payload);
        assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
        let e = DigestRequest::decode(&bomb).unwrap_err();
        assert!(matches!(e, ProtocolError::TooLarge { .. }), "{e:?}");
        assert_eq!(e.code(), "payload_too_large");
    }

    #[test]
    fn digest_entry_count_is_capped() {
        let mut payload = vec![6u8];
        payload.extend_from_slice(b"320612");
        // varint(MAX_DIGEST_DOCS + 1) = 100_001 = 0xA1 0x8D 0x06
        payload.extend_from_slice(&[0xA1, 0x8D, 0x06]);
        payload.resize(payload.len() + (MAX_DIGEST_DOCS + 1) * 49, 0);
        assert!(payload.len() <= MAX_DIGEST_REQUEST_PAYLOAD as usize);
        let e =
            DigestRequest::decode(&zstd_frame(MessageType::DigestRequest, &payload)).unwrap_err();
        assert_eq!(
            e,
            ProtocolError::TooManyEntries {
                what: "docs",
                count: MAX_DIGEST_DOCS as u64 + 1,
                limit: MAX_DIGEST_DOCS
            }
        );
        assert_eq!(e.code(), "too_many_documents");
    }

    #[test]
    fn fetch_of_too_many_ids_is_refused_by_the_decoder() {
        let ids: Vec<Uuid> = (0..=MAX_FETCH_DOCS as u128).map(Uuid::from_u128).collect();
        let ok = FetchRequest { doc_ids: ids[..MAX_FETCH_DOCS].to_vec(), max_page_bytes: 0 };
        assert_eq!(FetchRequest::decode(&ok.encode()).unwrap(), ok);
        let e = FetchRequest::decode(&FetchRequest { doc_ids: ids, max_page_bytes: 0 }.encode())
            .unwrap_err();
        assert_eq!(e.code(), "too_many_documents");
        // A header alone declaring more than the fetch cap is refused without a body.
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[PROTOCOL_VERSION, MessageType::FetchRequest as u8, 1, 0]);
        b.extend_from_slice(&(MAX_FETCH_REQUEST_PAYLOAD + 1).to_le_bytes());
        assert_eq!(b.len(), HEADER_LEN);
        assert!(matches!(FetchRequest::decode(&b), Err(ProtocolError::TooLarge { .. })));
    }

    #[test]
    fn request_caps_hold_an_honest_maximum() {
        // A full digest request fits its payload cap.
        let full_digest = 6 + 3 + MAX_DIGEST_DOCS * (16 + 10 + 32);
        assert!(full_digest <= MAX_DIGEST_REQUEST_PAYLOAD as usize);
        let full_fetch = 5 + 3 + MAX_FETCH_DOCS * 16;
        assert!(full_fetch <= MAX_FETCH_REQUEST_PAYLOAD as usize);
        const { assert!(MAX_SYNC_REQUEST_PAYLOAD <= MAX_PAYLOAD_BYTES) };
        assert_eq!(max_entries("push"), Some((MAX_PUSH_CHANGES, "too_many_changes")));
        assert_eq!(max_entries("changes"), None);
    }
}
