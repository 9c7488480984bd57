//! A staff member acting through the server with their browser session (issue 10, items 3 and
//! 6), on both backends: a task issued with the session's CSRF token becomes a server-authored
//! change in the person's name, audited with their id; without the token, with a forged one, or
//! with a one-time password still to change, nothing is written.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::spawn;
use common::staff::{Browser, audit, code, signed_in, staff};
use gridwork_core::Role;
use gridwork_sync_server::store::DynStore;
use reqwest::Method;
use serde_json::json;

async fn task_by_session(store: DynStore) {
    let s = spawn(store.clone()).await;
    let op = staff(&s, "town.op", &[(Role::TownOperator, "320612/001")]).await;
    let b = signed_in(&s, "town.op").await;
    let task = json!({ "area": "320612/001", "title": "冬季消防安全排查", "instructions": "全镇本周完成" });
    let head = store.head_seq().await.unwrap();
    let (st, v) = b.send(Method::POST, "/api/v1/tasks", Some(task.clone()), false).await;
    assert_eq!((st, code(&v)), (403, "csrf_missing"), "{v}");
    let mut forged = b.clone();
    forged.csrf = Some("0".repeat(64));
    let (st, v) = forged.post("/api/v1/tasks", task.clone()).await;
    assert_eq!((st, code(&v)), (403, "csrf_invalid"), "{v}");
    let mut anon = Browser::new(&s);
    anon.cookie = Some("ab".repeat(32));
    anon.csrf = b.csrf.clone();
    let (st, v) = anon.post("/api/v1/tasks", task.clone()).await;
    assert_eq!((st, code(&v)), (401, "session_invalid"), "{v}");
    assert_eq!(store.head_seq().await.unwrap(), head, "nothing written");
    let (st, v) = b.post("/api/v1/tasks", task.clone()).await;
    assert_eq!(st, 201, "{v}");
    assert!(v["seq"].as_u64().unwrap() > head);
    let entries = audit(&s).await;
    let push = entries.iter().find(|e| e["action"] == "act").expect("the change is audited as an action");
    assert_eq!((push["user_id"].clone(), push["actor_id"].clone()), (json!(op), json!(op)));
    // Outside the person's area: the server's write rules refuse it.
    let (st, v) = b.post("/api/v1/tasks", json!({ "area": "320612/002", "title": "越界" })).await;
    assert_eq!(st, 403, "{v}");
    // A one-time password must be changed before acting.
    let (st, v) = s.admin_post(&format!("/users/{op}/password-reset"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let mut fresh = Browser::new(&s);
    let otp = v["one_time_password"].as_str().unwrap();
    assert_eq!(fresh.login("town.op", otp).await.0, 200);
    let before = store.head_seq().await.unwrap();
    let (st, v) = fresh.post("/api/v1/tasks", task).await;
    assert_eq!((st, code(&v)), (403, "password_change_required"), "{v}");
    assert_eq!(store.head_seq().await.unwrap(), before);
}
both!(task_by_session_t, super::task_by_session);
