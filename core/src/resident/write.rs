//! Recording and editing residents on the device.

use uuid::Uuid;

use super::*;
use crate::kind::RecordKind;
use crate::store::Store;

/// The device store's operations on residents: add, edit, delete, read. Made by [`Store::residents`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct Residents<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on residents: add, edit, delete, read.
    pub fn residents(&mut self) -> Residents<'_> {
        Residents { store: self }
    }
}

impl Residents<'_> {
    /// Records a new resident of a household and returns the resident's id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field (`name`, `birth_year`, `phone`);
    /// [`CoreError::NotFound`] for an unknown or deleted household; [`CoreError::NotSignedIn`];
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn add(&mut self, input: ResidentInput) -> Result<Uuid> {
        let input = input.validated()?;
        let area = self.store.live_household_area(input.household_id)?;
        let id = Uuid::now_v7();
        self.store.write_doc(id, RecordKind::Resident, Some(&area), "add_resident", |d, _| {
            input.write(d, &area)
        })?;
        Ok(id)
    }

    /// Edits a resident: only the fields that differ are written, so two people editing
    /// different fields offline both keep their edit. Giving another household moves the
    /// resident there (and into its area).
    ///
    /// # Errors
    /// As [`Residents::add`](crate::resident::Residents::add), and [`CoreError::NotFound`] for an unknown or deleted
    /// resident.
    pub fn update(&mut self, id: Uuid, input: ResidentInput) -> Result<()> {
        let input = input.validated()?;
        let area = self.store.live_household_area(input.household_id)?;
        self.store.write_doc(id, RecordKind::Resident, None, "update_resident", |d, _| {
            if doc::get_bool(d, doc::common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "resident".into(), id: id.to_string() });
            }
            input.write(d, &area)
        })?;
        Ok(())
    }

    /// Deletes a resident (a CRDT tombstone that syncs like any edit, DESIGN §2). The resident's
    /// sensitive record, if any, stops counting for the household's visit interval at once on
    /// every device, whether or not the device may read it.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown resident; [`CoreError::NotSignedIn`];
    /// [`CoreError::OutOfScope`]; storage errors.
    pub fn delete(&mut self, id: Uuid) -> Result<()> {
        self.store.delete_record(RecordKind::Resident, id)
    }
}
