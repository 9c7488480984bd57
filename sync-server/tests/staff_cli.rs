//! The local `gridwork-server admin …` commands, run as the real binary on a database (SQLite
//! file, or a PostgreSQL schema when `GRIDWORK_TEST_PG_URL` is set): a first sync admin made on
//! the machine signs in with the printed one-time password, `set-password` replaces it and ends
//! the sessions, `reset-token` replaces the admin token (the old one stops working).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::spawn;
use gridwork_sync_server::store::DynStore;
use serde_json::{Value, json};

/// Runs `gridwork-server --database-url URL admin ARGS…`; returns stdout, asserting success.
fn admin(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gridwork-server"))
        .args(["--database-url", url, "admin"])
        .args(args)
        .env_remove("GRIDWORK_CONFIG")
        .env("GRIDWORK_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The same, expecting failure; returns stderr.
fn admin_fails(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gridwork-server"))
        .args(["--database-url", url, "admin"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The indented secret line the commands print.
fn secret(out: &str) -> String {
    out.lines().find(|l| l.starts_with("  ")).unwrap().trim().to_owned()
}

async fn login(base: &str, login: &str, password: &str) -> (u16, Value, Option<String>) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .header("content-type", "application/json")
        .body(json!({ "login": login, "password": password }).to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(), cookie)
}

async fn local_commands(store: DynStore, url: &str) {
    let s = spawn(store).await;
    let out = admin(
        url,
        &[
            "create-staff",
            "--login",
            "Root.Admin",
            "--name",
            "系统管理员",
            "--role",
            "sync_admin:320612",
        ],
    );
    assert!(out.contains("root.admin"), "{out}");
    let otp = secret(&out);
    let (st, v, cookie) = login(&s.base, "root.admin", &otp).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["must_change_password"].clone(), v["person"]["name"].clone()),
        (json!(true), json!("系统管理员"))
    );
    assert_eq!(v["person"]["roles"][0]["role"], "sync_admin");
    let stderr = admin_fails(
        url,
        &["create-staff", "--login", "root.admin", "--name", "x", "--role", "sync_admin:320612"],
    );
    assert!(stderr.contains("taken"), "{stderr}");
    let stderr = admin_fails(
        url,
        &["create-staff", "--login", "x1x", "--name", "x", "--role", "boss:320612"],
    );
    assert!(stderr.contains("--role"), "{stderr}");
    // set-password: a new one-time password; the old password and sessions stop working.
    let otp2 = secret(&admin(url, &["set-password", "--login", "ROOT.ADMIN"]));
    assert_ne!(otp, otp2);
    assert_eq!(login(&s.base, "root.admin", &otp).await.0, 401);
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .header("cookie", cookie.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);
    assert_eq!(login(&s.base, "root.admin", &otp2).await.0, 200);
    let stderr = admin_fails(url, &["set-password", "--login", "nobody"]);
    assert!(stderr.contains("no login nobody"), "{stderr}");
    // reset-token: the new token works, the old one no longer.
    assert_eq!(s.admin_get("/users").await.0, 200);
    let token = secret(&admin(url, &["reset-token"]));
    assert!(token.starts_with("gwa_"), "{token}");
    let (st, v) = s.admin_get("/users").await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("bad_credential")));
    let r = reqwest::Client::new()
        .get(format!("{}/admin/v1/users", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_local_admin_commands() {
    let (t, url) = common::sqlite_with_url().await;
    local_commands(t.store.clone(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_local_admin_commands() {
    let Some((t, url)) = common::postgres_with_url().await else { return };
    local_commands(t.store.clone(), &url).await;
}
