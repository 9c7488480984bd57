//! Shared parts of the 12345 hotline tests (`docs/12345-exchange.md`): the simulated hotline
//! platform — a real HTTP server on loopback playing the platform's side of the contract
//! (receiving signed steps, deduping them on their id, failing on purpose, answering the
//! reconciliation list) — the platform's signed requests, and a `gridwork` CLI device.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::Utc;
use gridwork_tests::{HarnessResult, Server};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// The shared secret of the test platform `p12345`.
pub const SECRET: &str = "e2e-secret-0123456789abcdef0123456789";
/// The test platform's id.
pub const PLATFORM: &str = "p12345";

/// `hex(HMAC-SHA256(SECRET, "{ts}\n{METHOD}\n{path}\n" ‖ body))`, written here from the
/// documented contract (not the server's code).
pub fn sign(ts: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut m =
        <hmac::Hmac<sha2_hmac::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(format!("{ts}\n{method}\n{path}\n").as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// How the simulated platform answers deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Faults {
    /// Every delivery is taken at once.
    None,
    /// Every fourth call answers 500 before recording; the next records the step, then stalls
    /// past the server's timeout (so the server sends it again: a repeat to dedupe).
    EveryFourth,
}

/// What the simulated platform saw.
#[derive(Default)]
pub struct Seen {
    /// Steps received, the first copy of each step id, in arrival order, with the arrival time.
    pub steps: Vec<(Value, chrono::DateTime<Utc>)>,
    /// Deliveries of a step id already received (deduped).
    pub repeats: usize,
    /// Deliveries of each step id (every call that recorded it, repeats included).
    pub deliveries: BTreeMap<String, usize>,
    /// Every call.
    pub calls: usize,
    /// Calls whose signature did not verify.
    pub bad_signatures: usize,
    /// The platform's own list of open orders and their states, answered to reconciliation.
    pub open_orders: Vec<Value>,
    /// Reconciliation calls received.
    pub reconciliation_calls: usize,
}

impl Seen {
    /// The step types received for `order_number`, in order.
    pub fn types_of(&self, order_number: &str) -> Vec<String> {
        self.steps
            .iter()
            .filter(|(s, _)| s["order_number"] == order_number)
            .map(|(s, _)| s["type"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

/// The simulated platform: a real HTTP server on loopback.
#[derive(Clone)]
pub struct SimPlatform {
    /// Where steps are delivered.
    pub endpoint: String,
    /// Where the reconciliation list is asked.
    pub reconcile_endpoint: String,
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
}

#[derive(Clone)]
struct SimState {
    seen: Arc<Mutex<Seen>>,
    faults: Faults,
}

fn header(headers: &HeaderMap, n: &str) -> String {
    headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

fn verified(headers: &HeaderMap, method: &str, path: &str, body: &[u8]) -> bool {
    let ts: i64 = header(headers, "x-hotline-timestamp").parse().unwrap_or(0);
    (Utc::now().timestamp_millis() - ts).abs() < 5 * 60 * 1000
        && sign(ts, method, path, body) == header(headers, "x-hotline-signature")
}

async fn receive(State(s): State<SimState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let call = {
        let mut p = s.seen.lock().unwrap();
        p.calls += 1;
        if !verified(&headers, "POST", "/steps", &body) {
            p.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED;
        }
        p.calls
    };
    if s.faults == Faults::EveryFourth && call % 4 == 1 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let step: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    {
        let mut p = s.seen.lock().unwrap();
        let id = step["step_id"].as_str().unwrap_or("").to_owned();
        *p.deliveries.entry(id).or_default() += 1;
        if p.steps.iter().any(|(s, _)| s["step_id"] == step["step_id"]) {
            p.repeats += 1;
        } else {
            p.steps.push((step, Utc::now()));
        }
    }
    if s.faults == Faults::EveryFourth && call % 4 == 2 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    StatusCode::OK
}

async fn open_orders(State(s): State<SimState>, headers: HeaderMap) -> axum::response::Response {
    let mut p = s.seen.lock().unwrap();
    if !verified(&headers, "GET", "/open-orders", b"") {
        p.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    p.reconciliation_calls += 1;
    axum::Json(json!({ "orders": p.open_orders })).into_response()
}

impl SimPlatform {
    /// Starts the platform on 127.0.0.1 (port 0).
    pub async fn start(faults: Faults) -> HarnessResult<SimPlatform> {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = axum::Router::new()
            .route("/steps", axum::routing::post(receive))
            .route("/open-orders", axum::routing::get(open_orders))
            .with_state(SimState { seen: seen.clone(), faults });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(SimPlatform {
            endpoint: format!("http://{addr}/steps"),
            reconcile_endpoint: format!("http://{addr}/open-orders"),
            seen,
        })
    }

    /// Waits until `n` distinct steps arrived (or `secs` pass); returns how many did.
    pub async fn wait_for_steps(&self, n: usize, secs: u64) -> usize {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.seen.lock().unwrap().steps.len();
            if got >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Registers platform [`PLATFORM`] on `server` with quick retries (tests), delivering to `sim`.
pub async fn register(server: &Server, sim: &SimPlatform, extra: Value) -> HarnessResult<Value> {
    let mut body = json!({
        "name": "12345 热线", "secret": SECRET, "area": "320612", "endpoint": sim.endpoint,
        "delivery": { "retry_base_ms": 100, "retry_max_ms": 800, "max_attempts": 50,
                      "timeout_ms": 700 }
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (s, v) = server.admin("PUT", &format!("/hotline/platforms/{PLATFORM}"), Some(body)).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v)
}

/// A signed request of the platform to `url` + `path`; returns status and JSON answer.
pub async fn hotline_request(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> HarnessResult<(u16, Value)> {
    let raw = body.map(Value::to_string).unwrap_or_default();
    let ts = Utc::now().timestamp_millis();
    let req = match method {
        "GET" => http.get(format!("{url}{path}")),
        _ => http.post(format!("{url}{path}")),
    };
    let r = req
        .header("x-hotline-platform", PLATFORM)
        .header("x-hotline-timestamp", ts.to_string())
        .header("x-hotline-signature", sign(ts, method, path, raw.as_bytes()))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await?;
    let s = r.status().as_u16();
    let bytes = r.bytes().await?;
    Ok((s, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// A signed `GET` of the platform: status and body bytes.
pub async fn platform_get(url: &str, path: &str) -> HarnessResult<(u16, Vec<u8>)> {
    let ts = Utc::now().timestamp_millis();
    let r = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .header("x-hotline-platform", PLATFORM)
        .header("x-hotline-timestamp", ts.to_string())
        .header("x-hotline-signature", sign(ts, "GET", path, b""))
        .send()
        .await?;
    let s = r.status().as_u16();
    Ok((s, r.bytes().await?.to_vec()))
}

/// A signed `POST` of the platform.
pub async fn hotline_post(url: &str, path: &str, body: &Value) -> HarnessResult<(u16, Value)> {
    hotline_request(&reqwest::Client::new(), url, "POST", path, Some(body)).await
}

/// A hotline order message for `number`, landing in `area`.
pub fn order_message(number: &str, message_id: &str, area: &str) -> Value {
    json!({
        "message_id": message_id, "order_number": number, "received_at": Utc::now(),
        "request": "小区东门垃圾桶满溢两天", "address": "人民路12号", "area": area,
        "category": "环境卫生", "urgency": "紧急", "handling_unit": "环卫所"
    })
}

/// A work-order step through the server's actions API (the centre's workbench).
pub async fn act_on(url: &str, credential: &str, id: &str, body: Value) -> HarnessResult<()> {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/work-orders/{id}/actions"))
        .bearer_auth(credential)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    if status != 200 {
        return Err(format!("{body}: {status} {text}").into());
    }
    Ok(())
}
