//! Tasks from a command centre (任务): e.g. "visit every elderly person living alone in grid 03
//! before Friday". A task names a target area and, optionally, target households; workers carry
//! it out by recording visits and patrols that link to it (`task_id`), and the assignee completes
//! it with a result note. Progress is derived from the visits, never typed in.

mod projection;
mod query;

use automerge::ScalarValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use projection::project;
pub use query::{Task, TaskProgress, TaskRecords, TaskSummary};

use crate::area::{AreaPath, path_contains};
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::role::Role;
use crate::store::{SignedInUser, Store};
use crate::validate;

/// Most target households one task may name.
pub const MAX_TASK_HOUSEHOLDS: usize = 2000;

/// Document field names of a task.
pub(crate) mod field {
    pub const TITLE: &str = "title";
    pub const INSTRUCTIONS: &str = "instructions";
    pub const HOUSEHOLDS: &str = "households";
    pub const DUE_AT: &str = "due_at";
    pub const ISSUED_BY: &str = "issued_by";
    pub const ASSIGNEE: &str = "assignee";
    pub const COMPLETED_AT: &str = "completed_at";
    pub const COMPLETED_BY: &str = "completed_by";
    pub const RESULT: &str = "result";
}

/// What a command centre (or grid head) enters for a task.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInput {
    /// The target area: the task concerns this area and everything inside it.
    pub area: AreaPath,
    /// Short title, required, at most [`validate::TITLE_MAX`] characters.
    pub title: String,
    /// What to do, at most [`validate::NOTE_MAX`] characters.
    pub instructions: String,
    /// Target households (inside `area`); empty means every household of the area.
    pub households: Vec<Uuid>,
    /// Deadline, if any.
    pub due_at: Option<DateTime<Utc>>,
    /// User id of the person who is to carry it out; `None`: whoever works in the area.
    pub assignee: Option<String>,
}

/// Roles that may issue, edit and delete tasks.
fn may_issue(role: Role) -> bool {
    matches!(role, Role::DistrictCentre | Role::TownOperator | Role::GridHead)
}

impl TaskInput {
    fn validated(mut self) -> Result<Self> {
        self.title = validate::max_len(
            "title",
            validate::required("title", &self.title)?,
            validate::TITLE_MAX,
        )?
        .to_owned();
        self.instructions =
            validate::max_len("instructions", self.instructions.trim(), validate::NOTE_MAX)?
                .to_owned();
        self.assignee = match self.assignee.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(validate::max_len("assignee", a, validate::NAME_MAX)?.to_owned()),
        };
        self.households.sort();
        self.households.dedup();
        if self.households.len() > MAX_TASK_HOUSEHOLDS {
            return Err(CoreError::invalid(
                "households",
                format!("at most {MAX_TASK_HOUSEHOLDS} target households per task"),
            ));
        }
        Ok(self)
    }
}

impl Store {
    /// The signed-in user, if their role may issue tasks.
    fn require_issuer(&self, action: &str) -> Result<SignedInUser> {
        let user = self.require_user()?;
        if !may_issue(user.role) {
            return Err(CoreError::Forbidden { action: format!("{action} as {}", user.role) });
        }
        Ok(user.clone())
    }

    /// Checks every household is live on this device and inside `area`.
    fn check_targets(&self, area: &AreaPath, households: &[Uuid]) -> Result<()> {
        for h in households {
            let at = self.live_household_area(*h)?;
            if !path_contains(area.as_str(), at.as_str()) {
                return Err(CoreError::invalid(
                    "households",
                    format!("household {h} lies in {at}, outside the task's area {area}"),
                ));
            }
        }
        Ok(())
    }

    /// Issues a task and returns its id.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless the signed-in role is district centre, town operator or
    /// grid head; [`CoreError::Invalid`] naming `title`, `instructions`, `assignee` or
    /// `households` (too many, or outside the area); [`CoreError::NotFound`] for an unknown area
    /// or target household; [`CoreError::OutOfScope`]; [`CoreError::NotSignedIn`]. Nothing is
    /// written on error.
    pub fn create_task(&mut self, input: TaskInput) -> Result<Uuid> {
        self.require_issuer("issue a task")?;
        let input = input.validated()?;
        self.check_targets(&input.area, &input.households)?;
        let id = Uuid::now_v7();
        let area = input.area.clone();
        self.write_doc(id, RecordKind::Task, Some(&area), "create_task", |d, user| {
            doc::put(d, field::ISSUED_BY, user.user_id.as_str())?;
            write_input(d, &input)
        })?;
        Ok(id)
    }

    /// Edits a task. Only what differs is written; target households another issuer added
    /// concurrently (and this device has not seen yet) are kept, since the targets are a set
    /// that merges additions.
    ///
    /// # Errors
    /// As [`Store::create_task`], and [`CoreError::NotFound`] for an unknown or deleted task.
    pub fn update_task(&mut self, id: Uuid, input: TaskInput) -> Result<()> {
        self.require_issuer("edit a task")?;
        let input = input.validated()?;
        self.check_targets(&input.area, &input.households)?;
        self.write_doc(id, RecordKind::Task, None, "update_task", |d, _| {
            if doc::get_bool(d, common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
            }
            write_input(d, &input)
        })?;
        Ok(())
    }

    /// Adds target households to a task, keeping the others.
    ///
    /// # Errors
    /// As [`Store::update_task`].
    pub fn add_task_households(&mut self, id: Uuid, households: &[Uuid]) -> Result<()> {
        self.require_issuer("edit a task")?;
        let task = self.task(id)?;
        let mut all = task.households.clone();
        all.extend_from_slice(households);
        all.sort();
        all.dedup();
        if all.len() > MAX_TASK_HOUSEHOLDS {
            return Err(CoreError::invalid(
                "households",
                format!("at most {MAX_TASK_HOUSEHOLDS} target households per task"),
            ));
        }
        self.check_targets(&task.area, households)?;
        self.write_doc(id, RecordKind::Task, None, "add_task_households", |d, _| {
            let set = doc::obj(d, field::HOUSEHOLDS, automerge::ObjType::Map)?;
            for h in households {
                doc::put_in(d, &set, &h.to_string(), true)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Completes a task with a result note (办结情况), as its assignee.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when the task has an assignee and it is someone else, or the
    /// role does no field work (sync admin, department handler); [`CoreError::Invalid`] naming
    /// `result` (over [`validate::NOTE_MAX`] characters) or `completed_at` (already completed);
    /// [`CoreError::NotFound`] for an unknown or deleted task; [`CoreError::NotSignedIn`];
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn complete_task(&mut self, id: Uuid, result: &str) -> Result<()> {
        let result = validate::max_len("result", result.trim(), validate::NOTE_MAX)?.to_owned();
        let user = self.require_user()?.clone();
        if matches!(user.role, Role::SyncAdmin | Role::DepartmentHandler) {
            return Err(CoreError::Forbidden {
                action: format!("complete a task as {}", user.role),
            });
        }
        let now = Utc::now().timestamp_millis();
        self.write_doc(id, RecordKind::Task, None, "complete_task", |d, user| {
            if doc::get_bool(d, common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
            }
            if let Some(a) = doc::get_str(d, field::ASSIGNEE)
                && a != user.user_id
            {
                return Err(CoreError::Forbidden {
                    action: format!("complete a task assigned to {a}"),
                });
            }
            if doc::get_i64(d, field::COMPLETED_AT).is_some() {
                return Err(CoreError::invalid("completed_at", "the task is already completed"));
            }
            doc::put(d, field::COMPLETED_AT, ScalarValue::Timestamp(now))?;
            doc::put(d, field::COMPLETED_BY, user.user_id.as_str())?;
            doc::put_opt(d, field::RESULT, (!result.is_empty()).then_some(result.as_str()))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Deletes a task (tombstone, DESIGN §2); linked visits and patrols stay.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless the role may issue tasks; [`CoreError::NotFound`];
    /// [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`].
    pub fn delete_task(&mut self, id: Uuid) -> Result<()> {
        self.require_issuer("delete a task")?;
        self.delete_record(RecordKind::Task, id)
    }
}

/// Writes the editable fields of a task.
fn write_input(d: &mut automerge::AutoCommit, input: &TaskInput) -> Result<()> {
    doc::put(d, common::AREA, input.area.as_str())?;
    doc::put(d, field::TITLE, input.title.as_str())?;
    doc::put_opt(
        d,
        field::INSTRUCTIONS,
        (!input.instructions.is_empty()).then_some(input.instructions.as_str()),
    )?;
    doc::put_opt(
        d,
        field::DUE_AT,
        input.due_at.map(|t| ScalarValue::Timestamp(t.timestamp_millis())),
    )?;
    doc::put_opt(d, field::ASSIGNEE, input.assignee.as_deref())?;
    let members: Vec<String> = input.households.iter().map(Uuid::to_string).collect();
    doc::set_set(d, field::HOUSEHOLDS, &members)
}
