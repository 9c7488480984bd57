//! Reading and writing the fields of a record document. Fields are scalars on the document's root
//! map (DESIGN §1: scalars, not `Text` objects); lists of maps hold repeated parts (photos,
//! events, check-ins). Writers only touch fields whose value changed, so a change carries exactly
//! what the user edited and two people editing different fields never conflict.

use std::borrow::Cow;

use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, ScalarValueRef, Value, ValueRef,
};

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

/// A record document's root fields, read in one pass over its root map: a decoder reads a
/// dozen fields, and each separate look-up in the document (a search of its op columns, and a
/// key allocated for it) cost more than the whole pass. Values are the deterministic winners
/// of concurrent writes, as [`get_str`] and the other root readers return them; nested objects
/// (lists of maps, sets) are read from [`Fields::doc`].
#[derive(Debug)]
pub struct Fields<'a> {
    doc: &'a AutoCommit,
    /// The root map's entries in key order (the order Automerge keeps a map in).
    entries: Vec<(Cow<'a, str>, ValueRef<'a>)>,
}

impl<'a> Fields<'a> {
    /// Reads the root map of `doc`.
    pub fn read(doc: &'a AutoCommit) -> Fields<'a> {
        let mut entries: Vec<(Cow<'a, str>, ValueRef<'a>)> =
            doc.map_range(automerge::ROOT, ..).map(|item| (item.key, item.value)).collect();
        // Already in key order; sorting an ordered list is one comparison per entry.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Fields { doc, entries }
    }

    /// The document the fields were read from (for nested objects).
    pub fn doc(&self) -> &'a AutoCommit {
        self.doc
    }

    /// The root map's keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    fn scalar(&self, key: &str) -> Option<&ScalarValueRef<'a>> {
        let i = self.entries.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok()?;
        match &self.entries[i].1 {
            ValueRef::Scalar(s) => Some(s),
            ValueRef::Object(_) => None,
        }
    }

    /// The string under `key`, if it is a string (as [`get_str`]).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.scalar(key)? {
            ScalarValueRef::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    /// The integer under `key` (as [`get_i64`]).
    pub fn i64(&self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValueRef::Int(i) | ScalarValueRef::Timestamp(i) => Some(*i),
            ScalarValueRef::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The float under `key` (as [`get_f64`]).
    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.scalar(key)? {
            ScalarValueRef::F64(f) => Some(*f),
            ScalarValueRef::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean under `key` (as [`get_bool`]).
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.scalar(key)? {
            ScalarValueRef::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The record id stored as text under `key`, if well-formed (as [`get_uuid`]).
    pub fn uuid(&self, key: &str) -> Option<uuid::Uuid> {
        match self.scalar(key)? {
            ScalarValueRef::Str(s) => uuid::Uuid::parse_str(s).ok(),
            _ => None,
        }
    }
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

#[cfg(test)]
mod tests {
    use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue};

    use super::*;

    /// A document with every kind of root value, a deleted key, an object, and keys two
    /// replicas set concurrently (so they hold conflicting values).
    fn sample() -> AutoCommit {
        let mut a = AutoCommit::new().with_actor(ActorId::from(vec![1u8; 16]));
        a.put(automerge::ROOT, "s", "text").unwrap();
        a.put(automerge::ROOT, "i", 42i64).unwrap();
        a.put(automerge::ROOT, "u", ScalarValue::Uint(7)).unwrap();
        a.put(automerge::ROOT, "big", ScalarValue::Uint(u64::MAX)).unwrap();
        a.put(automerge::ROOT, "t", ScalarValue::Timestamp(1_700_000_000_000)).unwrap();
        a.put(automerge::ROOT, "f", 2.5f64).unwrap();
        a.put(automerge::ROOT, "b", true).unwrap();
        a.put(automerge::ROOT, "id", "0191b0e0-7d1c-7c8e-9a41-3f5f5b2a9c10").unwrap();
        a.put(automerge::ROOT, "bad_id", "not-a-uuid").unwrap();
        a.put(automerge::ROOT, "gone", "x").unwrap();
        a.delete(automerge::ROOT, "gone").unwrap();
        a.put_object(automerge::ROOT, "tags", ObjType::Map).unwrap();
        a.put(automerge::ROOT, "c", "first").unwrap();
        let mut b = a.fork().with_actor(ActorId::from(vec![2u8; 16]));
        a.put(automerge::ROOT, "c", "from a").unwrap();
        b.put(automerge::ROOT, "c", "from b").unwrap();
        a.put(automerge::ROOT, "n", 1i64).unwrap();
        b.put(automerge::ROOT, "n", "one").unwrap();
        a.merge(&mut b).unwrap();
        a
    }

    #[test]
    fn fields_read_what_the_single_readers_read() {
        let d = sample();
        assert_eq!(d.get_all(automerge::ROOT, "c").unwrap().len(), 2, "the sample has a conflict");
        let f = Fields::read(&d);
        let mut keys: Vec<String> = d.keys(automerge::ROOT).collect();
        keys.extend(["gone", "missing"].map(String::from));
        for k in &keys {
            assert_eq!(f.str(k), get_str(&d, k), "str {k}");
            assert_eq!(f.i64(k), get_i64(&d, k), "i64 {k}");
            assert_eq!(f.f64(k), get_f64(&d, k), "f64 {k}");
            assert_eq!(f.bool(k), get_bool(&d, k), "bool {k}");
            assert_eq!(f.uuid(k), get_uuid(&d, k), "uuid {k}");
        }
        assert_eq!(f.keys().collect::<Vec<_>>(), d.keys(automerge::ROOT).collect::<Vec<_>>());
        // Spot checks, so the comparison above is not vacuous.
        assert_eq!(f.str("s").as_deref(), Some("text"));
        assert_eq!(f.i64("u"), Some(7));
        assert_eq!(f.i64("big"), None);
        assert_eq!(f.i64("t"), Some(1_700_000_000_000));
        assert_eq!(f.f64("i"), Some(42.0));
        assert!(f.uuid("id").is_some() && f.uuid("bad_id").is_none());
        assert_eq!(f.str("tags"), None);
        assert_eq!(f.str("gone"), None);
        assert!(f.str("c").is_some_and(|c| c.starts_with("from ")));
    }
}
