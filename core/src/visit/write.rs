//! Recording a visit on the device.

use uuid::Uuid;

use super::*;
use crate::kind::RecordKind;
use crate::store::Store;

impl Store {
    /// Records a visit to a household; the household's last visit and next due date follow.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field; [`CoreError::NotFound`] for an unknown or
    /// deleted household; [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`]. Nothing is
    /// written on error.
    pub fn record_visit(&mut self, input: VisitInput) -> Result<Uuid> {
        input.validate()?;
        let household = self.household(input.household_id)?.ok_or_else(|| CoreError::NotFound {
            kind: "household".into(),
            id: input.household_id.to_string(),
        })?;
        let id = Uuid::now_v7();
        self.write_doc(id, RecordKind::Visit, Some(&household.area), "record_visit", |d, user| {
            input.write_new(d, &user.user_id)
        })?;
        Ok(id)
    }
}
