//! The `task` projection row and its target households.

use automerge::AutoCommit;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::field;
use crate::doc::{self, common};
use crate::error::Result;

/// Writes the projection of task `id` (nothing for a document not yet complete).
pub(crate) fn project(conn: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(title)) = (doc::get_str(d, common::AREA), doc::get_str(d, field::TITLE))
    else {
        return Ok(());
    };
    let mut households: Vec<Uuid> = doc::set_members(d, field::HOUSEHOLDS)
        .iter()
        .filter_map(|h| Uuid::parse_str(h).ok())
        .collect();
    households.sort();
    households.dedup();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO task(id, area, title, issued_by, assignee, issued_at, due_at,
            targets, completed_at, completed_by, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id,
        area,
        title,
        doc::get_str(d, field::ISSUED_BY).unwrap_or_default(),
        doc::get_str(d, field::ASSIGNEE),
        doc::get_i64(d, common::CREATED_AT).unwrap_or(0),
        doc::get_i64(d, field::DUE_AT),
        households.len() as i64,
        doc::get_i64(d, field::COMPLETED_AT),
        doc::get_str(d, field::COMPLETED_BY),
        doc::get_bool(d, common::DELETED).unwrap_or(false),
    ])?;
    conn.prepare_cached("DELETE FROM task_household WHERE task_id = ?1")?.execute([id])?;
    let mut ins =
        conn.prepare_cached("INSERT INTO task_household(task_id, household_id) VALUES (?1, ?2)")?;
    for h in households {
        ins.execute(params![id, h])?;
    }
    Ok(())
}
