//! The frame around every message: the 12-byte [`Header`] (magic, version, type, compression,
//! declared length), the optional zstd compression of the payload, and the [`WireMessage`] trait
//! that turns a message into a whole framed message and back.
//!
//! The payload itself is written and read with [`Writer`] and [`Reader`] ([`super::codec`]).

use std::io::Read;

use super::codec::{Reader, Writer};
use super::error::ProtocolError;
use super::limits;

/// The HTTP content type of every protocol message.
pub const CONTENT_TYPE: &str = "application/x-gridwork-sync";
/// The protocol version this code speaks (byte 4 of every message). Version 2 adds the server's
/// receive time to every pulled change and every acknowledgement.
pub const PROTOCOL_VERSION: u8 = 2;
/// The oldest protocol version still understood: a server answers a request in the version it
/// was asked in, so phones not yet updated keep syncing.
pub const MIN_PROTOCOL_VERSION: u8 = 1;
/// The four bytes every message starts with.
pub const MAGIC: [u8; 4] = *b"GWSY";
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 12;
/// The largest uncompressed payload a decoder accepts (64 MiB).
pub const MAX_PAYLOAD_BYTES: u32 = 64 * 1024 * 1024;
/// Payloads shorter than this are sent uncompressed (a zstd frame would only add bytes).
pub const COMPRESS_THRESHOLD: usize = 128;
/// The zstd level encoders use (fixed, so encoding is deterministic).
pub const ZSTD_LEVEL: i32 = 3;

/// The type of a message (byte 5 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// [`SyncRequest`](super::SyncRequest).
    SyncRequest = 1,
    /// [`SyncResponse`](super::SyncResponse).
    SyncResponse = 2,
    /// [`DigestRequest`](super::DigestRequest).
    DigestRequest = 3,
    /// [`DigestResponse`](super::DigestResponse).
    DigestResponse = 4,
    /// [`FetchRequest`](super::FetchRequest).
    FetchRequest = 5,
    /// [`FetchResponse`](super::FetchResponse).
    FetchResponse = 6,
}

impl MessageType {
    /// The type with this code.
    ///
    /// # Errors
    /// [`ProtocolError::UnknownMessageType`].
    pub fn from_code(code: u8) -> Result<Self, ProtocolError> {
        Ok(match code {
            1 => MessageType::SyncRequest,
            2 => MessageType::SyncResponse,
            3 => MessageType::DigestRequest,
            4 => MessageType::DigestResponse,
            5 => MessageType::FetchRequest,
            6 => MessageType::FetchResponse,
            c => return Err(ProtocolError::UnknownMessageType(c)),
        })
    }
}

/// How a payload is compressed (byte 6 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// The payload follows as is.
    None = 0,
    /// The payload is one zstd frame.
    Zstd = 1,
}

/// The fixed 12-byte header of every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Protocol version (byte 4).
    pub version: u8,
    /// Message type (byte 5).
    pub message_type: MessageType,
    /// Payload compression (byte 6).
    pub compression: Compression,
    /// Uncompressed payload length (bytes 8..12, little-endian).
    pub payload_len: u32,
}

/// Reads and checks a message's header without decoding its payload: magic, version, type,
/// compression and declared length.
///
/// # Errors
/// [`ProtocolError::BadMagic`], [`ProtocolError::Truncated`],
/// [`ProtocolError::UnsupportedVersion`], [`ProtocolError::UnknownMessageType`],
/// [`ProtocolError::UnknownCompression`], [`ProtocolError::TooLarge`].
pub fn peek_header(bytes: &[u8]) -> Result<Header, ProtocolError> {
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(if bytes.len() < 4 && MAGIC.starts_with(bytes) {
            ProtocolError::Truncated { what: "header" }
        } else {
            ProtocolError::BadMagic
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ProtocolError::Truncated { what: "header" });
    }
    let version = bytes[4];
    if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) {
        return Err(ProtocolError::UnsupportedVersion {
            found: version,
            supported: PROTOCOL_VERSION,
        });
    }
    let message_type = MessageType::from_code(bytes[5])?;
    let compression = match bytes[6] {
        0 => Compression::None,
        1 => Compression::Zstd,
        c => return Err(ProtocolError::UnknownCompression(c)),
    };
    let payload_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(ProtocolError::TooLarge {
            declared: u64::from(payload_len),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(Header { version, message_type, compression, payload_len })
}

/// A message type of this protocol: encodes to and decodes from a whole framed message.
pub trait WireMessage: Sized {
    /// The message's type byte.
    const TYPE: MessageType;

    /// Appends the uncompressed payload.
    fn write_payload(&self, w: &mut Writer);

    /// Reads the payload; the reader must be left empty.
    ///
    /// # Errors
    /// Any [`ProtocolError`] about the payload.
    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError>;

    /// Encodes the whole message in the current [`PROTOCOL_VERSION`]: header and (compressed)
    /// payload. Deterministic.
    fn encode(&self) -> Vec<u8> {
        self.encode_version(PROTOCOL_VERSION)
    }

    /// Encodes the whole message in protocol `version` (a server answers in the version it was
    /// asked in). Fields a version lacks are left out.
    fn encode_version(&self, version: u8) -> Vec<u8> {
        let mut w = Writer::for_version(version);
        self.write_payload(&mut w);
        frame_version(Self::TYPE, version, &w.into_bytes())
    }

    /// Decodes a whole message of this type.
    ///
    /// # Errors
    /// Any [`ProtocolError`]; [`ProtocolError::UnexpectedMessageType`] for another message type.
    fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let (header, payload) = unframe(bytes)?;
        if header.message_type != Self::TYPE {
            return Err(ProtocolError::UnexpectedMessageType {
                found: header.message_type as u8,
                expected: Self::TYPE as u8,
            });
        }
        let mut r = Reader::for_version(&payload, header.version);
        let msg = Self::read_payload(&mut r)?;
        r.finish()?;
        Ok(msg)
    }
}

/// Frames `payload` as a message of type `ty` in the current [`PROTOCOL_VERSION`] (tests build
/// hand-made payloads with it).
#[cfg(test)]
pub(super) fn frame(ty: MessageType, payload: &[u8]) -> Vec<u8> {
    frame_version(ty, PROTOCOL_VERSION, payload)
}

/// Frames `payload` as a message of type `ty` in protocol `version`: header, then the payload
/// zstd-compressed when that makes it smaller.
fn frame_version(ty: MessageType, version: u8, payload: &[u8]) -> Vec<u8> {
    // Payloads are built in memory by this process, far below 4 GiB; saturate rather than panic.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let compressed = if payload.len() >= COMPRESS_THRESHOLD {
        zstd::bulk::compress(payload, ZSTD_LEVEL).ok().filter(|c| c.len() < payload.len())
    } else {
        None
    };
    let mut out =
        Vec::with_capacity(HEADER_LEN + compressed.as_ref().map_or(payload.len(), Vec::len));
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.push(ty as u8);
    out.push(if compressed.is_some() { Compression::Zstd } else { Compression::None } as u8);
    out.push(0);
    out.extend_from_slice(&len.to_le_bytes());
    match compressed {
        Some(c) => out.extend_from_slice(&c),
        None => out.extend_from_slice(payload),
    }
    out
}

/// Checks a message's header and returns it with the (decompressed) payload, whose length must
/// be exactly the declared one.
fn unframe(bytes: &[u8]) -> Result<(Header, Vec<u8>), ProtocolError> {
    let header = peek_header(bytes)?;
    // Checked before decompressing: a small zstd frame may expand to the declared length.
    let limit = limits::max_payload_bytes(header.message_type);
    if header.payload_len > limit {
        return Err(ProtocolError::TooLarge { declared: u64::from(header.payload_len), limit });
    }
    let body = &bytes[HEADER_LEN..];
    let declared = u64::from(header.payload_len);
    let payload = match header.compression {
        Compression::None => body.to_vec(),
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::with_buffer(body)
                .map_err(|e| ProtocolError::Decompress(e.to_string()))?;
            let mut out = Vec::new();
            dec.take(declared + 1)
                .read_to_end(&mut out)
                .map_err(|e| ProtocolError::Decompress(e.to_string()))?;
            out
        }
    };
    if payload.len() as u64 != declared {
        return Err(ProtocolError::LengthMismatch { declared, actual: payload.len() as u64 });
    }
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::tests::env;
    use crate::protocol::{Message, SyncRequest, SyncResponse, decode_message};

    #[test]
    fn big_messages_are_compressed() {
        let req = SyncRequest {
            cursor: 1,
            max_page_bytes: 65536,
            include_own: true,
            push: (1..40).map(env).collect(),
        };
        let b = req.encode();
        assert_eq!(b[6], Compression::Zstd as u8);
        assert_eq!(SyncRequest::decode(&b).unwrap(), req);
        assert_eq!(decode_message(&b).unwrap(), Message::SyncRequest(req));
    }

    #[test]
    fn rejects_wrong_version_type_and_garbage() {
        let mut b =
            SyncRequest { cursor: 0, max_page_bytes: 0, include_own: false, push: vec![env(2)] }
                .encode();
        assert!(matches!(
            SyncResponse::decode(&b),
            Err(ProtocolError::UnexpectedMessageType { .. })
        ));
        b[4] = 9;
        let e = SyncRequest::decode(&b).unwrap_err();
        assert_eq!(e.code(), "unsupported_protocol_version");
        assert_eq!(SyncRequest::decode(b"{\"json\":1}").unwrap_err(), ProtocolError::BadMagic);
        assert!(SyncRequest::decode(b"GWS").is_err());
    }
}
