//! Reading and writing the fields of a record document. Fields are scalars on the document's root
//! map (DESIGN §1: scalars, not `Text` objects); lists of maps hold repeated parts (photos,
//! events, check-ins). Writers only touch fields whose value changed, so a change carries exactly
//! what the user edited and two people editing different fields never conflict.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use crate::error::{CoreError, Result};

/// Root fields every record document has.
pub mod common {
    /// The record kind's stable name.
    pub const KIND: &str = "kind";
    /// The record's area code path.
    pub const AREA: &str = "area";
    /// Tombstone: a deleted record keeps its document with `deleted = true` (DESIGN §2).
    pub const DELETED: &str = "deleted";
    /// Device time the record was created (ms since the Unix epoch).
    pub const CREATED_AT: &str = "created_at";
    /// User id of the creator.
    pub const CREATED_BY: &str = "created_by";
}

/// Returns the scalar under `key` of object `obj`, the deterministic winner if there are
/// concurrent values.
fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
        _ => None,
    }
}

/// The string under `key` of `obj`, if it is a string.
pub fn get_str_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match scalar(doc, obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

/// The integer under `key` of `obj` (ints, uints, timestamps and counters all read as i64).
pub fn get_i64_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    match scalar(doc, obj, key)? {
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(i),
        ScalarValue::Uint(u) => i64::try_from(u).ok(),
        _ => None,
    }
}

/// The float under `key` of `obj`.
pub fn get_f64_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<f64> {
    match scalar(doc, obj, key)? {
        ScalarValue::F64(f) => Some(f),
        ScalarValue::Int(i) => Some(i as f64),
        _ => None,
    }
}

/// The boolean under `key` of `obj`.
pub fn get_bool_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<bool> {
    match scalar(doc, obj, key)? {
        ScalarValue::Boolean(b) => Some(b),
        _ => None,
    }
}

/// The bytes under `key` of `obj`.
pub fn get_bytes_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<Vec<u8>> {
    match scalar(doc, obj, key)? {
        ScalarValue::Bytes(b) => Some(b),
        _ => None,
    }
}

/// Root-map field holding a record id as text (references between records), if well-formed.
pub fn get_uuid(doc: &AutoCommit, key: &str) -> Option<uuid::Uuid> {
    get_uuid_in(doc, &automerge::ROOT, key)
}

/// The record id stored as text under `key` of `obj`, if well-formed.
pub fn get_uuid_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<uuid::Uuid> {
    get_str_in(doc, obj, key).and_then(|s| uuid::Uuid::parse_str(&s).ok())
}

/// Root-map string field.
pub fn get_str(doc: &AutoCommit, key: &str) -> Option<String> {
    get_str_in(doc, &automerge::ROOT, key)
}

/// Root-map integer field.
pub fn get_i64(doc: &AutoCommit, key: &str) -> Option<i64> {
    get_i64_in(doc, &automerge::ROOT, key)
}

/// Root-map float field.
pub fn get_f64(doc: &AutoCommit, key: &str) -> Option<f64> {
    get_f64_in(doc, &automerge::ROOT, key)
}

/// Root-map boolean field.
pub fn get_bool(doc: &AutoCommit, key: &str) -> Option<bool> {
    get_bool_in(doc, &automerge::ROOT, key)
}

/// Sets `key` of `obj` to `value` unless it already holds exactly that value (and no concurrent
/// alternative). Returns whether anything was written.
///
/// # Errors
/// [`CoreError::Document`] if Automerge refuses the write.
pub fn put_in(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: impl Into<ScalarValue>,
) -> Result<bool> {
    let value = value.into();
    let all = doc.get_all(obj, key)?;
    if all.len() == 1
        && let (Value::Scalar(s), _) = &all[0]
        && s.as_ref() == &value
    {
        return Ok(false);
    }
    doc.put(obj, key, value)?;
    Ok(true)
}

/// [`put_in`] on the root map.
///
/// # Errors
/// As [`put_in`].
pub fn put(doc: &mut AutoCommit, key: &str, value: impl Into<ScalarValue>) -> Result<bool> {
    put_in(doc, &automerge::ROOT, key, value)
}

/// Sets an optional root field: `Some` writes the value, `None` removes the key.
///
/// # Errors
/// As [`put_in`].
pub fn put_opt<V: Into<ScalarValue>>(
    doc: &mut AutoCommit,
    key: &str,
    value: Option<V>,
) -> Result<bool> {
    match value {
        Some(v) => put(doc, key, v),
        None => {
            if doc.get(automerge::ROOT, key)?.is_some() {
                doc.delete(automerge::ROOT, key)?;
                Ok(true)
            } else {
                Ok(false)
            }
        }
    }
}

/// The object (list or map) under root `key`, created with `ty` if missing.
///
/// # Errors
/// [`CoreError::Document`] if Automerge refuses; [`CoreError::Invalid`] naming `key` if a scalar
/// sits where the object should be.
pub fn obj(doc: &mut AutoCommit, key: &str, ty: ObjType) -> Result<ObjId> {
    match doc.get(automerge::ROOT, key)? {
        Some((Value::Object(t), id)) if t == ty => Ok(id),
        Some(_) => Err(CoreError::invalid(key, "document field has the wrong shape")),
        None => Ok(doc.put_object(automerge::ROOT, key, ty)?),
    }
}

/// The existing object under root `key`, if any (for readers, which must not create it).
pub fn existing_obj(doc: &AutoCommit, key: &str) -> Option<ObjId> {
    match doc.get(automerge::ROOT, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

/// The map objects of the list under root `key`, in list order.
pub fn list_maps(doc: &AutoCommit, key: &str) -> Vec<ObjId> {
    list_maps_in(doc, &automerge::ROOT, key)
}

/// The map objects of the list under `key` of object `obj`, in list order (nothing when the
/// value there is not a list).
pub fn list_maps_in(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<ObjId> {
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(obj, key) else {
        return Vec::new();
    };
    doc.values(&list)
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect()
}

/// Appends a new map to the list under root `key` and returns it for filling.
///
/// # Errors
/// As [`obj`].
pub fn push_map(doc: &mut AutoCommit, key: &str) -> Result<ObjId> {
    push_map_in(doc, &automerge::ROOT, key)
}

/// Appends a new map to the list under `key` of object `parent` (creating the list when
/// missing) and returns it for filling.
///
/// # Errors
/// [`CoreError::Invalid`] naming `key` when the value there is not a list; document errors.
pub fn push_map_in(doc: &mut AutoCommit, parent: &ObjId, key: &str) -> Result<ObjId> {
    let list = match doc.get(parent, key)? {
        Some((Value::Object(ObjType::List), id)) => id,
        Some(_) => return Err(CoreError::invalid(key, "is not a list in this document")),
        None => doc.put_object(parent, key, ObjType::List)?,
    };
    let len = doc.length(&list);
    Ok(doc.insert_object(&list, len, ObjType::Map)?)
}

/// The keys of the map under root `key` whose value is `true` — a set that merges concurrent
/// additions (used for household tags and task targets).
pub fn set_members(doc: &AutoCommit, key: &str) -> Vec<String> {
    let Some(map) = existing_obj(doc, key) else { return Vec::new() };
    doc.keys(&map).filter(|k| get_bool_in(doc, &map, k) == Some(true)).collect()
}

/// Makes the set under root `key` hold exactly `members`, touching only what differs.
///
/// # Errors
/// As [`obj`].
pub fn set_set(doc: &mut AutoCommit, key: &str, members: &[String]) -> Result<()> {
    let map = obj(doc, key, ObjType::Map)?;
    let current: Vec<String> = doc.keys(&map).collect();
    for k in &current {
        if !members.contains(k) {
            doc.delete(&map, k.as_str())?;
        }
    }
    for m in members {
        put_in(doc, &map, m, true)?;
    }
    Ok(())
}

/// A root field that holds more than one value because people set it differently while offline
/// (DESIGN §1: surfaced, never silently dropped).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldConflict {
    /// The field's name.
    pub field: String,
    /// The values, as text; the first is the one currently shown (Automerge's deterministic pick).
    pub values: Vec<String>,
}

/// Every root scalar field with concurrent values.
pub fn conflicts(doc: &AutoCommit) -> Vec<FieldConflict> {
    let mut out = Vec::new();
    for key in doc.keys(automerge::ROOT) {
        let Ok(all) = doc.get_all(automerge::ROOT, key.as_str()) else { continue };
        if all.len() < 2 {
            continue;
        }
        let winner = scalar(doc, &automerge::ROOT, &key).map(|s| scalar_text(&s));
        let mut values: Vec<String> = all
            .iter()
            .map(|(v, _)| match v {
                Value::Scalar(s) => scalar_text(s),
                Value::Object(t) => format!("<{t}>"),
            })
            .collect();
        if let Some(w) = winner
            && let Some(pos) = values.iter().position(|v| *v == w)
        {
            values.swap(0, pos);
        }
        out.push(FieldConflict { field: key, values });
    }
    out
}

/// A scalar as display text.
fn scalar_text(s: &ScalarValue) -> String {
    match s {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => i.to_string(),
        ScalarValue::Uint(u) => u.to_string(),
        ScalarValue::F64(f) => f.to_string(),
        ScalarValue::Boolean(b) => b.to_string(),
        ScalarValue::Bytes(b) => format!("<{} bytes>", b.len()),
        ScalarValue::Null => "null".into(),
        other => format!("{other:?}"),
    }
}
