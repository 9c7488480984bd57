//! Named staff accounts (issue 10, item 3) over HTTP, on both backends: sign-in, sessions,
//! CSRF, lockout and throttling, password change and reset, disabled people, the admin API
//! through a sync admin's session, the admin token turned off, and the audit log naming the
//! person who acted. Every refusal is a clear JSON error and writes nothing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestServer, spawn, spawn_with_config};
use gridwork_core::Role;
use gridwork_sync_server::auth::hash_secret;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::staff::password;
use gridwork_sync_server::staff::{AdminConfig, StaffConfig};
use gridwork_sync_server::store::staff::{NewSession, PasswordWrite};
use gridwork_sync_server::store::{AuditAction, DynStore, RoleGrant, User, now_ms};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "初始密码-correct-1";
const NEW_PASSWORD: &str = "another long passphrase";

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A browser: the session cookie and CSRF token it holds.
#[derive(Clone)]
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Browser {
    fn new(s: &TestServer) -> Self {
        Browser { base: s.base.clone(), http: s.http.clone(), cookie: None, csrf: None }
    }

    async fn login(&mut self, login: &str, password: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .header("content-type", "application/json")
            .body(json!({ "login": login, "password": password }).to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap();
            for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                assert!(c.split("; ").any(|a| a == attr), "{attr} missing from {c}");
            }
            let value = c.split(';').next().unwrap().strip_prefix("gw_session=").unwrap();
            self.cookie = Some(value.to_owned());
        }
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        if status == 200 {
            self.csrf = Some(v["csrf_token"].as_str().unwrap().to_owned());
        }
        (status, v)
    }

    /// A request with the session cookie, and the CSRF token when `csrf`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", format!("theme=dark; gw_session={c}"));
        }
        if let (true, Some(t)) = (csrf, &self.csrf) {
            rb = rb.header("x-csrf-token", t);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b.to_string());
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None, false).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body), true).await
    }
}

/// A person with `roles` and a login `login` whose password is [`PASSWORD`], already changed
/// (so not one-time).
async fn staff(s: &TestServer, login: &str, roles: &[(Role, &str)]) -> Uuid {
    let id = s.user(&format!("{login} 名"), roles).await;
    let (st, v) = s
        .admin_post(
            &format!("/users/{id}/login"),
            json!({ "login": login, "password": "x".repeat(12) }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["must_change_password"], true);
    assert!(v.get("one_time_password").is_none(), "a given password is not echoed");
    let mut b = Browser::new(s);
    let (st, v) = b.login(login, &"x".repeat(12)).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = b
        .post(
            "/api/v1/me/password",
            json!({ "current_password": "x".repeat(12), "new_password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    id
}

async fn signed_in(s: &TestServer, login: &str) -> Browser {
    let mut b = Browser::new(s);
    let (st, v) = b.login(login, PASSWORD).await;
    assert_eq!(st, 200, "{v}");
    b
}

async fn audit(s: &TestServer) -> Vec<Value> {
    let (st, v) = s.admin_get("/audit?limit=1000").await;
    assert_eq!(st, 200, "{v}");
    v["entries"].as_array().unwrap().clone()
}

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
