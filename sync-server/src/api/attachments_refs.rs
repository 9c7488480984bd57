//! Finding the attachments records refer to: a pushed change that puts a 64-hex-digit string
//! under a `hash` key (how `PhotoRef` is stored, `core/src/attachment.rs`) makes the record's
//! area and kind a read scope of that attachment.

use automerge::legacy::{Key, OpType};
use automerge::{Change, ScalarValue};
use gridwork_core::RecordKind;

use crate::store::{AttachmentRef, NewChange};

/// Kinds whose documents carry photos.
const KINDS_WITH_ATTACHMENTS: [RecordKind; 3] =
    [RecordKind::Visit, RecordKind::Patrol, RecordKind::WorkOrder];

/// Parses a SHA-256 given as 64 hex digits (either case).
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// The attachment references the changes add (changes that do not decode add none).
pub fn refs_in(changes: &[NewChange]) -> Vec<AttachmentRef> {
    let mut out = Vec::new();
    for ch in changes {
        let e = &ch.envelope;
        if !KINDS_WITH_ATTACHMENTS.contains(&e.kind) {
            continue;
        }
        let Ok(change) = Change::from_bytes(e.bytes.clone()) else { continue };
        for op in change.decode().operations {
            let (Key::Map(key), OpType::Put(ScalarValue::Str(value))) = (&op.key, &op.action)
            else {
                continue;
            };
            if key.as_str() != "hash" {
                continue;
            }
            if let Some(hash) = parse_hash(value) {
                out.push(AttachmentRef {
                    hash,
                    doc_id: e.doc_id,
                    kind: e.kind,
                    area: e.area.clone(),
                });
            }
        }
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
}
