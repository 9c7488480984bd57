//! The `sensitive` projection row. A row counts (`deleted = 0`) only while both the sensitive
//! document and its resident are live; the household's visit interval reads the live rows'
//! key-population categories.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{SensitiveRecord, SensitiveSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

impl Projector for SensitiveSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM sensitive WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// Writes the row, then refreshes the visit dates of every household it was or is in.
    fn project(tx: &WriteTxn<'_>, rec: &Decoded<SensitiveRecord>) -> Result<()> {
        let (h, r) = (&rec.header, &rec.record);
        let previous: Option<Uuid> = tx
            .prepare_cached("SELECT household_id FROM sensitive WHERE id = ?1")?
            .query_row([r.id], |row| row.get(0))
            .optional()?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sensitive(id, resident_id, household_id, area, id_card, health,
                key_population, relief_status, doc_deleted, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?
        .execute(params![
            r.id,
            r.resident_id,
            r.household_id,
            h.area.as_str(),
            r.id_card,
            (!r.health.is_empty()).then_some(r.health.as_str()),
            r.key_population.map(|k| k.as_str()),
            r.relief_status.map(|k| k.as_str()),
            h.deleted,
        ])?;
        let moved = refresh_liveness(tx, r.resident_id)?;
        for household in previous.into_iter().chain(moved).chain([r.household_id]) {
            crate::household::refresh_visit_dates(tx, household)?;
        }
        Ok(())
    }
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
