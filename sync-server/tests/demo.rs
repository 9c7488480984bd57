//! `gridwork-server --demo`: the demo district's records, made by the core, reach a demo user's
//! new device by an ordinary pull, on both backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use common::{TestDevice, pull, spawn};
use gridwork_core::{AreaPath, RecordKind, Role, SignedInUser, Store};
use gridwork_sync_server::demo::{self, DemoRecords};
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::store::DynStore;
use serde_json::json;

async fn demo_pull(store: DynStore) {
    let srv = spawn(store.clone()).await;
    let started = Instant::now();
    let users = demo::seed(&store, &CoreDemoRecords::default()).await.unwrap();
    let took = started.elapsed();
    // Goal < 5 s for the release binary; unoptimised test builds of Automerge are far slower.
    let limit = if cfg!(debug_assertions) { 60.0 } else { 5.0 };
    assert!(took.as_secs_f64() < limit, "seeding took {took:?}");
    eprintln!("demo seeding took {took:?}");
    let count = store.change_count().await.unwrap();
    assert!(count > 100, "only {count} changes");
    demo::seed(&store, &CoreDemoRecords::default()).await.unwrap();
    assert_eq!(store.change_count().await.unwrap(), count, "records are seeded once");

    // A new phone for 王芳, the demo grid worker.
    let wang = users.iter().find(|u| u.name == "王芳").unwrap();
    let code = srv.code(wang.id).await;
    let mut phone = Store::open_in_memory().unwrap();
    let (s, v) = srv
        .enrol_raw(json!({
            "code": code, "actor_id": phone.actor_id().to_hex_string(), "device_name": "新手机"
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
        let changes: Vec<_> = r.changes.into_iter().map(|c| c.change).collect();
        assert!(changes.iter().all(|c| c.area.as_str().starts_with("320612/001/001/01")));
        phone.apply_changes(&changes).unwrap();
        cursor = r.next_cursor;
        if !r.more {
            break;
        }
    }
    let grid = AreaPath::parse("320612/001/001/01").unwrap();
    phone.load_areas(&gridwork_core::demo::areas(1, 1, 1, 1)).unwrap();
    phone
        .sign_in(SignedInUser {
            user_id: wang.id.to_string(),
            name: wang.name.clone(),
            role: Role::GridWorker,
            scope: grid.clone(),
        })
        .unwrap();
    let households = phone.households().in_area(&grid, 1000).unwrap();
    assert_eq!(households.len(), CoreDemoRecords::default().households_per_worker);
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    assert!(households.iter().all(|h| cjk(&h.head_name) && cjk(&h.address)));
    assert!(phone.count_records(RecordKind::Visit).unwrap() >= 5);
    assert_eq!(phone.count_records(RecordKind::WorkOrder).unwrap(), 3);
    assert_eq!(phone.count_records(RecordKind::Task).unwrap(), 1);
    assert!(phone.count_records(RecordKind::Resident).unwrap() >= 10);
    // The grid head moved the orders through different states.
    let states: std::collections::BTreeSet<String> = phone
        .work_orders()
        .open(&grid, chrono::Utc::now(), 100)
        .unwrap()
        .into_iter()
        .map(|w| w.state)
        .collect();
    assert_eq!(states.len(), 3, "{states:?}");

    // The demo's department handler reads exactly the orders dispatched to their department.
    let sun = users.iter().find(|u| u.name == "孙伟").unwrap();
    assert_eq!(
        store.departments().user_departments(sun.id).await.unwrap(),
        vec![demo::DEMO_DEPARTMENT.to_owned()]
    );
    let dispatched: Vec<_> = phone
        .work_orders()
        .open(&grid, chrono::Utc::now(), 100)
        .unwrap()
        .into_iter()
        .filter(|w| w.departments.iter().any(|d| d == demo::DEMO_DEPARTMENT))
        .map(|w| w.id)
        .collect();
    assert_eq!(dispatched.len(), 1, "the grid head dispatched one order");
    let scopes = gridwork_sync_server::policy::read_scopes_with(
        &sun.roles,
        &store.departments().user_departments(sun.id).await.unwrap(),
    );
    let page = store
        .pull(&gridwork_sync_server::store::PullQuery {
            cursor: 0,
            scopes,
            exclude_device: None,
            max_bytes: u32::MAX,
        })
        .await
        .unwrap();
    let docs: std::collections::BTreeSet<_> =
        page.changes.iter().map(|c| c.change.doc_id).collect();
    let seen: Vec<_> = docs.into_iter().collect();
    assert_eq!(seen.len(), 1, "one order, of one grid: {seen:?}");
    assert!(dispatched.contains(&seen[0]));
}
both!(demo_pull_both, super::demo_pull);

#[test]
fn demo_records_are_deterministic() {
    let areas: Vec<_> = demo::demo_areas()
        .into_iter()
        .map(|(p, n)| (AreaPath::parse(p).unwrap(), n.to_owned()))
        .collect();
    let users: Vec<_> = demo::demo_users()
        .into_iter()
        .map(|(name, role, area)| gridwork_sync_server::store::User {
            id: uuid::Uuid::nil(),
            name: name.into(),
            roles: vec![gridwork_sync_server::store::RoleGrant {
                role,
                area: AreaPath::parse(area).unwrap(),
            }],
            created_at: 0,
        })
        .collect();
    let count =
        |batches: Vec<demo::DemoBatch>| -> usize { batches.iter().map(|b| b.changes.len()).sum() };
    let a = CoreDemoRecords::default().batches(&areas, &users).unwrap();
    let b = CoreDemoRecords::default().batches(&areas, &users).unwrap();
    assert_eq!(count(a), count(b));
}
