//! Test support: both storage backends, an in-process server on 127.0.0.1:0, devices and
//! Automerge changes.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use gridwork_core::protocol::{CONTENT_TYPE, SyncRequest, SyncResponse, WireMessage};
use gridwork_core::{AreaPath, ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::config::Config;
use gridwork_sync_server::server::{self, AdminToken};
use gridwork_sync_server::store::DynStore;
use gridwork_sync_server::store::postgres::PgStore;
use gridwork_sync_server::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use uuid::Uuid;

pub mod staff;

/// A store under test; keeps its temp dir alive.
pub struct TestStore {
    pub store: DynStore,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    TestStore { store: Arc::new(store), _dir: Some(dir) }
}

/// The PostgreSQL store in a fresh schema, or `None` (skip) when `GRIDWORK_TEST_PG_URL` is
/// unset — except under CI (`CI` set), where that is a failure.
pub async fn postgres() -> Option<TestStore> {
    let store = pg_store().await?;
    Some(TestStore { store: Arc::new(store), _dir: None })
}

/// As [`postgres`], the concrete [`PgStore`] (for tests of what only it and [`SqliteStore`]
/// implement beside [`gridwork_sync_server::store::Store`], such as the read model).
pub async fn pg_store() -> Option<PgStore> {
    Some(pg_store_with_url().await?.0)
}

/// The SQLite store in a temp dir and the database location a `gridwork-server` process is
/// given for it (`--database-url`): for tests of the server's own commands.
pub async fn sqlite_with_url() -> (TestStore, String) {
    let t = sqlite().await;
    let url = t._dir.as_ref().unwrap().path().join("t.db").display().to_string();
    (t, url)
}

/// As [`postgres`], with the URL naming its schema (for a `gridwork-server` process).
pub async fn postgres_with_url() -> Option<(TestStore, String)> {
    let (store, url) = pg_store_with_url().await?;
    Some((TestStore { store: Arc::new(store), _dir: None }, url))
}

async fn pg_store_with_url() -> Option<(PgStore, String)> {
    let Ok(url) = std::env::var("GRIDWORK_TEST_PG_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("GRIDWORK_TEST_PG_URL is unset under CI: PostgreSQL tests must run, not skip");
        }
        eprintln!("skipping PostgreSQL test: GRIDWORK_TEST_PG_URL is unset");
        return None;
    };
    let schema = format!("t_{}", Uuid::now_v7().simple());
    let store = PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some((store, format!("{url}{sep}options=-c%20search_path%3D{schema}")))
}

/// Runs an async test body against both backends: `both!(name, body_fn)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let s = $crate::common::sqlite().await;
                $body(s.store.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(s) = $crate::common::postgres().await {
                    $body(s.store.clone()).await;
                }
            }
        }
    };
}

pub fn area(p: &str) -> AreaPath {
    AreaPath::parse(p).unwrap()
}

pub fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

/// One Automerge change by `actor` putting `key = value` into a fresh document.
pub fn change(actor: &ActorId, key: &str, value: &str) -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    doc.put(ROOT, key, value).unwrap();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// A work-order change whose inserted event claims `role`.
pub fn work_order_change(actor: &ActorId, role: &str) -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    let events = doc.put_object(ROOT, "events", ObjType::List).unwrap();
    let ev = doc.insert_object(&events, 0, ObjType::Map).unwrap();
    doc.put(&ev, "type", "report").unwrap();
    doc.put(&ev, "by", "someone").unwrap();
    doc.put(&ev, "role", role).unwrap();
    doc.put(&ev, "at", 1_700_000_000_000i64).unwrap();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

pub fn envelope(kind: RecordKind, area_path: &str, bytes: Vec<u8>) -> ChangeEnvelope {
    ChangeEnvelope { doc_id: Uuid::now_v7(), kind, area: area(area_path), bytes }
}

/// A running in-process server.
pub struct TestServer {
    pub base: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub store: DynStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn spawn(store: DynStore) -> TestServer {
    spawn_with_limit(store, 16 * 1024 * 1024).await
}

pub async fn spawn_with_limit(store: DynStore, limit: usize) -> TestServer {
    spawn_with_config(store, Config { body_limit_bytes: limit, ..Config::default() }).await
}

/// A server with this configuration (its `body_limit_bytes` the body limit).
pub async fn spawn_with_config(store: DynStore, config: Config) -> TestServer {
    let limit = config.body_limit_bytes;
    // reqwest is built with `rustls-no-provider` (via gridwork-core): install ring first.
    gridwork_core::sync::install_crypto_provider();
    let AdminToken::Created(admin) = server::ensure_admin_token(&store, None).await.unwrap() else {
        panic!("fresh store had an admin token");
    };
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = server::state(store.clone(), &config);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, state, limit, async {
        let _ = rx.await;
    }));
    TestServer {
        base: format!("http://{addr}"),
        admin,
        http: reqwest::Client::new(),
        store,
        stop: Some(tx),
    }
}

/// An enrolled device.
#[derive(Debug, Clone)]
pub struct TestDevice {
    pub id: Uuid,
    pub credential: String,
    pub actor: ActorId,
    pub user_id: Uuid,
}

impl TestServer {
    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin_send(reqwest::Method::POST, path, body).await
    }

    pub async fn admin_put(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin_send(reqwest::Method::PUT, path, body).await
    }

    async fn admin_send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap())
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap())
    }

    pub async fn user(&self, name: &str, roles: &[(Role, &str)]) -> Uuid {
        let roles: Vec<Value> =
            roles.iter().map(|(r, a)| json!({ "role": r.as_str(), "area": a })).collect();
        let (s, v) = self.admin_post("/users", json!({ "name": name, "roles": roles })).await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn code(&self, user: Uuid) -> String {
        let (s, v) = self.admin_post("/enrolment-codes", json!({ "user_id": user })).await;
        assert_eq!(s, 201, "{v}");
        v["code"].as_str().unwrap().to_owned()
    }

    pub async fn enrol_raw(&self, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/v1/enrol", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap())
    }

    /// A user with these roles and an enrolled device of actor `actor_n`.
    pub async fn device(&self, roles: &[(Role, &str)], actor_n: u8) -> TestDevice {
        let user = self.user(&format!("user {actor_n}"), roles).await;
        let code = self.code(user).await;
        let actor = actor(actor_n);
        let (s, v) = self
            .enrol_raw(json!({
                "code": code, "actor_id": actor.to_hex_string(), "device_name": "phone"
            }))
            .await;
        assert_eq!(s, 201, "{v}");
        TestDevice {
            id: v["device_id"].as_str().unwrap().parse().unwrap(),
            credential: v["credential"].as_str().unwrap().to_owned(),
            actor,
            user_id: user,
        }
    }

    /// Posts raw bytes to a device endpoint; returns status and body.
    pub async fn post_raw(
        &self,
        path: &str,
        credential: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        let mut rb = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(c) = credential {
            rb = rb.bearer_auth(c);
        }
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        let r = rb.send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// One sync round trip; panics unless it is a 200.
    pub async fn sync(&self, dev: &TestDevice, req: &SyncRequest) -> SyncResponse {
        let (s, body) = self
            .post_raw("/v1/sync", Some(&dev.credential), Some(CONTENT_TYPE), req.encode())
            .await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        SyncResponse::decode(&body).unwrap()
    }

    /// A sync expected to fail: returns status and the JSON error.
    pub async fn sync_err(&self, dev: &TestDevice, req: &SyncRequest) -> (u16, Value) {
        let (s, body) = self
            .post_raw("/v1/sync", Some(&dev.credential), Some(CONTENT_TYPE), req.encode())
            .await;
        (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

pub fn push(changes: Vec<ChangeEnvelope>) -> SyncRequest {
    SyncRequest { cursor: 0, max_page_bytes: 0, include_own: false, push: changes }
}

pub fn pull(cursor: u64) -> SyncRequest {
    SyncRequest { cursor, max_page_bytes: 0, include_own: false, push: vec![] }
}
pub mod query_world;
