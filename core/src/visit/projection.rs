//! The `visit` projection row; keeps the visited household's due date exact.

use automerge::AutoCommit;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::field;
use crate::doc::{self, common};
use crate::error::Result;

/// The id stored in a string field, if well-formed.
pub(crate) fn uuid_field(d: &AutoCommit, key: &str) -> Option<Uuid> {
    doc::get_str(d, key).and_then(|s| Uuid::parse_str(&s).ok())
}

/// Writes the projection of visit `id` and refreshes its household's visit dates.
pub(crate) fn project(tx: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(household), Some(visited_at), Some(outcome)) = (
        doc::get_str(d, common::AREA),
        uuid_field(d, field::HOUSEHOLD),
        doc::get_i64(d, field::VISITED_AT),
        doc::get_str(d, field::OUTCOME),
    ) else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO visit(id, household_id, area, visitor, visited_at, kind, outcome,
            satisfaction, knows_worker, follow_up_due, incident_id, task_id, photo_count, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        id,
        household,
        area,
        doc::get_str(d, field::VISITOR).unwrap_or_default(),
        visited_at,
        doc::get_str(d, field::KIND).unwrap_or_else(|| "routine".into()),
        outcome,
        doc::get_i64(d, field::SATISFACTION),
        doc::get_bool(d, field::KNOWS_WORKER),
        doc::get_i64(d, field::FOLLOW_UP_DUE),
        uuid_field(d, field::INCIDENT),
        uuid_field(d, field::TASK),
        doc::list_maps(d, field::PHOTOS).len() as i64,
        doc::get_bool(d, common::DELETED).unwrap_or(false),
    ])?;
    crate::household::refresh_visit_dates(tx, household)
}
