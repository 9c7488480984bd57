//! "My day" (今日工作): what the signed-in worker has done today and what waits for them — the
//! phone's home screen, read entirely from projections.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::area::AreaPath;
use crate::error::Result;
use crate::household::{DueVisit, area_clause};
use crate::patrol::PatrolSummary;
use crate::store::Store;
use crate::task::TaskSummary;
use crate::work_order::WorkOrderRow;

/// The worker's day at a glance.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyDay {
    /// The user the day belongs to.
    pub user_id: String,
    /// The area the user works in.
    pub scope: AreaPath,
    /// Visits recorded by the user within the day.
    pub visits_today: u32,
    /// Of those, visits where the household was met.
    pub households_met_today: u32,
    /// Patrols the user started within the day.
    pub patrols_today: Vec<PatrolSummary>,
    /// How many households in the scope are due for a visit now.
    pub due_visit_count: u32,
    /// The most overdue of them (up to 20).
    pub due_visits: Vec<DueVisit>,
    /// Open work orders in the scope, overdue first (up to 20).
    pub open_work_orders: Vec<WorkOrderRow>,
    /// How many open work orders are past their deadline.
    pub overdue_work_orders: u32,
    /// Open tasks for the scope (up to 20).
    pub open_tasks: Vec<TaskSummary>,
    /// Changes recorded here and not yet sent to the server.
    pub pending_changes: u64,
}

impl Store {
    /// The signed-in user's day: `[day_start, day_start + 24 h)`, judged at `now`.
    ///
    /// # Errors
    /// [`crate::CoreError::NotSignedIn`]; storage errors.
    pub fn my_day(&mut self, day_start: DateTime<Utc>, now: DateTime<Utc>) -> Result<MyDay> {
        let user = self.require_user()?.clone();
        let day_end = day_start + chrono::Duration::days(1);
        let (visits, met): (i64, i64) = self
            .conn()
            .prepare_cached(
                "SELECT count(*), coalesce(sum(outcome = 'met'), 0) FROM visit
                 WHERE visitor = ?1 AND visited_at >= ?2 AND visited_at < ?3 AND deleted = 0",
            )?
            .query_row(
                params![user.user_id, day_start.timestamp_millis(), day_end.timestamp_millis()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        let due_count: i64 = self
            .conn()
            .prepare_cached(&format!(
                "SELECT count(*) FROM household WHERE deleted = 0 AND next_due_at <= ?2 AND {}",
                area_clause("area", 1)
            ))?
            .query_row(params![user.scope.as_str(), now.timestamp_millis()], |r| r.get(0))?;
        let open = self.work_orders().open(&user.scope, now, u32::MAX)?;
        let overdue = open.iter().filter(|w| w.overdue).count();
        let mut tasks = self.tasks().in_area(&user.scope, 50)?;
        tasks.retain(|t| t.completed_at.is_none());
        tasks.truncate(20);
        Ok(MyDay {
            patrols_today: self.patrols().of_worker(&user.user_id, day_start, day_end)?,
            due_visits: self.households().due(&user.scope, now, 20)?,
            open_work_orders: open.into_iter().take(20).collect(),
            overdue_work_orders: overdue as u32,
            open_tasks: tasks,
            pending_changes: self.outbox_len()?,
            visits_today: visits as u32,
            households_met_today: met as u32,
            due_visit_count: due_count as u32,
            user_id: user.user_id,
            scope: user.scope,
        })
    }
}
