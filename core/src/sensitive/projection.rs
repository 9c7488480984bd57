//! The `sensitive` projection row. A row counts (`deleted = 0`) only while both the sensitive
//! document and its resident are live; the household's visit interval reads the live rows'
//! key-population categories.

use automerge::AutoCommit;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::field;
use crate::doc::{self, common};
use crate::error::Result;

/// Writes the projection of sensitive record `id` and refreshes its household's visit dates.
pub(crate) fn project(conn: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(resident), Some(doc_household)) = (
        doc::get_str(d, common::AREA),
        doc::get_uuid(d, field::RESIDENT),
        doc::get_uuid(d, field::HOUSEHOLD),
    ) else {
        return Ok(());
    };
    let previous: Option<Uuid> = conn
        .prepare_cached("SELECT household_id FROM sensitive WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO sensitive(id, resident_id, household_id, area, id_card, health,
            key_population, relief_status, doc_deleted, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        id,
        resident,
        doc_household,
        area,
        doc::get_str(d, field::ID_CARD),
        doc::get_str(d, field::HEALTH),
        doc::get_str(d, field::KEY_POPULATION),
        doc::get_str(d, field::RELIEF_STATUS),
        doc::get_bool(d, common::DELETED).unwrap_or(false),
    ])?;
    let moved = refresh_liveness(conn, resident)?;
    for h in previous.into_iter().chain(moved).chain([doc_household]) {
        crate::household::refresh_visit_dates(conn, h)?;
    }
    Ok(())
}

/// Re-derives the sensitive rows of `resident` from the resident's projection row, if this
/// device has it: they follow the resident's household and count only while the resident is
/// live. Returns every household the rows were or now are in; the caller refreshes their visit
/// dates.
pub(crate) fn refresh_liveness(conn: &Connection, resident: Uuid) -> Result<Vec<Uuid>> {
    let row: Option<(Uuid, bool)> = conn
        .prepare_cached("SELECT household_id, deleted FROM resident WHERE id = ?1")?
        .query_row([resident], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((household, resident_deleted)) = row else { return Ok(Vec::new()) };
    let mut households: Vec<Uuid> = conn
        .prepare_cached("SELECT household_id FROM sensitive WHERE resident_id = ?1")?
        .query_map([resident], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.prepare_cached(
        "UPDATE sensitive SET household_id = ?2, deleted = (doc_deleted OR ?3)
         WHERE resident_id = ?1",
    )?
    .execute(params![resident, household, resident_deleted])?;
    households.push(household);
    households.sort();
    households.dedup();
    Ok(households)
}
