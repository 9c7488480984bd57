//! The 12345 hotline exchange against an in-process server with its read model and outbox
//! running, on both backends (issue 13): signed requests (bad signature, expired timestamp,
//! replay, unknown platform), idempotent creates and updates, updates before their create,
//! unmapped values held and made once mapped, oversized attachments refused — nothing written
//! or duplicated on any refusal; and the outbox delivering each step, in order, to a platform
//! that fails now and then, plus the events poll and the dead-letter list.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use gridwork_core::Role;
use gridwork_sync_server::config::Config;
use gridwork_sync_server::hotline::auth::{
    PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify,
};
use gridwork_sync_server::server::{self, AdminToken};
use gridwork_sync_server::store::DynStore;
use serde_json::{Value, json};

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
const DISTRICT: &str = "320612";
const GRID: &str = "320612/001/001/01";

/// A server with its projector and hotline outbox running.
struct Hot {
    base: String,
    admin: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(store: DynStore) -> Hot {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    gridwork_core::sync::install_crypto_provider();
    let AdminToken::Created(admin) = server::ensure_admin_token(&store, None).await.unwrap() else {
        panic!("fresh store had an admin token");
    };
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::default();
    let st = server::state(store.clone(), &config);
    tokio::spawn(gridwork_sync_server::read_model::projector::follow(
        store.clone(),
        st.metrics.clone(),
        st.read_model.clone(),
        Duration::from_millis(50),
    ));
    tokio::spawn(gridwork_sync_server::hotline::outbox::run(st.clone()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, st, config.body_limit_bytes, async {
        let _ = rx.await;
    }));
    let h = Hot { base: format!("http://{addr}"), admin, http: reqwest::Client::new(), _stop: tx };
    // The read model folds the areas it knows.
    for (path, name) in
        [(DISTRICT, "通州区"), ("320612/001", "镇"), ("320612/001/001", "社区"), (GRID, "网格")]
    {
        let (s, v) = h
            .admin(reqwest::Method::POST, "/areas", Some(json!({ "path": path, "name": name })))
            .await;
        assert_eq!(s, 201, "{v}");
    }
    h
}

impl Hot {
    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin);
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b.to_string());
        }
        let r = r.send().await.unwrap();
        let s = r.status().as_u16();
        (s, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    /// A person with `role` over `area` and their enrolled device's credential.
    async fn device(&self, role: Role, area: &str, actor_n: u8) -> String {
        let roles = json!([{ "role": role.as_str(), "area": area }]);
        let (s, v) = self
            .admin(
                reqwest::Method::POST,
                "/users",
                Some(json!({ "name": "区指挥中心", "roles": roles })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = self
            .admin(reqwest::Method::POST, "/enrolment-codes", Some(json!({ "user_id": v["id"] })))
            .await;
        assert_eq!(s, 201, "{v}");
        let enrol = json!({ "code": v["code"], "actor_id": common::actor(actor_n).to_hex_string(),
                            "device_name": "console" });
        let r = self
            .http
            .post(format!("{}/v1/enrol", self.base))
            .header("content-type", "application/json")
            .body(enrol.to_string())
            .send()
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        v["credential"].as_str().unwrap().to_owned()
    }

    async fn platform(&self, endpoint: Option<&str>, mapping: Value) -> (u16, Value) {
        let body = json!({
            "name": "12345 热线平台", "secret": SECRET, "area": DISTRICT,
            "endpoint": endpoint, "mapping": mapping,
            "delivery": { "retry_base_ms": 50, "retry_max_ms": 400, "max_attempts": 4, "timeout_ms": 700 }
        });
        self.admin(reqwest::Method::PUT, "/hotline/platforms/p12345", Some(body)).await
    }

    /// A signed request at `ts` (ms); `None`: now.
    async fn signed_at(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        ts: Option<i64>,
        secret: &str,
    ) -> (u16, Value) {
        let raw = body.map(Value::to_string).unwrap_or_default();
        let ts = ts.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let sig = sign(secret.as_bytes(), ts, method.as_str(), path, raw.as_bytes());
        self.send_signed(method, path, raw, ts, &sig).await
    }

    async fn send_signed(
        &self,
        method: reqwest::Method,
        path: &str,
        raw: String,
        ts: i64,
        sig: &str,
    ) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(PLATFORM_HEADER, "p12345")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.signed_at(reqwest::Method::POST, path, Some(body), None, SECRET).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        // Distinct timestamps: two identical GETs in one millisecond would be one signature.
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.signed_at(reqwest::Method::GET, path, None, None, SECRET).await
    }
}

fn order(number: &str, message: &str) -> Value {
    json!({
        "message_id": message, "order_number": number,
        "received_at": "2026-12-01T08:30:00Z",
        "request": "小区东门垃圾桶满溢两天，无人清运", "address": "人民路12号东门",
        "area": GRID, "category": "环境卫生", "urgency": "紧急",
        "deadline": "2026-12-03T08:30:00Z", "handling_unit": "环卫所",
        "attachments": [{ "url": "https://hotline.example/a/1.jpg", "name": "现场.jpg", "size": 120000 }]
    })
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

async fn auth_refusals(store: DynStore) {
    let h = start(store.clone()).await;
    assert_eq!(h.platform(None, json!({})).await.0, 200);
    let before = store.change_count().await.unwrap();
    let body = order("A-1", "m1");
    let post = reqwest::Method::POST;
    // Wrong secret.
    let (s, v) = h
        .signed_at(post.clone(), "/hotline/v1/orders", Some(&body), None, "x".repeat(40).as_str())
        .await;
    assert_eq!((s, code(&v)), (401, "bad_signature"), "{v}");
    // Signed for another body.
    let ts = chrono::Utc::now().timestamp_millis();
    let sig = sign(SECRET.as_bytes(), ts, "POST", "/hotline/v1/orders", b"{}");
    let (s, v) =
        h.send_signed(post.clone(), "/hotline/v1/orders", body.to_string(), ts, &sig).await;
    assert_eq!((s, code(&v)), (401, "bad_signature"), "{v}");
    // Ten minutes old.
    let old = ts - 10 * 60 * 1000;
    let (s, v) =
        h.signed_at(post.clone(), "/hotline/v1/orders", Some(&body), Some(old), SECRET).await;
    assert_eq!((s, code(&v)), (401, "timestamp_expired"), "{v}");
    // No signature at all.
    let r = h
        .http
        .post(format!("{}/hotline/v1/orders", h.base))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(store.change_count().await.unwrap(), before, "nothing written");
    // A good request, then the very same bytes again: a replay.
    let ts = chrono::Utc::now().timestamp_millis();
    let raw = body.to_string();
    let sig = sign(SECRET.as_bytes(), ts, "POST", "/hotline/v1/orders", raw.as_bytes());
    assert!(verify(SECRET.as_bytes(), ts, "POST", "/hotline/v1/orders", raw.as_bytes(), &sig));
    let (s, v) = h.send_signed(post.clone(), "/hotline/v1/orders", raw.clone(), ts, &sig).await;
    assert_eq!(s, 201, "{v}");
    let after = store.change_count().await.unwrap();
    assert_eq!(after, before + 1, "one work order");
    let (s, v) = h.send_signed(post, "/hotline/v1/orders", raw, ts, &sig).await;
    assert_eq!((s, code(&v)), (401, "replayed"), "{v}");
    assert_eq!(store.change_count().await.unwrap(), after);
}
both!(auth_refusals_t, super::auth_refusals);

async fn idempotent_and_reordered(store: DynStore) {
    let h = start(store.clone()).await;
    assert_eq!(h.platform(None, json!({})).await.0, 200);
    // Create, then the same message again, then the same number under another message id.
    let (s, first) = h.post("/hotline/v1/orders", &order("B-1", "m1")).await;
    assert_eq!(s, 201, "{first}");
    let count = store.change_count().await.unwrap();
    let (s, again) = h.post("/hotline/v1/orders", &order("B-1", "m1")).await;
    assert_eq!(
        (s, &again["work_order_id"], &again["repeated"]),
        (200, &first["work_order_id"], &json!(true))
    );
    let (s, other) = h.post("/hotline/v1/orders", &order("B-1", "m2")).await;
    assert_eq!((s, &other["work_order_id"]), (200, &first["work_order_id"]));
    assert_eq!(store.change_count().await.unwrap(), count, "no second order");
    // The order is a hotline work order in the grid, reported, urgent.
    let (s, state) = h.get("/hotline/v1/orders/B-1").await;
    assert_eq!(
        (s, &state["state"], &state["steps"]),
        (200, &json!("reported"), &json!(0)),
        "{state}"
    );

    // Updates before their create wait; a repeat of one answers the same.
    let urge = json!({ "message_id": "u1", "kind": "urge", "text": "市民再次来电催办" });
    let (s, v) = h.post("/hotline/v1/orders/C-7/updates", &urge).await;
    assert_eq!((s, &v["status"]), (202, &json!("waiting_for_create")), "{v}");
    let sup = json!({ "message_id": "u2", "kind": "supplement", "text": "垃圾已堆到路面" });
    assert_eq!(h.post("/hotline/v1/orders/C-7/updates", &sup).await.0, 202);
    let (s, v) = h.post("/hotline/v1/orders/C-7/updates", &urge).await;
    assert_eq!((s, &v["repeated"]), (202, &json!(true)), "{v}");
    let (s, v) = h.get("/hotline/v1/orders/C-7").await;
    assert_eq!((s, &v["updates_waiting"]), (200, &json!(2)), "{v}");
    let before = store.change_count().await.unwrap();
    let (s, v) = h.post("/hotline/v1/orders", &order("C-7", "c1")).await;
    assert_eq!(s, 201, "{v}");
    // The create, the escalation and the supplement: three changes, each once.
    assert_eq!(store.change_count().await.unwrap(), before + 3);
    let (_, state) = h.get("/hotline/v1/orders/C-7").await;
    assert_eq!((&state["escalated"], &state["steps"]), (&json!(true), &json!(1)), "{state}");
    let (s, v) = h.post("/hotline/v1/orders/C-7/updates", &urge).await;
    assert_eq!((s, &v["status"], &v["repeated"]), (200, &json!("applied"), &json!(true)), "{v}");
    let (s, v) = h.post("/hotline/v1/orders/C-7/updates", &sup).await;
    assert_eq!((s, &v["status"]), (200, &json!("applied")), "{v}");
    assert_eq!(store.change_count().await.unwrap(), before + 3, "repeats write nothing");
    // An update after the create applies at once; a withdrawal is noted on the order.
    let w = json!({ "message_id": "w1", "kind": "withdraw", "text": "市民已自行解决" });
    let (s, v) = h.post("/hotline/v1/orders/C-7/updates", &w).await;
    assert_eq!((s, &v["status"]), (200, &json!("applied")), "{v}");
    let (_, state) = h.get("/hotline/v1/orders/C-7").await;
    assert_eq!(state["withdrawn"], json!(true));
    // Unknown order, bad update kind.
    let (s, v) = h.get("/hotline/v1/orders/NOPE").await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    let (s, v) = h
        .post("/hotline/v1/orders/C-7/updates", &json!({ "message_id": "x", "kind": "cancel" }))
        .await;
    assert_eq!((s, code(&v)), (400, "malformed_json"), "{v}");
}
both!(idempotent_and_reordered_t, super::idempotent_and_reordered);

async fn unmapped_held_and_oversize_refused(store: DynStore) {
    let h = start(store.clone()).await;
    assert_eq!(h.platform(None, json!({})).await.0, 200);
    let before = store.change_count().await.unwrap();
    let mut noisy = order("D-1", "m1");
    noisy["category"] = json!("噪音扰民");
    let (s, v) = h.post("/hotline/v1/orders", &noisy).await;
    assert_eq!((s, &v["status"]), (202, &json!("held_for_mapping")), "{v}");
    assert_eq!(v["unmapped"], json!([{ "field": "category", "value": "噪音扰民" }]));
    let (s, v) = h.post("/hotline/v1/orders", &noisy).await;
    assert_eq!((s, &v["status"]), (202, &json!("held_for_mapping")), "a repeat: {v}");
    let (s, v) = h.get("/hotline/v1/orders/D-1").await;
    assert_eq!((s, &v["status"]), (200, &json!("held_for_mapping")));
    let (_, held) = h.admin(reqwest::Method::GET, "/hotline/held", None).await;
    assert_eq!(held["held"][0]["order_number"], json!("D-1"), "{held}");
    assert_eq!(store.change_count().await.unwrap(), before, "nothing written while held");
    // A mapping to an unknown category is refused; a good one makes the held order.
    let (s, v) = h.platform(None, json!({ "categories": { "噪音扰民": "aliens" } })).await;
    assert_eq!((s, code(&v)), (400, "invalid_input"), "{v}");
    let (s, v) = h.platform(None, json!({ "categories": { "噪音扰民": "public_order" } })).await;
    assert_eq!((s, &v["held_orders_made"]), (200, &json!(1)), "{v}");
    let (s, v) = h.get("/hotline/v1/orders/D-1").await;
    assert_eq!((s, &v["status"], &v["state"]), (200, &json!("created"), &json!("reported")), "{v}");
    let (_, held) = h.admin(reqwest::Method::GET, "/hotline/held", None).await;
    assert_eq!(held["held"], json!([]));
    assert_eq!(store.change_count().await.unwrap(), before + 1);

    // An attachment over 20 MiB, a body over 16 MiB, a bad field: refused, nothing recorded.
    let mut big = order("E-1", "m1");
    big["attachments"][0]["size"] = json!(30 * 1024 * 1024);
    let (s, v) = h.post("/hotline/v1/orders", &big).await;
    assert_eq!((s, code(&v)), (413, "attachment_too_large"), "{v}");
    let mut huge = order("E-1", "m1");
    huge["request"] = json!("很".repeat(6_000_000));
    let (s, v) = h.post("/hotline/v1/orders", &huge).await;
    assert_eq!((s, code(&v)), (413, "payload_too_large"), "{v}");
    let mut bad = order("E-1", "m1");
    bad["order_number"] = json!("有空格 的编号");
    let (s, v) = h.post("/hotline/v1/orders", &bad).await;
    assert_eq!((s, code(&v)), (400, "invalid_input"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("order_number"));
    let (s, _) = h.get("/hotline/v1/orders/E-1").await;
    assert_eq!(s, 404, "nothing recorded for E-1");
    assert_eq!(store.change_count().await.unwrap(), before + 1);
}
both!(unmapped_held_and_oversize_refused_t, super::unmapped_held_and_oversize_refused);

/// What the simulated platform received, and how it answers.
#[derive(Default)]
struct Received {
    steps: Vec<Value>,
    calls: usize,
    bad_signatures: usize,
}

async fn platform_endpoint(
    State(rx): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let ts: i64 = headers[TIMESTAMP_HEADER].to_str().unwrap().parse().unwrap();
    let sig = headers[SIGNATURE_HEADER].to_str().unwrap();
    let mut r = rx.lock().unwrap();
    r.calls += 1;
    if !verify(SECRET.as_bytes(), ts, "POST", "/steps", &body, sig) {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    // Every third call fails.
    if r.calls % 3 == 1 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let step: Value = serde_json::from_slice(&body).unwrap();
    if !r.steps.iter().any(|s| s["step_id"] == step["step_id"]) {
        r.steps.push(step);
    }
    StatusCode::OK
}

async fn outbox_delivers_in_order(store: DynStore) {
    let rx = Arc::new(Mutex::new(Received::default()));
    let app = axum::Router::new()
        .route("/steps", axum::routing::post(platform_endpoint))
        .with_state(rx.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/steps", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    let h = start(store.clone()).await;
    gridwork_sync_server::hotline::outbox::http_client().expect("an HTTP client");
    assert_eq!(h.platform(Some(&endpoint), json!({})).await.0, 200);
    let (s, v) = h.post("/hotline/v1/orders", &order("F-1", "m1")).await;
    assert_eq!(s, 201, "{v}");
    let id = v["work_order_id"].as_str().unwrap().to_owned();
    // The district centre accepts and dispatches through the server.
    let centre = h.device(Role::DistrictCentre, DISTRICT, 7).await;
    for body in
        [json!({ "type": "accept" }), json!({ "type": "dispatch", "department": "sanitation" })]
    {
        let r = h
            .http
            .post(format!("{}/api/v1/work-orders/{id}/actions", h.base))
            .bearer_auth(&centre)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    }
    let urge = json!({ "message_id": "u1", "kind": "urge", "text": "催办" });
    assert_eq!(h.post("/hotline/v1/orders/F-1/updates", &urge).await.0, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if rx.lock().unwrap().steps.len() >= 3 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    {
        let r = rx.lock().unwrap();
        let types: Vec<&str> = r.steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["accept", "dispatch", "escalate"], "in order, each once");
        assert!(r.steps.iter().all(|s| s["order_number"] == "F-1"));
        assert_eq!(r.bad_signatures, 0);
        assert!(r.calls > 3, "failures were retried ({} calls)", r.calls);
    }
    // The poll lists the same steps, with cursors.
    let (s, ev) = h.get("/hotline/v1/events?cursor=0").await;
    assert_eq!(s, 200, "{ev}");
    let polled: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(polled, ["accept", "dispatch", "escalate"]);
    let next = ev["next_cursor"].as_i64().unwrap();
    let (_, ev) = h.get(&format!("/hotline/v1/events?cursor={next}")).await;
    assert_eq!(ev["events"], json!([]));
    let (_, dead) = h.admin(reqwest::Method::GET, "/hotline/dead-letters", None).await;
    assert_eq!(dead["dead_letters"], json!([]));
}
both!(outbox_delivers_in_order_t, super::outbox_delivers_in_order);

async fn unreachable_platform_dead_letters(store: DynStore) {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/steps", l.local_addr().unwrap());
    drop(l);
    let h = start(store.clone()).await;
    assert_eq!(h.platform(Some(&endpoint), json!({})).await.0, 200);
    assert_eq!(h.post("/hotline/v1/orders", &order("G-1", "m1")).await.0, 201);
    let urge = json!({ "message_id": "u1", "kind": "urge", "text": "催办" });
    assert_eq!(h.post("/hotline/v1/orders/G-1/updates", &urge).await.0, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let (_, dead) = h.admin(reqwest::Method::GET, "/hotline/dead-letters", None).await;
        if !dead["dead_letters"].as_array().unwrap().is_empty()
            || tokio::time::Instant::now() > deadline
        {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let item = &dead["dead_letters"][0];
    assert_eq!((&item["attempts"], &item["status"]), (&json!(4), &json!("dead")), "{dead}");
    let id = item["id"].as_i64().unwrap();
    let (s, _) =
        h.admin(reqwest::Method::POST, &format!("/hotline/dead-letters/{id}/retry"), None).await;
    assert_eq!(s, 200);
    let (s, _) = h.admin(reqwest::Method::POST, "/hotline/dead-letters/999999/retry", None).await;
    assert_eq!(s, 404);
}
both!(unreachable_platform_dead_letters_t, super::unreachable_platform_dead_letters);

/// PostgreSQL, several processes: a poller that has read up to id N must never see a step with
/// an id below N appear later. A step being queued (its transaction holding the platform's lock,
/// its id drawn, not committed yet) makes the next queueing of that platform wait, so the later
/// step cannot commit first with the higher id and be polled past the earlier one.
#[tokio::test]
async fn polled_steps_commit_in_id_order() {
    let Some((t, url)) = common::postgres_with_url().await else { return };
    let (raw, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // Another process queueing a step of platform p1, not committed yet.
    raw.batch_execute("BEGIN").await.unwrap();
    raw.execute(gridwork_sync_server::store::postgres::OUTBOX_LOCK, &[&"p1"]).await.unwrap();
    raw.execute(
        "INSERT INTO hotline_outbox (platform, order_number, step_id, body, next_at, created_at)
         VALUES ('p1', 'HL-1', 'early', '{}', 0, 0)",
        &[],
    )
    .await
    .unwrap();
    let store = t.store.clone();
    let late = tokio::spawn(async move {
        store.hotline().outbox_add("p1", "HL-2", &[("late".into(), "{}".into())], 1).await
    });
    // Another platform's steps do not wait.
    let other_steps = [("other".to_owned(), "{}".to_owned())];
    let other = t.store.hotline().outbox_add("p2", "HL-3", &other_steps, 1);
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), other).await.unwrap().unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!late.is_finished(), "the later step waits for the earlier one's commit");
    assert!(t.store.hotline().outbox_after("p1", 0, 10).await.unwrap().is_empty());
    raw.batch_execute("COMMIT").await.unwrap();
    assert_eq!(late.await.unwrap().unwrap(), 1);
    let polled = t.store.hotline().outbox_after("p1", 0, 10).await.unwrap();
    let steps: Vec<&str> = polled.iter().map(|i| i.step_id.as_str()).collect();
    assert_eq!(steps, ["early", "late"], "in id order, both there");
}
