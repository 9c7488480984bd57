//! Reading work orders: the whole order (document + derived summary) and lists of open or
//! overdue orders from the projection.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::WorkOrders;

use super::projection::summarize;
use super::{Severity, WorkOrder, WorkOrderSpec};
use crate::area::AreaPath;
use crate::error::Result;
use crate::household::area_clause;
use crate::kind::RecordKind;
use crate::time::{ms_to_time, opt_ms_to_time};

/// A work order as lists show it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrderRow {
    /// Record id.
    pub id: Uuid,
    /// Area code path.
    pub area: AreaPath,
    /// Category code.
    pub category: String,
    /// Severity.
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Derived state code (`reported`, `dispatched`…).
    pub state: String,
    /// Reporter's user id.
    pub reporter: String,
    /// Reported at.
    pub reported_at: DateTime<Utc>,
    /// Deadline, once accepted.
    pub deadline: Option<DateTime<Utc>>,
    /// Open and past its deadline at the time of the query.
    pub overdue: bool,
    /// Departments it is dispatched to.
    pub departments: Vec<String>,
    /// Escalated (督办).
    pub escalated: bool,
    /// Number of concurrent conflicting steps awaiting review.
    pub conflicts: u32,
}

const COLUMNS: &str = "id, area, category, severity, title, state, reporter, reported_at, \
                       deadline_at, departments, escalated, conflicts, is_open";

fn row(r: &Row<'_>, now_ms: i64) -> rusqlite::Result<WorkOrderRow> {
    let severity: String = r.get(3)?;
    let deadline: Option<i64> = r.get(8)?;
    let departments: String = r.get(9)?;
    let open: bool = r.get(12)?;
    Ok(WorkOrderRow {
        id: r.get(0)?,
        area: r.get(1)?,
        category: r.get(2)?,
        severity: Severity::parse(&severity).unwrap_or(Severity::Ordinary),
        title: r.get(4)?,
        state: r.get(5)?,
        reporter: r.get(6)?,
        reported_at: ms_to_time(r.get(7)?),
        deadline: opt_ms_to_time(deadline),
        overdue: open && deadline.is_some_and(|d| d < now_ms),
        departments: departments.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
        escalated: r.get(10)?,
        conflicts: r.get(11)?,
    })
}

impl WorkOrders<'_> {
    /// The whole work order with this id, its state derived at the current time.
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`]; storage errors.
    pub fn get(&mut self, id: Uuid) -> Result<WorkOrder> {
        self.store.read_doc_conn(id, RecordKind::WorkOrder, |conn, d| {
            let rec = crate::store::decoded::<WorkOrderSpec>(id, d)?;
            let summary = summarize(conn, &rec.record, Utc::now())?;
            Ok(WorkOrder::new(rec, summary))
        })
    }

    /// Open work orders within `area`: overdue first, then by deadline, then newest reports.
    ///
    /// # Errors
    /// Storage errors.
    pub fn open(
        &self,
        area: &AreaPath,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkOrderRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM work_order
             WHERE is_open = 1 AND deleted = 0 AND {}
             ORDER BY deadline_at IS NULL, deadline_at, reported_at DESC, id LIMIT ?2",
            area_clause("area", 1)
        );
        let now_ms = now.timestamp_millis();
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str(), limit], |r| row(r, now_ms))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Open work orders within `area` past their deadline at `now`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn overdue(
        &self,
        area: &AreaPath,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkOrderRow>> {
        let mut all = self.open(area, now, u32::MAX)?;
        all.retain(|w| w.overdue);
        all.truncate(limit as usize);
        Ok(all)
    }

    /// Work orders within `area` with concurrent conflicting steps awaiting review.
    ///
    /// # Errors
    /// Storage errors.
    pub fn with_conflicts(&self, area: &AreaPath, limit: u32) -> Result<Vec<WorkOrderRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM work_order WHERE conflicts > 0 AND deleted = 0 AND {}
             ORDER BY reported_at DESC, id LIMIT ?2",
            area_clause("area", 1)
        );
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str(), limit], |r| row(r, now_ms))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
