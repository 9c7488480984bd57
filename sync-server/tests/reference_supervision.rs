//! Deadlines on the server's clock under the district's reference data (issue 11), on both
//! backends, with a controllable clock (`supervision::pass_at`): an urgent order is overdue
//! after the district's 1 hour (not the default 2), counted from the server's receive time of
//! its acceptance; it is supervised once, then escalated to the district once it is overdue past
//! the district's threshold — each step an `escalate` event of the system person, in the log.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use automerge::ActorId;
use chrono::{DateTime, TimeDelta, Utc};
use common::area;
use gridwork_core::reference::ReferenceData;
use gridwork_core::work_order::{
    DeadlinePolicy, EventType, IncidentInput, IncidentSource, Severity, WorkOrderEvent,
    WorkOrderSpec, append_event,
};
use gridwork_core::{AreaPath, ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::api::AppState;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::read_model::projector::Projector;
use gridwork_sync_server::store::{DynStore, NewChange};
use gridwork_sync_server::{authoring, reference, server, supervision};
use uuid::Uuid;

const MICRO: &str = "320612/001/001/01/01";

/// An urgent order reported and accepted; the server received both `ago` before now, while the
/// reporting phone's clock ran a day slow (deadlines must not follow it).
async fn accepted(store: &DynStore, ago: TimeDelta, n: u8) -> Uuid {
    let id = Uuid::now_v7();
    let area = area(MICRO);
    let received = Utc::now() - ago;
    let device_clock = received - TimeDelta::days(1);
    let actor = ActorId::from(vec![n; 16]);
    let ms = device_clock.timestamp_millis();
    let mut d = gridwork_core::author::new_document(RecordKind::WorkOrder, &area, "u1", &actor, ms)
        .unwrap();
    let input = IncidentInput {
        area: area.clone(),
        category: "fire_safety".into(),
        severity: Severity::Urgent,
        title: "配电箱冒烟".into(),
        description: String::new(),
        location: None,
        photos: vec![],
        source: IncidentSource::GridReport,
        household_id: None,
        patrol_id: None,
        reported_at: device_clock,
    };
    let report = WorkOrderEvent::new(EventType::Report, "u1", Role::GridWorker, device_clock);
    input.write_report(&mut d, &report).unwrap();
    let (h1, b1) = gridwork_core::author::commit(&mut d, "u1", "report", ms).unwrap().unwrap();
    let accept = WorkOrderEvent::new(EventType::Accept, "u2", Role::TownOperator, device_clock);
    append_event(&mut d, &accept).unwrap();
    let (h2, b2) = gridwork_core::author::commit(&mut d, "u2", "accept", ms).unwrap().unwrap();
    let env = |bytes| ChangeEnvelope {
        doc_id: id,
        kind: RecordKind::WorkOrder,
        area: area.clone(),
        bytes,
    };
    let changes = [NewChange::new(h1.0, env(b1)), NewChange::new(h2.0, env(b2))];
    store.push(Uuid::now_v7(), received.timestamp_millis(), &changes).await.unwrap();
    id
}

/// Folds the log into the read model with a fresh projector (which reloads the districts'
/// policies from the read model).
async fn catch_up(store: &DynStore) {
    let rm = store.read_model().unwrap();
    Projector::new(64, 1 << 20).catch_up(store, rm, Utc::now()).await.unwrap();
}

/// The escalation notes of an order's log, in order, and its summary's deadline.
async fn steps(st: &AppState, id: Uuid) -> (Vec<String>, Option<DateTime<Utc>>) {
    let author = authoring::Author::system(area("320612"));
    let loaded = authoring::load(st, &author, RecordKind::WorkOrder, id).await.unwrap();
    let order = gridwork_core::spec::decode::<WorkOrderSpec>(id, &loaded.doc).unwrap();
    let notes = order
        .record
        .events
        .iter()
        .filter(|e| e.event.event_type == EventType::Escalate)
        .map(|e| {
            assert_eq!(e.event.by, authoring::SYSTEM_USER.to_string());
            e.event.note.clone().unwrap_or_default()
        })
        .collect();
    let policy = reference::policy(st, &area("320612")).await.unwrap();
    let summary = order.record.summary_with(
        &policy,
        |h| loaded.received.get(h).and_then(|ms| DateTime::from_timestamp_millis(*ms)),
        Utc::now(),
    );
    (notes, summary.deadline)
}

async fn supervised_then_escalated_under_the_district_policy(store: DynStore) {
    for p in ["320612", "320612/001", "320612/001/001", "320612/001/001/01", MICRO] {
        store.put_area(&AreaPath::parse(p).unwrap(), "区").await.unwrap();
    }
    let st = server::state(store.clone(), &Config::default());
    let policy = DeadlinePolicy { urgent_hours: 1, escalate_after_hours: 2, ..Default::default() };
    let data = ReferenceData { deadline_policy: policy, ..Default::default() };
    reference::write(&st, &area("320612"), &data, "test").await.unwrap().unwrap();
    // 90 minutes ago: overdue under the district's hour (the default two hours would not be).
    let late = accepted(&store, TimeDelta::minutes(90), 1).await;
    let in_time = accepted(&store, TimeDelta::minutes(30), 2).await;
    catch_up(&store).await;
    let now = Utc::now();
    let rm = store.read_model().unwrap();
    assert_eq!(rm.rm_overdue(now.timestamp_millis(), 10).await.unwrap(), vec![late]);
    let (_, deadline) = steps(&st, late).await;
    let deadline = deadline.unwrap();
    let expected = now - TimeDelta::minutes(30);
    assert!((deadline - expected).num_seconds().abs() < 60, "server clock: {deadline}");

    // Stage one: supervised once.
    assert_eq!(supervision::pass_at(&st, now).await.unwrap(), 1);
    catch_up(&store).await;
    assert_eq!(supervision::pass_at(&st, now).await.unwrap(), 0, "not past the threshold yet");
    assert_eq!(steps(&st, late).await.0, vec![supervision::NOTE.to_owned()]);

    // Two hours on: the late order is escalated to the district; the other one, overdue by now,
    // supervised.
    let later = now + TimeDelta::hours(2);
    assert_eq!(supervision::pass_at(&st, later).await.unwrap(), 2);
    catch_up(&store).await;
    assert_eq!(supervision::pass_at(&st, later).await.unwrap(), 0, "once each");
    assert_eq!(
        steps(&st, late).await.0,
        vec![supervision::NOTE.to_owned(), supervision::ESCALATE_NOTE.to_owned()]
    );
    assert_eq!(steps(&st, in_time).await.0, vec![supervision::NOTE.to_owned()]);

    // Much later: the second order is escalated too, the first gets no third step.
    let head = store.head_seq().await.unwrap();
    assert_eq!(supervision::pass_at(&st, now + TimeDelta::hours(10)).await.unwrap(), 1);
    assert_eq!(store.head_seq().await.unwrap(), head + 1);
    assert_eq!(steps(&st, late).await.0.len(), 2);
    assert_eq!(steps(&st, in_time).await.0.len(), 2);
}

both!(
    supervised_then_escalated_under_the_district_policy_both,
    super::supervised_then_escalated_under_the_district_policy
);
