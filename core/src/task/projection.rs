//! The `task` projection row and its target households.

use rusqlite::params;

use super::{Task, TaskSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

impl Projector for TaskSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM task_household WHERE task_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM task_area_progress WHERE task_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM task WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn project(tx: &WriteTxn<'_>, rec: &Decoded<Task>) -> Result<()> {
        let t = &rec.record;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO task(id, area, title, issued_by, assignee, issued_at, due_at,
                targets, completed_at, completed_by, deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            t.id,
            t.area.as_str(),
            t.title,
            t.issued_by,
            t.assignee,
            t.issued_at.timestamp_millis(),
            t.due_at.map(|d| d.timestamp_millis()),
            t.households.len() as i64,
            t.completed_at.map(|d| d.timestamp_millis()),
            t.completed_by,
            t.deleted,
        ])?;
        tx.prepare_cached("DELETE FROM task_household WHERE task_id = ?1")?.execute([t.id])?;
        let mut ins =
            tx.prepare_cached("INSERT INTO task_household(task_id, household_id) VALUES (?1, ?2)")?;
        for h in &t.households {
            ins.execute(params![t.id, h])?;
        }
        tx.prepare_cached("DELETE FROM task_area_progress WHERE task_id = ?1")?.execute([t.id])?;
        let mut done = tx.prepare_cached(
            "INSERT INTO task_area_progress(task_id, area, completed_at) VALUES (?1, ?2, ?3)",
        )?;
        for p in &t.progress {
            done.execute(params![t.id, p.area.as_str(), p.completed_at.timestamp_millis()])?;
        }
        Ok(())
    }
}
