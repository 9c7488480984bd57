//! Departments in the store (issue 10, item 4), on both backends: the registry and memberships,
//! documents recorded as dispatched at push, a department handler's scope over pulls, digests
//! and fetches; and the one-time backfill of a log made before departments were recorded.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use common::{actor, area};
use gridwork_core::{ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::policy::read_scopes_with;
use gridwork_sync_server::store::departments::{self, Department};
use gridwork_sync_server::store::{DynStore, NewChange, PullQuery, RoleGrant, User, now_ms};
use uuid::Uuid;

/// A work order's creation with one event naming `department` (or none).
fn order(id: Uuid, department: Option<&str>, n: u8) -> NewChange {
    let mut d = AutoCommit::new().with_actor(actor(n));
    d.put(ROOT, "kind", "work_order").unwrap();
    d.put(ROOT, "area", "320612/001/001/01/01").unwrap();
    let events = d.put_object(ROOT, "events", ObjType::List).unwrap();
    let ev = d.insert_object(&events, 0, ObjType::Map).unwrap();
    d.put(&ev, "role", "town_operator").unwrap();
    if let Some(dep) = department {
        d.put(&ev, "department", dep).unwrap();
    }
    let change = d.get_last_local_change().unwrap().clone();
    let env = ChangeEnvelope {
        doc_id: id,
        kind: RecordKind::WorkOrder,
        area: area("320612/001/001/01/01"),
        bytes: change.raw_bytes().to_vec(),
    };
    let departments = department.map(|d| vec![d.to_owned()]).unwrap_or_default();
    NewChange { departments, ..NewChange::new(change.hash().0, env) }
}

async fn handler(store: &DynStore, departments: &[&str]) -> User {
    let u = User {
        id: Uuid::now_v7(),
        name: "赵强".into(),
        roles: vec![RoleGrant { role: Role::DepartmentHandler, area: area("320612/001") }],
        created_at: now_ms(),
    };
    store.create_user(&u).await.unwrap();
    let codes: Vec<String> = departments.iter().map(|d| (*d).to_owned()).collect();
    assert!(store.departments().set_user_departments(u.id, &codes).await.unwrap());
    u
}

async fn registry_memberships_and_scope(store: DynStore) {
    let deps = store.departments();
    let all = deps.list_departments().await.unwrap();
    assert!(all.len() >= 9, "the defaults are seeded: {all:?}");
    let mut elevator = Department {
        code: "elevator".into(),
        name_zh: "电梯安全办".into(),
        name_en: "Elevator safety".into(),
        categories: vec!["safety_hazard".into()],
        area: Some(area("320612/001")),
        active: true,
    };
    deps.put_department(&elevator).await.unwrap();
    elevator.active = false;
    deps.put_department(&elevator).await.unwrap();
    let read = deps.list_departments().await.unwrap();
    assert_eq!(read.iter().find(|d| d.code == "elevator"), Some(&elevator), "replaced whole");
    let e = deps.set_user_departments(Uuid::now_v7(), &[]).await.unwrap();
    assert!(!e, "an unknown person");

    let sanitation = handler(&store, &["sanitation"]).await;
    let nobody = handler(&store, &[]).await;
    let e = deps.set_user_departments(nobody.id, &["aliens".into()]).await.unwrap_err();
    assert!(e.to_string().contains("aliens"), "{e}");
    assert!(deps.user_departments(nobody.id).await.unwrap().is_empty(), "nothing half-written");

    let (mine, other, none) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let pushed =
        [order(mine, Some("sanitation"), 1), order(other, Some("police"), 2), order(none, None, 3)];
    store.push(Uuid::now_v7(), now_ms(), &pushed).await.unwrap();
    // Pushed again (a retry): recorded once.
    store.push(Uuid::now_v7(), now_ms(), &pushed[..1]).await.unwrap();
    assert_eq!(deps.doc_departments(mine).await.unwrap(), vec!["sanitation".to_string()]);
    assert!(deps.doc_departments(none).await.unwrap().is_empty());

    let scopes = |u: &User, d: Vec<String>| read_scopes_with(&u.roles, &d);
    let s_scopes = scopes(&sanitation, deps.user_departments(sanitation.id).await.unwrap());
    let pull = |scopes| PullQuery { cursor: 0, scopes, exclude_device: None, max_bytes: 1 << 20 };
    let page = store.pull(&pull(s_scopes.clone())).await.unwrap();
    assert_eq!(page.changes.iter().map(|c| c.change.doc_id).collect::<Vec<_>>(), vec![mine]);
    let page = store.pull(&pull(scopes(&nobody, vec![]))).await.unwrap();
    assert!(page.changes.is_empty());
    let digests = store.digests(&area("320612"), &s_scopes).await.unwrap();
    assert_eq!(digests.iter().map(|d| d.doc_id).collect::<Vec<_>>(), vec![mine]);
    let fetched = store.doc_changes(&[mine, other, none], &s_scopes).await.unwrap();
    assert_eq!(fetched.iter().map(|c| c.change.doc_id).collect::<Vec<_>>(), vec![mine]);
    // Without departments known, a handler reads nothing (the safe default).
    let page =
        store.pull(&pull(gridwork_sync_server::policy::read_scopes(&sanitation.roles))).await;
    assert!(page.unwrap().changes.is_empty());
}

both!(registry_memberships_and_scope_both, super::registry_memberships_and_scope);

/// A log written before departments were recorded: the dispatches are found once, at start.
#[tokio::test]
async fn a_log_from_before_departments_is_backfilled_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let id = Uuid::now_v7();
    {
        let store: DynStore = std::sync::Arc::new(
            gridwork_sync_server::store::sqlite::SqliteStore::open(&path).await.unwrap(),
        );
        store.put_area(&area("320612"), "区").await.unwrap();
        let mut old = order(id, Some("sanitation"), 1);
        old.departments.clear();
        store.push(Uuid::now_v7(), now_ms(), &[old]).await.unwrap();
    }
    // What migration 5 leaves in a log that holds work orders.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO log_meta (key, value) VALUES ('doc_departments_backfill', X'01')",
        [],
    )
    .unwrap();
    drop(conn);
    let store: DynStore = std::sync::Arc::new(
        gridwork_sync_server::store::sqlite::SqliteStore::open(&path).await.unwrap(),
    );
    assert!(store.departments().doc_departments(id).await.unwrap().is_empty());
    assert!(store.departments().backfill_pending().await.unwrap());
    assert_eq!(departments::backfill(&store).await.unwrap(), 1);
    assert_eq!(
        store.departments().doc_departments(id).await.unwrap(),
        vec!["sanitation".to_string()]
    );
    assert!(!store.departments().backfill_pending().await.unwrap());
    assert_eq!(departments::backfill(&store).await.unwrap(), 0, "once");
}
