//! Work-order alerts: supervised, returned and overdue orders in the user's scope, and steps
//! others took on the user's own reports. Candidates come from the `work_order` projection;
//! each is then folded from its document with the receive times this device knows, so the
//! deadline is the server-clock one where known.

use chrono::{DateTime, Utc};
use rusqlite::params;
use uuid::Uuid;

use super::{Alert, AlertKind, MAX_WORK_ORDERS};
use crate::area::path_contains;
use crate::error::Result;
use crate::household::area_clause;
use crate::kind::RecordKind;
use crate::store::{SignedInUser, Store};
use crate::work_order::{EventType, WorkOrder, WorkOrderEvent, WorkOrderState};

/// The work orders that may raise an alert: open ones in scope that are supervised, returned
/// or past their projected deadline (with a day's margin: receive times can move it), and the
/// user's own reports; newest reports first.
fn candidates(store: &Store, user: &SignedInUser, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let margin = chrono::Duration::days(1);
    let sql = format!(
        "SELECT id FROM work_order
         WHERE deleted = 0 AND (
               (is_open = 1 AND {} AND (escalated = 1 OR state = 'returned'
                    OR (deadline_at IS NOT NULL AND deadline_at < ?2)))
               OR reporter = ?3)
         ORDER BY reported_at DESC, id LIMIT ?4",
        area_clause("area", 1)
    );
    let mut stmt = store.conn().prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            user.scope.as_str(),
            (now + margin).timestamp_millis(),
            user.user_id,
            MAX_WORK_ORDERS
        ],
        |r| r.get(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The work-order alerts of `user` at `now`.
pub(super) fn alerts(
    store: &mut Store,
    user: &SignedInUser,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>> {
    let mut out = Vec::new();
    for id in candidates(store, user, now)? {
        let mut order = store.work_orders().get(id)?;
        // `get` folds at the wall clock; the overdue flag is judged at `now`.
        let s = &mut order.summary;
        s.overdue = s.is_open() && s.deadline.is_some_and(|d| now > d);
        if path_contains(user.scope.as_str(), order.area.as_str()) {
            out.extend(in_scope(&order));
        }
        if order.summary.reporter.as_deref() == Some(user.user_id.as_str()) {
            out.extend(changed(&order, &user.user_id));
        }
    }
    Ok(out)
}

fn alert(order: &WorkOrder, kind: AlertKind, key: &str, at: DateTime<Utc>, text: String) -> Alert {
    Alert::new(kind, key, RecordKind::WorkOrder, order.id, &order.title, at, text)
}

fn last_of(order: &WorkOrder, t: EventType) -> Option<&WorkOrderEvent> {
    order.summary.events.iter().rev().find(|e| e.event_type == t)
}

/// Supervised, returned, overdue: for an open order in the user's scope.
fn in_scope(order: &WorkOrder) -> Vec<Alert> {
    let s = &order.summary;
    let mut out = Vec::new();
    if !s.is_open() {
        return out;
    }
    let title = &order.title;
    if s.escalated
        && let Some(e) = last_of(order, EventType::Escalate)
    {
        let text = format!("Work order \"{title}\" was put under supervision");
        out.push(alert(order, AlertKind::WorkOrderSupervised, &e.id, e.effective_at(), text));
    }
    if s.state == Some(WorkOrderState::Returned)
        && let Some(e) = last_of(order, EventType::Return)
    {
        let text = format!("Work order \"{title}\" was returned: accept or dispatch it again");
        out.push(alert(order, AlertKind::WorkOrderReturned, &e.id, e.effective_at(), text));
    }
    if s.overdue
        && let Some(deadline) = s.deadline
    {
        let key = format!("{}:{}", order.id, deadline.timestamp_millis());
        let text = format!("Work order \"{title}\" is past its deadline");
        out.push(alert(order, AlertKind::WorkOrderOverdue, &key, deadline, text));
    }
    out
}

/// The latest step that changed the state of the user's own report, when someone else took it.
fn changed(order: &WorkOrder, user_id: &str) -> Option<Alert> {
    let e = order.summary.events.iter().rev().find(|e| {
        !matches!(
            e.event_type,
            EventType::Report | EventType::Escalate | EventType::RequestExtension
        )
    })?;
    if e.by == user_id {
        return None;
    }
    let state = order.summary.state.map_or("unknown", WorkOrderState::as_str);
    let text = format!(
        "Your report \"{}\": {} (now {state})",
        order.title,
        e.event_type.as_str().replace('_', " ")
    );
    Some(alert(order, AlertKind::WorkOrderChanged, &e.id, e.effective_at(), text))
}
