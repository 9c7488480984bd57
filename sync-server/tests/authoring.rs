//! Server-authored changes (issue 10, item 6), on both backends: a person's step on a work
//! order or a task they issue, taken on the server, is a real Automerge change with the
//! person's server actor, through the push's validation, in the log; a phone receives it by an
//! ordinary pull and folds the same state; the read model has folded it when the action
//! answers (read your write); refused steps write nothing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::{TestDevice, pull, spawn};
use gridwork_core::work_order::{EventType, WorkOrderAction, WorkOrderState};
use gridwork_core::{
    AreaPath, Incoming, Received, RecordKind, Role, SignedInUser, Store, TaskInput,
};
use gridwork_sync_server::authoring::{self, Author};
use gridwork_sync_server::config::Config;
use gridwork_sync_server::demo;
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::server;
use gridwork_sync_server::store::{DynStore, User};
use serde_json::json;

const GRID: &str = "320612/001/001/01";

fn act(event_type: EventType, department: Option<&str>) -> WorkOrderAction {
    WorkOrderAction {
        event_type,
        department: department.map(str::to_owned),
        note: Some("已电话联系".into()),
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    }
}

fn person<'a>(users: &'a [User], name: &str) -> &'a User {
    users.iter().find(|u| u.name == name).unwrap()
}

/// A phone of 王芳 (the demo grid worker) that has pulled everything of her grid.
async fn phone(srv: &common::TestServer, users: &[User]) -> Store {
    let wang = person(users, "王芳");
    let code = srv.code(wang.id).await;
    let mut phone = Store::open_in_memory().unwrap();
    let (s, v) = srv
        .enrol_raw(json!({
            "code": code, "actor_id": phone.actor_id().to_hex_string(), "device_name": "手机"
        }))
        .await;
    assert_eq!(s, 201, "{v}");
    let dev = TestDevice {
        id: v["device_id"].as_str().unwrap().parse().unwrap(),
        credential: v["credential"].as_str().unwrap().to_owned(),
        actor: phone.actor_id().clone(),
        user_id: wang.id,
    };
    let mut cursor = 0;
    loop {
        let r = srv.sync(&dev, &pull(cursor)).await;
        // With the server's receive times, as the sync client applies them.
        let changes = r
            .changes
            .into_iter()
            .map(|c| Received { envelope: c.change, received_at: c.received_at })
            .collect();
        phone.apply_incoming(Incoming { changes, acks: vec![], meta: vec![] }).unwrap();
        cursor = r.next_cursor;
        if !r.more {
            break;
        }
    }
    phone.load_areas(&gridwork_core::demo::areas(1, 1, 1, 1)).unwrap();
    phone
        .sign_in(SignedInUser {
            user_id: wang.id.to_string(),
            name: wang.name.clone(),
            role: Role::GridWorker,
            scope: AreaPath::parse(GRID).unwrap(),
        })
        .unwrap();
    phone
}

async fn staff_steps_reach_phones(store: DynStore) {
    let srv = spawn(store.clone()).await;
    let users = demo::seed(&store, &CoreDemoRecords::default()).await.unwrap();
    let st = server::state(store.clone(), &Config::default());
    tokio::spawn(gridwork_sync_server::read_model::projector::follow(
        store.clone(),
        st.metrics.clone(),
        st.read_model.clone(),
        Duration::from_secs(3600),
    ));
    let grid = AreaPath::parse(GRID).unwrap();
    let before = phone(&srv, &users).await;
    // The demo's grid head accepted the grid's second order without dispatching it.
    let open = {
        let mut p = before;
        p.work_orders().open(&grid, Utc::now(), 100).unwrap()
    };
    let accepted = open.iter().find(|w| w.state == "accepted").expect("an accepted order").id;
    let dispatched = open.iter().find(|w| w.state == "dispatched").expect("a dispatched one").id;

    let operator = Author::new(person(&users, "周丽华").clone(), vec![]);
    let head = store.head_seq().await.unwrap();
    let done = authoring::work_order::act(
        &st,
        &operator,
        accepted,
        act(EventType::Dispatch, Some("sanitation")),
    )
    .await
    .unwrap();
    assert_eq!(done.change.seq, head + 1);
    assert_eq!(done.summary.departments.get("sanitation"), Some(&WorkOrderState::Dispatched));
    assert!(done.change.read_model_caught_up, "the action waits for its own write to be folded");
    let rows = store.read_model().unwrap().rm_rows().await.unwrap();
    let id_hex = hex::encode(accepted.as_bytes());
    assert!(
        rows.iter().any(|r| r.starts_with("rm_work_orders|")
            && r.contains(&id_hex)
            && r.contains("dispatched")),
        "the read model shows the dispatch"
    );

    // Pressed twice: the second is refused by the core's rule, nothing written.
    let again = authoring::work_order::act(
        &st,
        &operator,
        accepted,
        act(EventType::Dispatch, Some("sanitation")),
    )
    .await
    .unwrap_err();
    assert_eq!((again.status.as_u16(), again.code), (409, "already_dispatched"), "{again}");
    // Refusals: an illegal step, a role that may not, a department not in the registry, an
    // order outside the person's scope.
    let e = authoring::work_order::act(&st, &operator, accepted, act(EventType::Close, None))
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 409, "{e}");
    let liaison = Author::new(person(&users, "张桂英").clone(), vec![]);
    let e = authoring::work_order::act(&st, &liaison, dispatched, act(EventType::Accept, None))
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 403, "{e}");
    let e = authoring::work_order::act(
        &st,
        &operator,
        accepted,
        act(EventType::Dispatch, Some("aliens")),
    )
    .await
    .unwrap_err();
    assert_eq!((e.status.as_u16(), e.code), (403, "unknown_department"), "{e}");
    let far = Author::new(person(&users, "刘洋").clone(), vec![]);
    let e = authoring::work_order::act(&st, &far, accepted, act(EventType::Accept, None))
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 404, "{e}");
    assert_eq!(store.head_seq().await.unwrap(), head + 1, "no refused step was logged");

    // The department handler signs for the order dispatched to their department.
    let sun = person(&users, "孙伟").clone();
    let handler =
        Author::new(sun.clone(), store.departments().user_departments(sun.id).await.unwrap());
    let signed = authoring::work_order::act(
        &st,
        &handler,
        dispatched,
        act(EventType::Sign, Some(demo::DEMO_DEPARTMENT)),
    )
    .await
    .unwrap();
    assert_eq!(
        signed.summary.departments.get(demo::DEMO_DEPARTMENT),
        Some(&WorkOrderState::Signed)
    );
    // …but the other order is not theirs to see.
    let e = authoring::work_order::act(
        &st,
        &handler,
        accepted,
        act(EventType::Sign, Some("sanitation")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status.as_u16(), 404, "{e}");

    // The district centre issues a task to the whole town.
    let centre = Author::new(person(&users, "陈建国").clone(), vec![]);
    let (task, _) = authoring::task::issue(
        &st,
        &centre,
        TaskInput {
            area: AreaPath::parse("320612/001").unwrap(),
            title: "汛期安全排查".into(),
            instructions: "各网格排查低洼地带住户".into(),
            households: vec![],
            due_at: Some(Utc::now() + TimeDelta::days(3)),
            assignee: None,
        },
    )
    .await
    .unwrap();
    let e = authoring::task::issue(
        &st,
        &liaison,
        TaskInput {
            area: AreaPath::parse("320612/001/001/01/01").unwrap(),
            title: "x".into(),
            instructions: String::new(),
            households: vec![],
            due_at: None,
            assignee: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!((e.status.as_u16(), e.code), (403, "forbidden"));

    // A phone pulls all of it and folds the same: the person's id and role on each step.
    let mut after = phone(&srv, &users).await;
    let order = after.work_orders().get(accepted).unwrap();
    assert_eq!(order.summary.departments.get("sanitation"), Some(&WorkOrderState::Dispatched));
    let step = order.summary.events.last().unwrap();
    assert_eq!(
        (step.by.as_str(), step.role),
        (operator.user.id.to_string().as_str(), Role::TownOperator)
    );
    assert!(step.received_at.is_some(), "the server's receive time, not a device clock");
    assert_eq!(step.note.as_deref(), Some("已电话联系"));
    let signed_on_phone = after.work_orders().get(dispatched).unwrap();
    assert_eq!(
        signed_on_phone.summary.departments.get(demo::DEMO_DEPARTMENT),
        Some(&WorkOrderState::Signed)
    );
    assert_eq!(after.tasks().get(task).unwrap().title, "汛期安全排查");
    // The changes carry the person's server actor, one per person.
    assert_ne!(operator.actor(), handler.actor());
    assert_eq!(operator.actor(), Author::new(operator.user.clone(), vec![]).actor());
    assert_eq!(after.count_records(RecordKind::Task).unwrap(), 2);
}

both!(staff_steps_reach_phones_both, super::staff_steps_reach_phones);
