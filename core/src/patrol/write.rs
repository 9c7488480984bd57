//! Patrols on the device: starting, tracking, checking in, observing, ending.

use uuid::Uuid;

use super::*;
use crate::area::{AreaLevel, AreaPath};
use crate::doc::{self, common};
use crate::error::CoreError;
use crate::kind::RecordKind;
use crate::store::Store;
use crate::track::{TrackPoint, encode_chunk};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue};

/// The device store's operations on patrols: start, track, check in, observe, end, read. Made by [`Store::patrols`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct Patrols<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on patrols: start, track, check in, observe, end, read.
    pub fn patrols(&mut self) -> Patrols<'_> {
        Patrols { store: self }
    }
}

impl Patrols<'_> {
    /// Starts a patrol of `area` (a grid or one of its micro-grids) by the signed-in worker and
    /// returns its id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `area` when it is not a grid or micro-grid;
    /// [`CoreError::NotFound`] for an unknown area or task; [`CoreError::OutOfScope`];
    /// [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn start(
        &mut self,
        area: &AreaPath,
        started_at: DateTime<Utc>,
        task_id: Option<Uuid>,
    ) -> Result<Uuid> {
        if area.level() < AreaLevel::Grid {
            return Err(CoreError::invalid(
                "area",
                format!(
                    "{area} is a {}; patrols are of a grid or micro-grid",
                    area.level().as_str()
                ),
            ));
        }
        if let Some(t) = task_id
            && self.store.record_kind(t)? != Some(RecordKind::Task)
        {
            return Err(CoreError::NotFound { kind: "task".into(), id: t.to_string() });
        }
        let id = Uuid::now_v7();
        self.store.write_doc(id, RecordKind::Patrol, Some(area), "start_patrol", |d, user| {
            doc::put(d, field::WORKER, user.user_id.as_str())?;
            doc::put(d, field::STARTED_AT, ts(started_at))?;
            doc::put_opt(d, field::TASK, task_id.map(|t| t.to_string()))?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Appends GPS fixes to an open patrol as **one** compact chunk (not one CRDT operation per
    /// point). Apps buffer fixes and call this every half minute or so; an empty slice does
    /// nothing.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `track_points` (more than
    /// [`crate::track::MAX_CHUNK_POINTS`], a point out of range, time going backwards),
    /// `ended_at` (the patrol has ended) or `patrol` (deleted); [`CoreError::Forbidden`] for
    /// another worker's patrol; [`CoreError::NotFound`]; [`CoreError::NotSignedIn`]. Nothing is
    /// written on error.
    pub fn add_track_points(&mut self, id: Uuid, points: &[TrackPoint]) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let chunk = encode_chunk(points)?;
        self.store.write_doc(id, RecordKind::Patrol, None, "add_track_points", |d, user| {
            check_open(d, &user.user_id)?;
            let list = doc::obj(d, field::TRACK, ObjType::List)?;
            let len = d.length(&list);
            d.insert(&list, len, ScalarValue::Bytes(chunk))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Records a check-in on an open patrol and returns the check-in's id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `name`, `lat`/`lon`, `point_id`, `ended_at` or `patrol`;
    /// [`CoreError::Forbidden`] for another worker's patrol; [`CoreError::NotFound`];
    /// [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn check_in(&mut self, id: Uuid, input: CheckInInput) -> Result<Uuid> {
        let input = input.validated()?;
        let cid = Uuid::now_v7();
        self.store.write_doc(id, RecordKind::Patrol, None, "check_in", |d, user| {
            check_open(d, &user.user_id)?;
            let m = doc::push_map(d, field::CHECKINS)?;
            doc::put_in(d, &m, field::ID, cid.to_string())?;
            doc::put_in(d, &m, field::NAME, input.name.as_str())?;
            doc::put_in(d, &m, field::AT, ts(input.at))?;
            input.location.put_in(d, &m)?;
            if let Some(p) = &input.point_id {
                doc::put_in(d, &m, field::POINT, p.as_str())?;
            }
            Ok(())
        })?;
        Ok(cid)
    }

    /// Records an observation on an open patrol and returns its id (which
    /// [`Store::link_observation_incident`] refers to).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `text`, `lat`/`lon`, `photos`, `ended_at` or `patrol`;
    /// [`CoreError::Forbidden`] for another worker's patrol; [`CoreError::NotFound`];
    /// [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn add_observation(&mut self, id: Uuid, input: ObservationInput) -> Result<Uuid> {
        let input = input.validated()?;
        let oid = Uuid::now_v7();
        self.store.write_doc(id, RecordKind::Patrol, None, "add_observation", |d, user| {
            check_open(d, &user.user_id)?;
            let m = doc::push_map(d, field::OBSERVATIONS)?;
            doc::put_in(d, &m, field::ID, oid.to_string())?;
            doc::put_in(d, &m, field::TEXT, input.text.as_str())?;
            doc::put_in(d, &m, field::AT, ts(input.at))?;
            if let Some(l) = input.location {
                l.put_in(d, &m)?;
            }
            PhotoRef::append_all_in(d, &m, field::PHOTOS, &input.photos)
        })?;
        Ok(oid)
    }

    /// Records that observation `observation` of patrol `patrol` became incident `incident`
    /// (also after the patrol ended, and by anyone who may edit the patrol's area, e.g. the
    /// command centre turning it into a work order).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] naming `observation` when the patrol has no such observation, or
    /// naming the patrol; [`CoreError::Invalid`] naming `incident_id` when that id is a record of
    /// another kind on this device; [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`].
    pub fn link_observation_incident(
        &mut self,
        patrol: Uuid,
        observation: Uuid,
        incident: Uuid,
    ) -> Result<()> {
        if let Some(k) = self.store.record_kind(incident)?
            && k != RecordKind::WorkOrder
        {
            return Err(CoreError::invalid("incident_id", format!("{incident} is a {k}")));
        }
        self.store.write_doc(
            patrol,
            RecordKind::Patrol,
            None,
            "link_observation_incident",
            |d, _| {
                let m = doc::list_maps(d, field::OBSERVATIONS)
                    .into_iter()
                    .find(|m| doc::get_uuid_in(d, m, field::ID) == Some(observation))
                    .ok_or_else(|| CoreError::NotFound {
                        kind: "observation".into(),
                        id: observation.to_string(),
                    })?;
                doc::put_in(d, &m, field::INCIDENT, incident.to_string())?;
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Ends an open patrol.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `ended_at` when it is before the start or the patrol has
    /// already ended, or `patrol` when deleted; [`CoreError::Forbidden`] for another worker's
    /// patrol; [`CoreError::NotFound`]; [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn end(&mut self, id: Uuid, ended_at: DateTime<Utc>) -> Result<()> {
        self.store.write_doc(id, RecordKind::Patrol, None, "end_patrol", |d, user| {
            check_open(d, &user.user_id)?;
            if doc::get_i64(d, field::STARTED_AT).is_some_and(|s| ended_at.timestamp_millis() < s) {
                return Err(CoreError::invalid("ended_at", "is before the patrol started"));
            }
            doc::put(d, field::ENDED_AT, ts(ended_at))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Deletes a patrol (tombstone, DESIGN §2): it leaves the patrol ledger.
    ///
    /// # Errors
    /// [`CoreError::NotFound`]; [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`].
    pub fn delete(&mut self, id: Uuid) -> Result<()> {
        self.store.delete_record(RecordKind::Patrol, id)
    }
}

fn ts(t: DateTime<Utc>) -> ScalarValue {
    ScalarValue::Timestamp(t.timestamp_millis())
}

/// Checks that the patrol in `d` is the signed-in worker's and still open.
fn check_open(d: &AutoCommit, user_id: &str) -> Result<()> {
    if doc::get_bool(d, common::DELETED) == Some(true) {
        return Err(CoreError::invalid("patrol", "the patrol was deleted"));
    }
    if doc::get_str(d, field::WORKER).as_deref() != Some(user_id) {
        return Err(CoreError::Forbidden { action: "add to another worker's patrol".into() });
    }
    if doc::get_i64(d, field::ENDED_AT).is_some() {
        return Err(CoreError::invalid("ended_at", "the patrol has ended"));
    }
    Ok(())
}
