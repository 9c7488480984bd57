//! Reading visits: one whole (from its document) and a household's visit list.

use uuid::Uuid;

use super::{Visit, VisitSpec};
use crate::error::Result;
use crate::store::Store;

impl Store {
    /// The whole visit with this id.
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`] when unknown; storage errors.
    pub fn visit(&mut self, id: Uuid) -> Result<Visit> {
        self.read_record::<VisitSpec>(id)
    }

    /// Ids of a household's visits, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn visits_of_household(&self, household_id: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id FROM visit WHERE household_id = ?1 AND deleted = 0 ORDER BY visited_at DESC, id",
        )?;
        let rows = stmt.query_map([household_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
