//! [`ProtocolError`]: everything a decoder can find wrong with a message, each case typed so the
//! server can answer with a stable code and a device can tell a broken answer from a refusal.

use thiserror::Error;

use super::limits;

/// Everything that can be wrong with a message on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The message does not start with [`MAGIC`](super::MAGIC).
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
    /// The declared payload is larger than its message type's cap
    /// ([`limits::max_payload_bytes`], at most [`MAX_PAYLOAD_BYTES`](super::MAX_PAYLOAD_BYTES)).
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
    /// A varint's value overflows its type (`u64`, or `u32` where the field is one), or the
    /// varint is longer than the 10 bytes a `u64` needs.
    #[error("varint overflow while reading {what}")]
    VarintOverflow {
        /// What was being read.
        what: &'static str,
    },
    /// A varint is not in its canonical (shortest) form: it ends in a redundant zero group,
    /// as `80 00` for 0 or `81 00` for 1. Each value has exactly one accepted encoding.
    #[error("overlong varint while reading {what} (not the shortest encoding)")]
    NonCanonicalVarint {
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
