//! The `patrol` projection row: counts and derived distance and duration for the patrol ledger.

use rusqlite::params;

use super::{Patrol, PatrolSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

impl Projector for PatrolSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM patrol WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn project(tx: &WriteTxn<'_>, rec: &Decoded<Patrol>) -> Result<()> {
        let p = &rec.record;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO patrol(id, area, worker, started_at, ended_at, points,
                distance_m, duration_s, checkins, observations, task_id, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            p.id,
            p.area.as_str(),
            p.worker,
            p.started_at.timestamp_millis(),
            p.ended_at.map(|t| t.timestamp_millis()),
            p.track.len() as i64,
            p.stats.distance_m,
            p.duration_s,
            p.checkins.len() as i64,
            p.observations.len() as i64,
            p.task_id,
            p.deleted,
        ])?;
        Ok(())
    }
}
