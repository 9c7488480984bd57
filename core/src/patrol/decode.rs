//! The patrol document's one decoder ([`PatrolSpec`]), the record it decodes to, and the
//! track and duration derived from it.

use automerge::{AutoCommit, ReadDoc, ScalarValue, Value};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field;
use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::doc::{self, Fields};
use crate::kind::RecordKind;
use crate::location::Location;
use crate::spec::{DecodeError, Header, RecordSpec, required};
use crate::time::{ms_to_time, opt_ms_to_time};
use crate::track::{TrackPoint, TrackStats, decode_chunk, track_stats};

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

/// The track of a patrol document: every readable chunk's points, in time order, and how many
/// chunks could not be decoded (a corrupt chunk must not make the patrol, or a sync batch,
/// unreadable).
pub(crate) fn track_of(d: &AutoCommit) -> (Vec<TrackPoint>, u32) {
    let Some(list) = doc::existing_obj(d, field::TRACK) else { return (Vec::new(), 0) };
    let mut points = Vec::new();
    let mut unreadable = 0;
    for (v, _) in d.values(&list) {
        let decoded = match &v {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Bytes(b) => decode_chunk(b).ok(),
                _ => None,
            },
            Value::Object(_) => None,
        };
        match decoded {
            Some(p) => points.extend(p),
            None => unreadable += 1,
        }
    }
    // Chunks are appended in time order by one phone; sorting (stable) also orders chunks that
    // were flushed late.
    points.sort_by_key(|p| p.t_ms);
    (points, unreadable)
}

/// Duration of a patrol in seconds: end − start once ended, else up to its latest track point.
pub(crate) fn duration_s(started_at: i64, ended_at: Option<i64>, stats: &TrackStats) -> f64 {
    let end = ended_at.or(stats.ended_at).unwrap_or(started_at);
    (end.saturating_sub(started_at).max(0)) as f64 / 1000.0
}

/// The patrol kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct PatrolSpec;

impl RecordSpec for PatrolSpec {
    const KIND: RecordKind = RecordKind::Patrol;
    const CARRIES_PHOTOS: bool = true;
    type Record = Patrol;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<Patrol, DecodeError> {
        let (track, unreadable_chunks) = track_of(d.doc());
        let stats = track_stats(&track);
        let started = required(d.i64(field::STARTED_AT), field::STARTED_AT)?;
        let ended = d.i64(field::ENDED_AT);
        let checkins = doc::list_maps(d.doc(), field::CHECKINS)
            .iter()
            .filter_map(|m| {
                Some(CheckIn {
                    id: doc::get_uuid_in(d.doc(), m, field::ID)?,
                    name: doc::get_str_in(d.doc(), m, field::NAME)?,
                    location: Location::read_in(d.doc(), m)?,
                    at: ms_to_time(doc::get_i64_in(d.doc(), m, field::AT)?),
                    point_id: doc::get_str_in(d.doc(), m, field::POINT),
                })
            })
            .collect();
        let observations = doc::list_maps(d.doc(), field::OBSERVATIONS)
            .iter()
            .filter_map(|m| {
                Some(Observation {
                    id: doc::get_uuid_in(d.doc(), m, field::ID)?,
                    text: doc::get_str_in(d.doc(), m, field::TEXT)?,
                    location: Location::read_in(d.doc(), m),
                    at: ms_to_time(doc::get_i64_in(d.doc(), m, field::AT)?),
                    photos: PhotoRef::read_all_in(d.doc(), m, field::PHOTOS),
                    incident_id: doc::get_uuid_in(d.doc(), m, field::INCIDENT),
                })
            })
            .collect();
        Ok(Patrol {
            id: header.id,
            area: header.area.clone(),
            worker: required(d.str(field::WORKER), field::WORKER)?,
            started_at: ms_to_time(started),
            ended_at: opt_ms_to_time(ended),
            task_id: d.uuid(field::TASK),
            duration_s: duration_s(started, ended, &stats),
            track,
            stats,
            unreadable_chunks,
            checkins,
            observations,
            deleted: header.deleted,
        })
    }

    fn photos(record: &Patrol) -> Vec<PhotoRef> {
        record.observations.iter().flat_map(|o| o.photos.iter().cloned()).collect()
    }
}
