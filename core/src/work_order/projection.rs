//! The `work_order` projection row: the derived state, deadline and flags, so lists of open and
//! overdue work orders never load documents.

use automerge::AutoCommit;
use chrono::Utc;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::document::field;
use super::incident::summarize;
use crate::doc::{self, common};
use crate::error::Result;

/// Writes the projection of work order `id`.
pub(crate) fn project(conn: &Connection, id: Uuid, d: &AutoCommit) -> Result<()> {
    let (Some(area), Some(category), Some(title)) = (
        doc::get_str(d, common::AREA),
        doc::get_str(d, field::CATEGORY),
        doc::get_str(d, field::TITLE),
    ) else {
        return Ok(());
    };
    // `now` only affects the overdue flag, which is not stored: lists compute it at read time.
    let s = summarize(conn, d, Utc::now())?;
    let departments: Vec<&str> = s.departments.keys().map(String::as_str).collect();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO work_order(id, area, category, severity, title, state, reporter,
            reported_at, deadline_at, closed_at, closed_on_time, escalated, departments,
            conflicts, is_open, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        id,
        area,
        category,
        s.severity.as_str(),
        title,
        s.state.map_or("unknown", |st| st.as_str()),
        s.reporter.clone().unwrap_or_default(),
        s.reported_at.map_or(0, |t| t.timestamp_millis()),
        s.deadline.map(|t| t.timestamp_millis()),
        s.closed_at.map(|t| t.timestamp_millis()),
        s.closed_on_time,
        s.escalated,
        departments.join(","),
        s.conflicts.len() as i64,
        s.is_open(),
        doc::get_bool(d, common::DELETED).unwrap_or(false),
    ])?;
    Ok(())
}
