//! Recording a visit on the device.

use uuid::Uuid;

use super::*;
use crate::kind::RecordKind;
use crate::store::Store;

/// The device store's operations on household visits: record, edit, read. Made by [`Store::visits`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct Visits<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on household visits: record, edit, read.
    pub fn visits(&mut self) -> Visits<'_> {
        Visits { store: self }
    }
}

impl Visits<'_> {
    /// Records a visit to a household; the household's last visit and next due date follow.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field; [`CoreError::NotFound`] for an unknown or
    /// deleted household; [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`]. Nothing is
    /// written on error.
    pub fn record(&mut self, input: VisitInput) -> Result<Uuid> {
        input.validate()?;
        let household = self.store.households().get(input.household_id)?.ok_or_else(|| {
            CoreError::NotFound { kind: "household".into(), id: input.household_id.to_string() }
        })?;
        let id = Uuid::now_v7();
        self.store.write_doc(
            id,
            RecordKind::Visit,
            Some(&household.area),
            "record_visit",
            |d, user| input.write_new(d, &user.user_id),
        )?;
        Ok(id)
    }
}
