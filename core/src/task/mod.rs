//! Tasks from a command centre (任务): e.g. "visit every elderly person living alone in grid 03
//! before Friday". A task names a target area and, optionally, target households; workers carry
//! it out by recording visits and patrols that link to it (`task_id`), and the assignee completes
//! it with a result note. Progress is derived from the visits, never typed in.

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::Tasks;

use automerge::ScalarValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use decode::{Task, TaskSpec};
#[cfg(feature = "store")]
pub use query::{TaskProgress, TaskRecords, TaskSummary};

use crate::area::AreaPath;
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::role::Role;
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

/// Root keys of a task document holding one sub-area's completion of a task issued for a wider
/// area (a grid's part of a town-wide task): `progress.<area path>.<part>`. Flat root keys, so
/// that grids completing their parts concurrently never touch the same field, and so that the
/// server can check from a change alone that a sub-area wrote only its own part.
pub mod progress {
    use crate::area::AreaPath;

    /// The prefix of every progress key.
    pub const PREFIX: &str = "progress.";
    /// When the sub-area completed its part (timestamp).
    pub const COMPLETED_AT: &str = "completed_at";
    /// Who completed it (user id).
    pub const COMPLETED_BY: &str = "completed_by";
    /// The result note.
    pub const RESULT: &str = "result";

    /// The root key of `part` of `area`'s progress.
    pub fn key(area: &AreaPath, part: &str) -> String {
        format!("{PREFIX}{area}.{part}")
    }

    /// The sub-area and part a root key holds, if it is a progress key.
    pub fn parse(key: &str) -> Option<(AreaPath, &str)> {
        let rest = key.strip_prefix(PREFIX)?;
        let (area, part) = rest.rsplit_once('.')?;
        Some((AreaPath::parse(area).ok()?, part))
    }
}

/// One sub-area's completion of a task issued for a wider area.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaProgress {
    /// The sub-area (a grid of a town-wide task).
    pub area: AreaPath,
    /// When it completed its part.
    pub completed_at: DateTime<Utc>,
    /// Who completed it.
    pub completed_by: String,
    /// The result note.
    pub result: String,
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

/// Whether `role` may issue, edit and delete tasks.
pub fn may_issue(role: Role) -> bool {
    matches!(role, Role::DistrictCentre | Role::TownOperator | Role::GridHead)
}

impl TaskInput {
    /// Validates and normalises the input (the device's store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
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

impl TaskInput {
    /// Writes a new task, issued by `issued_by`, into its document (a document builder: the
    /// device's store and the server both issue tasks with it).
    ///
    /// # Errors
    /// Document errors.
    pub fn write_new(&self, d: &mut automerge::AutoCommit, issued_by: &str) -> Result<()> {
        doc::put(d, field::ISSUED_BY, issued_by)?;
        write_input(d, self)
    }
}

/// Writes the editable fields of a task into its document (a document builder: the device's
/// store and the server issue tasks with it).
///
/// # Errors
/// Document errors.
pub fn write_input(d: &mut automerge::AutoCommit, input: &TaskInput) -> Result<()> {
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
