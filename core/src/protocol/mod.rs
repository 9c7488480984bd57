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
//!
//! The module is split by what each part holds: [`framing`] (header, versions, compression,
//! [`WireMessage`]), [`codec`] (the varint and byte primitives), [`messages`] (the message types
//! and their payloads), [`limits`] (caps on what one message may hold) and [`error`]. Everything
//! is re-exported here, so users write `gridwork_core::protocol::SyncRequest`.
//!
//! This module depends only on the model (record kinds, areas, change envelopes) and on
//! `zstd`, `uuid` and `thiserror` — never on the device's store or sync client — so the server
//! can link it without them.

pub mod codec;
pub mod error;
pub mod framing;
pub mod limits;
pub mod messages;

pub use codec::{MAX_VARINT_LEN, Reader, Writer};
pub use error::ProtocolError;
pub use framing::{
    COMPRESS_THRESHOLD, CONTENT_TYPE, Compression, HEADER_LEN, Header, MAGIC, MAX_PAYLOAD_BYTES,
    MIN_PROTOCOL_VERSION, MessageType, PROTOCOL_VERSION, WireMessage, ZSTD_LEVEL, peek_header,
};
pub use messages::{
    Acked, DEFAULT_PAGE_BYTES, DigestRequest, DigestResponse, DocDigest, FetchRequest,
    FetchResponse, MAX_PAGE_BYTES, MIN_PAGE_BYTES, Message, PulledChange, SyncRequest,
    SyncResponse, SyncStatus, clamp_page_bytes, decode_message,
};
