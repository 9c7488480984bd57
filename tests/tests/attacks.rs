//! Issue 8, items 3–5 and 7: attacks on the real `gridwork-server` process over loopback, on
//! SQLite and PostgreSQL. Each test mounts the attack the issue describes and checks that the
//! server refuses it cleanly while `/health` keeps answering within 100 ms and the server's
//! peak RSS (`VmHWM`) stays within 256 MiB. Limits that would make a test slow (timeouts,
//! connection cap) are lowered through the server's environment.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use common::*;
use gridwork_core::demo;
use gridwork_core::protocol::{CONTENT_TYPE, MessageType, PROTOCOL_VERSION};
use gridwork_core::{ChangeEnvelope, RecordKind};
use gridwork_tests::server::ADMIN_TOKEN;
use gridwork_tests::wire::{self, protocol_headers};
use gridwork_tests::{Backend, HarnessResult, Server};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Peak RSS allowed under any attack.
const MAX_RSS_MIB: f64 = 256.0;
/// `/health` latency allowed under any attack (90th percentile of the probes).
const MAX_HEALTH: Duration = Duration::from_millis(100);
/// A well-formed device credential the server never issued.
const UNKNOWN_DEVICE: &str = "gwd_0000000000000000000000000000000000000000000000000000000000000000";

/// A server with the demo areas and one enrolled grid worker of grid A; its credential and
/// actor.
async fn world(backend: Backend, env: &[(&str, &str)]) -> HarnessResult<(Server, String, ActorId)> {
    let server = Server::start_with_env(backend, env).await?;
    server.create_areas(&demo::areas(1, 1, 2, 2)).await?;
    let user = server.create_user("王芳", "grid_worker", GRID_A).await?;
    let actor = ActorId::random();
    let cred = server.enrol_actor(&user, &actor.to_hex_string()).await?;
    Ok((server, cred, actor))
}

/// The server process's peak resident set (`VmHWM`), MiB.
fn peak_rss_mib(server: &Server) -> f64 {
    let pid = server.pid().expect("server runs");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// One `GET /health` on a fresh connection: the time until the answer's status line, or
/// `None` when there is none within 5 s.
async fn health_once(server: &Server) -> Option<Duration> {
    let t = Instant::now();
    let probe = async {
        let mut s = TcpStream::connect(server.addr).await.ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.ok()?;
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.ok()?;
        buf.starts_with(b"HTTP/1.1 200").then(|| t.elapsed())
    };
    tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten()
}

/// Probes `/health` every 50 ms until stopped.
struct HealthProbe {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Option<Duration>>>,
}

impl HealthProbe {
    fn start(server: &Server) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let addr = server.addr;
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut out = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                let probe = async {
                    let mut s = TcpStream::connect(addr).await.ok()?;
                    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                        .await
                        .ok()?;
                    let mut buf = [0u8; 12];
                    s.read_exact(&mut buf).await.ok()?;
                    buf.starts_with(b"HTTP/1.1 200").then(|| t.elapsed())
                };
                out.push(tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            out
        });
        HealthProbe { stop, task }
    }

    /// Stops probing; checks that every probe was answered and the 90th percentile latency.
    async fn check(self, what: &str, server: &Server) -> HarnessResult<()> {
        self.stop.store(true, Ordering::Relaxed);
        let probes = self.task.await?;
        let failed = probes.iter().filter(|p| p.is_none()).count();
        let mut ok: Vec<Duration> = probes.iter().flatten().copied().collect();
        ok.sort();
        let p90 = ok.get((ok.len() * 9 / 10).min(ok.len().saturating_sub(1))).copied();
        let rss = peak_rss_mib(server);
        eprintln!(
            "[attacks] {what} ({}): /health {} probes, {failed} unanswered, p50 {:?}, p90 {:?}, max {:?}; peak RSS {rss:.0} MiB",
            server.backend().name(),
            probes.len(),
            ok.get(ok.len() / 2),
            p90,
            ok.last(),
        );
        if failed > 0 || p90.is_none_or(|p| p > MAX_HEALTH) {
            return Err(
                format!("{what}: /health unhealthy: {failed} unanswered, p90 {p90:?}").into()
            );
        }
        if rss > MAX_RSS_MIB {
            return Err(format!("{what}: peak RSS {rss:.0} MiB > {MAX_RSS_MIB} MiB").into());
        }
        Ok(())
    }
}

/// Sends a request head and then `body_len` bytes (or until the server stops reading), and
/// returns what the server answered (the status line's code), if anything.
async fn post_raw(
    server: &Server,
    path: &str,
    credential: &str,
    body_len: usize,
    hold_after: Option<usize>,
) -> Option<u16> {
    let mut s = TcpStream::connect(server.addr).await.ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {credential}\r\ncontent-type: {CONTENT_TYPE}\r\ncontent-length: {body_len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.ok()?;
    let chunk = vec![0u8; 64 * 1024];
    let mut sent = 0;
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        std::str::from_utf8(buf.get(9..12)?).ok()?.parse::<u16>().ok()
    });
    // Send the body, or only its first `hold_after` bytes and then hold the rest.
    let until = hold_after.unwrap_or(body_len).min(body_len);
    while sent < until {
        let n = chunk.len().min(until - sent);
        if wr.write_all(&chunk[..n]).await.is_err() {
            break;
        }
        sent += n;
    }
    tokio::time::timeout(Duration::from_secs(30), reader).await.ok()?.ok()?
}

// -------------------------------------------------------------------------------------------
// Item 4: transport limits

/// 32 strangers each send a 16 MiB body: answered 401 without the body being read.
async fn unauthenticated_bodies(backend: Backend) -> HarnessResult<()> {
    let (server, _, _) = world(backend, &[]).await?;
    let probe = HealthProbe::start(&server);
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = server.clone();
        tasks.push(tokio::spawn(async move {
            post_raw(&s, "/v1/sync", UNKNOWN_DEVICE, 16 * 1024 * 1024, None).await
        }));
    }
    for t in tasks {
        let status = t.await?;
        assert!(matches!(status, None | Some(401)), "stranger's body answered {status:?}");
    }
    probe.check("32 unauthenticated 16 MiB bodies", &server).await
}
both!(unauthenticated_bodies);

/// 40 devices start a body and hold it: the server gives up after the body timeout.
async fn held_bodies(backend: Backend) -> HarnessResult<()> {
    let (server, cred, _) = world(backend, &[("GRIDWORK_BODY_TIMEOUT_SECS", "2")]).await?;
    let probe = HealthProbe::start(&server);
    let server = Arc::new(server);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (s, c) = (server.clone(), cred.clone());
        tasks.push(tokio::spawn(async move {
            post_raw(&s, "/v1/sync", &c, 1024 * 1024, Some(1000)).await
        }));
    }
    for task in tasks {
        let status = task.await?;
        assert!(matches!(status, None | Some(408)), "held body answered {status:?}");
    }
    let took = t.elapsed();
    assert!(took < Duration::from_secs(8), "held bodies stayed open {took:?}");
    probe.check("40 held bodies", &server).await
}
both!(held_bodies);

/// Idle connections and connections that never finish their headers are closed after the
/// header timeout.
async fn idle_and_partial_headers(backend: Backend) -> HarnessResult<()> {
    let (server, _, _) = world(backend, &[("GRIDWORK_HEADER_TIMEOUT_SECS", "2")]).await?;
    let probe = HealthProbe::start(&server);
    let mut conns = Vec::new();
    for i in 0..100 {
        let mut s = TcpStream::connect(server.addr).await?;
        if i % 2 == 0 {
            s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ").await?;
        }
        conns.push(s);
    }
    let t = Instant::now();
    for mut s in conns {
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "connection still open after {:?}", t.elapsed());
    }
    probe.check("100 idle / partial-header connections", &server).await
}
both!(idle_and_partial_headers);

/// 1,100 idle connections against a server limited to 1,024 open files: `/health` answers.
async fn idle_flood(backend: Backend) -> HarnessResult<()> {
    let (server, _, _) = world(backend, &[("GRIDWORK_MAX_CONNECTIONS", "800")]).await?;
    let pid = server.pid().expect("runs").to_string();
    let st = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=1024:1024"])
        .status()?;
    assert!(st.success(), "prlimit failed");
    let mut conns = Vec::new();
    for _ in 0..1100 {
        match TcpStream::connect(server.addr).await {
            Ok(s) => conns.push(s),
            Err(e) => panic!("connect: {e}"),
        }
    }
    // Let the server work through the backlog (evicted connections close within a second).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let probe = HealthProbe::start(&server);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = health_once(&server).await;
    assert!(first.is_some(), "no /health answer under 1,100 idle connections");
    probe.check("1,100 idle connections at 1,024 open files", &server).await?;
    drop(conns);
    Ok(())
}
both!(idle_flood);

/// One credential hammering the server gets 429 with `Retry-After`; another is not slowed.
/// A request beyond the in-flight limit gets 503 with `Retry-After`.
async fn rate_and_overload(backend: Backend) -> HarnessResult<()> {
    let env = [
        ("GRIDWORK_RATE_LIMIT", "5"),
        ("GRIDWORK_RATE_BURST", "5"),
        ("GRIDWORK_MAX_IN_FLIGHT", "2"),
        ("GRIDWORK_BODY_TIMEOUT_SECS", "3"),
    ];
    let (server, cred, _) = world(backend, &env).await?;
    let user = server.create_user("李强", "grid_worker", GRID_B).await?;
    let other = server.enrol_actor(&user, &ActorId::random().to_hex_string()).await?;
    let http = reqwest::Client::new();
    let areas = |c: &str| {
        http.get(format!("{}/v1/areas", server.url)).header("authorization", format!("Bearer {c}"))
    };
    let mut limited = None;
    for _ in 0..20 {
        let r = areas(&cred).send().await?;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.ok_or("20 quick requests with one credential were never limited")?;
    let wait: u64 = r.headers()["retry-after"].to_str()?.parse()?;
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let v: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(areas(&other).send().await?.status(), 200, "another credential was slowed");

    // Two held bodies fill the in-flight slots; the next request is shed.
    let server = Arc::new(server);
    let user3 = server.create_user("赵敏", "grid_worker", GRID_B).await?;
    let third = server.enrol_actor(&user3, &ActorId::random().to_hex_string()).await?;
    let s1 = server.clone();
    let c1 = other.clone();
    let h1 = tokio::spawn(async move { post_raw(&s1, "/v1/sync", &c1, 4096, Some(10)).await });
    let s2 = server.clone();
    let c2 = third.clone();
    let h2 = tokio::spawn(async move { post_raw(&s2, "/v1/sync", &c2, 4096, Some(10)).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = http
        .get(format!("{}/v1/areas", server.url))
        .header("authorization", format!("Bearer {third}"))
        .send()
        .await?;
    assert_eq!(r.status(), 503, "third request at once was not shed");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!((h1.await?, h2.await?), (Some(408), Some(408)), "held bodies end with 408");
    assert!(server.healthy().await);
    Ok(())
}
both!(rate_and_overload);

// -------------------------------------------------------------------------------------------
// Item 5: decompression bombs, change size

/// A digest request of a few KB declaring 1.37 M entries (64 MiB uncompressed).
fn digest_bomb() -> Vec<u8> {
    let n: u64 = 1_369_000;
    let mut payload = Vec::new();
    payload.push(GRID_A.len() as u8);
    payload.extend_from_slice(GRID_A.as_bytes());
    let mut v = n;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        payload.push(if v == 0 { b } else { b | 0x80 });
        if v == 0 {
            break;
        }
    }
    payload.resize(payload.len() + n as usize * 49, 0);
    let mut out = b"GWSY".to_vec();
    out.extend_from_slice(&[PROTOCOL_VERSION, MessageType::DigestRequest as u8, 1, 0]);
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&zstd::bulk::compress(&payload, 3).unwrap());
    out
}

/// 32 digest bombs at once.
async fn digest_bombs(backend: Backend) -> HarnessResult<()> {
    let (server, cred, _) = world(backend, &[]).await?;
    let bomb = digest_bomb();
    assert!(bomb.len() < 8 * 1024, "bomb of {} bytes", bomb.len());
    let probe = HealthProbe::start(&server);
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (h, url, b, c) =
            (http.clone(), format!("{}/v1/digest", server.url), bomb.clone(), cred.clone());
        tasks.push(tokio::spawn(async move {
            wire::call(&h, "POST", &url, &protocol_headers(&c), b).await
        }));
    }
    for t in tasks {
        let a = t.await??;
        let code = a.error_code()?;
        assert!(
            (a.status, code.as_str()) == (413, "payload_too_large")
                || (a.status, code.as_str()) == (503, "overloaded")
                || (a.status, code.as_str()) == (429, "rate_limited"),
            "bomb answered {} {code}",
            a.status
        );
    }
    probe.check("32 digest bombs", &server).await
}
both!(digest_bombs);

/// A valid change of 2 MiB (a huge string in a household document) is refused with the
/// permanent `change_too_large`, naming the change; nothing is stored.
async fn oversized_change(backend: Backend) -> HarnessResult<()> {
    let (server, cred, actor) = world(backend, &[]).await?;
    let small = {
        let mut d = AutoCommit::new().with_actor(actor.clone());
        d.put(ROOT, "note", "ok")?;
        d.get_last_local_change().unwrap().raw_bytes().to_vec()
    };
    // Incompressible text (Automerge deflates large columns): 1 M pseudo-random CJK characters.
    let mut x: u32 = 12345;
    let text: String = (0..1_000_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from_u32(0x4E00 + (x >> 16) % 20_000).unwrap_or('x')
        })
        .collect();
    let mut doc = AutoCommit::new().with_actor(actor);
    doc.put(ROOT, "note", text)?;
    let big = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    assert!(big.len() > 1024 * 1024, "{} bytes", big.len());
    let env = |bytes: Vec<u8>| ChangeEnvelope {
        doc_id: uuid::Uuid::now_v7(),
        kind: RecordKind::Household,
        area: area(MICRO_A),
        bytes,
    };
    let body = wire::sync_request(PROTOCOL_VERSION, vec![env(small), env(big)]);
    let before = server.log_size().await?;
    let a = wire::call(
        &reqwest::Client::new(),
        "POST",
        &format!("{}/v1/sync", server.url),
        &protocol_headers(&cred),
        body,
    )
    .await?;
    let v = a.json()?;
    assert_eq!((a.status, v["error"]["code"].as_str()), (413, Some("change_too_large")), "{v}");
    assert_eq!(v["error"]["change_index"], 1);
    assert_eq!(server.log_size().await?, before, "a refused push stored something");
    Ok(())
}
both!(oversized_change);

// -------------------------------------------------------------------------------------------
// Item 7: names, enrolment throttling

/// Control characters in user, area and device names: 400 `invalid_input` naming the field.
async fn control_characters(backend: Backend) -> HarnessResult<()> {
    let server = Server::start(backend).await?;
    server.create_areas(&demo::areas(1, 1, 2, 2)).await?;
    let http = reqwest::Client::new();
    let admin = |path: &str, body: Value| {
        http.post(format!("{}/admin/v1{path}", server.url))
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
    };
    for name in ["王\u{0}芳", "王\n芳", "a\u{1b}[2Jb", "x\u{7f}"] {
        let r = admin(
            "/users",
            json!({"name": name, "roles": [{"role": "grid_worker", "area": GRID_A}]}),
        )
        .send()
        .await?;
        let status = r.status().as_u16();
        let v: Value = serde_json::from_slice(&r.bytes().await?)?;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("invalid_input")),
            "{name:?}: {v}"
        );
        assert!(v["error"]["message"].as_str().unwrap_or("").contains("name"), "{v}");
        let r = admin("/areas", json!({"path": "320612/001/001/09", "name": name})).send().await?;
        assert_eq!(r.status(), 400, "area name {name:?}");
    }
    let user = server.create_user("王芳", "grid_worker", GRID_A).await?;
    let code = server.enrolment_code(&user).await?;
    let r = http
        .post(format!("{}/v1/enrol", server.url))
        .header("content-type", "application/json")
        .body(
            serde_json::to_vec(
                &json!({"code": code, "actor_id": "aabb", "device_name": "手机\u{0}"}),
            )
            .unwrap(),
        )
        .send()
        .await?;
    let status = r.status().as_u16();
    let v: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("device_name"), "{v}");
    assert!(server.healthy().await);
    Ok(())
}
both!(control_characters);

/// Wrong enrolment codes from one address: after the burst, 429 with `Retry-After`.
async fn enrolment_throttle(backend: Backend) -> HarnessResult<()> {
    let server = Server::start(backend).await?;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut throttled = None;
    for i in 0..30 {
        let r = http
            .post(format!("{}/v1/enrol", server.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&json!({"code": format!("ZZZZ-ZZZZ-{i:04}"), "actor_id": "aabb", "device_name": "x"})).unwrap())
            .send()
            .await?;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.ok_or_else(|| format!("30 wrong codes never throttled: {statuses:?}"))?;
    let wait: u64 = r.headers()["retry-after"].to_str()?.parse()?;
    assert!(wait >= 1, "Retry-After {wait}");
    let v: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(v["error"]["code"], "enrolment_throttled");
    assert!(statuses.len() > 10, "throttled too early: {statuses:?}");
    assert!(server.healthy().await);
    Ok(())
}
both!(enrolment_throttle);
