//! Patrols of a grid (巡查): a GPS track, check-ins (打卡) at buildings or points of interest, and
//! observations, any of which can become an incident report. Patrol logs count toward
//! assessment (number of patrols, hours, distance, points covered), so distance and duration are
//! derived from the track, never typed in.
//!
//! The track is not one CRDT operation per GPS fix (DESIGN §5): each [`Store::add_track_points`]
//! call appends one compact chunk ([`crate::track::encode_chunk`]) as a bytes scalar to the
//! document's `track` list.

mod projection;
mod query;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use projection::project;
pub use query::{CheckIn, Observation, Patrol, PatrolSummary};

use crate::area::{AreaLevel, AreaPath};
use crate::attachment::PhotoRef;
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::location::Location;
use crate::store::Store;
use crate::track::{TrackPoint, encode_chunk};
use crate::validate;

/// Longest point-of-interest id of a check-in, in characters.
pub const POINT_ID_MAX: usize = 64;

/// Document field names of a patrol.
pub(crate) mod field {
    pub const WORKER: &str = "worker";
    pub const STARTED_AT: &str = "started_at";
    pub const ENDED_AT: &str = "ended_at";
    pub const TASK: &str = "task_id";
    pub const TRACK: &str = "track";
    pub const CHECKINS: &str = "checkins";
    pub const OBSERVATIONS: &str = "observations";
    // Inside check-in and observation maps.
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const TEXT: &str = "text";
    pub const AT: &str = "at";
    pub const LAT: &str = "lat";
    pub const LON: &str = "lon";
    pub const POINT: &str = "point_id";
    pub const PHOTOS: &str = "photos";
    pub const INCIDENT: &str = "incident_id";
}

/// A check-in (打卡) at a building or point of interest.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInInput {
    /// What was checked in at, e.g. `幸福小区3幢` — required, at most [`validate::NAME_MAX`].
    pub name: String,
    /// Where the phone was.
    pub location: Location,
    /// When (device clock).
    pub at: DateTime<Utc>,
    /// Id of the point of interest in reference data, if the app offered one.
    pub point_id: Option<String>,
}

/// Something noticed on patrol (a hazard, a dispute, litter…).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationInput {
    /// What was seen — required, at most [`validate::NOTE_MAX`] characters.
    pub text: String,
    /// Where, if known.
    pub location: Option<Location>,
    /// When (device clock).
    pub at: DateTime<Utc>,
    /// Photos (at most [`MAX_PHOTOS`](crate::attachment::MAX_PHOTOS)).
    pub photos: Vec<PhotoRef>,
}

impl CheckInInput {
    fn validated(mut self) -> Result<Self> {
        self.name =
            validate::max_len("name", validate::required("name", &self.name)?, validate::NAME_MAX)?
                .to_owned();
        self.location.validate()?;
        self.point_id = match self.point_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(validate::max_len("point_id", p, POINT_ID_MAX)?.to_owned()),
        };
        Ok(self)
    }
}

impl ObservationInput {
    fn validated(mut self) -> Result<Self> {
        self.text =
            validate::max_len("text", validate::required("text", &self.text)?, validate::NOTE_MAX)?
                .to_owned();
        if let Some(l) = &self.location {
            l.validate()?;
        }
        crate::attachment::validate_photos(&self.photos, "observation")?;
        Ok(self)
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

/// Appends photos to the list `key` inside map `m`.
fn put_photos(d: &mut AutoCommit, m: &ObjId, photos: &[PhotoRef]) -> Result<()> {
    if photos.is_empty() {
        return Ok(());
    }
    let list = d.put_object(m, field::PHOTOS, ObjType::List)?;
    for (i, p) in photos.iter().enumerate() {
        let pm = d.insert_object(&list, i, ObjType::Map)?;
        doc::put_in(d, &pm, "hash", p.hash.to_ascii_lowercase())?;
        doc::put_in(d, &pm, "size", p.size)?;
        doc::put_in(d, &pm, "mime", p.mime.as_str())?;
    }
    Ok(())
}

impl Store {
    /// Starts a patrol of `area` (a grid or one of its micro-grids) by the signed-in worker and
    /// returns its id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `area` when it is not a grid or micro-grid;
    /// [`CoreError::NotFound`] for an unknown area or task; [`CoreError::OutOfScope`];
    /// [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn start_patrol(
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
            && self.record_kind(t)? != Some(RecordKind::Task)
        {
            return Err(CoreError::NotFound { kind: "task".into(), id: t.to_string() });
        }
        let id = Uuid::now_v7();
        self.write_doc(id, RecordKind::Patrol, Some(area), "start_patrol", |d, user| {
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
        self.write_doc(id, RecordKind::Patrol, None, "add_track_points", |d, user| {
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
        self.write_doc(id, RecordKind::Patrol, None, "check_in", |d, user| {
            check_open(d, &user.user_id)?;
            let m = doc::push_map(d, field::CHECKINS)?;
            doc::put_in(d, &m, field::ID, cid.to_string())?;
            doc::put_in(d, &m, field::NAME, input.name.as_str())?;
            doc::put_in(d, &m, field::AT, ts(input.at))?;
            doc::put_in(d, &m, field::LAT, input.location.lat)?;
            doc::put_in(d, &m, field::LON, input.location.lon)?;
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
        self.write_doc(id, RecordKind::Patrol, None, "add_observation", |d, user| {
            check_open(d, &user.user_id)?;
            let m = doc::push_map(d, field::OBSERVATIONS)?;
            doc::put_in(d, &m, field::ID, oid.to_string())?;
            doc::put_in(d, &m, field::TEXT, input.text.as_str())?;
            doc::put_in(d, &m, field::AT, ts(input.at))?;
            if let Some(l) = input.location {
                doc::put_in(d, &m, field::LAT, l.lat)?;
                doc::put_in(d, &m, field::LON, l.lon)?;
            }
            put_photos(d, &m, &input.photos)
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
        if let Some(k) = self.record_kind(incident)?
            && k != RecordKind::WorkOrder
        {
            return Err(CoreError::invalid("incident_id", format!("{incident} is a {k}")));
        }
        self.write_doc(patrol, RecordKind::Patrol, None, "link_observation_incident", |d, _| {
            let m = doc::list_maps(d, field::OBSERVATIONS)
                .into_iter()
                .find(|m| doc::get_uuid_in(d, m, field::ID) == Some(observation))
                .ok_or_else(|| CoreError::NotFound {
                    kind: "observation".into(),
                    id: observation.to_string(),
                })?;
            doc::put_in(d, &m, field::INCIDENT, incident.to_string())?;
            Ok(())
        })?;
        Ok(())
    }

    /// Ends an open patrol.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `ended_at` when it is before the start or the patrol has
    /// already ended, or `patrol` when deleted; [`CoreError::Forbidden`] for another worker's
    /// patrol; [`CoreError::NotFound`]; [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn end_patrol(&mut self, id: Uuid, ended_at: DateTime<Utc>) -> Result<()> {
        self.write_doc(id, RecordKind::Patrol, None, "end_patrol", |d, user| {
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
    pub fn delete_patrol(&mut self, id: Uuid) -> Result<()> {
        self.delete_record(RecordKind::Patrol, id)
    }
}
