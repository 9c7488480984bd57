//! Named staff accounts (issue 10, item 3) over HTTP, on both backends: sign-in, sessions,
//! CSRF, lockout (also at the store, concurrent) and throttling, password change and reset. Every
//! refusal is a clear JSON error and writes nothing. The admin side: `staff_admin.rs`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::staff::{Browser, NEW_PASSWORD, PASSWORD, audit, code, signed_in, staff};
use common::{spawn, spawn_with_config};
use gridwork_core::Role;
use gridwork_sync_server::auth::hash_secret;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::staff::StaffConfig;
use gridwork_sync_server::store::staff::{LockRule, NewSession, PasswordWrite};
use gridwork_sync_server::store::{DynStore, RoleGrant, User, now_ms};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn sign_in_me_out(store: DynStore) {
    let s = spawn(store).await;
    let id = s.user("王芳", &[(Role::TownOperator, "320612/001")]).await;
    let (st, v) = s.admin_post(&format!("/users/{id}/login"), json!({ "login": "WangFang" })).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["login"], "wangfang");
    let otp = v["one_time_password"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&s);
    let (st, v) = b.login("wangfang", &otp).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["must_change_password"], true);
    assert_eq!(v["person"]["id"], id.to_string());
    assert_eq!(v["person"]["roles"][0]["role"], "town_operator");
    // A one-time password allows only changing it.
    let (st, v) = b.get("/api/v1/me").await;
    assert_eq!((st, v["must_change_password"].clone()), (200, json!(true)), "{v}");
    let (st, v) = b
        .post("/api/v1/me/password", json!({ "current_password": otp, "new_password": PASSWORD }))
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = b.get("/api/v1/me").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["must_change_password"].clone(), v["person"]["name"].clone()),
        (json!(false), json!("王芳"))
    );
    assert_eq!(v["csrf_token"].as_str(), b.csrf.as_deref());
    // Logout needs the CSRF token, then ends the session.
    let (st, v) = b.send(Method::DELETE, "/api/v1/session", None, false).await;
    assert_eq!((st, code(&v)), (403, "csrf_missing"));
    let (st, v) = b.send(Method::DELETE, "/api/v1/session", None, true).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = b.get("/api/v1/me").await;
    assert_eq!((st, code(&v)), (401, "session_invalid"));
    let actions: Vec<(String, Option<String>)> = audit(&s)
        .await
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap().to_owned(), e["actor_id"].as_str().map(str::to_owned))
        })
        .collect();
    let me = Some(id.to_string());
    assert_eq!(
        actions[..4],
        [
            ("logout".to_owned(), me.clone()),
            ("account".to_owned(), me.clone()),
            ("login".to_owned(), me.clone()),
            ("account".to_owned(), None),
        ]
    );
}
both!(sign_in_me_out_t, super::sign_in_me_out);

async fn bad_logins_leak_nothing(store: DynStore) {
    let s = spawn(store.clone()).await;
    let id = staff(&s, "lihua", &[(Role::GridHead, "320612/001/001")]).await;
    let (st, v) = s.admin_post(&format!("/users/{id}/disable"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    staff(&s, "zhaolei", &[(Role::GridHead, "320612/001/001")]).await;
    let before = audit(&s).await.len();
    let mut answers = Vec::new();
    for (login, password) in [
        ("nobody", PASSWORD),                   // unknown login
        ("zhaolei", "wrong password!"),         // wrong password
        ("lihua", PASSWORD),                    // disabled person, right password
        ("x'; DROP TABLE users; --", PASSWORD), // SQL metacharacters
        ("zhaolei", &"p".repeat(100_000)[..]),  // oversized
    ] {
        let (st, v) = Browser::new(&s).login(login, password).await;
        answers.push((st, v));
    }
    let (first_status, first) = answers[0].clone();
    assert_eq!((first_status, code(&first)), (401, "login_failed"), "{first}");
    for (st, v) in &answers[1..4] {
        assert_eq!((*st, v), (first_status, &first), "every refusal is the same answer");
    }
    assert_eq!(answers[4].0, 413, "{}", answers[4].1);
    // Malformed bodies.
    for body in ["{", "[]", "{\"login\":\"a\"}", "{\"login\":\"a\",\"password\":\"b\",\"x\":1}"] {
        let r = s
            .http
            .post(format!("{}/api/v1/session", s.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
    }
    // A form on another site cannot post JSON: other content types are refused (login CSRF).
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
        let r = s
            .http
            .post(format!("{}/api/v1/session", s.base))
            .header("content-type", ct)
            .body(json!({ "login": "zhaolei", "password": PASSWORD }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 415, "{ct}");
    }
    assert_eq!(audit(&s).await.len(), before, "refused logins write no audit entry");
    let a = store.staff().staff_by_login("zhaolei").await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.locked_until), (1, None), "only the wrong password counts");
    assert_eq!(s.store.list_users().await.unwrap().len(), 2);
}
both!(bad_logins_leak_nothing_t, super::bad_logins_leak_nothing);

async fn lockout_and_unlock(store: DynStore) {
    let s = spawn(store.clone()).await;
    let id = staff(&s, "chenjing", &[(Role::DistrictCentre, "320612")]).await;
    for i in 0..5 {
        let (st, v) = Browser::new(&s).login("chenjing", "not the password").await;
        assert_eq!((st, code(&v)), (401, "login_failed"), "failure {i}");
    }
    let a = store.staff().staff_by_login("chenjing").await.unwrap().unwrap();
    let until = a.locked_until.expect("locked after 5 failures");
    let minutes = (until - now_ms()) as f64 / 60_000.0;
    assert!((14.0..=15.1).contains(&minutes), "locked for 15 minutes, not {minutes}");
    // Locked: the right password is refused with the same answer as a wrong one.
    let (st, v) = Browser::new(&s).login("chenjing", PASSWORD).await;
    assert_eq!((st, code(&v)), (401, "login_failed"), "{v}");
    let (st, v) = s.admin_post(&format!("/users/{id}/unlock"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = Browser::new(&s).login("chenjing", PASSWORD).await;
    assert_eq!(st, 200, "{v}");
    let a = store.staff().staff_by_login("chenjing").await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.lockouts, a.locked_until), (0, 0, None));
    let (st, v) = s.admin_post(&format!("/users/{}/unlock", Uuid::now_v7()), json!({})).await;
    assert_eq!((st, code(&v)), (404, "not_found"));
}
both!(lockout_and_unlock_t, super::lockout_and_unlock);

async fn address_throttle(store: DynStore) {
    let staff_config = StaffConfig {
        failed_logins_per_minute: 1,
        failed_login_burst: 3,
        ..StaffConfig::default()
    };
    let s = spawn_with_config(store, Config { staff: staff_config, ..Config::default() }).await;
    staff(&s, "sunli", &[(Role::TownOperator, "320612/001")]).await;
    for login in ["a01", "a02", "a03", "a04"] {
        let (st, v) = Browser::new(&s).login(login, PASSWORD).await;
        assert_eq!((st, code(&v)), (401, "login_failed"), "{login}");
    }
    let r = s
        .http
        .post(format!("{}/api/v1/session", s.base))
        .header("content-type", "application/json")
        .body(json!({ "login": "sunli", "password": PASSWORD }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(code(&v), "login_throttled");
}
both!(address_throttle_t, super::address_throttle);

async fn sessions_and_csrf(store: DynStore) {
    let s = spawn(store.clone()).await;
    let id = staff(&s, "zhouyu", &[(Role::SyncAdmin, "320612")]).await;
    let mut b = signed_in(&s, "zhouyu").await;
    // No cookie, a malformed one, a forged one.
    let mut anon = Browser::new(&s);
    let (st, v) = anon.get("/api/v1/me").await;
    assert_eq!((st, code(&v)), (401, "session_missing"), "{v}");
    anon.cookie = Some("'; DROP TABLE staff_sessions; --".into());
    assert_eq!(code(&anon.get("/api/v1/me").await.1), "session_invalid");
    anon.cookie = Some("ab".repeat(32));
    assert_eq!(code(&anon.get("/api/v1/me").await.1), "session_invalid");
    // Missing or forged CSRF token: refused, and the password stays.
    let change = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let (st, v) = b.send(Method::POST, "/api/v1/me/password", Some(change.clone()), false).await;
    assert_eq!((st, code(&v)), (403, "csrf_missing"));
    let real = b.csrf.replace("0".repeat(64));
    let (st, v) = b.post("/api/v1/me/password", change.clone()).await;
    assert_eq!((st, code(&v)), (403, "csrf_invalid"));
    b.csrf = real;
    assert_eq!(Browser::new(&s).login("zhouyu", PASSWORD).await.0, 200, "password unchanged");
    // Another session's CSRF token is not this session's.
    let other = signed_in(&s, "zhouyu").await;
    b.csrf.clone_from(&other.csrf);
    let (st, v) = b.post("/api/v1/me/password", change).await;
    assert_eq!((st, code(&v)), (403, "csrf_invalid"));
    // Expired sessions: past the absolute expiry, and idle too long.
    let cases = [
        ("cd", now_ms() - 1000, now_ms() - 1),
        ("ce", now_ms() - 2 * 3_600_000, now_ms() + 3_600_000),
    ];
    for (hex, started, expires) in cases {
        let token = hex.repeat(32);
        store
            .staff()
            .start_session(&NewSession {
                token_hash: hash_secret(&token),
                user_id: id,
                csrf_token: "c".repeat(64),
                now: started,
                expires_at: expires,
            })
            .await
            .unwrap();
        let old = Browser { cookie: Some(token), csrf: Some("c".repeat(64)), ..Browser::new(&s) };
        let (st, v) = old.get("/api/v1/me").await;
        assert_eq!((st, code(&v)), (401, "session_expired"), "{v}");
        let (st, v) = old.get("/admin/v1/users").await;
        assert_eq!((st, code(&v)), (401, "session_expired"), "{v}");
    }
}
both!(sessions_and_csrf_t, super::sessions_and_csrf);

async fn password_change_and_reset(store: DynStore) {
    let s = spawn(store).await;
    let id = staff(&s, "wujun", &[(Role::GridHead, "320612/001/001")]).await;
    let a = signed_in(&s, "wujun").await;
    let b = signed_in(&s, "wujun").await;
    let (st, v) = a
        .post(
            "/api/v1/me/password",
            json!({ "current_password": "wrong one!!", "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!((st, code(&v)), (403, "wrong_password"));
    for weak in ["short", "WuJun", "wujun"] {
        let (st, v) = a
            .post(
                "/api/v1/me/password",
                json!({ "current_password": PASSWORD, "new_password": weak }),
            )
            .await;
        assert_eq!((st, code(&v)), (400, "weak_password"), "{weak}: {v}");
    }
    let (st, v) = a
        .post(
            "/api/v1/me/password",
            json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(a.get("/api/v1/me").await.0, 200, "the changing session stays");
    let (st, v) = b.get("/api/v1/me").await;
    assert_eq!((st, code(&v)), (401, "session_invalid"), "other sessions end");
    assert_eq!(Browser::new(&s).login("wujun", PASSWORD).await.0, 401);
    assert_eq!(Browser::new(&s).login("wujun", NEW_PASSWORD).await.0, 200);
    // The admin reset: a one-time password, every session ended.
    let (st, v) = s.admin_post(&format!("/users/{id}/password-reset"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let otp = v["one_time_password"].as_str().unwrap().to_owned();
    assert_eq!(a.get("/api/v1/me").await.0, 401);
    assert_eq!(Browser::new(&s).login("wujun", NEW_PASSWORD).await.0, 401);
    let mut c = Browser::new(&s);
    let (st, v) = c.login("wujun", &otp).await;
    assert_eq!((st, v["must_change_password"].clone()), (200, json!(true)));
    let (st, v) =
        s.admin_post(&format!("/users/{}/password-reset", Uuid::now_v7()), json!({})).await;
    assert_eq!((st, code(&v)), (404, "not_found"));
    let (st, v) = s.admin_post("/users/not-a-uuid/password-reset", json!({})).await;
    assert_eq!((st, code(&v)), (400, "invalid_input"));
}
both!(password_change_and_reset_t, super::password_change_and_reset);

/// Failed logins are counted atomically: ten at once lock the login twice, the second lockout
/// twice as long as the first.
async fn lockout_counts_are_atomic(store: DynStore) {
    let user = User {
        id: Uuid::now_v7(),
        name: "并发".into(),
        roles: vec![RoleGrant { role: Role::GridHead, area: common::area("320612/001/001") }],
        created_at: now_ms(),
    };
    store.create_user(&user).await.unwrap();
    let write = PasswordWrite {
        user_id: user.id,
        password_hash: "$argon2id$unused".into(),
        must_change: false,
        keep_session: None,
    };
    assert!(store.staff().set_login("concurrent", &write).await.unwrap());
    let rule = LockRule { max_failures: 5, base_ms: 60_000, max_ms: 600_000 };
    let now = now_ms();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.staff().record_login_failure(user.id, now, rule).await })
        })
        .collect();
    let mut locks = Vec::new();
    for t in tasks {
        locks.extend(t.await.unwrap().unwrap().locked_until);
    }
    locks.sort_unstable();
    assert_eq!(locks, vec![now + 60_000, now + 120_000]);
    let a = store.staff().staff_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.lockouts, a.locked_until), (0, 2, Some(now + 120_000)));
    assert!(a.locked_at(now) && !a.locked_at(now + 120_000));
    assert!(store.staff().unlock(user.id).await.unwrap());
    let a = store.staff().staff_by_login("concurrent").await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.lockouts, a.locked_until), (0, 0, None));
    assert!(!store.staff().unlock(Uuid::now_v7()).await.unwrap(), "no such login");
}
both!(lockout_counts_are_atomic_t, super::lockout_counts_are_atomic);
