//! The `visit` projection row; keeps the visited household's due date exact.

use rusqlite::params;

use super::{Visit, VisitSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

impl Projector for VisitSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM visit WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn project(tx: &WriteTxn<'_>, v: &Decoded<Visit>) -> Result<()> {
        let (h, r) = (&v.header, &v.record);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO visit(id, household_id, area, visitor, visited_at, kind,
                outcome, satisfaction, knows_worker, follow_up_due, incident_id, task_id,
                photo_count, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            r.id,
            r.household_id,
            h.area.as_str(),
            r.visitor,
            r.visited_at.timestamp_millis(),
            r.kind.as_str(),
            r.outcome.as_str(),
            r.satisfaction,
            r.knows_worker,
            r.follow_up_due.map(|t| t.timestamp_millis()),
            r.incident_id,
            r.task_id,
            r.photos.len() as i64,
            h.deleted,
        ])?;
        crate::household::refresh_visit_dates(tx, r.household_id)
    }
}
