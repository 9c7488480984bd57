//! Automatic supervision on the server's clock, on both backends: an accepted urgent order whose
//! 2-hour deadline (counted from the server's receive time of the acceptance) has passed gets one
//! `escalate` step by the system person; a second pass, or an order still in time, gets none;
//! the step is in the log for phones and in the read model.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use automerge::ActorId;
use chrono::{TimeDelta, Utc};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderEvent, append_event,
};
use gridwork_core::{AreaPath, ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::config::Config;
use gridwork_sync_server::read_model::projector::Projector;
use gridwork_sync_server::store::{DynStore, NewChange};
use gridwork_sync_server::{authoring, server, supervision};
use uuid::Uuid;

const MICRO: &str = "320612/001/001/01/01";

/// An urgent order reported and accepted, logged as received `ago` before now.
async fn accepted_order(store: &DynStore, ago: TimeDelta, n: u8) -> Uuid {
    let id = Uuid::now_v7();
    let area = AreaPath::parse(MICRO).unwrap();
    let at = Utc::now() - ago;
    let actor = ActorId::from(vec![n; 16]);
    let mut d = gridwork_core::author::new_document(
        RecordKind::WorkOrder,
        &area,
        "u1",
        &actor,
        at.timestamp_millis(),
    )
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
        reported_at: at,
    };
    input
        .write_report(&mut d, &WorkOrderEvent::new(EventType::Report, "u1", Role::GridWorker, at))
        .unwrap();
    let (h1, b1) = gridwork_core::author::commit(&mut d, "u1", "report", at.timestamp_millis())
        .unwrap()
        .unwrap();
    append_event(&mut d, &WorkOrderEvent::new(EventType::Accept, "u2", Role::TownOperator, at))
        .unwrap();
    let (h2, b2) = gridwork_core::author::commit(&mut d, "u2", "accept", at.timestamp_millis())
        .unwrap()
        .unwrap();
    let env = |bytes| ChangeEnvelope {
        doc_id: id,
        kind: RecordKind::WorkOrder,
        area: area.clone(),
        bytes,
    };
    let changes = [NewChange::new(h1.0, env(b1)), NewChange::new(h2.0, env(b2))];
    store.push(Uuid::now_v7(), at.timestamp_millis(), &changes).await.unwrap();
    id
}

async fn overdue_orders_are_supervised_once(store: DynStore) {
    store.put_area(&AreaPath::parse("320612").unwrap(), "区").await.unwrap();
    let late = accepted_order(&store, TimeDelta::hours(3), 1).await;
    let in_time = accepted_order(&store, TimeDelta::minutes(30), 2).await;
    let st = server::state(store.clone(), &Config::default());
    tokio::spawn(gridwork_sync_server::read_model::projector::follow(
        store.clone(),
        st.metrics.clone(),
        st.read_model.clone(),
        Duration::from_secs(3600),
    ));
    let rm = store.read_model().unwrap();
    Projector::new(64, 1 << 20).catch_up(&store, rm, Utc::now()).await.unwrap();
    assert_eq!(rm.rm_overdue(Utc::now().timestamp_millis(), 10).await.unwrap(), vec![late]);

    let head = store.head_seq().await.unwrap();
    assert_eq!(supervision::pass(&st).await.unwrap(), 1);
    assert_eq!(store.head_seq().await.unwrap(), head + 1, "one step logged");
    assert!(rm.rm_overdue(Utc::now().timestamp_millis(), 10).await.unwrap().is_empty());
    assert_eq!(supervision::pass(&st).await.unwrap(), 0, "once");
    assert_eq!(store.head_seq().await.unwrap(), head + 1);

    // In the log: the system's escalate step, with the server's receive time.
    let author = authoring::Author::system(AreaPath::parse("320612").unwrap());
    let loaded = authoring::load(&st, &author, RecordKind::WorkOrder, late).await.unwrap();
    let order =
        gridwork_core::spec::decode::<gridwork_core::work_order::WorkOrderSpec>(late, &loaded.doc)
            .unwrap();
    let last = order.record.events.last().unwrap();
    assert_eq!(last.event.event_type, EventType::Escalate);
    assert_eq!(last.event.by, authoring::SYSTEM_USER.to_string());
    assert_eq!(last.event.note.as_deref(), Some(supervision::NOTE));
    let summary = order.record.summary(
        |h| loaded.received.get(h).and_then(|ms| chrono::DateTime::from_timestamp_millis(*ms)),
        Utc::now(),
    );
    assert!(summary.escalated && summary.overdue);
    // The order still in time was left alone.
    let other = authoring::load(&st, &author, RecordKind::WorkOrder, in_time).await.unwrap();
    let other = gridwork_core::spec::decode::<gridwork_core::work_order::WorkOrderSpec>(
        in_time, &other.doc,
    )
    .unwrap();
    assert_eq!(other.record.events.len(), 2);
}

both!(overdue_orders_are_supervised_once_both, super::overdue_orders_are_supervised_once);
