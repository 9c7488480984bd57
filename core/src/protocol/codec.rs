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

    /// An unsigned LEB128 varint, in its canonical (shortest) form — the only one
    /// [`Reader::varint`] accepts.
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

    /// An unsigned LEB128 varint in its canonical (shortest) form: at most
    /// [`MAX_VARINT_LEN`] bytes, no redundant trailing zero group, value within `u64`.
    ///
    /// Only one encoding of each value is accepted, so a message has one byte form: a relay
    /// or a cache cannot make two different-looking copies of the same message, and a decoder
    /// never reads more groups than the value needs.
    ///
    /// # Errors
    /// [`ProtocolError::Truncated`]; [`ProtocolError::NonCanonicalVarint`] for an overlong
    /// encoding (e.g. `80 00` for 0); [`ProtocolError::VarintOverflow`] for a value above
    /// `u64::MAX` or an encoding longer than [`MAX_VARINT_LEN`] bytes.
    pub fn varint(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        let mut v: u64 = 0;
        for i in 0..MAX_VARINT_LEN {
            let b = self.u8(what)?;
            let part = u64::from(b & 0x7f);
            let more = b & 0x80 != 0;
            // The last group holds bit 63 only: anything above it, or a further group, overflows.
            if i == MAX_VARINT_LEN - 1 && (part > 1 || more) {
                return Err(ProtocolError::VarintOverflow { what });
            }
            v |= part << (7 * i);
            if !more {
                // A final group of zero adds nothing: the encoding without it is shorter.
                if part == 0 && i > 0 {
                    return Err(ProtocolError::NonCanonicalVarint { what });
                }
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

/// The longest varint: 10 groups of 7 bits hold a `u64` (the last group holds only bit 63).
pub const MAX_VARINT_LEN: usize = 10;

/// Smallest encoded envelope: 16 (doc id) + 1 (kind) + 1 (area len) + 6 (area) + 1 (change len).
pub(super) const MIN_ENVELOPE: usize = 25;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SyncRequest;
    use crate::protocol::framing::{MessageType, WireMessage, frame};
    use crate::protocol::messages::tests::env;
    use proptest::prelude::*;

    fn encode(v: u64) -> Vec<u8> {
        let mut w = Writer::default();
        w.varint(v);
        w.into_bytes()
    }

    fn decode(b: &[u8]) -> Result<u64, ProtocolError> {
        let mut r = Reader::new(b);
        let v = r.varint("x")?;
        r.finish()?;
        Ok(v)
    }

    /// The shortest LEB128 length of `v`: one byte per started group of 7 bits, at least one.
    fn shortest_len(v: u64) -> usize {
        (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
    }

    /// `canonical` with `extra` redundant groups appended: the last group gets the
    /// continuation bit, then `extra - 1` empty groups with it and one empty final group.
    fn overlong(canonical: &[u8], extra: usize) -> Vec<u8> {
        let mut b = canonical.to_vec();
        if let Some(last) = b.last_mut() {
            *last |= 0x80;
        }
        b.extend(std::iter::repeat_n(0x80, extra - 1));
        b.push(0);
        b
    }

    #[test]
    fn varints_round_trip_in_their_shortest_form() {
        let cases: [(u64, &[u8]); 8] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (u64::from(u32::MAX), &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            (1 << 63, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ];
        for (v, bytes) in cases {
            assert_eq!(encode(v), bytes, "{v}");
            assert_eq!(decode(bytes), Ok(v), "{v}");
        }
    }

    #[test]
    fn overlong_varints_are_refused() {
        // Each an overlong form of a value whose shortest form is accepted.
        let overlong: [(&[u8], u64); 6] = [
            (&[0x80, 0x00], 0),
            (&[0x80, 0x80, 0x00], 0),
            (&[0x81, 0x00], 1),
            (&[0xff, 0x00], 127),
            (&[0xac, 0x82, 0x00], 300),
            (&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], (1 << 63) - 1),
        ];
        for (b, v) in overlong {
            let e = decode(b).unwrap_err();
            assert_eq!(e, ProtocolError::NonCanonicalVarint { what: "x" }, "{b:02x?}");
            assert_eq!(e.code(), "malformed_message");
            assert_eq!(decode(&encode(v)), Ok(v));
            assert!(encode(v).len() < b.len());
        }
        // Eleven bytes are too long for any u64, whatever they encode.
        let mut eleven = vec![0x80; 10];
        eleven.push(0);
        assert_eq!(decode(&eleven), Err(ProtocolError::VarintOverflow { what: "x" }));
    }

    #[test]
    fn overflowing_varints_are_refused() {
        // Bit 64 set in the tenth group.
        let mut b = vec![0xff; 9];
        b.push(0x02);
        assert_eq!(decode(&b), Err(ProtocolError::VarintOverflow { what: "x" }));
        // A tenth group that announces an eleventh.
        b[9] = 0x81;
        b.push(0x01);
        assert_eq!(decode(&b), Err(ProtocolError::VarintOverflow { what: "x" }));
        // A u32 field holding u32::MAX + 1.
        let big = encode(u64::from(u32::MAX) + 1);
        assert_eq!(
            Reader::new(&big).varint_u32("y"),
            Err(ProtocolError::VarintOverflow { what: "y" })
        );
        assert_eq!(Reader::new(&encode(u64::from(u32::MAX))).varint_u32("y"), Ok(u32::MAX));
    }

    #[test]
    fn an_overlong_field_names_itself_in_a_message() {
        // flags 0, cursor 0 written as `80 00`, page 0, no changes.
        let framed = frame(MessageType::SyncRequest, &[0, 0x80, 0x00, 0, 0]);
        assert_eq!(
            SyncRequest::decode(&framed).unwrap_err(),
            ProtocolError::NonCanonicalVarint { what: "cursor" }
        );
        let framed = frame(MessageType::SyncRequest, &[0, 0x00, 0, 0]);
        assert!(SyncRequest::decode(&framed).is_ok());
    }

    proptest! {
        /// Any sequence of values reads back as written, each in its shortest form.
        #[test]
        fn varint_round_trip(vs in prop::collection::vec(any::<u64>(), 0..20)) {
            let mut w = Writer::default();
            for &v in &vs {
                let before = w.buf.len();
                w.varint(v);
                prop_assert_eq!(w.buf.len() - before, shortest_len(v));
            }
            let b = w.into_bytes();
            let mut r = Reader::new(&b);
            for &v in &vs {
                prop_assert_eq!(r.varint("x"), Ok(v));
            }
            prop_assert_eq!(r.finish(), Ok(()));
        }

        /// One varint of a sequence re-encoded with redundant groups is refused when reached;
        /// the ones before it still read.
        #[test]
        fn a_mutated_overlong_varint_is_refused(
            vs in prop::collection::vec(any::<u64>(), 1..10),
            pick in any::<prop::sample::Index>(),
            extra in 1usize..=3,
        ) {
            let k = pick.index(vs.len());
            let mut b = Vec::new();
            for (i, &v) in vs.iter().enumerate() {
                let e = encode(v);
                b.extend(if i == k { overlong(&e, extra) } else { e });
            }
            let mut r = Reader::new(&b);
            for &v in &vs[..k] {
                prop_assert_eq!(r.varint("x"), Ok(v));
            }
            let expected = if shortest_len(vs[k]) + extra <= MAX_VARINT_LEN {
                ProtocolError::NonCanonicalVarint { what: "x" }
            } else {
                ProtocolError::VarintOverflow { what: "x" }
            };
            prop_assert_eq!(r.varint("x"), Err(expected));
        }

        /// Arbitrary bytes read as a varint never panic, and whatever is accepted is canonical:
        /// writing the value back gives the same bytes.
        #[test]
        fn accepted_varints_are_canonical(b in prop::collection::vec(any::<u8>(), 0..12)) {
            let mut r = Reader::new(&b);
            if let Ok(v) = r.varint("x") {
                let used = b.len() - r.buf.len();
                prop_assert_eq!(&encode(v)[..], &b[..used]);
            }
        }
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
}
