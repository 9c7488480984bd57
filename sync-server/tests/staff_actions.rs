//! A staff member acting through the server with their browser session (issue 10, items 3 and
//! 6), on both backends: a task issued with the session's CSRF token becomes a server-authored
//! change in the person's name, audited with their id; without the token, with a forged one, or
//! with a one-time password still to change, nothing is written.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::staff::{Browser, audit, code, signed_in, staff};
use common::{TestServer, spawn};
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
    let push =
        entries.iter().find(|e| e["action"] == "act").expect("the change is audited as an action");
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

/// The query API through a browser session: a department handler signed in on the web reads the
/// work orders dispatched to their department and nothing else; a sync admin's session reads no
/// records; the read model then shows a task issued by session.
/// A server holding the demo district, its read model caught up, and a department handler of
/// the demo department (`fire.handler`) with a web login; the department.
async fn seeded_with_handler(store: &DynStore) -> (TestServer, String) {
    let s = spawn(store.clone()).await;
    gridwork_sync_server::demo::seed(
        store,
        &gridwork_sync_server::demo_records::CoreDemoRecords::default(),
    )
    .await
    .unwrap();
    let handler = staff(&s, "fire.handler", &[(Role::DepartmentHandler, "320612")]).await;
    let dep = gridwork_sync_server::demo::DEMO_DEPARTMENT.to_owned();
    store.departments().set_user_departments(handler, std::slice::from_ref(&dep)).await.unwrap();
    let rm = store.read_model().unwrap();
    gridwork_sync_server::read_model::projector::Projector::new(256, 1 << 20)
        .catch_up(store, rm, chrono::Utc::now())
        .await
        .unwrap();
    (s, dep)
}

async fn queries_by_session(store: DynStore) {
    let (s, dep) = seeded_with_handler(&store).await;
    let other = staff(&s, "police.handler", &[(Role::DepartmentHandler, "320612")]).await;
    store.departments().set_user_departments(other, &["police".to_owned()]).await.unwrap();
    staff(&s, "admin.web", &[(Role::SyncAdmin, "320612")]).await;

    let b = signed_in(&s, "fire.handler").await;
    let (st, v) = b.get("/api/v1/work-orders?limit=100").await;
    assert_eq!(st, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{v}");
    for item in items {
        let id: uuid::Uuid = item["id"].as_str().unwrap().parse().unwrap();
        assert!(store.departments().doc_departments(id).await.unwrap().contains(&dep), "{item}");
    }
    let (st, v) = b.get("/api/v1/households").await;
    assert_eq!((st, code(&v)), (403, "no_record_access"), "{v}");
    let (st, v) = signed_in(&s, "police.handler").await.get("/api/v1/work-orders").await;
    assert_eq!(st, 200, "{v}");
    assert!(v["items"].as_array().unwrap().is_empty(), "nothing dispatched to police: {v}");
    let (st, v) = signed_in(&s, "admin.web").await.get("/api/v1/work-orders").await;
    assert_eq!((st, code(&v)), (403, "no_record_access"), "{v}");
}

both!(queries_by_session_both, super::queries_by_session);

/// A department handler signed in on the web feeds back with a photo of the finished work: the
/// photo travels base64 inside the step's JSON, becomes the server's attachment, the step carries
/// it, and the handler's session downloads the same bytes. A photo that is not an image type,
/// not base64, over 5 MiB, or one too many is refused with nothing written.
async fn step_photos_by_session(store: DynStore) {
    let (s, dep) = seeded_with_handler(&store).await;
    let b = signed_in(&s, "fire.handler").await;
    let (st, v) = b.get("/api/v1/work-orders?limit=100").await;
    assert_eq!(st, 200, "{v}");
    let id = v["items"][0]["id"].as_str().expect("an order dispatched to the department");
    let path = format!("/api/v1/work-orders/{id}/actions");
    for step in ["sign", "handle"] {
        let (st, v) = b.post(&path, json!({ "type": step, "department": dep })).await;
        assert_eq!(st, 200, "{step}: {v}");
    }
    let photo: Vec<u8> = b"\x89PNG\r\n\x1a\n".iter().copied().chain(0..=255u8).collect();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let feedback = |photos: serde_json::Value| json!({ "type": "feedback", "department": dep, "note": "已清理", "photos": photos });
    let head = store.head_seq().await.unwrap();
    let one = json!({ "mime": "image/png", "content_base64": b64(&photo) });
    for (bad, status, want) in [
        (json!([{ "mime": "text/plain", "content_base64": b64(&photo) }]), 400, "invalid_input"),
        (json!([{ "mime": "image/png", "content_base64": "%%%%" }]), 400, "invalid_input"),
        (
            json!([{ "mime": "image/png", "content_base64": b64(&vec![7u8; 5 * 1024 * 1024 + 1]) }]),
            413,
            "attachment_too_large",
        ),
        (json!(vec![one.clone(); 21]), 400, "invalid_input"),
    ] {
        let (st, v) = b.post(&path, feedback(bad)).await;
        assert_eq!((st, code(&v)), (status, want), "{v}");
    }
    assert_eq!(store.head_seq().await.unwrap(), head, "nothing written");
    // A step the handler may not take (closing is the centre's): refused, and the photo it
    // brought is taken back.
    let stray: Vec<u8> = photo.iter().rev().copied().collect();
    let stray_hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&stray).into();
    let close = json!({ "type": "close", "photos": [{ "mime": "image/png", "content_base64": b64(&stray) }] });
    let (st, v) = b.post(&path, close).await;
    assert!(st == 403 || st == 409, "{st} {v}");
    assert_eq!(store.head_seq().await.unwrap(), head, "nothing written");
    assert!(
        store.attachment(stray_hash).await.unwrap().is_none(),
        "the refused step's photo is gone"
    );

    let (st, v) = b.post(&path, feedback(json!([one]))).await;
    assert_eq!(st, 200, "{v}");
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo));
    let events = v["record"]["events"].as_array().unwrap();
    let fed = events.iter().find(|e| e["event_type"] == "feedback").expect("the feedback");
    assert_eq!(
        fed["photos"],
        json!([{ "hash": hash, "size": photo.len(), "mime": "image/png" }]),
        "{fed}"
    );
    let r = b
        .http
        .get(format!("{}/api/v1/attachments/{hash}", b.base))
        .header("cookie", format!("gw_session={}", b.cookie.as_deref().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo, "the bytes the handler sent");
}
both!(step_photos_by_session_t, super::step_photos_by_session);
