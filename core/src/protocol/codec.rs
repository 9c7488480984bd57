//! The payload primitives: [`Writer`] appends and [`Reader`] reads unsigned LEB128 varints,
//! single bytes, raw UUIDs and hashes, length-prefixed byte strings, list counts and change
//! envelopes. Every read is bounds-checked and returns a [`ProtocolError`] on bad input; the
//! reader accepts only the canonical (shortest) encoding of a varint, so every value has exactly
//! one encoding on the wire.

use uuid::Uuid;

use super::error::ProtocolError;
use super::framing::PROTOCOL_VERSION;
use super::limits;
use crate::area::AreaPath;
use crate::envelope::ChangeEnvelope;
use crate::kind::RecordKind;

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

    /// The protocol version of the payload being written (fields a version lacks are left out).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// A receive time, in versions that carry one (0 stands for unknown).
    pub(super) fn time(&mut self, at: Option<i64>) {
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

    /// A list count (see [`Reader::count`]).
    pub fn count(&mut self, n: usize) {
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

    /// The protocol version of the payload being read.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// A receive time, in versions that carry one (0: unknown).
    pub(super) fn time(&mut self) -> Result<Option<i64>, ProtocolError> {
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
pub(super) const MIN_ENVELOPE: usize = 25;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SyncRequest;
    use crate::protocol::framing::{MessageType, WireMessage, frame};
    use crate::protocol::messages::tests::env;

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
}
