//! A work order's document: the incident's fields on the root map and the append-only `events`
//! list of maps. Each event read keeps the hash of the change that logged it, so a store can
//! attach when the server received it (DESIGN §1).

use automerge::{AutoCommit, ObjId};

use super::{EventType, WorkOrderEvent};
use crate::attachment::PhotoRef;
use crate::doc;
use crate::error::Result;
use crate::role::Role;
use crate::time::ms_to_time;

/// Root field names.
pub(crate) mod field {
    pub const CATEGORY: &str = "category";
    pub const SEVERITY: &str = "severity";
    pub const TITLE: &str = "title";
    pub const DESCRIPTION: &str = "description";
    pub const SOURCE: &str = "source";
    pub const PHOTOS: &str = "photos";
    pub const HOUSEHOLD: &str = "household_id";
    pub const PATROL: &str = "patrol_id";
    pub const EVENTS: &str = "events";
}

/// Event map keys (the server's ingest check reads `role`, see docs/sync-protocol.md).
mod key {
    pub const ID: &str = "id";
    pub const TYPE: &str = "type";
    pub const BY: &str = "by";
    pub const ROLE: &str = "role";
    pub const AT: &str = "at";
    pub const DEPARTMENT: &str = "department";
    pub const NOTE: &str = "note";
    pub const EXTENSION_HOURS: &str = "extension_hours";
    pub const SATISFACTION: &str = "satisfaction";
    pub const PHOTOS: &str = "photos";
}

/// Appends `event` to the document's event list (a document builder: phones and the server
/// log steps with it).
///
/// # Errors
/// Document errors.
pub fn append_event(d: &mut AutoCommit, event: &WorkOrderEvent) -> Result<()> {
    let m = doc::push_map(d, field::EVENTS)?;
    doc::put_in(d, &m, key::ID, event.id.as_str())?;
    doc::put_in(d, &m, key::TYPE, event.event_type.as_str())?;
    doc::put_in(d, &m, key::BY, event.by.as_str())?;
    doc::put_in(d, &m, key::ROLE, event.role.as_str())?;
    doc::put_in(d, &m, key::AT, automerge::ScalarValue::Timestamp(event.at.timestamp_millis()))?;
    if let Some(dep) = &event.department {
        doc::put_in(d, &m, key::DEPARTMENT, dep.as_str())?;
    }
    if let Some(n) = &event.note {
        doc::put_in(d, &m, key::NOTE, n.as_str())?;
    }
    if let Some(h) = event.extension_hours {
        doc::put_in(d, &m, key::EXTENSION_HOURS, i64::from(h))?;
    }
    if let Some(s) = event.satisfaction {
        doc::put_in(d, &m, key::SATISFACTION, i64::from(s))?;
    }
    if !event.photos.is_empty() {
        PhotoRef::append_all_in(d, &m, key::PHOTOS, &event.photos)?;
    }
    Ok(())
}

/// An event as logged in a work order's document, with the change that logged it (so a
/// store can attach the time the server received that change).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The event (its `received_at` unset: the document does not know it).
    pub event: WorkOrderEvent,
    /// Hash of the change that inserted the event.
    pub change: Option<[u8; 32]>,
}

/// The events in the document, in log order; malformed entries (unknown type or role) are
/// skipped — they cannot be folded, and a newer app version may have written them.
pub(crate) fn read_events(d: &AutoCommit) -> Vec<LoggedEvent> {
    doc::list_maps(d, field::EVENTS)
        .iter()
        .filter_map(|m| {
            Some(LoggedEvent { event: read_event(d, m)?, change: d.hash_for_opid(m).map(|h| h.0) })
        })
        .collect()
}

fn read_event(d: &AutoCommit, m: &ObjId) -> Option<WorkOrderEvent> {
    Some(WorkOrderEvent {
        id: doc::get_str_in(d, m, key::ID)?,
        event_type: EventType::parse(&doc::get_str_in(d, m, key::TYPE)?).ok()?,
        by: doc::get_str_in(d, m, key::BY)?,
        role: Role::parse(&doc::get_str_in(d, m, key::ROLE)?).ok()?,
        at: ms_to_time(doc::get_i64_in(d, m, key::AT)?),
        received_at: None,
        department: doc::get_str_in(d, m, key::DEPARTMENT),
        note: doc::get_str_in(d, m, key::NOTE),
        extension_hours: doc::get_i64_in(d, m, key::EXTENSION_HOURS)
            .and_then(|h| u32::try_from(h).ok()),
        satisfaction: doc::get_i64_in(d, m, key::SATISFACTION).and_then(|s| u8::try_from(s).ok()),
        photos: PhotoRef::read_all_in(d, m, key::PHOTOS),
    })
}
