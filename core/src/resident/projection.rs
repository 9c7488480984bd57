//! The `resident` projection row. Deleting a resident also retires their sensitive record's
//! effect on the household's visit interval, whichever of the two documents arrives first.

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Resident, ResidentSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

impl Projector for ResidentSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM resident WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// Writes the resident's row, then re-derives the liveness of the resident's sensitive rows
    /// and the visit dates and search tokens of the households it was or now is in.
    fn project(tx: &WriteTxn<'_>, rec: &Decoded<Resident>) -> Result<()> {
        let (h, r) = (&rec.header, &rec.record);
        let previous: Option<Uuid> = tx
            .prepare_cached("SELECT household_id FROM resident WHERE id = ?1")?
            .query_row([r.id], |row| row.get(0))
            .optional()?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO resident(id, household_id, area, name, gender, birth_year,
                relation, phone, created_at, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            r.id,
            r.household_id,
            h.area.as_str(),
            r.name,
            r.gender.as_str(),
            r.birth_year,
            r.relation.as_str(),
            r.phone,
            h.created_at,
            h.deleted,
        ])?;
        let mut households = crate::sensitive::refresh_liveness(tx, r.id)?;
        households.extend(previous);
        households.push(r.household_id);
        households.sort();
        households.dedup();
        for household in households {
            crate::household::refresh_visit_dates(tx, household)?;
            crate::household::reindex(tx, household)?;
        }
        Ok(())
    }
}
