//! The `resident` projection row. Deleting a resident also retires their sensitive record's
//! effect on the household's visit interval, whichever of the two documents arrives first.

use automerge::AutoCommit;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::field;
use crate::doc::{self, common};
use crate::error::Result;

/// Writes the projection of resident `id` (nothing for a document not yet complete), then
/// re-derives the liveness of the resident's sensitive rows and the household's visit dates.
pub(crate) fn project(conn: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(household), Some(name)) = (
        doc::get_str(d, common::AREA),
        doc::get_uuid(d, field::HOUSEHOLD),
        doc::get_str(d, field::NAME),
    ) else {
        return Ok(());
    };
    let deleted = doc::get_bool(d, common::DELETED).unwrap_or(false);
    let previous: Option<Uuid> = conn
        .prepare_cached("SELECT household_id FROM resident WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO resident(id, household_id, area, name, gender, birth_year,
            relation, phone, created_at, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        household,
        area,
        name,
        doc::get_str(d, field::GENDER).unwrap_or_default(),
        doc::get_i64(d, field::BIRTH_YEAR),
        doc::get_str(d, field::RELATION).unwrap_or_default(),
        doc::get_str(d, field::PHONE),
        doc::get_i64(d, common::CREATED_AT).unwrap_or(0),
        deleted,
    ])?;
    let mut households = crate::sensitive::refresh_liveness(conn, id)?;
    households.extend(previous);
    households.push(household);
    households.sort();
    households.dedup();
    for h in households {
        crate::household::refresh_visit_dates(conn, h)?;
        crate::household::reindex(conn, h)?;
    }
    Ok(())
}
