//! Reading patrols: one whole (with its decoded track) and the patrol ledger of a worker.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, Value};
use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field;
use super::projection::{duration_s, track_of};
use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::doc::{self, common};
use crate::error::Result;
use crate::household::area_clause;
use crate::kind::RecordKind;
use crate::location::Location;
use crate::store::Store;
use crate::time::{ms_to_time, opt_ms_to_time};
use crate::track::{TrackPoint, TrackStats, track_stats};

/// A check-in as recorded.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// Check-in id.
    pub id: Uuid,
    /// What was checked in at.
    pub name: String,
    /// Where.
    pub location: Location,
    /// When.
    pub at: DateTime<Utc>,
    /// Point-of-interest id, if any.
    pub point_id: Option<String>,
}

/// An observation as recorded.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Observation id.
    pub id: Uuid,
    /// What was seen.
    pub text: String,
    /// Where, if known.
    pub location: Option<Location>,
    /// When.
    pub at: DateTime<Utc>,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// The incident it became, if it did.
    pub incident_id: Option<Uuid>,
}

/// A whole patrol: its track and everything recorded on it, with derived statistics.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patrol {
    /// Record id.
    pub id: Uuid,
    /// The grid (or micro-grid) patrolled.
    pub area: AreaPath,
    /// User id of the worker.
    pub worker: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while under way.
    pub ended_at: Option<DateTime<Utc>>,
    /// The task it carries out, if any.
    pub task_id: Option<Uuid>,
    /// Every GPS fix, in time order.
    pub track: Vec<TrackPoint>,
    /// Distance and point counts of the track (jitter filtered).
    pub stats: TrackStats,
    /// Seconds from start to end (to the latest fix while under way).
    pub duration_s: f64,
    /// Track chunks that could not be decoded (0 unless data was damaged).
    pub unreadable_chunks: u32,
    /// Check-ins, in the order recorded.
    pub checkins: Vec<CheckIn>,
    /// Observations, in the order recorded.
    pub observations: Vec<Observation>,
    /// Whether the patrol was deleted.
    pub deleted: bool,
}

/// A patrol as the patrol ledger (巡查台账) lists it, from the projection.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolSummary {
    /// Record id.
    pub id: Uuid,
    /// The grid patrolled.
    pub area: AreaPath,
    /// User id of the worker.
    pub worker: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended, if it has.
    pub ended_at: Option<DateTime<Utc>>,
    /// GPS fixes recorded.
    pub points: u32,
    /// Distance walked, metres.
    pub distance_m: f64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// Check-ins.
    pub checkins: u32,
    /// Observations.
    pub observations: u32,
    /// Linked task.
    pub task_id: Option<Uuid>,
}

fn location_in(d: &AutoCommit, m: &ObjId) -> Option<Location> {
    Some(Location {
        lat: doc::get_f64_in(d, m, field::LAT)?,
        lon: doc::get_f64_in(d, m, field::LON)?,
    })
}

fn photos_in(d: &AutoCommit, m: &ObjId) -> Vec<PhotoRef> {
    let Ok(Some((Value::Object(ObjType::List), list))) = d.get(m, field::PHOTOS) else {
        return Vec::new();
    };
    d.values(&list)
        .filter_map(|(v, pm)| {
            matches!(v, Value::Object(ObjType::Map)).then_some(())?;
            Some(PhotoRef {
                hash: doc::get_str_in(d, &pm, "hash")?,
                size: u64::try_from(doc::get_i64_in(d, &pm, "size")?).ok()?,
                mime: doc::get_str_in(d, &pm, "mime")?,
            })
        })
        .collect()
}

fn read(id: Uuid, d: &AutoCommit) -> Result<Patrol> {
    let (track, unreadable_chunks) = track_of(d);
    let stats = track_stats(&track);
    let started = doc::get_i64(d, field::STARTED_AT).unwrap_or_default();
    let ended = doc::get_i64(d, field::ENDED_AT);
    let checkins = doc::list_maps(d, field::CHECKINS)
        .iter()
        .filter_map(|m| {
            Some(CheckIn {
                id: doc::get_uuid_in(d, m, field::ID)?,
                name: doc::get_str_in(d, m, field::NAME)?,
                location: location_in(d, m)?,
                at: ms_to_time(doc::get_i64_in(d, m, field::AT)?),
                point_id: doc::get_str_in(d, m, field::POINT),
            })
        })
        .collect();
    let observations = doc::list_maps(d, field::OBSERVATIONS)
        .iter()
        .filter_map(|m| {
            Some(Observation {
                id: doc::get_uuid_in(d, m, field::ID)?,
                text: doc::get_str_in(d, m, field::TEXT)?,
                location: location_in(d, m),
                at: ms_to_time(doc::get_i64_in(d, m, field::AT)?),
                photos: photos_in(d, m),
                incident_id: doc::get_uuid_in(d, m, field::INCIDENT),
            })
        })
        .collect();
    Ok(Patrol {
        id,
        area: AreaPath::parse(&doc::get_str(d, common::AREA).unwrap_or_default())?,
        worker: doc::get_str(d, field::WORKER).unwrap_or_default(),
        started_at: ms_to_time(started),
        ended_at: opt_ms_to_time(ended),
        task_id: doc::get_uuid(d, field::TASK),
        duration_s: duration_s(started, ended, &stats),
        track,
        stats,
        unreadable_chunks,
        checkins,
        observations,
        deleted: doc::get_bool(d, common::DELETED).unwrap_or(false),
    })
}

const COLUMNS: &str = "id, area, worker, started_at, ended_at, points, distance_m, duration_s, \
                       checkins, observations, task_id";

fn summary(r: &Row<'_>) -> rusqlite::Result<PatrolSummary> {
    Ok(PatrolSummary {
        id: r.get(0)?,
        area: r.get(1)?,
        worker: r.get(2)?,
        started_at: ms_to_time(r.get(3)?),
        ended_at: opt_ms_to_time(r.get(4)?),
        points: r.get(5)?,
        distance_m: r.get(6)?,
        duration_s: r.get(7)?,
        checkins: r.get(8)?,
        observations: r.get(9)?,
        task_id: r.get(10)?,
    })
}

impl Store {
    /// The whole patrol with this id, its track decoded (also when deleted; see
    /// [`Patrol::deleted`]).
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`] when unknown; storage errors.
    pub fn patrol(&mut self, id: Uuid) -> Result<Patrol> {
        self.read_doc(id, RecordKind::Patrol, |d| read(id, d))?
    }

    /// A worker's live patrols that started in `[from, to)`, oldest first: their patrol log.
    ///
    /// # Errors
    /// Storage errors.
    pub fn patrols_of(
        &self,
        worker: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatrolSummary>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM patrol
             WHERE worker = ?1 AND started_at >= ?2 AND started_at < ?3 AND deleted = 0
             ORDER BY started_at, id"
        ))?;
        let rows = stmt
            .query_map(params![worker, from.timestamp_millis(), to.timestamp_millis()], summary)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Live patrols within `area` that started in `[from, to)`, oldest first: the patrol ledger
    /// of a grid or town.
    ///
    /// # Errors
    /// Storage errors.
    pub fn patrols_in(
        &self,
        area: &AreaPath,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatrolSummary>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM patrol
             WHERE started_at >= ?2 AND started_at < ?3 AND deleted = 0 AND {}
             ORDER BY started_at, id",
            area_clause("area", 1)
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![area.as_str(), from.timestamp_millis(), to.timestamp_millis()],
            summary,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
