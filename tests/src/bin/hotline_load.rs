//! `hotline_load`: the 12345 exchange under sustained load (issue 13, "Benchmark") against the
//! real `gridwork-server` process on loopback.
//!
//! ```text
//! GRIDWORK_SERVER_BIN=target/release/gridwork-server \
//!   cargo run --release -p gridwork-tests --bin hotline_load -- [--rate 1000] [--secs 120]
//!   [--backend sqlite|postgres|both]
//! ```
//!
//! A simulated hotline platform (an HTTP server in this process, answering every delivery at
//! once) is registered; then orders are sent **open-loop** at `--rate` per minute for `--secs`
//! seconds (each signed create is sent at its scheduled time whatever the earlier ones are
//! doing), and the district centre accepts each order through the actions API as soon as it is
//! made, so every order produces one step going back up. Measured:
//!
//! - **acceptance latency**: the signed `POST /hotline/v1/orders` round trip (p50, p99, max),
//!   the rate achieved and every non-201 answer;
//! - **outbox delivery lag**: the platform's receipt of a step minus the step's `at` (the
//!   server's receive time of the accept) — queueing, leasing and delivery (p50, p99, max);
//! - as same-run baseline, the `GET /health` round trip measured the same way at the same rate
//!   just before, and the load average before and after (the machine is shared).
//!
//! PostgreSQL needs `GRIDWORK_TEST_PG_URL` (see `sync-server/scripts/start-test-postgres.sh`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gridwork_core::demo;
use gridwork_tests::measure::{loadavg, machine, ms, percentile, process_cpu};
use gridwork_tests::{Backend, Device, HarnessResult, Server};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

const SECRET: &str = "load-secret-0123456789abcdef0123456789";
const AREA: &str = "320612/001/001/01/01";

#[derive(Debug, Clone)]
struct Args {
    rate: u32,
    secs: u64,
    backend: String,
}

fn parse_args() -> HarnessResult<Args> {
    let mut a = Args { rate: 1000, secs: 120, backend: "both".into() };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).ok_or_else(|| format!("{} needs a value", args[i]))?;
        match args[i].as_str() {
            "--rate" => a.rate = v.parse()?,
            "--secs" => a.secs = v.parse()?,
            "--backend" => a.backend = v.clone(),
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    if a.rate == 0 || a.secs == 0 {
        return Err("--rate and --secs must be positive".into());
    }
    Ok(a)
}

/// `hex(HMAC-SHA256(SECRET, "{ts}\n{METHOD}\n{path}\n" ‖ body))` (docs/12345-exchange.md).
fn sign(ts: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut m = match <hmac::Hmac<sha2_hmac::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes())
    {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    m.update(format!("{ts}\n{method}\n{path}\n").as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Delivery lags the simulated platform saw (ms), first copy of each step.
#[derive(Default)]
struct Received {
    lags: Vec<Duration>,
    seen: std::collections::HashSet<String>,
    repeats: usize,
}

async fn receive(State(r): State<Arc<Mutex<Received>>>, body: Bytes) -> StatusCode {
    let now = Utc::now();
    let Ok(step) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let at: Option<DateTime<Utc>> = step["at"].as_str().and_then(|s| s.parse().ok());
    let id = step["step_id"].as_str().unwrap_or("").to_owned();
    if let Ok(mut r) = r.lock() {
        if r.seen.insert(id) {
            if let Some(at) = at {
                r.lags.push((now - at).to_std().unwrap_or(Duration::ZERO));
            }
        } else {
            r.repeats += 1;
        }
    }
    StatusCode::OK
}

/// Sends `n` requests open-loop at `rate` per minute; `make(i)` sends request `i` and says
/// whether it succeeded. Returns the latencies, failures and the wall time taken.
async fn open_loop<F, Fut>(rate: u32, n: usize, make: F) -> (Vec<Duration>, Vec<String>, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let every = Duration::from_secs_f64(60.0 / f64::from(rate));
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(start + every * u32::try_from(i).unwrap_or(u32::MAX)).await;
        let fut = make(i);
        tasks.spawn(async move {
            let t = Instant::now();
            let r = fut.await;
            (t.elapsed(), r)
        });
    }
    let mut lat = Vec::with_capacity(n);
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((d, Ok(()))) => lat.push(d),
            Ok((_, Err(e))) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    lat.sort();
    (lat, failures, start.elapsed())
}

fn summary(lat: &[Duration]) -> String {
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(lat, 50.0)),
        ms(percentile(lat, 99.0)),
        ms(lat.last().copied().unwrap_or_default())
    )
}

async fn run(backend: Backend, a: &Args) -> HarnessResult<()> {
    let name = backend.name();
    let server = Server::start(backend).await?;
    server.create_areas(&demo::areas(1, 1, 2, 2)).await?;
    let url = server.url.clone();
    let received = Arc::new(Mutex::new(Received::default()));
    let app = axum::Router::new()
        .route("/steps", axum::routing::post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/steps", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (s, v) = server
        .admin(
            "PUT",
            "/hotline/platforms/load",
            Some(json!({ "name": "负载平台", "secret": SECRET, "area": "320612",
                         "endpoint": endpoint })),
        )
        .await?;
    if s != 200 {
        return Err(format!("platform not registered: {s} {v}").into());
    }
    let centre = Device::new()?;
    centre.enrol_new_user(&server, &url, "区指挥中心", "district_centre", "320612").await?;
    let key = Arc::new(centre.enrolment()?.credential);
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let n = usize::try_from(u64::from(a.rate) * a.secs / 60).unwrap_or(usize::MAX);

    // Baseline: /health at the same rate, for a tenth of the time.
    let load_before = loadavg();
    let (health, health_fail, _) = open_loop(a.rate, (n / 10).max(50), |_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.get(format!("{url}/health")).send().await.map_err(|e| e.to_string())?;
            r.bytes().await.map_err(|e| e.to_string())?;
            Ok(())
        }
    })
    .await;

    let cpu_before = process_cpu(server.pid());
    let run_tag = uuid::Uuid::now_v7().simple().to_string();
    let accepts = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let (lat, failures, wall) = open_loop(a.rate, n, |i| {
        let (http, url, key, tag) = (http.clone(), url.clone(), key.clone(), run_tag.clone());
        let accepts = accepts.clone();
        async move {
            let body = json!({
                "message_id": format!("m-{i}"), "order_number": format!("HL-{tag}-{i}"),
                "received_at": Utc::now(), "request": format!("第{i}号：小区垃圾清运不及时"),
                "address": "人民路12号", "area": AREA, "category": "环境卫生",
                "urgency": if i % 5 == 0 { "紧急" } else { "一般" }, "handling_unit": "环卫所"
            })
            .to_string();
            let ts = Utc::now().timestamp_millis();
            let r = http
                .post(format!("{url}/hotline/v1/orders"))
                .header("x-hotline-platform", "load")
                .header("x-hotline-timestamp", ts.to_string())
                .header(
                    "x-hotline-signature",
                    sign(ts, "POST", "/hotline/v1/orders", body.as_bytes()),
                )
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let bytes = r.bytes().await.map_err(|e| e.to_string())?;
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status != 201 {
                return Err(format!("{status} {v}"));
            }
            // The centre accepts it at once (not timed as acceptance): one step goes back up.
            let id = v["work_order_id"].as_str().unwrap_or("").to_owned();
            tokio::spawn(async move {
                let t = Instant::now();
                let r = http
                    .post(format!("{url}/api/v1/work-orders/{id}/actions"))
                    .bearer_auth(key.as_str())
                    .header("content-type", "application/json")
                    .body(r#"{"type":"accept"}"#)
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success())
                    && let Ok(mut a) = accepts.lock()
                {
                    a.push(t.elapsed());
                }
            });
            Ok(())
        }
    })
    .await;
    let cpu = process_cpu(server.pid()) - cpu_before;
    let load_during = loadavg();

    // Every accepted order's step delivered (or 60 s pass).
    let want = accepts.lock().map(|a| a.len()).unwrap_or(0);
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        // Accepts still in flight when the load ended are counted as they finish.
        let want = accepts.lock().map(|a| a.len()).unwrap_or(want);
        let got = received.lock().map(|r| r.lags.len()).unwrap_or(0);
        if got >= want.max(lat.len()) || Instant::now() > give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (mut lags, repeats) =
        received.lock().map(|r| (r.lags.clone(), r.repeats)).unwrap_or_default();
    lags.sort();
    let accepted = accepts.lock().map(|a| a.len()).unwrap_or(0);
    let achieved = lat.len() as f64 / wall.as_secs_f64() * 60.0;
    println!(
        "## {name}: {} orders sent over {:.1} s ({achieved:.0}/min achieved)",
        n,
        wall.as_secs_f64()
    );
    println!(
        "- baseline GET /health at {} /min: {} ({} failed)",
        a.rate,
        summary(&health),
        health_fail.len()
    );
    println!("- acceptance (signed create → 201): {}; {} not 201", summary(&lat), failures.len());
    if let Some(f) = failures.first() {
        println!("  first failure: {f}");
    }
    println!(
        "- p99 ratio acceptance / health: {:.1}×",
        ms(percentile(&lat, 99.0)) / ms(percentile(&health, 99.0)).max(0.001)
    );
    println!(
        "- accepts by the centre: {accepted}; steps delivered: {}; repeats: {repeats}",
        lags.len()
    );
    println!("- outbox delivery lag (platform receipt − step's server time): {}", summary(&lags));
    println!(
        "- server CPU during the load: {:.1} s of {:.1} s wall ({:.0}% of one core)",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
    println!("- load average before {load_before}, at the end {load_during}");
    Ok(())
}

#[tokio::main]
async fn main() -> HarnessResult<()> {
    let a = parse_args()?;
    println!("# hotline_load: {} orders/min for {} s; {}", a.rate, a.secs, machine());
    if a.backend == "sqlite" || a.backend == "both" {
        run(Backend::Sqlite, &a).await?;
    }
    if a.backend == "postgres" || a.backend == "both" {
        match Backend::postgres().await? {
            Some(b) => run(b, &a).await?,
            None => println!("postgres skipped: GRIDWORK_TEST_PG_URL is unset"),
        }
    }
    Ok(())
}
