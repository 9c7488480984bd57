//! Recording a visit on the device.

use uuid::Uuid;

use super::*;
use crate::doc;
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
            doc::put(d, field::HOUSEHOLD, input.household_id.to_string())?;
            doc::put(d, field::VISITOR, user.user_id.as_str())?;
            doc::put(
                d,
                field::VISITED_AT,
                automerge::ScalarValue::Timestamp(input.visited_at.timestamp_millis()),
            )?;
            doc::put(d, field::KIND, input.kind.as_str())?;
            doc::put(d, field::OUTCOME, input.outcome.as_str())?;
            if !input.situation.is_empty() {
                doc::put(d, field::SITUATION, input.situation.as_str())?;
            }
            if !input.needs.is_empty() {
                doc::put(d, field::NEEDS, input.needs.as_str())?;
            }
            doc::put_opt(d, field::SATISFACTION, input.satisfaction.map(i64::from))?;
            doc::put_opt(d, field::KNOWS_WORKER, input.knows_worker)?;
            doc::put_opt(
                d,
                field::FOLLOW_UP_DUE,
                input
                    .follow_up_due
                    .map(|t| automerge::ScalarValue::Timestamp(t.timestamp_millis())),
            )?;
            if let Some(l) = input.location {
                l.put_in(d, &automerge::ROOT)?;
            }
            doc::put_opt(d, field::INCIDENT, input.incident_id.map(|u| u.to_string()))?;
            doc::put_opt(d, field::TASK, input.task_id.map(|u| u.to_string()))?;
            PhotoRef::append_all(d, field::PHOTOS, &input.photos)
        })?;
        Ok(id)
    }
}
