//! Reading visits: one whole (from its document) and a household's visit list.

use uuid::Uuid;

use super::Visits;

use super::{Visit, VisitSpec};
use crate::error::Result;

impl Visits<'_> {
    /// The whole visit with this id.
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`] when unknown; storage errors.
    pub fn get(&mut self, id: Uuid) -> Result<Visit> {
        self.store.read_record::<VisitSpec>(id)
    }

    /// Ids of a household's visits, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn of_household(&self, household_id: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT id FROM visit WHERE household_id = ?1 AND deleted = 0 ORDER BY visited_at DESC, id",
        )?;
        let rows = stmt.query_map([household_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
