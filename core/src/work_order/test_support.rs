//! Helpers shared by the work order tests.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::role::Role;

/// 2025-03-01 08:00 UTC plus `minutes`.
pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

/// An event with id `id` at minute `minutes`.
pub fn ev(id: &str, event_type: EventType, role: Role, minutes: i64) -> WorkOrderEvent {
    WorkOrderEvent {
        id: id.to_owned(),
        event_type,
        by: format!("user-{}", role.as_str()),
        role,
        at: t(minutes),
        received_at: None,
        department: None,
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
    }
}

/// Derives with the default policy, important severity, at minute `now`.
pub fn fold(events: &[WorkOrderEvent], now: i64) -> WorkOrderSummary {
    derive(events, Severity::Important, &DeadlinePolicy::default(), t(now))
}

/// Report (0), accept (10) and dispatch to `sanitation` (20).
pub fn dispatched() -> Vec<WorkOrderEvent> {
    vec![
        ev("r", EventType::Report, Role::GridWorker, 0),
        ev("a", EventType::Accept, Role::TownOperator, 10),
        ev("d", EventType::Dispatch, Role::TownOperator, 20).with_department("sanitation"),
    ]
}

/// [`dispatched`], then sign (30), handle (40), feedback (50).
pub fn fed_back() -> Vec<WorkOrderEvent> {
    let mut events = dispatched();
    events.push(ev("s", EventType::Sign, Role::DepartmentHandler, 30));
    events.push(ev("h", EventType::Handle, Role::DepartmentHandler, 40));
    events.push(ev("f", EventType::Feedback, Role::DepartmentHandler, 50));
    events
}

/// [`fed_back`], then verify (60) by the grid worker.
pub fn verified() -> Vec<WorkOrderEvent> {
    let mut events = fed_back();
    events.push(ev("v", EventType::Verify, Role::GridWorker, 60));
    events
}

/// [`verified`], then close (70) by the grid worker.
pub fn closed() -> Vec<WorkOrderEvent> {
    let mut events = verified();
    events.push(ev("c", EventType::Close, Role::GridWorker, 70));
    events
}
