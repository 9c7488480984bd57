//! The `work_order` projection row: the derived state, deadline and flags, so lists of open and
//! overdue work orders never load documents.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{WorkOrderDoc, WorkOrderSpec, WorkOrderSummary};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};
use crate::time::ms_to_time;

impl Projector for WorkOrderSpec {
    fn forget(tx: &WriteTxn<'_>, id: uuid::Uuid) -> Result<()> {
        tx.prepare_cached("DELETE FROM work_order WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn project(tx: &WriteTxn<'_>, rec: &Decoded<WorkOrderDoc>) -> Result<()> {
        let (h, r) = (&rec.header, &rec.record);
        // `now` only affects the overdue flag, which is not stored: lists compute it at read
        // time.
        let s = summarize(tx, r, Utc::now())?;
        let departments: Vec<&str> = s.departments.keys().map(String::as_str).collect();
        tx.prepare_cached(
            "INSERT OR REPLACE INTO work_order(id, area, category, severity, title, state,
                reporter, reported_at, deadline_at, closed_at, closed_on_time, escalated,
                departments, conflicts, is_open, deleted, clock_started_at, extension_hours)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18)",
        )?
        .execute(params![
            h.id,
            h.area.as_str(),
            r.category,
            s.severity.as_str(),
            r.title,
            s.state.map_or("unknown", |st| st.as_str()),
            s.reporter.clone().unwrap_or_default(),
            s.reported_at.map_or(0, |t| t.timestamp_millis()),
            s.deadline.map(|t| t.timestamp_millis()),
            s.closed_at.map(|t| t.timestamp_millis()),
            s.closed_on_time,
            s.escalated,
            departments.join(","),
            s.unreviewed_conflicts() as i64,
            s.is_open(),
            h.deleted,
            s.clock_started_at.map(|t| t.timestamp_millis()),
            i64::try_from(s.extension_hours).unwrap_or(i64::MAX),
        ])?;
        Ok(())
    }
}

/// Folds a decoded work order at `now`, with the server receive times this device knows and the
/// deadline policy of the district's reference record (the defaults until one arrives).
///
/// # Errors
/// Storage errors.
pub(crate) fn summarize(
    conn: &Connection,
    order: &WorkOrderDoc,
    now: DateTime<Utc>,
) -> Result<WorkOrderSummary> {
    let mut stmt =
        conn.prepare_cached("SELECT received_at FROM change_received WHERE hash = ?1")?;
    let mut known = std::collections::HashMap::new();
    for change in order.events.iter().filter_map(|e| e.change) {
        let ms: Option<i64> = stmt.query_row([change.as_slice()], |r| r.get(0)).optional()?;
        if let Some(ms) = ms {
            known.insert(change, ms_to_time(ms));
        }
    }
    let policy = crate::reference::policy(conn)?;
    Ok(order.summary_with(&policy, |h| known.get(h).copied(), now))
}
