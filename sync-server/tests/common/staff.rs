//! Staff accounts' test support: a browser holding a session cookie and CSRF token, and people
//! with logins.

use gridwork_core::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestServer;

pub const PASSWORD: &str = "初始密码-correct-1";
pub const NEW_PASSWORD: &str = "another long passphrase";

pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A browser: the session cookie and CSRF token it holds.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Browser {
    pub fn new(s: &TestServer) -> Self {
        Browser { base: s.base.clone(), http: s.http.clone(), cookie: None, csrf: None }
    }

    pub async fn login(&mut self, login: &str, password: &str) -> (u16, Value) {
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
    pub async fn send(
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

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None, false).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body), true).await
    }
}

/// A person with `roles` and a login `login` whose password is [`PASSWORD`], already changed
/// (so not one-time).
pub async fn staff(s: &TestServer, login: &str, roles: &[(Role, &str)]) -> Uuid {
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

pub async fn signed_in(s: &TestServer, login: &str) -> Browser {
    let mut b = Browser::new(s);
    let (st, v) = b.login(login, PASSWORD).await;
    assert_eq!(st, 200, "{v}");
    b
}

pub async fn audit(s: &TestServer) -> Vec<Value> {
    let (st, v) = s.admin_get("/audit?limit=1000").await;
    assert_eq!(st, 200, "{v}");
    v["entries"].as_array().unwrap().clone()
}
