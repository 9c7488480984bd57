//! Household visits (入户走访): who visited whom, when, what was found, what the household needs,
//! how satisfied they are. Visits feed the household's next due date, the visit ledger and the
//! "two rates" (satisfaction, awareness).

mod decode;
#[cfg(feature = "store")]
mod edit;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::Visits;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::attachment::PhotoRef;
pub use decode::{Visit, VisitSpec};

use crate::code_enum;
use crate::doc;
use crate::error::{CoreError, Result};
use crate::location::Location;
use crate::validate;

code_enum! {
    /// Why the visit was made.
    pub enum VisitKind ("visit_kind") {
        /// 常规走访: a visit the interval calls for.
        Routine = "routine",
        /// 回访: following up something raised before.
        FollowUp = "follow_up",
        /// 任务走访: part of a command-centre task.
        Task = "task",
    }
}

code_enum! {
    /// What happened at the door.
    pub enum VisitOutcome ("outcome") {
        /// 见面: the household was met; counts as visited.
        Met = "met",
        /// 不在家: nobody home; the visit is still due.
        NotHome = "not_home",
        /// 拒访: the household refused.
        Refused = "refused",
    }
}

/// Document field names of a visit.
pub(crate) mod field {
    pub const HOUSEHOLD: &str = "household_id";
    pub const VISITOR: &str = "visitor";
    pub const VISITED_AT: &str = "visited_at";
    pub const KIND: &str = "visit_kind";
    pub const OUTCOME: &str = "outcome";
    pub const SITUATION: &str = "situation";
    pub const NEEDS: &str = "needs";
    pub const SATISFACTION: &str = "satisfaction";
    pub const KNOWS_WORKER: &str = "knows_worker";
    pub const FOLLOW_UP_DUE: &str = "follow_up_due";
    pub const PHOTOS: &str = "photos";
    pub const INCIDENT: &str = "incident_id";
    pub const TASK: &str = "task_id";
}

/// What a worker records for a visit.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitInput {
    /// The household visited.
    pub household_id: Uuid,
    /// When (device clock).
    pub visited_at: DateTime<Utc>,
    /// Why.
    pub kind: VisitKind,
    /// What happened.
    pub outcome: VisitOutcome,
    /// The situation found (家庭情况).
    pub situation: String,
    /// Needs raised by the household (诉求).
    pub needs: String,
    /// Resident satisfaction 1–5 (满意度), when asked.
    pub satisfaction: Option<u8>,
    /// Whether the resident knows their grid worker (知晓率), when asked.
    pub knows_worker: Option<bool>,
    /// When to follow up, if something needs it.
    pub follow_up_due: Option<DateTime<Utc>>,
    /// Photos taken.
    pub photos: Vec<PhotoRef>,
    /// Where the visit was recorded.
    pub location: Option<Location>,
    /// The incident reported from this visit, if any.
    pub incident_id: Option<Uuid>,
    /// The task this visit carries out, if any.
    pub task_id: Option<Uuid>,
}

impl VisitInput {
    /// A routine visit to `household_id` at `visited_at` with `outcome` and nothing else filled
    /// in: the form a worker starts from (set the situation, satisfaction… on the result).
    pub fn routine(household_id: Uuid, visited_at: DateTime<Utc>, outcome: VisitOutcome) -> Self {
        VisitInput {
            household_id,
            visited_at,
            kind: VisitKind::Routine,
            outcome,
            situation: String::new(),
            needs: String::new(),
            satisfaction: None,
            knows_worker: None,
            follow_up_due: None,
            photos: vec![],
            location: None,
            incident_id: None,
            task_id: None,
        }
    }

    /// Writes the visit, made by `visitor`, into its new document (a document builder: the
    /// device's store and the server's demo both record visits with it).
    ///
    /// # Errors
    /// Document errors.
    pub fn write_new(&self, d: &mut automerge::AutoCommit, visitor: &str) -> Result<()> {
        doc::put(d, field::HOUSEHOLD, self.household_id.to_string())?;
        doc::put(d, field::VISITOR, visitor)?;
        doc::put(
            d,
            field::VISITED_AT,
            automerge::ScalarValue::Timestamp(self.visited_at.timestamp_millis()),
        )?;
        doc::put(d, field::KIND, self.kind.as_str())?;
        doc::put(d, field::OUTCOME, self.outcome.as_str())?;
        if !self.situation.is_empty() {
            doc::put(d, field::SITUATION, self.situation.as_str())?;
        }
        if !self.needs.is_empty() {
            doc::put(d, field::NEEDS, self.needs.as_str())?;
        }
        doc::put_opt(d, field::SATISFACTION, self.satisfaction.map(i64::from))?;
        doc::put_opt(d, field::KNOWS_WORKER, self.knows_worker)?;
        doc::put_opt(
            d,
            field::FOLLOW_UP_DUE,
            self.follow_up_due.map(|t| automerge::ScalarValue::Timestamp(t.timestamp_millis())),
        )?;
        if let Some(l) = self.location {
            l.put_in(d, &automerge::ROOT)?;
        }
        doc::put_opt(d, field::INCIDENT, self.incident_id.map(|u| u.to_string()))?;
        doc::put_opt(d, field::TASK, self.task_id.map(|u| u.to_string()))?;
        // The photo list exists from the start, so photos two phones add later (editing the
        // visit offline) merge into one list instead of competing lists.
        doc::obj(d, field::PHOTOS, automerge::ObjType::List)?;
        PhotoRef::append_all(d, field::PHOTOS, &self.photos)
    }

    /// Checks the input (the device's store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        validate::max_len("situation", &self.situation, validate::NOTE_MAX)?;
        validate::max_len("needs", &self.needs, validate::NOTE_MAX)?;
        if let Some(s) = self.satisfaction {
            validate::satisfaction(s)?;
        }
        if let Some(l) = &self.location {
            l.validate()?;
        }
        crate::attachment::validate_photos(&self.photos, "visit")?;
        if let Some(f) = self.follow_up_due
            && f < self.visited_at
        {
            return Err(CoreError::invalid("follow_up_due", "is before the visit"));
        }
        Ok(())
    }
}
