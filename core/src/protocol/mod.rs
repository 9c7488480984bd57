//! The sync wire protocol (version 2; version 1 still served): a compact, versioned binary format, zstd-compressed, sent
//! over HTTP with content type [`CONTENT_TYPE`]. `docs/sync-protocol.md` describes it byte by byte.
//!
//! Every message is a 12-byte [`Header`] followed by a payload that is either raw or one zstd
//! frame. Payloads are built from unsigned LEB128 varints, single bytes, raw 16-byte UUIDs,
//! raw 32-byte hashes and length-prefixed byte strings. Decoding never panics: arbitrary input
//! yields a [`ProtocolError`].
//!
//! Messages:
//! - [`SyncRequest`] / [`SyncResponse`]: one round trip pushes the device's outbox and pulls one
//!   page of the area-scoped change log after the device's cursor (DESIGN §2).
//! - [`DigestRequest`] / [`DigestResponse`]: the repair path; per-document digests detect
//!   divergence between device and server.
//! - [`FetchRequest`] / [`FetchResponse`]: every change of a few named documents (repair and
//!   bootstrap of single documents).

pub mod limits;

use std::io::Read;

use thiserror::Error;
use uuid::Uuid;

use crate::area::AreaPath;
use crate::envelope::ChangeEnvelope;
use crate::kind::RecordKind;

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
/// The smallest pull page the server serves, in change bytes.
pub const MIN_PAGE_BYTES: u32 = 64 * 1024;
/// The largest pull page the server serves, in change bytes.
pub const MAX_PAGE_BYTES: u32 = 256 * 1024;
/// The page size used when a request asks for 0.
pub const DEFAULT_PAGE_BYTES: u32 = 128 * 1024;
/// Payloads shorter than this are sent uncompressed (a zstd frame would only add bytes).
pub const COMPRESS_THRESHOLD: usize = 128;
/// The zstd level encoders use (fixed, so encoding is deterministic).
pub const ZSTD_LEVEL: i32 = 3;

/// Everything that can be wrong with a message on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The message does not start with [`MAGIC`].
    #[error("not a Gridwork sync message (bad magic bytes)")]
    BadMagic,
    /// The message is shorter than its header or its declared contents.
    #[error("message truncated while reading {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// The message speaks another protocol version.
    #[error("unsupported protocol version {found}; this side speaks version {supported}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
        /// The version this side speaks.
        supported: u8,
    },
    /// The message type byte is unknown.
    #[error("unknown message type {0}")]
    UnknownMessageType(u8),
    /// The message is of a known type, but not the one expected here.
    #[error("unexpected message type {found}; expected {expected}")]
    UnexpectedMessageType {
        /// The type byte found.
        found: u8,
        /// The type byte expected.
        expected: u8,
    },
    /// The compression byte is unknown.
    #[error("unknown compression {0}")]
    UnknownCompression(u8),
    /// The declared payload is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("payload of {declared} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The declared uncompressed length.
        declared: u64,
        /// The limit.
        limit: u32,
    },
    /// A list holds more entries than its message type allows ([`limits::max_entries`]).
    #[error("{what}: {count} entries exceed the limit of {limit}")]
    TooManyEntries {
        /// The list.
        what: &'static str,
        /// The count declared.
        count: u64,
        /// The limit.
        limit: usize,
    },
    /// The zstd frame is corrupt.
    #[error("payload decompression failed: {0}")]
    Decompress(String),
    /// The payload's length differs from the header's declaration.
    #[error("payload length {actual} differs from the declared {declared}")]
    LengthMismatch {
        /// The declared length.
        declared: u64,
        /// The actual length (or a lower bound when longer).
        actual: u64,
    },
    /// A varint is longer than 10 bytes or overflows its type.
    #[error("varint overflow while reading {what}")]
    VarintOverflow {
        /// What was being read.
        what: &'static str,
    },
    /// Bytes remain after the payload's last field.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// A change envelope names an unknown document kind.
    #[error("change {index}: unknown document kind code {code}")]
    UnknownKind {
        /// Position of the change in its list (0-based).
        index: usize,
        /// The kind code found.
        code: u8,
    },
    /// A change envelope's area is not a valid code path.
    #[error("change {index}: invalid area: {reason}")]
    InvalidArea {
        /// Position of the change in its list (0-based).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A field holds a value outside its domain.
    #[error("invalid {what}: {value}")]
    InvalidValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u64,
    },
}

impl ProtocolError {
    /// A stable code for the error, used in the server's JSON error answers.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::UnsupportedVersion { .. } => "unsupported_protocol_version",
            ProtocolError::UnknownKind { .. } => "unknown_kind",
            ProtocolError::InvalidArea { .. } => "invalid_area",
            ProtocolError::TooLarge { .. } => "payload_too_large",
            ProtocolError::TooManyEntries { what, .. } => {
                limits::max_entries(what).map_or("too_many_entries", |(_, code)| code)
            }
            ProtocolError::UnknownMessageType(_) | ProtocolError::UnexpectedMessageType { .. } => {
                "unexpected_message_type"
            }
            _ => "malformed_message",
        }
    }

    /// The index of the change the error is about, if it is about one.
    pub fn change_index(&self) -> Option<usize> {
        match self {
            ProtocolError::UnknownKind { index, .. } | ProtocolError::InvalidArea { index, .. } => {
                Some(*index)
            }
            _ => None,
        }
    }
}

/// The type of a message (byte 5 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// [`SyncRequest`].
    SyncRequest = 1,
    /// [`SyncResponse`].
    SyncResponse = 2,
    /// [`DigestRequest`].
    DigestRequest = 3,
    /// [`DigestResponse`].
    DigestResponse = 4,
    /// [`FetchRequest`].
    FetchRequest = 5,
    /// [`FetchResponse`].
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
        frame_version(Self::TYPE, version, &w.buf)
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

#[cfg(test)]
fn frame(ty: MessageType, payload: &[u8]) -> Vec<u8> {
    frame_version(ty, PROTOCOL_VERSION, payload)
}

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

/// Decodes any message, dispatching on its type byte.
///
/// # Errors
/// Any [`ProtocolError`].
pub fn decode_message(bytes: &[u8]) -> Result<Message, ProtocolError> {
    Ok(match peek_header(bytes)?.message_type {
        MessageType::SyncRequest => Message::SyncRequest(SyncRequest::decode(bytes)?),
        MessageType::SyncResponse => Message::SyncResponse(SyncResponse::decode(bytes)?),
        MessageType::DigestRequest => Message::DigestRequest(DigestRequest::decode(bytes)?),
        MessageType::DigestResponse => Message::DigestResponse(DigestResponse::decode(bytes)?),
        MessageType::FetchRequest => Message::FetchRequest(FetchRequest::decode(bytes)?),
        MessageType::FetchResponse => Message::FetchResponse(FetchResponse::decode(bytes)?),
    })
}

/// Any protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A [`SyncRequest`].
    SyncRequest(SyncRequest),
    /// A [`SyncResponse`].
    SyncResponse(SyncResponse),
    /// A [`DigestRequest`].
    DigestRequest(DigestRequest),
    /// A [`DigestResponse`].
    DigestResponse(DigestResponse),
    /// A [`FetchRequest`].
    FetchRequest(FetchRequest),
    /// A [`FetchResponse`].
    FetchResponse(FetchResponse),
}

/// The server's verdict on a device's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    /// Served normally.
    Ok = 0,
    /// The device was revoked: it must wipe its local store and stop syncing. Nothing was stored
    /// and nothing is returned.
    Revoked = 1,
    /// The cursor is older than the log's compaction horizon (or the device's scope changed): the
    /// device must bootstrap (pull from cursor 0 with `include_own`). Nothing was stored.
    BootstrapRequired = 2,
}

impl SyncStatus {
    fn from_code(c: u8) -> Result<Self, ProtocolError> {
        Ok(match c {
            0 => SyncStatus::Ok,
            1 => SyncStatus::Revoked,
            2 => SyncStatus::BootstrapRequired,
            v => return Err(ProtocolError::InvalidValue { what: "status", value: u64::from(v) }),
        })
    }
}

/// One push-and-pull round trip from a device (message type 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The device's cursor: the highest `seq` it has applied (0 for none).
    pub cursor: u64,
    /// Page size wanted, in change bytes; the server clamps it to
    /// [`MIN_PAGE_BYTES`]..=[`MAX_PAGE_BYTES`], and uses [`DEFAULT_PAGE_BYTES`] for 0.
    pub max_page_bytes: u32,
    /// Whether the pull should include changes this device pushed itself (set when
    /// bootstrapping; normally the device already has them).
    pub include_own: bool,
    /// The changes to store (the device's outbox), stored atomically: all or nothing.
    pub push: Vec<ChangeEnvelope>,
}

/// A change from the server's log with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledChange {
    /// The change's position in the server's log.
    pub seq: u64,
    /// When the server stored it (ms since the epoch, server clock): the trustworthy time every
    /// device and the server use for deadlines and assessment. `None` from a version 1 server.
    pub received_at: Option<i64>,
    /// The change.
    pub change: ChangeEnvelope,
}

/// The server's answer to a [`SyncRequest`] (message type 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResponse {
    /// Whether the request was served.
    pub status: SyncStatus,
    /// One entry per pushed change, in push order: where and since when the server holds it
    /// (newly stored or already held — pushing is idempotent).
    pub acks: Vec<Acked>,
    /// One page of changes after the cursor, in `seq` order, within the device's scope.
    pub changes: Vec<PulledChange>,
    /// The cursor to store after applying `changes` (may be higher than the last change's seq
    /// when out-of-scope changes were passed over).
    pub next_cursor: u64,
    /// Whether more changes wait after `next_cursor` (ask again at once).
    pub more: bool,
    /// The highest `seq` in the server's log when the page was read (for progress display).
    pub head_seq: u64,
    /// The log's identity (version 2; `None` from a version 1 server). It changes when the
    /// server's database was restored from a backup: the seqs a device saw may then name lost
    /// changes or new ones, so the device re-pushes its own changes and pulls its scope again.
    pub epoch: Option<Uuid>,
}

/// The server's acknowledgement of one pushed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acked {
    /// The `seq` under which the server holds the change.
    pub seq: u64,
    /// When the server first stored it (ms since the epoch, server clock); `None` from a
    /// version 1 server.
    pub received_at: Option<i64>,
}

/// A document's digest for the repair path: the number of its changes and the XOR of their
/// hashes. Device and server compute it the same way over the changes each holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocDigest {
    /// The document.
    pub doc_id: Uuid,
    /// How many distinct changes it has.
    pub change_count: u64,
    /// XOR of the 32-byte hashes of all its changes.
    pub hash_xor: [u8; 32],
}

impl DocDigest {
    /// The digest of a document from the hashes of all its changes (each once).
    pub fn from_hashes<'a>(doc_id: Uuid, hashes: impl IntoIterator<Item = &'a [u8; 32]>) -> Self {
        let mut d = DocDigest { doc_id, change_count: 0, hash_xor: [0; 32] };
        for h in hashes {
            d.add(h);
        }
        d
    }

    /// Adds one change hash to the digest.
    pub fn add(&mut self, hash: &[u8; 32]) {
        self.change_count += 1;
        for (a, b) in self.hash_xor.iter_mut().zip(hash) {
            *a ^= b;
        }
    }
}

/// The device's digests of every document it holds in one area (message type 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRequest {
    /// The area compared (documents whose area lies within it).
    pub area: AreaPath,
    /// The device's digests.
    pub docs: Vec<DocDigest>,
}

/// The server's comparison of a [`DigestRequest`] with its log (message type 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestResponse {
    /// Whether the request was served.
    pub status: SyncStatus,
    /// Documents the device lacks or whose digest differs: fetch them ([`FetchRequest`]) and push
    /// every change of them (pushing is idempotent).
    pub divergent: Vec<Uuid>,
    /// Documents the device listed that the server does not hold in scope: push all their changes.
    pub unknown_to_server: Vec<Uuid>,
}

/// Asks for every change of some documents (message type 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// The documents wanted.
    pub doc_ids: Vec<Uuid>,
    /// Page size wanted, as in [`SyncRequest::max_page_bytes`].
    pub max_page_bytes: u32,
}

/// The changes of the documents asked for (message type 6). Documents are served whole, in
/// request order, until the page is full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    /// Whether the request was served.
    pub status: SyncStatus,
    /// The changes, grouped by document, each document's in `seq` order.
    pub changes: Vec<PulledChange>,
    /// Documents asked for but not served in this page: ask again for these.
    pub remaining: Vec<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Primitive encoding

/// Appends protocol primitives to a buffer.
#[derive(Debug)]
pub struct Writer {
    buf: Vec<u8>,
    version: u8,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::for_version(PROTOCOL_VERSION)
    }
}

impl Writer {
    /// A writer for a payload of protocol `version`.
    pub fn for_version(version: u8) -> Self {
        Writer { buf: Vec::new(), version }
    }

    /// A receive time, in versions that carry one (0 stands for unknown).
    fn time(&mut self, at: Option<i64>) {
        if self.version >= 2 {
            self.varint(at.and_then(|t| u64::try_from(t).ok()).unwrap_or(0));
        }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// An unsigned LEB128 varint.
    pub fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    /// Raw bytes without a length.
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A varint length followed by the bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.raw(b);
    }

    /// A change envelope: doc id (16), kind (1), area (length-prefixed), change (length-prefixed).
    pub fn envelope(&mut self, e: &ChangeEnvelope) {
        self.raw(e.doc_id.as_bytes());
        self.u8(e.kind.code());
        self.bytes(e.area.as_str().as_bytes());
        self.bytes(&e.bytes);
    }

    fn count(&mut self, n: usize) {
        self.varint(n as u64);
    }
}

/// Reads protocol primitives from a payload; every read is bounds-checked.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    version: u8,
}

impl<'a> Reader<'a> {
    /// A reader over a payload of the current protocol version.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader::for_version(buf, PROTOCOL_VERSION)
    }

    /// A reader over a payload of protocol `version`.
    pub fn for_version(buf: &'a [u8], version: u8) -> Self {
        Reader { buf, version }
    }

    /// A receive time, in versions that carry one (0: unknown).
    fn time(&mut self) -> Result<Option<i64>, ProtocolError> {
        if self.version < 2 {
            return Ok(None);
        }
        let v = self.varint("received_at")?;
        if v == 0 {
            return Ok(None);
        }
        i64::try_from(v)
            .map(Some)
            .map_err(|_| ProtocolError::InvalidValue { what: "received_at", value: v })
    }

    /// One byte.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`].
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        let (&b, rest) = self.buf.split_first().ok_or(ProtocolError::Truncated { what })?;
        self.buf = rest;
        Ok(b)
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`], [`ProtocolError::VarintOverflow`].
    pub fn varint(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8(what)?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(ProtocolError::VarintOverflow { what });
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtocolError::VarintOverflow { what })
    }

    /// A varint that must fit a `u32`.
    ///
    /// # Errors
    /// As [`Reader::varint`]; [`ProtocolError::VarintOverflow`] above `u32::MAX`.
    pub fn varint_u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        u32::try_from(self.varint(what)?).map_err(|_| ProtocolError::VarintOverflow { what })
    }

    /// `n` raw bytes.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`].
    pub fn raw(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.buf.len() < n {
            return Err(ProtocolError::Truncated { what });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// A varint length and that many bytes.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`], [`ProtocolError::VarintOverflow`].
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let n = self.varint(what)?;
        let n = usize::try_from(n).map_err(|_| ProtocolError::Truncated { what })?;
        self.raw(n, what)
    }

    /// A 16-byte UUID.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`].
    pub fn uuid(&mut self, what: &'static str) -> Result<Uuid, ProtocolError> {
        let b = self.raw(16, what)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(Uuid::from_bytes(a))
    }

    /// A 32-byte hash.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`].
    pub fn hash(&mut self, what: &'static str) -> Result<[u8; 32], ProtocolError> {
        let b = self.raw(32, what)?;
        let mut a = [0u8; 32];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// A boolean byte (0 or 1).
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`], [`ProtocolError::InvalidValue`].
    pub fn bool(&mut self, what: &'static str) -> Result<bool, ProtocolError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(ProtocolError::InvalidValue { what, value: u64::from(v) }),
        }
    }

    /// A change envelope (see [`Writer::envelope`]); `index` names it in errors.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`], [`ProtocolError::UnknownKind`],
    /// [`ProtocolError::InvalidArea`].
    pub fn envelope(&mut self, index: usize) -> Result<ChangeEnvelope, ProtocolError> {
        let doc_id = self.uuid("doc_id")?;
        let code = self.u8("kind")?;
        let kind =
            RecordKind::from_code(code).map_err(|_| ProtocolError::UnknownKind { index, code })?;
        let area = self.bytes("area")?;
        let area = std::str::from_utf8(area)
            .map_err(|_| ProtocolError::InvalidArea { index, reason: "not UTF-8".into() })?;
        let area = AreaPath::parse(area)
            .map_err(|e| ProtocolError::InvalidArea { index, reason: e.to_string() })?;
        let bytes = self.bytes("change")?.to_vec();
        Ok(ChangeEnvelope { doc_id, kind, area, bytes })
    }

    /// A list count, bounded by the bytes left (every element takes at least `min_size` bytes),
    /// so a forged count cannot make the decoder allocate, and by the list's own limit
    /// ([`limits::max_entries`]).
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`], [`ProtocolError::VarintOverflow`],
    /// [`ProtocolError::TooManyEntries`].
    pub fn count(&mut self, what: &'static str, min_size: usize) -> Result<usize, ProtocolError> {
        let n = self.varint(what)?;
        if let Some((limit, _)) = limits::max_entries(what)
            && n > limit as u64
        {
            return Err(ProtocolError::TooManyEntries { what, count: n, limit });
        }
        let max = (self.buf.len() / min_size.max(1)) as u64;
        if n > max {
            return Err(ProtocolError::Truncated { what });
        }
        usize::try_from(n).map_err(|_| ProtocolError::Truncated { what })
    }

    /// Checks that nothing is left.
    ///
    /// # Errors
    /// [`ProtocolError::TrailingBytes`].
    pub fn finish(&self) -> Result<(), ProtocolError> {
        if self.buf.is_empty() { Ok(()) } else { Err(ProtocolError::TrailingBytes(self.buf.len())) }
    }
}

/// Smallest encoded envelope: 16 (doc id) + 1 (kind) + 1 (area len) + 6 (area) + 1 (change len).
const MIN_ENVELOPE: usize = 25;

fn write_pulled(w: &mut Writer, changes: &[PulledChange]) {
    w.count(changes.len());
    for c in changes {
        w.varint(c.seq);
        w.time(c.received_at);
        w.envelope(&c.change);
    }
}

fn read_pulled(r: &mut Reader<'_>) -> Result<Vec<PulledChange>, ProtocolError> {
    let n = r.count("changes", MIN_ENVELOPE + 1)?;
    let mut out = Vec::with_capacity(n);
    for index in 0..n {
        let seq = r.varint("seq")?;
        let received_at = r.time()?;
        out.push(PulledChange { seq, received_at, change: r.envelope(index)? });
    }
    Ok(out)
}

fn write_uuids(w: &mut Writer, ids: &[Uuid]) {
    w.count(ids.len());
    for id in ids {
        w.raw(id.as_bytes());
    }
}

fn read_uuids(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Uuid>, ProtocolError> {
    let n = r.count(what, 16)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.uuid(what)?);
    }
    Ok(out)
}

impl WireMessage for SyncRequest {
    const TYPE: MessageType = MessageType::SyncRequest;

    fn write_payload(&self, w: &mut Writer) {
        w.u8(u8::from(self.include_own));
        w.varint(self.cursor);
        w.varint(u64::from(self.max_page_bytes));
        w.count(self.push.len());
        for e in &self.push {
            w.envelope(e);
        }
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let flags = r.u8("flags")?;
        if flags & !1 != 0 {
            return Err(ProtocolError::InvalidValue { what: "flags", value: u64::from(flags) });
        }
        let cursor = r.varint("cursor")?;
        let max_page_bytes = r.varint_u32("max_page_bytes")?;
        let n = r.count("push", MIN_ENVELOPE)?;
        let mut push = Vec::with_capacity(n);
        for index in 0..n {
            push.push(r.envelope(index)?);
        }
        Ok(SyncRequest { cursor, max_page_bytes, include_own: flags & 1 == 1, push })
    }
}

impl WireMessage for SyncResponse {
    const TYPE: MessageType = MessageType::SyncResponse;

    fn write_payload(&self, w: &mut Writer) {
        w.u8(self.status as u8);
        w.u8(u8::from(self.more));
        w.varint(self.next_cursor);
        w.varint(self.head_seq);
        w.count(self.acks.len());
        for a in &self.acks {
            w.varint(a.seq);
            w.time(a.received_at);
        }
        write_pulled(w, &self.changes);
        if w.version >= 2 {
            w.raw(self.epoch.unwrap_or(Uuid::nil()).as_bytes());
        }
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let status = SyncStatus::from_code(r.u8("status")?)?;
        let more = r.bool("more")?;
        let next_cursor = r.varint("next_cursor")?;
        let head_seq = r.varint("head_seq")?;
        let n = r.count("acks", 1)?;
        let mut acks = Vec::with_capacity(n);
        for _ in 0..n {
            let seq = r.varint("ack")?;
            acks.push(Acked { seq, received_at: r.time()? });
        }
        let changes = read_pulled(r)?;
        let epoch =
            if r.version >= 2 { Some(r.uuid("epoch")?).filter(|e| !e.is_nil()) } else { None };
        Ok(SyncResponse { status, acks, changes, next_cursor, more, head_seq, epoch })
    }
}

impl WireMessage for DigestRequest {
    const TYPE: MessageType = MessageType::DigestRequest;

    fn write_payload(&self, w: &mut Writer) {
        w.bytes(self.area.as_str().as_bytes());
        w.count(self.docs.len());
        for d in &self.docs {
            w.raw(d.doc_id.as_bytes());
            w.varint(d.change_count);
            w.raw(&d.hash_xor);
        }
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let area = r.bytes("area")?;
        let area = std::str::from_utf8(area)
            .ok()
            .and_then(|a| AreaPath::parse(a).ok())
            .ok_or(ProtocolError::InvalidArea { index: 0, reason: "digest area".into() })?;
        let n = r.count("docs", 16 + 1 + 32)?;
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            let doc_id = r.uuid("doc_id")?;
            let change_count = r.varint("change_count")?;
            let hash_xor = r.hash("hash_xor")?;
            docs.push(DocDigest { doc_id, change_count, hash_xor });
        }
        Ok(DigestRequest { area, docs })
    }
}

impl WireMessage for DigestResponse {
    const TYPE: MessageType = MessageType::DigestResponse;

    fn write_payload(&self, w: &mut Writer) {
        w.u8(self.status as u8);
        write_uuids(w, &self.divergent);
        write_uuids(w, &self.unknown_to_server);
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let status = SyncStatus::from_code(r.u8("status")?)?;
        let divergent = read_uuids(r, "divergent")?;
        let unknown_to_server = read_uuids(r, "unknown_to_server")?;
        Ok(DigestResponse { status, divergent, unknown_to_server })
    }
}

impl WireMessage for FetchRequest {
    const TYPE: MessageType = MessageType::FetchRequest;

    fn write_payload(&self, w: &mut Writer) {
        w.varint(u64::from(self.max_page_bytes));
        write_uuids(w, &self.doc_ids);
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let max_page_bytes = r.varint_u32("max_page_bytes")?;
        let doc_ids = read_uuids(r, "doc_ids")?;
        Ok(FetchRequest { doc_ids, max_page_bytes })
    }
}

impl WireMessage for FetchResponse {
    const TYPE: MessageType = MessageType::FetchResponse;

    fn write_payload(&self, w: &mut Writer) {
        w.u8(self.status as u8);
        write_pulled(w, &self.changes);
        write_uuids(w, &self.remaining);
    }

    fn read_payload(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        let status = SyncStatus::from_code(r.u8("status")?)?;
        let changes = read_pulled(r)?;
        let remaining = read_uuids(r, "remaining")?;
        Ok(FetchResponse { status, changes, remaining })
    }
}

/// Clamps a requested page size to what the server serves.
pub fn clamp_page_bytes(requested: u32) -> u32 {
    if requested == 0 {
        DEFAULT_PAGE_BYTES
    } else {
        requested.clamp(MIN_PAGE_BYTES, MAX_PAGE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(n: u8) -> ChangeEnvelope {
        ChangeEnvelope {
            doc_id: Uuid::from_u128((u128::from(n) << 64) | 7),
            kind: RecordKind::Visit,
            area: AreaPath::parse("320612/004/017/03/02").unwrap(),
            bytes: vec![n; usize::from(n) * 3],
        }
    }

    #[test]
    fn empty_sync_is_tiny_and_round_trips() {
        let req =
            SyncRequest { cursor: 12345, max_page_bytes: 0, include_own: false, push: vec![] };
        let b = req.encode();
        assert!(b.len() < 24, "{}", b.len());
        assert_eq!(SyncRequest::decode(&b).unwrap(), req);
        let resp = SyncResponse {
            status: SyncStatus::Ok,
            acks: vec![],
            changes: vec![],
            next_cursor: 12345,
            more: false,
            head_seq: 12345,
            epoch: Some(Uuid::from_u128(99)),
        };
        let b = resp.encode();
        // Header, five small fields and the 16-byte epoch (`docs/sync-protocol.md`).
        assert!((30..=38).contains(&b.len()), "{}", b.len());
        assert_eq!(SyncResponse::decode(&b).unwrap(), resp);
    }

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

    #[test]
    fn version_1_answers_carry_no_receive_times_and_still_decode() {
        let resp = SyncResponse {
            status: SyncStatus::Ok,
            acks: vec![Acked { seq: 7, received_at: Some(1_700_000_000_123) }],
            changes: vec![PulledChange {
                seq: 9,
                received_at: Some(1_700_000_000_456),
                change: env(3),
            }],
            next_cursor: 9,
            more: false,
            head_seq: 9,
            epoch: Some(Uuid::from_u128(5)),
        };
        let v2 = resp.encode();
        assert_eq!(v2[4], 2);
        assert_eq!(SyncResponse::decode(&v2).unwrap(), resp);
        let v1 = resp.encode_version(1);
        assert_eq!(v1[4], 1);
        let old = SyncResponse::decode(&v1).unwrap();
        assert_eq!(old.epoch, None);
        assert_eq!(old.acks, vec![Acked { seq: 7, received_at: None }]);
        assert_eq!(old.changes[0].received_at, None);
        assert_eq!(old.changes[0].change, env(3));
        assert_eq!(peek_header(&v1).unwrap().version, 1);
    }

    #[test]
    fn unknown_kind_names_the_change() {
        let req = SyncRequest {
            cursor: 0,
            max_page_bytes: 0,
            include_own: false,
            push: vec![env(1), env(2), env(3)],
        };
        let mut w = Writer::default();
        req.write_payload(&mut w);
        let mut p = w.into_bytes();
        // flags, cursor, page, count = 4 bytes; then envelope 0 (16 + 1 + 1 + 20 + 1 + 3 bytes).
        let second_kind = 4 + (16 + 1 + 1 + 20 + 1 + 3) + 16;
        p[second_kind] = 99;
        let framed = frame(MessageType::SyncRequest, &p);
        assert_eq!(
            SyncRequest::decode(&framed).unwrap_err(),
            ProtocolError::UnknownKind { index: 1, code: 99 }
        );
    }

    #[test]
    fn digest_xor_is_order_free() {
        let id = Uuid::from_u128(1);
        let a = DocDigest::from_hashes(id, &[[1; 32], [2; 32]]);
        let b = DocDigest::from_hashes(id, &[[2; 32], [1; 32]]);
        assert_eq!(a, b);
        assert_eq!(a.change_count, 2);
        assert_eq!(a.hash_xor, [3; 32]);
    }

    fn arb_env() -> impl Strategy<Value = ChangeEnvelope> {
        (
            any::<u128>(),
            prop::sample::select(RecordKind::ALL.to_vec()),
            prop::collection::vec(0u16..1000, 0..5),
            prop::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(id, kind, segs, bytes)| {
                let mut area = "320612".to_string();
                for s in segs.iter().take(4) {
                    area.push_str(&format!("/{s:03}"));
                }
                ChangeEnvelope {
                    doc_id: Uuid::from_u128(id),
                    kind,
                    area: AreaPath::parse(&area).unwrap(),
                    bytes,
                }
            })
    }

    fn arb_pulled() -> impl Strategy<Value = PulledChange> {
        (any::<u64>(), arb_time(), arb_env()).prop_map(|(seq, received_at, change)| PulledChange {
            seq,
            received_at,
            change,
        })
    }

    /// A receive time as the wire carries it: unknown, or a positive ms count.
    fn arb_time() -> impl Strategy<Value = Option<i64>> {
        prop::option::of(1..i64::MAX)
    }

    fn arb_ack() -> impl Strategy<Value = Acked> {
        (any::<u64>(), arb_time()).prop_map(|(seq, received_at)| Acked { seq, received_at })
    }

    fn arb_status() -> impl Strategy<Value = SyncStatus> {
        prop::sample::select(vec![
            SyncStatus::Ok,
            SyncStatus::Revoked,
            SyncStatus::BootstrapRequired,
        ])
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        let uuids = prop::collection::vec(any::<u128>().prop_map(Uuid::from_u128), 0..10);
        prop_oneof![
            (any::<u64>(), any::<u32>(), any::<bool>(), prop::collection::vec(arb_env(), 0..8))
                .prop_map(|(cursor, max_page_bytes, include_own, push)| {
                    Message::SyncRequest(SyncRequest { cursor, max_page_bytes, include_own, push })
                }),
            (
                arb_status(),
                prop::collection::vec(arb_ack(), 0..10),
                prop::collection::vec(arb_pulled(), 0..8),
                any::<u64>(),
                any::<bool>(),
                any::<u64>(),
                prop::option::of(any::<u128>().prop_filter("nil means none", |e| *e != 0))
            )
                .prop_map(
                    |(status, acks, changes, next_cursor, more, head_seq, epoch)| {
                        Message::SyncResponse(SyncResponse {
                            status,
                            acks,
                            changes,
                            next_cursor,
                            more,
                            head_seq,
                            epoch: epoch.map(Uuid::from_u128),
                        })
                    }
                ),
            (prop::collection::vec((any::<u128>(), any::<u64>(), any::<[u8; 32]>()), 0..10))
                .prop_map(|docs| Message::DigestRequest(DigestRequest {
                    area: AreaPath::parse("320612/004").unwrap(),
                    docs: docs
                        .into_iter()
                        .map(|(id, change_count, hash_xor)| DocDigest {
                            doc_id: Uuid::from_u128(id),
                            change_count,
                            hash_xor
                        })
                        .collect(),
                })),
            (arb_status(), uuids.clone(), uuids.clone()).prop_map(|(status, d, u)| {
                Message::DigestResponse(DigestResponse {
                    status,
                    divergent: d,
                    unknown_to_server: u,
                })
            }),
            (uuids.clone(), any::<u32>()).prop_map(|(doc_ids, max_page_bytes)| {
                Message::FetchRequest(FetchRequest { doc_ids, max_page_bytes })
            }),
            (arb_status(), prop::collection::vec(arb_pulled(), 0..5), uuids).prop_map(
                |(status, changes, remaining)| {
                    Message::FetchResponse(FetchResponse { status, changes, remaining })
                }
            ),
        ]
    }

    fn encode_any(m: &Message) -> Vec<u8> {
        match m {
            Message::SyncRequest(x) => x.encode(),
            Message::SyncResponse(x) => x.encode(),
            Message::DigestRequest(x) => x.encode(),
            Message::DigestResponse(x) => x.encode(),
            Message::FetchRequest(x) => x.encode(),
            Message::FetchResponse(x) => x.encode(),
        }
    }

    proptest! {
        #[test]
        fn round_trip(m in arb_message()) {
            let b = encode_any(&m);
            prop_assert_eq!(decode_message(&b).unwrap(), m);
        }

        #[test]
        fn random_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_message(&b);
        }

        #[test]
        fn random_payload_behind_valid_header_never_panics(
            version in MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION,
            ty in 1u8..=6, zstd in any::<bool>(), payload in prop::collection::vec(any::<u8>(), 0..400)
        ) {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[version, ty, u8::from(zstd), 0]);
            let body = if zstd { zstd::bulk::compress(&payload, 1).unwrap() } else { payload.clone() };
            b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            b.extend_from_slice(&body);
            let _ = decode_message(&b);
        }

        #[test]
        fn mutated_messages_never_panic(
            m in arb_message(), pos in any::<usize>(), byte in any::<u8>(), v1 in any::<bool>()
        ) {
            let mut b = encode_any(&m);
            if v1 {
                b[4] = MIN_PROTOCOL_VERSION;
            }
            if !b.is_empty() {
                let i = pos % b.len();
                b[i] = byte;
            }
            let _ = decode_message(&b);
            b.truncate(pos % (b.len() + 1));
            let _ = decode_message(&b);
        }
    }
}
