//! Reading patrols: one whole (with its decoded track) and the patrol ledger of a worker.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Patrols;

use super::{Patrol, PatrolSpec};
use crate::area::AreaPath;
use crate::error::Result;
use crate::household::area_clause;
use crate::time::{ms_to_time, opt_ms_to_time};

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

impl Patrols<'_> {
    /// The whole patrol with this id, its track decoded (also when deleted; see
    /// [`Patrol::deleted`]).
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`] when unknown; storage errors.
    pub fn get(&mut self, id: Uuid) -> Result<Patrol> {
        self.store.read_record::<PatrolSpec>(id)
    }

    /// A worker's live patrols that started in `[from, to)`, oldest first: their patrol log.
    ///
    /// # Errors
    /// Storage errors.
    pub fn of_worker(
        &self,
        worker: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatrolSummary>> {
        let mut stmt = self.store.conn().prepare_cached(&format!(
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
    pub fn in_area(
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
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![area.as_str(), from.timestamp_millis(), to.timestamp_millis()],
            summary,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
