//! The six request and response messages, the values they carry, and their payload encoding
//! ([`WireMessage`] implementations). `docs/sync-protocol.md` lists their fields in order.

use uuid::Uuid;

use super::codec::{MIN_ENVELOPE, Reader, Writer};
use super::error::ProtocolError;
use super::framing::{MessageType, WireMessage, peek_header};
use crate::area::AreaPath;
use crate::envelope::ChangeEnvelope;

/// The smallest pull page the server serves, in change bytes.
pub const MIN_PAGE_BYTES: u32 = 64 * 1024;
/// The largest pull page the server serves, in change bytes.
pub const MAX_PAGE_BYTES: u32 = 256 * 1024;
/// The page size used when a request asks for 0.
pub const DEFAULT_PAGE_BYTES: u32 = 128 * 1024;

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
        if w.version() >= 2 {
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
            if r.version() >= 2 { Some(r.uuid("epoch")?).filter(|e| !e.is_nil()) } else { None };
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
pub(super) mod tests {
    use super::*;
    use crate::kind::RecordKind;
    use crate::protocol::codec::MAX_VARINT_LEN;
    use crate::protocol::framing::{MAGIC, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, frame};
    use proptest::prelude::*;

    /// A small visit change envelope; `n` varies its id and its length (3n bytes).
    pub(in crate::protocol) fn env(n: u8) -> ChangeEnvelope {
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

    /// A message's type, its uncompressed payload, and the leading run of varints the payload
    /// starts with: the offset of the first and the names the decoder reads them under.
    fn leading_varints(m: &Message) -> (MessageType, Vec<u8>, usize, &'static [&'static str]) {
        fn payload<M: WireMessage>(m: &M) -> Vec<u8> {
            let mut w = Writer::default();
            m.write_payload(&mut w);
            w.into_bytes()
        }
        match m {
            Message::SyncRequest(x) => {
                (MessageType::SyncRequest, payload(x), 1, &["cursor", "max_page_bytes", "push"])
            }
            Message::SyncResponse(x) => {
                (MessageType::SyncResponse, payload(x), 2, &["next_cursor", "head_seq", "acks"])
            }
            Message::DigestRequest(x) => (MessageType::DigestRequest, payload(x), 0, &["area"]),
            Message::DigestResponse(x) => {
                (MessageType::DigestResponse, payload(x), 1, &["divergent"])
            }
            Message::FetchRequest(x) => {
                (MessageType::FetchRequest, payload(x), 0, &["max_page_bytes", "doc_ids"])
            }
            Message::FetchResponse(x) => (MessageType::FetchResponse, payload(x), 1, &["changes"]),
        }
    }

    /// The length of the varint at the start of `b`.
    fn varint_len(b: &[u8]) -> usize {
        b.iter().position(|x| x & 0x80 == 0).map_or(b.len(), |i| i + 1)
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

        /// Every message still round-trips, and the same message with one of its varints
        /// re-encoded in an overlong form (redundant zero groups appended) is refused, naming
        /// the field.
        #[test]
        fn overlong_varint_in_a_message_is_refused(
            m in arb_message(), pick in any::<prop::sample::Index>(), extra in 1usize..=3
        ) {
            let (ty, mut p, mut at, names) = leading_varints(&m);
            prop_assert_eq!(decode_message(&frame(ty, &p)).unwrap(), m);
            let k = pick.index(names.len());
            for _ in 0..k {
                at += varint_len(&p[at..]);
            }
            let len = varint_len(&p[at..]);
            let end = at + len;
            p[end - 1] |= 0x80;
            let mut pad = vec![0x80; extra - 1];
            pad.push(0);
            p.splice(end..end, pad);
            let what = names[k];
            let expected = if len + extra <= MAX_VARINT_LEN {
                ProtocolError::NonCanonicalVarint { what }
            } else {
                ProtocolError::VarintOverflow { what }
            };
            prop_assert_eq!(decode_message(&frame(ty, &p)).unwrap_err(), expected);
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
