//! Finding the attachments records refer to: a pushed change that puts a 64-hex-digit string
//! under a `hash` key (how `PhotoRef` is stored, `core/src/attachment.rs`) makes the record's
//! area and kind a read scope of that attachment.

use automerge::legacy::{Key, Op, OpType};
use automerge::{Change, ScalarValue};
use gridwork_core::kinds::carries_photos;
use gridwork_core::{ChangeEnvelope, RecordKind};

use crate::store::{AttachmentRef, NewChange};

/// Parses a SHA-256 given as 64 hex digits (either case).
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// Whether a change of `kind` whose raw bytes are `raw` may add attachment references, without
/// decoding it: only kinds with photos, and only if the key `hash` occurs in the bytes (map keys
/// are stored as literal UTF-8 in a change chunk's key column, and change chunks never hold
/// compressed columns; `raw` must be the uncompressed `Change::raw_bytes`).
pub fn may_add_refs(kind: RecordKind, raw: &[u8]) -> bool {
    carries_photos(kind) && raw.windows(4).any(|w| w == b"hash")
}

/// Appends the attachment references that decoded operations of `envelope`'s change add.
pub fn refs_in_ops(ops: &[Op], envelope: &ChangeEnvelope, out: &mut Vec<AttachmentRef>) {
    for op in ops {
        let (Key::Map(key), OpType::Put(ScalarValue::Str(value))) = (&op.key, &op.action) else {
            continue;
        };
        if key.as_str() != "hash" {
            continue;
        }
        if let Some(hash) = parse_hash(value) {
            out.push(AttachmentRef {
                hash,
                doc_id: envelope.doc_id,
                kind: envelope.kind,
                area: envelope.area.clone(),
            });
        }
    }
}

/// The attachment references the changes add (changes that do not decode add none). The push
/// path gets them from [`crate::validate::validate`] instead, which decodes each change once.
pub fn refs_in(changes: &[NewChange]) -> Vec<AttachmentRef> {
    let mut out = Vec::new();
    for ch in changes {
        let e = &ch.envelope;
        if !carries_photos(e.kind) {
            continue;
        }
        let Ok(change) = Change::from_bytes(e.bytes.clone()) else { continue };
        let Some(ops) = gridwork_core::envelope::expand_ops(&change) else { continue };
        refs_in_ops(&ops, e, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parse() {
        assert!(parse_hash(&"ab".repeat(32)).is_some());
        assert!(parse_hash(&"AB".repeat(32)).is_some());
        assert!(parse_hash(&"zz".repeat(32)).is_none());
        assert!(parse_hash("abc").is_none());
    }

    #[test]
    fn prefilter_sees_hash_keys() {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "note", "x").unwrap();
        let plain = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        assert!(!may_add_refs(RecordKind::Visit, &plain));
        let photo = doc.put_object(automerge::ROOT, "photo", automerge::ObjType::Map).unwrap();
        doc.put(&photo, "hash", "ab".repeat(32)).unwrap();
        let with = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        assert!(may_add_refs(RecordKind::Visit, &with));
        assert!(!may_add_refs(RecordKind::Household, &with));
    }
}
