//! Recording and editing households on the device: validated input becomes a change of the
//! household's document, stored with its projection in one transaction.

use uuid::Uuid;

use super::HouseholdInput;
use crate::error::Result;
use crate::kind::RecordKind;
use crate::store::Store;

/// The device store's operations on households: add, edit, list, due visits, search. Made by [`Store::households`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct Households<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on households: add, edit, list, due visits, search.
    pub fn households(&mut self) -> Households<'_> {
        Households { store: self }
    }
}

impl Households<'_> {
    /// Records a new household and returns its id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field; [`CoreError::NotFound`] for an unknown area;
    /// [`CoreError::OutOfScope`]; [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn add(&mut self, input: HouseholdInput) -> Result<Uuid> {
        let input = input.validated()?;
        let id = Uuid::now_v7();
        let area = input.area.clone();
        self.store.write_doc(id, RecordKind::Household, Some(&area), "add_household", |d, _| {
            input.write(d)
        })?;
        Ok(id)
    }

    /// Edits a household: only the fields that differ are written, so concurrent edits of
    /// different fields merge cleanly.
    ///
    /// # Errors
    /// As [`Households::add`](crate::household::Households::add), and [`CoreError::NotFound`] for an unknown household.
    ///
    /// A household moved to another area takes its residents, their sensitive records and its
    /// visits along, in the same all-or-nothing write: records move as wholes, so a phone that
    /// receives the household also receives what its due dates and ledgers are derived from.
    pub fn update(&mut self, id: Uuid, input: HouseholdInput) -> Result<()> {
        let input = input.validated()?;
        let before = self.get(id)?.map(|h| h.area);
        if before.is_none_or(|a| a == input.area) {
            self.store.write_doc(id, RecordKind::Household, None, "update_household", |d, _| {
                input.write(d)
            })?;
            return Ok(());
        }
        let dependents = self.household_dependents(id)?;
        self.store.all_or_nothing(|s| {
            s.write_doc(id, RecordKind::Household, None, "update_household", |d, _| {
                input.write(d)
            })?;
            for (kind, dep) in &dependents {
                s.write_doc(*dep, *kind, None, "move_with_household", |d, _| {
                    crate::doc::put(d, crate::doc::common::AREA, input.area.as_str()).map(|_| ())
                })?;
            }
            Ok(())
        })
    }

    /// The residents, sensitive records and visits of household `id` on this device.
    fn household_dependents(&self, id: Uuid) -> Result<Vec<(RecordKind, Uuid)>> {
        let mut out = Vec::new();
        for (kind, table) in [
            (RecordKind::Resident, "resident"),
            (RecordKind::Sensitive, "sensitive"),
            (RecordKind::Visit, "visit"),
        ] {
            // Table names come from the list above, never from input.
            let sql = format!("SELECT id FROM {table} WHERE household_id = ?1 ORDER BY id");
            let mut stmt = self.store.conn().prepare_cached(&sql)?;
            let ids = stmt.query_map([id.as_bytes()], |r| r.get::<_, Uuid>(0))?;
            for dep in ids {
                out.push((kind, dep?));
            }
        }
        Ok(out)
    }
}
