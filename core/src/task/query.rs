//! Reading tasks: one whole, the list of an area, progress and linked records.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Tasks;

use super::{Task, TaskSpec};
use crate::area::AreaPath;
use crate::error::{CoreError, Result};
use crate::household::area_clause;
use crate::time::opt_ms_to_time;

/// A task as lists show it (from the projection).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    /// Record id.
    pub id: Uuid,
    /// Target area.
    pub area: AreaPath,
    /// Title.
    pub title: String,
    /// User id of the issuer.
    pub issued_by: String,
    /// User id of the assignee, if any.
    pub assignee: Option<String>,
    /// Deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// Number of target households named (0: the whole area).
    pub targets: u32,
    /// When it was completed; `None` while open.
    pub completed_at: Option<DateTime<Utc>>,
    /// For a task issued for a wider area: when the listed area completed its part (a grid's
    /// part of a town-wide task).
    pub completed_here: Option<DateTime<Utc>>,
}

/// How far a task has got, derived from the visits linked to it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// Target households: those named, or every live household of the area when none are.
    pub targets: u32,
    /// Target households met in a visit linked to the task.
    pub visited: u32,
    /// Live visits linked to the task (any outcome).
    pub visits: u32,
    /// Live patrols linked to the task.
    pub patrols: u32,
}

impl TaskProgress {
    /// `visited / targets` in 0..=1 (1 for a task with no targets).
    pub fn ratio(&self) -> f64 {
        if self.targets == 0 { 1.0 } else { f64::from(self.visited) / f64::from(self.targets) }
    }
}

/// The records that carry a task out.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskRecords {
    /// Linked visits, newest first.
    pub visits: Vec<Uuid>,
    /// Linked patrols, newest first.
    pub patrols: Vec<Uuid>,
}

fn summary(r: &Row<'_>) -> rusqlite::Result<TaskSummary> {
    Ok(TaskSummary {
        id: r.get(0)?,
        area: r.get(1)?,
        title: r.get(2)?,
        issued_by: r.get(3)?,
        assignee: r.get(4)?,
        due_at: opt_ms_to_time(r.get(5)?),
        targets: r.get(6)?,
        completed_at: opt_ms_to_time(r.get(7)?),
        completed_here: opt_ms_to_time(r.get(8)?),
    })
}

impl Tasks<'_> {
    /// The whole task with this id (also when deleted; see [`Task::deleted`]).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when unknown; [`CoreError::Invalid`] if its stored area is
    /// malformed; storage errors.
    pub fn get(&mut self, id: Uuid) -> Result<Task> {
        self.store.read_record::<TaskSpec>(id)
    }

    /// Live tasks that concern `area`: those whose target area lies inside it and those whose
    /// target area contains it (a town-wide task concerns every grid of the town). Open tasks
    /// first, by due date (tasks without one last), then completed ones, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn in_area(&self, area: &AreaPath, limit: u32) -> Result<Vec<TaskSummary>> {
        let sql = format!(
            "SELECT id, area, title, issued_by, assignee, due_at, targets, completed_at,
                    (SELECT p.completed_at FROM task_area_progress p
                      WHERE p.task_id = task.id AND p.area = ?1) AS here
             FROM task
             WHERE deleted = 0
               AND ({} OR ?1 = area OR substr(?1, 1, length(area) + 1) = area || '/')
             ORDER BY coalesce(completed_at, here) IS NOT NULL, due_at IS NULL, due_at,
                      completed_at DESC, issued_at, id
             LIMIT ?2",
            area_clause("area", 1)
        );
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str(), limit], summary)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A task's progress, derived from the visit and patrol projections: target households met
    /// in a visit linked to the task, out of the targets.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown task; storage errors.
    pub fn progress(&self, id: Uuid) -> Result<TaskProgress> {
        let c = self.store.conn();
        let row: Option<(String, u32)> = rusqlite::OptionalExtension::optional(
            c.prepare_cached("SELECT area, targets FROM task WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
        )?;
        let Some((area, named)) = row else {
            return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
        };
        let (targets, visited): (u32, u32) = if named > 0 {
            c.prepare_cached(
                "SELECT count(*), count(*) FILTER (WHERE EXISTS (
                     SELECT 1 FROM visit v WHERE v.task_id = th.task_id
                       AND v.household_id = th.household_id AND v.outcome = 'met'
                       AND v.deleted = 0))
                 FROM task_household th WHERE th.task_id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        } else {
            let sql = format!(
                "SELECT count(*), count(*) FILTER (WHERE EXISTS (
                     SELECT 1 FROM visit v WHERE v.task_id = ?2 AND v.household_id = h.id
                       AND v.outcome = 'met' AND v.deleted = 0))
                 FROM household h WHERE h.deleted = 0 AND {}",
                area_clause("h.area", 1)
            );
            c.prepare_cached(&sql)?.query_row(params![area, id], |r| Ok((r.get(0)?, r.get(1)?)))?
        };
        let visits: u32 = c
            .prepare_cached("SELECT count(*) FROM visit WHERE task_id = ?1 AND deleted = 0")?
            .query_row([id], |r| r.get(0))?;
        let patrols: u32 = c
            .prepare_cached("SELECT count(*) FROM patrol WHERE task_id = ?1 AND deleted = 0")?
            .query_row([id], |r| r.get(0))?;
        Ok(TaskProgress { targets, visited, visits, patrols })
    }

    /// The live visits and patrols linked to a task, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn records(&self, id: Uuid) -> Result<TaskRecords> {
        let c = self.store.conn();
        let visits = c
            .prepare_cached(
                "SELECT id FROM visit WHERE task_id = ?1 AND deleted = 0 ORDER BY visited_at DESC, id",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let patrols = c
            .prepare_cached(
                "SELECT id FROM patrol WHERE task_id = ?1 AND deleted = 0 ORDER BY started_at DESC, id",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(TaskRecords { visits, patrols })
    }
}
