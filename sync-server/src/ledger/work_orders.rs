//! The work-order ledger (事件台账): each work order within the area and period (by when it was
//! reported — the server's receive time of the report), optionally by one reporter, with its
//! source, category and severity, the time of each step of the closed loop (the first accept,
//! dispatch, sign, handle, feedback, verify; the close), its deadline and whether it closed on
//! time or is overdue. Times are each event's effective time (server receive time, else the
//! device's), exactly as the core's fold measures the deadline.

use gridwork_core::work_order::{EventType, WorkOrder};

use super::names::Names;
use super::sql::{Reader, area_values, base, in_period, json_text};
use super::store::Col;
use super::{Column, Lang, Value, col, labels};
use crate::ledger::filter::LedgerQuery;
use crate::query::sql::Builder;
use crate::query::{Bind, Dialect};
use crate::store::{ReadScope, StoreError, now_ms};

/// The columns.
pub const COLUMNS: &[Column] = &[
    col("reported_at", "上报时间", "Reported at"),
    col("area", "区域编码", "Area code"),
    col("area_name", "区域名称", "Area"),
    col("title", "事件标题", "Title"),
    col("source", "来源", "Source"),
    col("category", "类别", "Category"),
    col("severity", "紧急程度", "Severity"),
    col("reporter", "上报人", "Reporter"),
    col("accepted_at", "受理时间", "Accepted at"),
    col("dispatched_at", "派单时间", "Dispatched at"),
    col("departments", "承办部门", "Departments"),
    col("signed_at", "签收时间", "Signed at"),
    col("handled_at", "处置时间", "Handled at"),
    col("fed_back_at", "反馈时间", "Fed back at"),
    col("verified_at", "核查时间", "Verified at"),
    col("closed_at", "办结时间", "Closed at"),
    col("deadline_at", "办理时限", "Deadline"),
    col("state", "状态", "State"),
    col("closed_on_time", "按时办结", "Closed on time"),
    col("overdue", "超期未办结", "Overdue"),
    col("escalated", "督办", "Escalated"),
    col("id", "记录编号", "Record id"),
];

/// How a page row is read.
pub(crate) const COLS: &[Col] = &[Col::Bytes, Col::Text, Col::Text];

/// The steps whose first time the ledger shows, in column order.
const STEPS: [EventType; 6] = [
    EventType::Accept,
    EventType::Dispatch,
    EventType::Sign,
    EventType::Handle,
    EventType::Feedback,
    EventType::Verify,
];

pub(crate) fn select(dialect: Dialect, q: &LedgerQuery, scopes: &[ReadScope]) -> Builder {
    let mut b = base(
        dialect,
        "SELECT t.doc_id, t.area_key, r.record
         FROM rm_work_orders t JOIN rm_records r ON r.doc_id = t.doc_id",
        q,
        scopes,
    );
    in_period(&mut b, "t.reported_at", q.from, q.to);
    if let Some(w) = q.worker {
        let p = b.bind(Bind::Text(w.to_string()));
        let reporter = json_text(dialect, "r.record", &["summary", "reporter"]);
        b.push(&format!(" AND {reporter} = {p}"));
    }
    b
}

pub(crate) fn row(r: &mut Reader, names: &Names, lang: Lang) -> Result<Vec<Value>, StoreError> {
    let id = r.id()?;
    let [area, area_name] = area_values(r.area()?, names);
    let order: WorkOrder = r.json()?;
    let s = &order.summary;
    let first = |t: EventType| {
        Value::time(
            s.events
                .iter()
                .find(|e| e.event_type == t)
                .map(|e| e.effective_at().timestamp_millis()),
        )
    };
    let ms =
        |t: Option<chrono::DateTime<chrono::Utc>>| Value::time(t.map(|t| t.timestamp_millis()));
    let overdue = s.is_open() && s.deadline.is_some_and(|d| d.timestamp_millis() < now_ms());
    let departments: Vec<&str> = s.departments.keys().map(String::as_str).collect();
    let mut row = vec![
        ms(s.reported_at),
        area,
        area_name,
        Value::Text(order.title.clone()),
        labels::source(order.source.as_str(), lang),
        labels::category(&order.category, lang),
        labels::severity(s.severity.as_str(), lang),
        Value::text(s.reporter.as_deref().map(|u| names.user(u))),
    ];
    let [accept, dispatch, sign, handle, feedback, verify] = STEPS.map(first);
    row.extend([
        accept,
        dispatch,
        Value::Text(departments.join(",")),
        sign,
        handle,
        feedback,
        verify,
    ]);
    row.extend([
        ms(s.closed_at),
        ms(s.deadline),
        labels::state(s.state.map_or("unknown", |st| st.as_str()), lang),
        Value::bool(s.closed_on_time),
        Value::Bool(overdue),
        Value::Bool(s.escalated),
        Value::Text(id.to_string()),
    ]);
    Ok(row)
}
