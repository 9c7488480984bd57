//! Each alert kind raised and cleared on a real store, and seen marks surviving a reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{Alert, AlertKind};
use crate::store::{Ack, Incoming};
use crate::task::TaskInput;
use crate::work_order::{EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction};
use crate::{AreaPath, CoreError, Role, SignedInUser, Store};

const TOWN: &str = "320612/001";
const GRID: &str = "320612/001/001/01";
const MICRO: &str = "320612/001/001/01/01";

fn area(p: &str) -> AreaPath {
    AreaPath::parse(p).unwrap()
}

fn open(path: Option<&std::path::Path>) -> Store {
    let mut s = match path {
        Some(p) => Store::open(p, None).unwrap(),
        None => Store::open_in_memory().unwrap(),
    };
    s.load_areas(&crate::demo::areas(1, 1, 2, 2)).unwrap();
    s
}

/// Signs in the grid worker `w1` of GRID, the town operator `op` or the handler `d1`.
fn as_user(s: &mut Store, who: &str) {
    let (role, scope) = match who {
        "w1" | "w2" => (Role::GridWorker, GRID),
        "op" => (Role::TownOperator, TOWN),
        _ => (Role::DepartmentHandler, TOWN),
    };
    s.sign_in(SignedInUser { user_id: who.into(), name: who.into(), role, scope: area(scope) })
        .unwrap();
}

fn report(s: &mut Store, severity: Severity) -> Uuid {
    as_user(s, "w1");
    s.work_orders()
        .report(IncidentInput {
            area: area(MICRO),
            category: "safety_hazard".into(),
            severity,
            title: "楼道堆物".into(),
            description: String::new(),
            location: None,
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now(),
        })
        .unwrap()
}

fn act(s: &mut Store, who: &str, id: Uuid, t: EventType, department: Option<&str>) {
    as_user(s, who);
    let action = WorkOrderAction {
        event_type: t,
        department: department.map(str::to_owned),
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    };
    s.work_orders().act(id, action).unwrap();
}

fn alerts(s: &mut Store, who: &str) -> Vec<Alert> {
    as_user(s, who);
    s.alerts().list(Utc::now(), false).unwrap()
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    let mut k: Vec<AlertKind> = alerts.iter().map(|a| a.kind).collect();
    k.sort();
    k
}

#[test]
fn a_supervised_order_alerts_its_scope() {
    let mut s = open(None);
    let id = report(&mut s, Severity::Important);
    assert!(alerts(&mut s, "w1").is_empty(), "a fresh report raises nothing");
    act(&mut s, "op", id, EventType::Accept, None);
    act(&mut s, "op", id, EventType::Escalate, None);
    let op = alerts(&mut s, "op");
    assert_eq!(kinds(&op), vec![AlertKind::WorkOrderSupervised]);
    let a = &op[0];
    assert_eq!((a.record_id, a.record_kind), (id, crate::RecordKind::WorkOrder));
    assert_eq!(a.title, "楼道堆物");
    assert!(a.text.contains("supervision"), "{}", a.text);
    let escalate = s.work_orders().get(id).unwrap().summary.events[2].clone();
    assert_eq!(a.id, format!("work_order_supervised:{}", escalate.id));
    assert_eq!(a.at, escalate.at);
    // The reporter sees the supervision too, and that the centre accepted their report.
    let w1 = alerts(&mut s, "w1");
    assert_eq!(kinds(&w1), vec![AlertKind::WorkOrderSupervised, AlertKind::WorkOrderChanged]);
}

#[test]
fn an_order_every_department_returned_alerts_the_centre() {
    let mut s = open(None);
    let id = report(&mut s, Severity::Ordinary);
    act(&mut s, "op", id, EventType::Accept, None);
    act(&mut s, "op", id, EventType::Dispatch, Some("sanitation"));
    assert!(alerts(&mut s, "op").is_empty());
    act(&mut s, "d1", id, EventType::Return, Some("sanitation"));
    let op = alerts(&mut s, "op");
    assert_eq!(kinds(&op), vec![AlertKind::WorkOrderReturned]);
    assert!(op[0].text.contains("returned"), "{}", op[0].text);
    // Accepted again: no longer returned.
    act(&mut s, "op", id, EventType::Accept, None);
    assert!(alerts(&mut s, "op").is_empty());
}

#[test]
fn overdue_is_judged_on_the_server_receive_time_where_known() {
    let mut s = open(None);
    let id = report(&mut s, Severity::Urgent);
    s.acknowledge(&hashes(&s)).unwrap();
    act(&mut s, "op", id, EventType::Accept, None);
    let now = Utc::now();
    as_user(&mut s, "op");
    assert!(s.alerts().list(now, false).unwrap().is_empty(), "2 h allowed");
    let later = s.alerts().list(now + Duration::hours(3), false).unwrap();
    assert_eq!(kinds(&later), vec![AlertKind::WorkOrderOverdue]);
    // The server received the acceptance five hours ago (the device clock was wrong): the
    // deadline passed three hours ago, and that is what counts.
    let received = (now - Duration::hours(5)).timestamp_millis();
    let acks = hashes(&s).into_iter().map(|hash| Ack { hash, received_at: Some(received) });
    s.apply_incoming(Incoming { acks: acks.collect(), ..Incoming::default() }).unwrap();
    let overdue = s.alerts().list(now, false).unwrap();
    assert_eq!(kinds(&overdue), vec![AlertKind::WorkOrderOverdue]);
    let deadline = overdue[0].at;
    assert_eq!(deadline.timestamp_millis(), received + 2 * 3_600_000);
    assert_eq!(overdue[0].id, format!("work_order_overdue:{id}:{}", deadline.timestamp_millis()));
}

/// The hashes of the changes waiting in the outbox.
fn hashes(s: &Store) -> Vec<[u8; 32]> {
    s.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect()
}

#[test]
fn steps_others_take_on_my_report_alert_me_once_each() {
    let mut s = open(None);
    let id = report(&mut s, Severity::Ordinary);
    act(&mut s, "op", id, EventType::Accept, None);
    let w1 = alerts(&mut s, "w1");
    assert_eq!(kinds(&w1), vec![AlertKind::WorkOrderChanged]);
    assert!(w1[0].text.contains("accept") && w1[0].text.contains("accepted"), "{}", w1[0].text);
    s.alerts().ack(&w1[0].id, Utc::now()).unwrap();
    assert!(alerts(&mut s, "w1").is_empty(), "seen");
    act(&mut s, "op", id, EventType::Dispatch, Some("sanitation"));
    let next = alerts(&mut s, "w1");
    assert_eq!(kinds(&next), vec![AlertKind::WorkOrderChanged]);
    assert_ne!(next[0].id, w1[0].id, "a new step is a new alert");
    act(&mut s, "d1", id, EventType::Sign, Some("sanitation"));
    act(&mut s, "d1", id, EventType::Feedback, Some("sanitation"));
    let fed_back = alerts(&mut s, "w1")[0].id.clone();
    s.alerts().ack(&fed_back, Utc::now()).unwrap();
    // The reporter's own step raises nothing; others who did not report see no change alerts.
    act(&mut s, "w1", id, EventType::Verify, None);
    assert!(alerts(&mut s, "w1").is_empty());
    assert!(alerts(&mut s, "w2").is_empty());
}

fn task(s: &mut Store, title: &str, due: Duration, assignee: Option<&str>) -> Uuid {
    as_user(s, "op");
    s.tasks()
        .create(TaskInput {
            area: area(TOWN),
            title: title.into(),
            instructions: String::new(),
            households: vec![],
            due_at: Some(Utc::now() + due),
            assignee: assignee.map(str::to_owned),
        })
        .unwrap()
}

#[test]
fn tasks_due_within_a_day_or_overdue_alert_until_done() {
    let mut s = open(None);
    let soon = task(&mut s, "冬季消防排查", Duration::hours(10), None);
    let late = task(&mut s, "独居老人走访", Duration::hours(-2), None);
    task(&mut s, "下周的任务", Duration::days(3), None);
    task(&mut s, "别人的任务", Duration::hours(10), Some("w9"));
    let w1 = alerts(&mut s, "w1");
    let got: Vec<(AlertKind, Uuid)> = w1.iter().map(|a| (a.kind, a.record_id)).collect();
    assert_eq!(got, vec![(AlertKind::TaskDueSoon, soon), (AlertKind::TaskOverdue, late)]);
    assert!(w1.iter().all(|a| a.record_kind == crate::RecordKind::Task));
    // The grid completes its part of the overdue town task: that alert goes.
    s.tasks().complete(late, "已完成").unwrap();
    let left: Vec<Uuid> = alerts(&mut s, "w1").iter().map(|a| a.record_id).collect();
    assert_eq!(left, vec![soon]);
    // Department handlers have no tasks to carry out.
    assert!(alerts(&mut s, "d1").is_empty());
}

#[test]
fn seen_marks_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    let id;
    {
        let mut s = open(Some(&path));
        id = report(&mut s, Severity::Ordinary);
        act(&mut s, "op", id, EventType::Accept, None);
        let w1 = alerts(&mut s, "w1");
        assert_eq!(s.alerts().unseen_count(Utc::now()).unwrap(), 1);
        s.alerts().ack(&w1[0].id, Utc::now()).unwrap();
        s.alerts().ack(&w1[0].id, Utc::now()).unwrap();
    }
    let mut s = Store::open(&path, None).unwrap();
    assert!(s.alerts().list(Utc::now(), false).unwrap().is_empty());
    let all = s.alerts().list(Utc::now(), true).unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].seen);
    assert_eq!(all[0].record_id, id);
    assert_eq!(s.alerts().unseen_count(Utc::now()).unwrap(), 0);
}

#[test]
fn acknowledging_an_unknown_alert_is_refused_and_writes_nothing() {
    let mut s = open(None);
    let err = s.alerts().list(Utc::now(), false).unwrap_err();
    assert!(matches!(err, CoreError::NotSignedIn), "{err:?}");
    as_user(&mut s, "w1");
    let err = s.alerts().ack("work_order_changed:nope", Utc::now()).unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(err.to_string().contains("alert"), "{err}");
    let rows: i64 =
        s.conn().query_row("SELECT count(*) FROM alert_seen", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 0);
}
