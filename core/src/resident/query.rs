//! Reading residents from the projection.

use rusqlite::{OptionalExtension, Row};
use uuid::Uuid;

use super::Residents;

use super::{Gender, Relation, Resident};
use crate::error::Result;

const COLUMNS: &str = "id, household_id, area, name, gender, birth_year, relation, phone";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Resident> {
    let gender: String = r.get(4)?;
    let relation: String = r.get(6)?;
    Ok(Resident {
        id: r.get(0)?,
        household_id: r.get(1)?,
        area: r.get(2)?,
        name: r.get(3)?,
        gender: Gender::parse(&gender).unwrap_or(Gender::Male),
        birth_year: r.get(5)?,
        relation: Relation::parse(&relation).unwrap_or(Relation::Other),
        phone: r.get(7)?,
    })
}

impl Residents<'_> {
    /// The resident with this id, unless unknown on this device or deleted.
    ///
    /// # Errors
    /// Storage errors.
    pub fn get(&self, id: Uuid) -> Result<Option<Resident>> {
        self.store
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM resident WHERE id = ?1 AND deleted = 0"
            ))?
            .query_row([id], from_row)
            .optional()
            .map_err(Into::into)
    }

    /// The residents of a household: the head first, then spouse, parents, children, grandchildren, siblings and others, each in the order they
    /// were recorded.
    ///
    /// # Errors
    /// Storage errors.
    pub fn of_household(&self, household_id: Uuid) -> Result<Vec<Resident>> {
        let mut stmt = self.store.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM resident WHERE household_id = ?1 AND deleted = 0
             ORDER BY CASE relation WHEN 'head' THEN 0 WHEN 'spouse' THEN 1 WHEN 'parent' THEN 2
                 WHEN 'child' THEN 3 WHEN 'grandchild' THEN 4 WHEN 'sibling' THEN 5 ELSE 6 END,
                 created_at, id"
        ))?;
        let rows = stmt.query_map([household_id], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
