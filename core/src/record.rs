//! Operations common to every record kind: delete (tombstone), history (who changed what, when)
//! and unresolved concurrent values.

use automerge::ReadDoc;
use automerge::legacy::{Key, ObjectId};
use automerge::transaction::Transactable;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::doc::{self, FieldConflict, common};
use crate::error::Result;
use crate::kind::RecordKind;
use crate::store::Store;
use crate::time::ms_to_time;

/// One change in a record's history.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The change's hash, hex.
    pub hash: String,
    /// When it was made (the author's device clock).
    pub at: DateTime<Utc>,
    /// When the server received it, if this device learned that (the trustworthy clock).
    pub received_at: Option<DateTime<Utc>>,
    /// The author's user id (empty if the change carries none).
    pub by: String,
    /// The device actor that made it, hex.
    pub actor: String,
    /// The operation, e.g. `record_visit`, `update_household`.
    pub op: String,
    /// Top-level fields it wrote, sorted.
    pub fields: Vec<String>,
}

impl Store {
    /// Marks a record deleted: a CRDT tombstone (DESIGN §2), so the deletion syncs and merges like
    /// any edit; the record leaves lists, due visits and search.
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a [`RecordKind::Sensitive`] record when the signed-in
    /// role may not handle sensitive data;
    /// [`crate::CoreError::NotFound`] for a record this device lacks or of another kind;
    /// [`crate::CoreError::NotSignedIn`]; storage errors.
    pub fn delete_record(&mut self, kind: RecordKind, id: Uuid) -> Result<()> {
        self.check_kind_access(kind, "delete")?;
        self.write_doc(id, kind, None, "delete", |d, _| {
            doc::put(d, common::DELETED, true).map(|_| ())
        })?;
        Ok(())
    }

    /// A record's history, oldest first: who changed which fields, when (履职留痕).
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a [`RecordKind::Sensitive`] record when the signed-in
    /// role may not handle sensitive data;
    /// [`crate::CoreError::NotFound`] for an unknown record; storage errors.
    pub fn history(&mut self, kind: RecordKind, id: Uuid) -> Result<Vec<HistoryEntry>> {
        self.check_kind_access(kind, "read the history of")?;
        let mut entries = self.read_doc(id, kind, |d| {
            d.get_changes(&[])
                .into_iter()
                .map(|c| {
                    let note = crate::author::ChangeNote::of(&c);
                    let mut fields: Vec<String> = crate::envelope::expand_ops(&c)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|op| match (&op.obj, &op.key) {
                            (ObjectId::Root, Key::Map(k)) => Some(k.to_string()),
                            _ => None,
                        })
                        .collect();
                    fields.sort();
                    fields.dedup();
                    HistoryEntry {
                        hash: c.hash().to_string(),
                        at: ms_to_time(c.timestamp()),
                        received_at: None,
                        by: note.as_ref().map(|n| n.by.clone()).unwrap_or_default(),
                        actor: c.actor_id().to_hex_string(),
                        op: note.map(|n| n.op).unwrap_or_default(),
                        fields,
                    }
                })
                .collect::<Vec<_>>()
        })?;
        for e in &mut entries {
            e.received_at = self.received_at(&e.hash)?;
        }
        // By time; changes made in the same millisecond keep Automerge's causal order (a record
        // deleted right after it was added lists the add first), not their hashes' order.
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

    /// The record's fields that hold more than one value because people set them differently
    /// while offline; the first value is the one shown. A later edit of the field resolves it.
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a [`RecordKind::Sensitive`] record when the signed-in
    /// role may not handle sensitive data;
    /// [`crate::CoreError::NotFound`] for an unknown record; storage errors.
    pub fn conflicts(&mut self, kind: RecordKind, id: Uuid) -> Result<Vec<FieldConflict>> {
        self.check_kind_access(kind, "read the conflicts of")?;
        self.read_doc(id, kind, |d| doc::conflicts(d))
    }

    /// Resolves a conflicting text field by writing `value` over all concurrent values.
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a [`RecordKind::Sensitive`] record when the signed-in
    /// role may not handle sensitive data;
    /// [`crate::CoreError::Invalid`] naming `field` when it is not a plain text field of the
    /// record, or the value is over [`crate::validate::NOTE_MAX`] characters;
    /// [`crate::CoreError::NotFound`]; storage errors.
    pub fn resolve_conflict(
        &mut self,
        kind: RecordKind,
        id: Uuid,
        field: &str,
        value: &str,
    ) -> Result<()> {
        self.check_kind_access(kind, "resolve a conflict of")?;
        crate::validate::max_len(field, value, crate::validate::NOTE_MAX)?;
        if matches!(
            field,
            common::KIND | common::AREA | common::DELETED | common::CREATED_AT | common::CREATED_BY
        ) {
            return Err(crate::CoreError::invalid(
                field,
                "is not a field that can be resolved by hand",
            ));
        }
        self.write_doc(id, kind, None, "resolve_conflict", |d, _| {
            match d.get(automerge::ROOT, field)? {
                Some((automerge::Value::Scalar(s), _)) if s.is_str() => {
                    d.put(automerge::ROOT, field, value)?;
                    Ok(())
                }
                _ => Err(crate::CoreError::invalid(field, "is not a text field of this record")),
            }
        })?;
        Ok(())
    }
}
