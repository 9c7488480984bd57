//! Task alerts: open tasks for the user's areas due within a day, or overdue. A task assigned
//! to someone else does not alert; a task issued for a wider area alerts until this area's part
//! is done.

use chrono::{DateTime, Utc};

use super::{Alert, AlertKind, TASK_DUE_SOON_HOURS};
use crate::error::Result;
use crate::kind::RecordKind;
use crate::store::{SignedInUser, Store};

/// Most tasks one alert list looks at.
const MAX_TASKS: u32 = 500;

/// The task alerts of `user` at `now`.
pub(super) fn alerts(
    store: &mut Store,
    user: &SignedInUser,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>> {
    let soon = now + chrono::Duration::hours(TASK_DUE_SOON_HOURS);
    let mut out = Vec::new();
    for t in store.tasks().in_area(&user.scope, MAX_TASKS)? {
        let done = t.completed_at.is_some() || t.completed_here.is_some();
        let others = t.assignee.as_deref().is_some_and(|a| a != user.user_id);
        let Some(due) = t.due_at.filter(|_| !done && !others) else { continue };
        let key = format!("{}:{}", t.id, due.timestamp_millis());
        let (kind, text) = if due < now {
            (AlertKind::TaskOverdue, format!("Task \"{}\" is past its due date", t.title))
        } else if due <= soon {
            (AlertKind::TaskDueSoon, format!("Task \"{}\" is due within a day", t.title))
        } else {
            continue;
        };
        out.push(Alert::new(kind, &key, RecordKind::Task, t.id, &t.title, due, text));
    }
    Ok(out)
}
