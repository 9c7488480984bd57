//! A work order's document: the incident's fields on the root map and the append-only `events`
//! list of maps. Reading events also looks up when the server received each one (the change that
//! inserted it), so deadlines use the trustworthy clock where known (DESIGN §1).

use automerge::{AutoCommit, ObjId};
use rusqlite::{Connection, OptionalExtension};

use super::{EventType, WorkOrderEvent};
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
    pub const LAT: &str = "lat";
    pub const LON: &str = "lon";
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
}

/// Appends `event` to the document's event list.
pub(crate) fn append_event(d: &mut AutoCommit, event: &WorkOrderEvent) -> Result<()> {
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
    Ok(())
}

/// The events in the document; malformed entries (unknown type or role) are skipped — they
/// cannot be folded, and a newer app version may have written them. With `conn`, each event's
/// server receive time is filled in when this device knows it.
pub(crate) fn read_events(
    d: &AutoCommit,
    conn: Option<&Connection>,
) -> Result<Vec<WorkOrderEvent>> {
    let mut out = Vec::new();
    for m in doc::list_maps(d, field::EVENTS) {
        let Some(e) = read_event(d, &m) else { continue };
        let mut e = e;
        if let Some(conn) = conn
            && let Some(hash) = d.hash_for_opid(&m)
        {
            let ms: Option<i64> = conn
                .prepare_cached("SELECT received_at FROM change_received WHERE hash = ?1")?
                .query_row([hash.0.as_slice()], |r| r.get(0))
                .optional()?;
            e.received_at = ms.map(ms_to_time);
        }
        out.push(e);
    }
    Ok(out)
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
    })
}
