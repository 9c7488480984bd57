//! The 12345 hotline exchange end to end (issue 13), on both backends: a simulated hotline
//! platform — a real HTTP server in this process on loopback, playing the platform's side of
//! `docs/12345-exchange.md` — sends an order down to the real `gridwork-server` process; the
//! district centre accepts and dispatches it through the server; the department handler's phone
//! signs, handles and feeds back; the centre closes it. The platform answers 500 or stalls past
//! the delivery timeout on some deliveries, and the Gridwork server is killed and restarted
//! mid-way: the platform still receives every step, in order, exactly once by step id.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use common::*;
use gridwork_core::work_order::{EventType, WorkOrderAction};
use gridwork_tests::{Backend, Device, HarnessResult};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

const SECRET: &str = "e2e-secret-0123456789abcdef0123456789";

fn sign(ts: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut m =
        <hmac::Hmac<sha2_hmac::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(format!("{ts}\n{method}\n{path}\n").as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// The simulated platform's record of deliveries.
#[derive(Default)]
struct Platform {
    /// Steps received, first copy of each step id, in arrival order.
    steps: Vec<Value>,
    /// Deliveries of a step id already received (the platform dedupes them).
    repeats: usize,
    /// Every call.
    calls: usize,
    /// Calls whose signature did not verify.
    bad_signatures: usize,
}

async fn receive(
    State(p): State<Arc<Mutex<Platform>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let ts: i64 = header("x-hotline-timestamp").parse().unwrap_or(0);
    let call = {
        let mut p = p.lock().unwrap();
        p.calls += 1;
        if sign(ts, "POST", "/steps", &body) != header("x-hotline-signature") {
            p.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED;
        }
        p.calls
    };
    // Every fourth call fails before recording; every fourth-but-one records, then stalls past
    // the server's timeout (the server will send it again: a repeat to dedupe).
    if call % 4 == 1 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let step: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    {
        let mut p = p.lock().unwrap();
        if p.steps.iter().any(|s| s["step_id"] == step["step_id"]) {
            p.repeats += 1;
        } else {
            p.steps.push(step);
        }
    }
    if call % 4 == 2 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    StatusCode::OK
}

async fn hotline_post(url: &str, path: &str, body: &Value) -> HarnessResult<(u16, Value)> {
    let raw = body.to_string();
    let ts = Utc::now().timestamp_millis();
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("x-hotline-platform", "p12345")
        .header("x-hotline-timestamp", ts.to_string())
        .header("x-hotline-signature", sign(ts, "POST", path, raw.as_bytes()))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await?;
    let s = r.status().as_u16();
    Ok((s, serde_json::from_slice(&r.bytes().await?)?))
}

async fn act_on(url: &str, credential: &str, id: &str, body: Value) -> HarnessResult<()> {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/work-orders/{id}/actions"))
        .bearer_auth(credential)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    assert_eq!(status, 200, "{body}: {text}");
    Ok(())
}

fn step(event_type: EventType) -> WorkOrderAction {
    WorkOrderAction {
        event_type,
        department: Some("sanitation".into()),
        note: Some(format!("{} 已完成", event_type.as_str())),
        extension_hours: None,
        satisfaction: None,
        at: Utc::now(),
    }
}

async fn hotline_round_trip(backend: Backend) -> HarnessResult<()> {
    let platform = Arc::new(Mutex::new(Platform::default()));
    let app = axum::Router::new()
        .route("/steps", axum::routing::post(receive))
        .with_state(platform.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/steps", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (mut server, proxy) = world(backend).await?;
    let (s, v) = server
        .admin(
            "PUT",
            "/hotline/platforms/p12345",
            Some(json!({
                "name": "12345 热线", "secret": SECRET, "area": "320612", "endpoint": endpoint,
                "delivery": { "retry_base_ms": 100, "retry_max_ms": 800, "max_attempts": 50,
                              "timeout_ms": 700 }
            })),
        )
        .await?;
    assert_eq!(s, 200, "{v}");

    let order = json!({
        "message_id": "m1", "order_number": "HL-E2E-1", "received_at": Utc::now(),
        "request": "小区东门垃圾桶满溢两天", "address": "人民路12号", "area": MICRO_A,
        "category": "环境卫生", "urgency": "紧急", "handling_unit": "环卫所"
    });
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders", &order).await?;
    assert_eq!(s, 201, "{v}");
    let wo = v["work_order_id"].as_str().ok_or("no work order id")?.to_owned();
    // A duplicate create (new message id, same order number) and an urge sent twice.
    let mut again = order.clone();
    again["message_id"] = json!("m1-retry");
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders", &again).await?;
    assert_eq!((s, v["work_order_id"].as_str()), (200, Some(wo.as_str())), "{v}");

    let centre = Device::new()?;
    centre.enrol_new_user(&server, &proxy.url, "区指挥中心", "district_centre", "320612").await?;
    let centre_key = centre.enrolment()?.credential;
    let handler = Device::new()?;
    let h = handler.enrol_new_user(&server, &proxy.url, "赵强", "department_handler", TOWN).await?;
    server.set_departments(&h.user_id, &["sanitation"]).await?;

    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "accept" })).await?;
    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "dispatch", "department": "sanitation" }))
        .await?;
    let urge = json!({ "message_id": "u1", "kind": "urge", "text": "市民催办" });
    assert_eq!(
        hotline_post(&proxy.url, "/hotline/v1/orders/HL-E2E-1/updates", &urge).await?.0,
        200
    );
    assert_eq!(
        hotline_post(&proxy.url, "/hotline/v1/orders/HL-E2E-1/updates", &urge).await?.0,
        200
    );

    // The handler's phone receives the dispatched order and signs for it.
    handler.sync().await?;
    let id: uuid::Uuid = wo.parse()?;
    handler.with(|s| s.work_orders().act(id, step(EventType::Sign)))?;
    handler.sync().await?;

    // The server dies (SIGKILL) with steps in its outbox, and comes back.
    server.kill().await?;
    server.restart().await?;
    proxy.set_upstream(server.addr);

    handler.with(|s| s.work_orders().act(id, step(EventType::Handle)))?;
    handler.with(|s| s.work_orders().act(id, step(EventType::Feedback)))?;
    handler.sync().await?;
    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "close" })).await?;

    let want = ["accept", "dispatch", "escalate", "sign", "handle", "feedback", "close"];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while platform.lock().unwrap().steps.len() < want.len()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing more arrives later (no second copy of a step gets recorded as new).
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let p = platform.lock().unwrap();
        let got: Vec<&str> = p.steps.iter().map(|s| s["type"].as_str().unwrap_or("?")).collect();
        assert_eq!(got, want, "every step, in order, once");
        assert!(p.steps.iter().all(|s| s["order_number"] == "HL-E2E-1"));
        assert_eq!(p.bad_signatures, 0);
        assert!(p.calls > want.len(), "failures were injected and retried ({} calls)", p.calls);
        eprintln!("hotline e2e: {} calls, {} repeats deduped", p.calls, p.repeats);
    }
    let (_, dead) = server.admin("GET", "/hotline/dead-letters", None).await?;
    assert_eq!(dead["dead_letters"], json!([]), "{dead}");
    Ok(())
}
both!(hotline_round_trip);
