//! Work orders in the store: the closed loop, illegal steps refused with nothing written, and
//! concurrent conflicting steps from two phones merged deterministically and surfaced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction, WorkOrderState,
};
use gridwork_core::{Role, SignedInUser, Store};
use uuid::Uuid;

fn act(
    s: &mut Store,
    id: Uuid,
    t: EventType,
    dept: Option<&str>,
) -> gridwork_core::Result<WorkOrderState> {
    let summary = s.work_orders().act(
        id,
        WorkOrderAction {
            event_type: t,
            department: dept.map(String::from),
            note: Some(format!("{t} 处理说明")),
            extension_hours: None,
            satisfaction: None,
            photos: vec![],
            at: Utc::now(),
        },
    )?;
    Ok(summary.state.unwrap())
}

fn as_role(s: &mut Store, user: &str, role: Role, scope: &str) {
    s.sign_in(SignedInUser { user_id: user.into(), name: user.into(), role, scope: area(scope) })
        .unwrap();
}

fn report(s: &mut Store, severity: Severity) -> Uuid {
    s.work_orders()
        .report(IncidentInput {
            area: area(MICRO),
            category: "safety_hazard".into(),
            severity,
            title: "楼道堆放杂物".into(),
            description: "3幢2单元楼道堆放大量纸箱，存在消防隐患".into(),
            location: Some(gridwork_core::location::Location { lat: 32.06, lon: 121.07 }),
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now(),
        })
        .unwrap()
}

#[test]
fn closed_loop_from_report_to_close() {
    let mut s = store_at(None, "w1");
    let id = report(&mut s, Severity::Important);
    assert_eq!(s.work_orders().open(&area(GRID), Utc::now(), 10).unwrap().len(), 1);
    as_role(&mut s, "op1", Role::TownOperator, "320612/001");
    assert_eq!(act(&mut s, id, EventType::Accept, None).unwrap(), WorkOrderState::Accepted);
    assert_eq!(
        act(&mut s, id, EventType::Dispatch, Some("消防大队")).unwrap(),
        WorkOrderState::Dispatched
    );
    as_role(&mut s, "d1", Role::DepartmentHandler, "320612");
    act(&mut s, id, EventType::Sign, Some("消防大队")).unwrap();
    act(&mut s, id, EventType::Handle, Some("消防大队")).unwrap();
    assert_eq!(
        act(&mut s, id, EventType::Feedback, Some("消防大队")).unwrap(),
        WorkOrderState::FedBack
    );
    as_role(&mut s, "w1", Role::GridWorker, GRID);
    assert_eq!(act(&mut s, id, EventType::Verify, None).unwrap(), WorkOrderState::Verified);
    assert_eq!(act(&mut s, id, EventType::Close, None).unwrap(), WorkOrderState::Closed);
    let wo = s.work_orders().get(id).unwrap();
    assert_eq!(wo.summary.closed_on_time, Some(true));
    assert_eq!(wo.summary.events.len(), 8);
    assert!(s.work_orders().open(&area(GRID), Utc::now(), 10).unwrap().is_empty());
    let history = s.history(gridwork_core::RecordKind::WorkOrder, id).unwrap();
    assert_eq!(history.len(), 8);
    assert_eq!(history.last().unwrap().op, "close");
}

#[test]
fn overdue_by_severity_deadline() {
    let mut s = store_at(None, "w1");
    let id = report(&mut s, Severity::Urgent);
    as_role(&mut s, "op1", Role::TownOperator, "320612/001");
    act(&mut s, id, EventType::Accept, None).unwrap();
    let now = Utc::now();
    assert!(s.work_orders().overdue(&area(GRID), now, 10).unwrap().is_empty());
    let later = now + Duration::hours(3);
    let overdue = s.work_orders().overdue(&area(GRID), later, 10).unwrap();
    assert_eq!(overdue.len(), 1);
    assert!(overdue[0].deadline.unwrap() <= now + Duration::hours(2) + Duration::minutes(1));
}

#[test]
fn illegal_transition_is_refused_and_nothing_written() {
    let mut s = store_at(None, "w1");
    let id = report(&mut s, Severity::Ordinary);
    let before = s.outbox_len().unwrap();
    // A grid worker may not close an order that was never handled…
    let e = act(&mut s, id, EventType::Close, None).unwrap_err();
    assert_eq!(e.code(), "illegal_transition", "{e}");
    // …nor dispatch at all.
    let e = act(&mut s, id, EventType::Dispatch, Some("城管")).unwrap_err();
    assert_eq!(e.code(), "role_not_allowed", "{e}");
    assert_eq!(s.outbox_len().unwrap(), before);
    assert_eq!(s.work_orders().get(id).unwrap().summary.events.len(), 1);
    // Unknown category.
    let e = s
        .work_orders()
        .report(IncidentInput {
            area: area(MICRO),
            category: "ufo".into(),
            severity: Severity::Ordinary,
            title: "x".into(),
            description: String::new(),
            location: None,
            photos: vec![],
            source: IncidentSource::Other,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now(),
        })
        .unwrap_err();
    assert!(e.to_string().contains("ufo"), "{e}");
    assert_eq!(s.outbox_len().unwrap(), before);
}

#[test]
fn concurrent_close_and_reopen_merge_and_surface() {
    let mut a = store_at(None, "w1");
    let id = report(&mut a, Severity::Ordinary);
    as_role(&mut a, "op1", Role::TownOperator, "320612/001");
    act(&mut a, id, EventType::Accept, None).unwrap();
    act(&mut a, id, EventType::Dispatch, Some("环卫所")).unwrap();
    as_role(&mut a, "d1", Role::DepartmentHandler, "320612");
    act(&mut a, id, EventType::Handle, Some("环卫所")).unwrap();
    act(&mut a, id, EventType::Feedback, Some("环卫所")).unwrap();
    // Two devices go offline with the same fed-back order.
    let mut b = store_at(None, "w2");
    b.apply_changes(&a.changes_missing_from(&[], None).unwrap()).unwrap();
    // Device A: the operator closes. Device B: two people close (one twice-closing conflict).
    as_role(&mut a, "op1", Role::TownOperator, "320612/001");
    act(&mut a, id, EventType::Close, None).unwrap();
    as_role(&mut b, "op2", Role::TownOperator, "320612/001");
    act(&mut b, id, EventType::Close, None).unwrap();
    // Exchange both ways.
    let to_b = a.changes_missing_from(&b.digest(None).unwrap(), None).unwrap();
    let to_a = b.changes_missing_from(&a.digest(None).unwrap(), None).unwrap();
    b.apply_changes(&to_b).unwrap();
    a.apply_changes(&to_a).unwrap();
    let sa = a.work_orders().get(id).unwrap().summary;
    let sb = b.work_orders().get(id).unwrap().summary;
    assert_eq!(sa, sb, "both devices derive the same state");
    assert_eq!(sa.state, Some(WorkOrderState::Closed));
    assert_eq!(sa.conflicts.len(), 1, "the second close is surfaced, not dropped");
    assert_eq!(a.work_orders().with_conflicts(&area(GRID), 10).unwrap().len(), 1);
    assert_eq!(b.work_orders().with_conflicts(&area(GRID), 10).unwrap().len(), 1);
}

/// A department's feedback carries photos of the finished work: they stay on the step (the
/// incident's own photos are untouched), reach another phone with the change, and that phone
/// queues them for download. Too many or malformed photos are refused with nothing written.
#[test]
fn a_step_carries_its_own_photos_to_other_phones() {
    let mut s = store_at(None, "w1");
    let id = report(&mut s, Severity::Ordinary);
    as_role(&mut s, "op1", Role::TownOperator, "320612/001");
    act(&mut s, id, EventType::Accept, None).unwrap();
    act(&mut s, id, EventType::Dispatch, Some("城管")).unwrap();
    as_role(&mut s, "d1", Role::DepartmentHandler, "320612");
    act(&mut s, id, EventType::Sign, Some("城管")).unwrap();
    let jpeg = [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4];
    let photo = s.add_attachment(&jpeg, "image/jpeg").unwrap();
    let feedback = |photos: Vec<gridwork_core::PhotoRef>| WorkOrderAction {
        event_type: EventType::Feedback,
        department: Some("城管".into()),
        note: Some("纸箱已清理".into()),
        extension_hours: None,
        satisfaction: None,
        photos,
        at: Utc::now(),
    };

    let before = (s.outbox_len().unwrap(), s.digest(None).unwrap());
    let err = s.work_orders().act(id, feedback(vec![photo.clone(); 21])).unwrap_err();
    assert!(matches!(&err, gridwork_core::CoreError::Invalid { field, .. } if field == "photos"));
    let bad = gridwork_core::PhotoRef { hash: "xyz".into(), ..photo.clone() };
    let err = s.work_orders().act(id, feedback(vec![bad])).unwrap_err();
    assert!(matches!(&err, gridwork_core::CoreError::Invalid { field, .. } if field == "photos"));
    assert_eq!((s.outbox_len().unwrap(), s.digest(None).unwrap()), before, "nothing written");

    let summary = s.work_orders().act(id, feedback(vec![photo.clone()])).unwrap();
    assert_eq!(summary.state, Some(WorkOrderState::FedBack));
    let step = summary.events.iter().find(|e| e.event_type == EventType::Feedback).unwrap();
    assert_eq!(step.photos, vec![photo.clone()]);
    assert!(s.work_orders().get(id).unwrap().photos.is_empty(), "the incident's photos stay");

    // Another phone of the grid gets the order with the step's photo, and fetches its bytes.
    let mut other = store_at(None, "w2");
    other.apply_changes(&s.outbox(usize::MAX).unwrap()).unwrap();
    let seen = other.work_orders().summary(id, Utc::now()).unwrap();
    let step = seen.events.iter().find(|e| e.event_type == EventType::Feedback).unwrap();
    assert_eq!(step.photos, vec![photo.clone()]);
    assert!(other.queue_referenced_downloads().unwrap() >= 1);
    let pending: Vec<String> =
        other.pending_downloads().unwrap().into_iter().map(|d| d.photo.hash).collect();
    assert_eq!(pending, vec![photo.hash]);
}
