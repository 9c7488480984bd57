//! `task list` and `task complete`: the tasks that concern the user's areas, with their due date
//! and how far this area has got, and completing one (or this grid's part of a wider one).

use chrono::Utc;
use gridwork_core::{AreaPath, Store, TaskSummary};
use serde_json::{Value, json};
use uuid::Uuid;

use super::to_json;
use crate::error::CliError;
use crate::names::{Names, local, local_opt};
use crate::output::Reply;
use crate::table::{Table, fields};

/// Tasks that concern `area`, open first by due date, each with its progress here.
///
/// # Errors
/// Storage errors.
pub fn list(store: &mut Store, area: &AreaPath) -> Result<Reply, CliError> {
    let rows = store.tasks().in_area(area, 500)?;
    let progress =
        rows.iter().map(|t| store.tasks().progress(t.id)).collect::<Result<Vec<_>, _>>()?;
    let now = Utc::now();
    let names = Names::new(store);
    let mut json = Vec::with_capacity(rows.len());
    let mut table = Table::new(&["DUE", "STATUS", "TITLE", "AREA", "VISITED", "ID"]);
    for (t, progress) in rows.iter().zip(progress) {
        let status = status(t, now);
        let mut v = to_json(t);
        v["area_name"] = json!(names.area(&t.area));
        v["issued_by_name"] = json!(names.person_known(&t.issued_by));
        v["status"] = json!(status);
        v["progress"] = to_json(&progress);
        json.push(v);
        table.row(vec![
            local_opt(t.due_at),
            status.to_owned(),
            t.title.clone(),
            names.area(&t.area),
            format!("{}/{}", progress.visited, progress.targets),
            t.id.to_string(),
        ]);
    }
    Ok(Reply::text(Value::Array(json), table.render_or("No tasks.")))
}

/// `done` when the task (or this area's part of it) is completed, `overdue` when past due,
/// else `open`.
fn status(t: &TaskSummary, now: chrono::DateTime<Utc>) -> &'static str {
    if t.completed_at.is_some() || t.completed_here.is_some() {
        "done"
    } else if t.due_at.is_some_and(|d| d < now) {
        "overdue"
    } else {
        "open"
    }
}

/// Completes a task as the signed-in user and shows it.
///
/// # Errors
/// The core's refusal: [`gridwork_core::CoreError::Forbidden`] (another's task, a role without
/// field work), [`gridwork_core::CoreError::Invalid`] (already completed, note too long),
/// [`gridwork_core::CoreError::NotFound`]. Nothing is written on error.
pub fn complete(store: &mut Store, id: Uuid, note: &str) -> Result<Reply, CliError> {
    store.tasks().complete(id, note)?;
    let task = store.tasks().get(id)?;
    let names = Names::new(store);
    let user = store.user().map(|u| u.user_id.clone()).unwrap_or_default();
    let mine = task
        .progress
        .iter()
        .find(|p| p.completed_by == user)
        .map(|p| (p.area.clone(), p.completed_at, p.result.clone()));
    let (part, at, result) = match mine {
        Some((area, at, result)) => (names.area(&area), at, result),
        None => (String::new(), task.completed_at.unwrap_or_else(Utc::now), task.result.clone()),
    };
    let text = fields(&[
        ("Completed", task.title.clone()),
        ("Part of", part),
        ("At", local(at)),
        ("Result", result),
        ("ID", task.id.to_string()),
    ]);
    Ok(Reply::text(to_json(&task), text))
}
