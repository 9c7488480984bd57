//! Staff accounts, the admin side, on both backends: disabling a person ends their sessions,
//! the admin API through a sync admin's session (CSRF on changes, audited with the person's id),
//! people without the role refused, and the shared admin token turned off.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::staff::{Browser, PASSWORD, audit, code, signed_in, staff};
use common::{spawn, spawn_with_config};
use gridwork_core::Role;
use gridwork_sync_server::auth::hash_secret;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::staff::{AdminConfig, password};
use gridwork_sync_server::store::staff::{NewSession, PasswordWrite};
use gridwork_sync_server::store::{AuditAction, DynStore, RoleGrant, User, now_ms};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn disabled_person(store: DynStore) {
    let s = spawn(store).await;
    let id = staff(&s, "qianmin", &[(Role::SyncAdmin, "320612")]).await;
    let b = signed_in(&s, "qianmin").await;
    assert_eq!(b.get("/admin/v1/users").await.0, 200);
    let (st, v) = s.admin_post(&format!("/users/{id}/disable"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    for path in ["/api/v1/me", "/admin/v1/users"] {
        let (st, v) = b.get(path).await;
        assert_eq!((st, code(&v)), (401, "session_invalid"), "{path}: {v}");
    }
    let (st, v) = Browser::new(&s).login("qianmin", PASSWORD).await;
    assert_eq!((st, code(&v)), (401, "login_failed"));
    // A session that outlived the disabling (made behind the server's back): refused all the same.
    let token = "9f".repeat(32);
    let session = NewSession {
        token_hash: hash_secret(&token),
        user_id: id,
        csrf_token: "c".repeat(64),
        now: now_ms(),
        expires_at: now_ms() + 3_600_000,
    };
    s.store.staff().start_session(&session).await.unwrap();
    let stale = Browser { cookie: Some(token), csrf: Some("c".repeat(64)), ..Browser::new(&s) };
    for path in ["/api/v1/me", "/admin/v1/users"] {
        let (st, v) = stale.get(path).await;
        assert_eq!((st, code(&v)), (403, "account_disabled"), "{path}: {v}");
    }
    let (st, v) = stale.post("/admin/v1/areas", json!({ "path": "320612/007", "name": "x" })).await;
    assert_eq!((st, code(&v)), (403, "account_disabled"), "{v}");
    let (st, v) = s.admin_post(&format!("/users/{id}/enable"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(Browser::new(&s).login("qianmin", PASSWORD).await.0, 200);
    // A login taken by another person.
    let other = s.user("钱敏二", &[(Role::GridWorker, "320612/001/001/01")]).await;
    let (st, v) =
        s.admin_post(&format!("/users/{other}/login"), json!({ "login": "QianMin" })).await;
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    let (st, v) = s.admin_post(&format!("/users/{other}/login"), json!({ "login": "a b" })).await;
    assert_eq!((st, code(&v)), (400, "invalid_input"), "{v}");
    let (st, v) = s
        .admin_post(
            &format!("/users/{other}/login"),
            json!({ "login": "qian2", "password": "qian2" }),
        )
        .await;
    assert_eq!((st, code(&v)), (400, "weak_password"), "{v}");
}
both!(disabled_person_t, super::disabled_person);

async fn admin_api_by_session(store: DynStore) {
    let s = spawn(store).await;
    let admin = staff(&s, "syncadmin", &[(Role::SyncAdmin, "320612")]).await;
    staff(&s, "townop", &[(Role::TownOperator, "320612/001")]).await;
    let b = signed_in(&s, "syncadmin").await;
    let (st, v) = b.get("/admin/v1/users").await;
    assert_eq!(st, 200, "reads need no CSRF token: {v}");
    let area = json!({ "path": "320612/009", "name": "新区" });
    let (st, v) = b.send(Method::POST, "/admin/v1/areas", Some(area.clone()), false).await;
    assert_eq!((st, code(&v)), (403, "csrf_missing"));
    let mut forged = b.clone();
    forged.csrf = Some("f".repeat(64));
    let (st, v) = forged.post("/admin/v1/areas", area.clone()).await;
    assert_eq!((st, code(&v)), (403, "csrf_invalid"));
    let (_, areas) = s.admin_get("/areas").await;
    assert!(!areas.to_string().contains("320612/009"), "nothing written");
    let (st, v) = b.post("/admin/v1/areas", area).await;
    assert_eq!(st, 201, "{v}");
    // A change of roles by the person: audited with their id.
    let worker = s.user("工人", &[(Role::GridWorker, "320612/001/001/01")]).await;
    let roles = json!({ "roles": [{ "role": "grid_worker", "area": "320612/001/001/02" }] });
    let (st, v) =
        b.send(Method::PUT, &format!("/admin/v1/users/{worker}/roles"), Some(roles), true).await;
    assert_eq!(st, 200, "{v}");
    let entries = audit(&s).await;
    let by_admin: Vec<&Value> =
        entries.iter().filter(|e| e["actor_id"] == json!(admin.to_string())).collect();
    let assign = by_admin.iter().find(|e| e["action"] == "assign").expect("assign by the person");
    assert_eq!(assign["user_id"], worker.to_string());
    let details: Vec<&str> = by_admin
        .iter()
        .filter(|e| e["action"] == "admin")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(details.contains(&"POST /admin/v1/areas → 201"), "{details:?}");
    assert!(details.iter().any(|d| d.starts_with("PUT /admin/v1/users/")), "{details:?}");
    assert!(
        entries.iter().all(|e| e["action"] != "admin" || e["actor_id"].is_string()),
        "token mutations are not audited as a person's"
    );
    // A person without the sync_admin role.
    let op = signed_in(&s, "townop").await;
    let (st, v) = op.get("/admin/v1/users").await;
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    // A sync admin with a one-time password must change it first.
    let (st, v) = s.admin_post(&format!("/users/{admin}/password-reset"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let mut fresh = Browser::new(&s);
    assert_eq!(fresh.login("syncadmin", v["one_time_password"].as_str().unwrap()).await.0, 200);
    let (st, v) = fresh.get("/admin/v1/users").await;
    assert_eq!((st, code(&v)), (403, "password_change_required"), "{v}");
}
both!(admin_api_by_session_t, super::admin_api_by_session);

async fn admin_token_turned_off(store: DynStore) {
    // A sync admin made straight in the store, then a server with the token off.
    let user = User {
        id: Uuid::now_v7(),
        name: "无令牌".into(),
        roles: vec![RoleGrant { role: Role::SyncAdmin, area: common::area("320612") }],
        created_at: now_ms(),
    };
    store.create_user(&user).await.unwrap();
    let write = PasswordWrite {
        user_id: user.id,
        password_hash: password::hash(PASSWORD).unwrap(),
        must_change: false,
        keep_session: None,
    };
    assert!(store.staff().set_login("tokenless", &write).await.unwrap());
    let config = Config { admin: AdminConfig { token_enabled: false }, ..Config::default() };
    let s = spawn_with_config(store, config).await;
    let (st, v) = s.admin_get("/users").await;
    assert_eq!((st, code(&v)), (401, "admin_token_disabled"), "{v}");
    let (st, v) = s.admin_post("/areas", json!({ "path": "320612/008", "name": "x" })).await;
    assert_eq!((st, code(&v)), (401, "admin_token_disabled"), "{v}");
    let b = signed_in(&s, "tokenless").await;
    let (st, v) = b.get("/admin/v1/audit").await;
    assert_eq!(st, 200, "{v}");
    assert!(!v.to_string().contains("320612/008"));
    assert_eq!(
        v["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "login").count(),
        1,
        "{v}"
    );
    assert!(
        v["entries"].as_array().unwrap().iter().all(|e| e["action"] != AuditAction::Admin.as_str())
    );
}
both!(admin_token_turned_off_t, super::admin_token_turned_off);
