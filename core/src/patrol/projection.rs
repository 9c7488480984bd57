//! The `patrol` projection row: counts and derived distance and duration for the patrol ledger.

use automerge::{AutoCommit, ReadDoc, ScalarValue, Value};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::field;
use crate::doc::{self, common};
use crate::error::Result;
use crate::track::{TrackPoint, TrackStats, decode_chunk, track_stats};

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

/// Writes the projection of patrol `id` (nothing for a document not yet complete).
pub(crate) fn project(conn: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(worker), Some(started_at)) = (
        doc::get_str(d, common::AREA),
        doc::get_str(d, field::WORKER),
        doc::get_i64(d, field::STARTED_AT),
    ) else {
        return Ok(());
    };
    let (points, _) = track_of(d);
    let stats = track_stats(&points);
    let ended_at = doc::get_i64(d, field::ENDED_AT);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO patrol(id, area, worker, started_at, ended_at, points, distance_m,
            duration_s, checkins, observations, task_id, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id,
        area,
        worker,
        started_at,
        ended_at,
        points.len() as i64,
        stats.distance_m,
        duration_s(started_at, ended_at, &stats),
        doc::list_maps(d, field::CHECKINS).len() as i64,
        doc::list_maps(d, field::OBSERVATIONS).len() as i64,
        doc::get_uuid(d, field::TASK),
        doc::get_bool(d, common::DELETED).unwrap_or(false),
    ])?;
    Ok(())
}
