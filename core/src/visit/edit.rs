//! Editing a recorded visit as ordinary field edits: the worker corrects what they typed (the
//! situation, the needs raised, the satisfaction asked at the door, a forgotten photo…).
//!
//! Only the fields whose value differs from the document are written, so a change carries
//! exactly what the user edited and two people editing different fields of one visit on two
//! phones merge with both edits kept (DESIGN §1). A field two people set differently while
//! offline is a conflict, surfaced by [`Store::conflicts`] like any other.
//!
//! Photos: the list is edited in place (kept photos stay, removed ones are deleted, new ones
//! appended), so photos added on two phones are both kept. Visits recorded since the list is
//! created with the visit merge so; on a visit recorded earlier without photos, two phones
//! adding its first photos offline each create the list, and one list wins (the other shows as
//! a conflict on `photos`).
//!
//! What may not change: the household visited (a visit to another household is another visit:
//! record it, and delete this one if it was a mistake), and who made the visit (kept from the
//! recording). A deleted visit cannot be edited.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value};
use uuid::Uuid;

use super::{Visit, VisitInput, Visits, field};
use crate::attachment::{PhotoRef, read_one};
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;

impl From<Visit> for VisitInput {
    /// The form of a recorded visit: what an edit starts from.
    fn from(v: Visit) -> Self {
        VisitInput {
            household_id: v.household_id,
            visited_at: v.visited_at,
            kind: v.kind,
            outcome: v.outcome,
            situation: v.situation,
            needs: v.needs,
            satisfaction: v.satisfaction,
            knows_worker: v.knows_worker,
            follow_up_due: v.follow_up_due,
            photos: v.photos,
            location: v.location,
            incident_id: v.incident_id,
            task_id: v.task_id,
        }
    }
}

impl Visits<'_> {
    /// Edits a recorded visit: `input` is the whole visit form as the user left it, and only
    /// the fields that differ from the record are written (the photo list only when it
    /// differs), so concurrent edits of different fields on two phones merge with both kept.
    /// The household's last visit and next due date follow a changed time or outcome. The
    /// visitor stays the one who recorded the visit.
    ///
    /// Who may edit: as for recording, the signed-in user whose scope covers the visit's area
    /// (the store's write path checks it).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field, as [`Store::record_visit`] checks it, or
    /// naming `household_id` when `input` names another household than the visit's;
    /// [`CoreError::NotFound`] for an unknown or deleted visit (or a record of another kind);
    /// [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`] for a visit outside the user's
    /// scope; storage errors. Nothing is written on error.
    pub fn update(&mut self, id: Uuid, input: VisitInput) -> Result<()> {
        input.validate()?;
        self.store.write_doc(id, RecordKind::Visit, None, "update_visit", |d, _| {
            if doc::get_bool(d, common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "visit".into(), id: id.to_string() });
            }
            let household = doc::get_uuid(d, field::HOUSEHOLD);
            if household != Some(input.household_id) {
                return Err(CoreError::invalid(
                    "household_id",
                    "a visit cannot move to another household: record a new visit instead",
                ));
            }
            write_fields(d, &input)
        })?;
        Ok(())
    }
}

/// Writes the editable fields of `input` into the visit document, each only if it differs.
fn write_fields(d: &mut AutoCommit, input: &VisitInput) -> Result<()> {
    doc::put(d, field::VISITED_AT, ScalarValue::Timestamp(input.visited_at.timestamp_millis()))?;
    doc::put(d, field::KIND, input.kind.as_str())?;
    doc::put(d, field::OUTCOME, input.outcome.as_str())?;
    // Empty text is stored as an absent field, as recording does.
    doc::put_opt(d, field::SITUATION, non_empty(&input.situation))?;
    doc::put_opt(d, field::NEEDS, non_empty(&input.needs))?;
    doc::put_opt(d, field::SATISFACTION, input.satisfaction.map(i64::from))?;
    doc::put_opt(d, field::KNOWS_WORKER, input.knows_worker)?;
    doc::put_opt(
        d,
        field::FOLLOW_UP_DUE,
        input.follow_up_due.map(|t| ScalarValue::Timestamp(t.timestamp_millis())),
    )?;
    doc::put_opt(d, crate::location::LAT, input.location.map(|l| l.lat))?;
    doc::put_opt(d, crate::location::LON, input.location.map(|l| l.lon))?;
    doc::put_opt(d, field::INCIDENT, input.incident_id.map(|u| u.to_string()))?;
    doc::put_opt(d, field::TASK, input.task_id.map(|u| u.to_string()))?;
    set_photos(d, field::PHOTOS, &input.photos)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Makes the photo list under root `key` hold `photos`, in order, touching it only if it
/// differs. The list object is kept (never replaced), so a photo another phone added meanwhile
/// survives: photos kept in place stay, the others are deleted and the rest are appended.
fn set_photos(d: &mut AutoCommit, key: &str, photos: &[PhotoRef]) -> Result<()> {
    // Stored hashes are lowercase (as recording writes them).
    let wanted: Vec<PhotoRef> = photos
        .iter()
        .map(|p| PhotoRef { hash: p.hash.to_ascii_lowercase(), ..p.clone() })
        .collect();
    let current: Vec<Option<PhotoRef>> = match doc::existing_obj(d, key) {
        Some(list) => d
            .values(&list)
            .map(|(v, m)| match v {
                Value::Object(ObjType::Map) => read_one(d, &m),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    if current.len() == wanted.len()
        && current.iter().zip(&wanted).all(|(c, w)| c.as_ref() == Some(w))
    {
        return Ok(());
    }
    let list = doc::obj(d, key, ObjType::List)?;
    // Keep the current photos that match `wanted` in order (greedily), delete the others
    // (malformed entries too), then append what is still missing.
    let mut next = 0;
    let mut delete = Vec::new();
    for (i, photo) in current.iter().enumerate() {
        if next < wanted.len() && photo.as_ref() == Some(&wanted[next]) {
            next += 1;
        } else {
            delete.push(i);
        }
    }
    for i in delete.into_iter().rev() {
        d.delete(&list, i)?;
    }
    PhotoRef::append_all(d, key, &wanted[next..])
}
