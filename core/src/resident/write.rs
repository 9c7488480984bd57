//! Recording and editing residents on the device.

use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::*;
use crate::kind::RecordKind;
use crate::store::Store;

impl Store {
    /// The area of household `id`, which must exist on this device and not be deleted: residents
    /// (and their sensitive data, and task targets) belong to a live household.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] naming `household`; storage errors.
    pub(crate) fn live_household_area(&self, id: Uuid) -> Result<AreaPath> {
        let row: Option<(String, bool)> = self
            .conn()
            .prepare_cached("SELECT area, deleted FROM household WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            Some((area, false)) => AreaPath::parse(&area),
            _ => Err(CoreError::NotFound { kind: "household".into(), id: id.to_string() }),
        }
    }

    /// Records a new resident of a household and returns the resident's id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field (`name`, `birth_year`, `phone`);
    /// [`CoreError::NotFound`] for an unknown or deleted household; [`CoreError::NotSignedIn`];
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn add_resident(&mut self, input: ResidentInput) -> Result<Uuid> {
        let input = input.validated()?;
        let area = self.live_household_area(input.household_id)?;
        let id = Uuid::now_v7();
        self.write_doc(id, RecordKind::Resident, Some(&area), "add_resident", |d, _| {
            input.write(d, &area)
        })?;
        Ok(id)
    }

    /// Edits a resident: only the fields that differ are written, so two people editing
    /// different fields offline both keep their edit. Giving another household moves the
    /// resident there (and into its area).
    ///
    /// # Errors
    /// As [`Store::add_resident`], and [`CoreError::NotFound`] for an unknown or deleted
    /// resident.
    pub fn update_resident(&mut self, id: Uuid, input: ResidentInput) -> Result<()> {
        let input = input.validated()?;
        let area = self.live_household_area(input.household_id)?;
        self.write_doc(id, RecordKind::Resident, None, "update_resident", |d, _| {
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
    pub fn delete_resident(&mut self, id: Uuid) -> Result<()> {
        self.delete_record(RecordKind::Resident, id)
    }
}
