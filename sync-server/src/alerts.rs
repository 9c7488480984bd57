//! Live alerts for the people at a command centre or a department (issue 11, "a notification
//! feed"): when the projector folds a work order, the step that changed it is news for some
//! people — a new report for the centre that accepts it, a dispatch for the department it went
//! to, supervision for everyone working it. This module decides who is told what; the stream
//! is `api::alerts`.

use gridwork_core::Role;
use gridwork_core::work_order::{EventType, WorkOrder, WorkOrderState};
use serde::Serialize;
use uuid::Uuid;

/// What an alert tells (its code is what the page translates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// 新上报: a report waits to be accepted.
    NewReport,
    /// 派给本部门: the order was dispatched to one of the person's departments.
    DispatchedToYou,
    /// 督办: the order was put under supervision (by a person or the overdue check).
    Supervised,
    /// 延期申请: a department asks for more time.
    ExtensionRequested,
    /// 已反馈: every department reported back; the centre verifies.
    FedBack,
    /// 退单: a department returned the order.
    Returned,
}

impl AlertKind {
    /// The stable code (`new_report`…).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewReport => "new_report",
            AlertKind::DispatchedToYou => "dispatched_to_you",
            AlertKind::Supervised => "supervised",
            AlertKind::ExtensionRequested => "extension_requested",
            AlertKind::FedBack => "fed_back",
            AlertKind::Returned => "returned",
        }
    }
}

/// One alert: what happened to which order, when (the step's server receive time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Stable id: the step's event id (the same alert is never told twice as two).
    pub id: String,
    /// What it tells.
    pub kind: AlertKind,
    /// The work order.
    pub work_order: Uuid,
    /// Its title.
    pub title: String,
    /// Its area path.
    pub area: String,
    /// When the step happened (ms since the epoch; server receive time when known).
    pub at: i64,
}

/// Whether a role runs a command centre (accepts, dispatches, verifies).
fn commands(role: Role) -> bool {
    matches!(role, Role::GridHead | Role::TownOperator | Role::DistrictCentre)
}

/// The alert the order's latest step is for a person holding `roles` over the order's area and
/// belonging to `departments`, if it is news for them.
pub fn alert_for(order: &WorkOrder, roles: &[Role], departments: &[String]) -> Option<Alert> {
    let event = order.summary.events.last()?;
    let centre = roles.iter().any(|r| commands(*r));
    let handler = roles.contains(&Role::DepartmentHandler);
    let mine = |d: Option<&str>| d.is_some_and(|d| departments.iter().any(|m| m == d));
    let works_it = order.summary.departments.keys().any(|d| mine(Some(d)));
    let kind = match event.event_type {
        EventType::Report if centre => AlertKind::NewReport,
        EventType::Dispatch if handler && mine(event.department_name()) => {
            AlertKind::DispatchedToYou
        }
        EventType::Escalate if centre || (handler && works_it) => AlertKind::Supervised,
        EventType::RequestExtension if centre => AlertKind::ExtensionRequested,
        EventType::Feedback if centre && order.summary.state == Some(WorkOrderState::FedBack) => {
            AlertKind::FedBack
        }
        EventType::Return if centre => AlertKind::Returned,
        _ => return None,
    };
    Some(Alert {
        id: format!("{}:{}", event.id, kind.as_str()),
        kind,
        work_order: order.id,
        title: order.title.clone(),
        area: order.area.as_str().to_owned(),
        at: event.effective_at().timestamp_millis(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use gridwork_core::AreaPath;
    use gridwork_core::work_order::{
        DeadlinePolicy, IncidentSource, Severity, WorkOrderEvent, WorkOrderSummary, derive,
    };

    fn order(events: Vec<WorkOrderEvent>) -> WorkOrder {
        let summary: WorkOrderSummary =
            derive(&events, Severity::Urgent, &DeadlinePolicy::default(), Utc::now());
        WorkOrder {
            id: Uuid::now_v7(),
            area: AreaPath::parse("320612/004/017/03").unwrap(),
            category: "sanitation".into(),
            title: "垃圾堆放".into(),
            description: String::new(),
            source: IncidentSource::GridReport,
            location: None,
            photos: Vec::new(),
            household_id: None,
            patrol_id: None,
            summary,
        }
    }

    fn ev(t: EventType, role: Role) -> WorkOrderEvent {
        WorkOrderEvent::new(t, "u", role, Utc::now())
    }

    #[test]
    fn who_hears_of_which_step() {
        let centre = [Role::TownOperator];
        let handler = [Role::DepartmentHandler];
        let police = vec!["police".to_string()];
        let reported = order(vec![ev(EventType::Report, Role::GridWorker)]);
        assert_eq!(alert_for(&reported, &centre, &[]).unwrap().kind, AlertKind::NewReport);
        assert_eq!(alert_for(&reported, &handler, &police), None);
        assert_eq!(alert_for(&reported, &[Role::GridWorker], &[]), None);

        let mut events = vec![
            ev(EventType::Report, Role::GridWorker),
            ev(EventType::Accept, Role::TownOperator),
            ev(EventType::Dispatch, Role::TownOperator).with_department("police"),
        ];
        let dispatched = order(events.clone());
        let a = alert_for(&dispatched, &handler, &police).unwrap();
        assert_eq!(a.kind, AlertKind::DispatchedToYou);
        assert_eq!(a.title, "垃圾堆放");
        assert_eq!(alert_for(&dispatched, &handler, &["sanitation".into()]), None);
        assert_eq!(alert_for(&dispatched, &centre, &[]), None, "the centre dispatched it");

        events.push(ev(EventType::Escalate, Role::DistrictCentre));
        let supervised = order(events.clone());
        assert_eq!(alert_for(&supervised, &handler, &police).unwrap().kind, AlertKind::Supervised);
        assert_eq!(alert_for(&supervised, &centre, &[]).unwrap().kind, AlertKind::Supervised);
        assert_eq!(alert_for(&supervised, &handler, &["sanitation".into()]), None);

        events.push(ev(EventType::Sign, Role::DepartmentHandler));
        events.push(ev(EventType::Feedback, Role::DepartmentHandler));
        let fed_back = order(events);
        assert_eq!(alert_for(&fed_back, &centre, &[]).unwrap().kind, AlertKind::FedBack);
        let json = serde_json::to_value(alert_for(&fed_back, &centre, &[]).unwrap()).unwrap();
        assert_eq!(json["kind"], AlertKind::FedBack.as_str());
    }
}
