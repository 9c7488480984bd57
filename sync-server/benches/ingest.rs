//! Server ingest benchmark (issue 3, "Benchmarks"): changes per second stored by the sync
//! server, on SQLite and PostgreSQL, each against a baseline measured in the same run on the same
//! backend — plain inserts of the same change bytes into a two-column table, one transaction per
//! push.
//!
//! The changes are real: each simulated phone is a fresh core store signed in as a grid worker of
//! its own grid, recording a day's work (households, residents, edits, visits, a patrol, incidents
//! — `gridwork_tests::workload::DayPlan`, 200 changes); one phone's outbox is one push.
//!
//! Sections (a filter argument picks some: `cargo bench -p gridwork-sync-server --bench ingest --
//! store`):
//! - `validate`: the ingest validation alone (decode, actor, scope, work-order roles).
//! - `store`: `Store::push`, one push per phone, sequentially; then the same pushes again (all
//!   duplicates: what a retried sync costs).
//! - `durability`: SQLite `Store::push` with `synchronous = FULL` (what the server runs, an fsync
//!   per acknowledged push) against `NORMAL` (the earlier setting), interleaved in the same run,
//!   best of two each (issue 8, item 3).
//! - `read_model`: the projector (issue 10) on SQLite — catch-up rate over the whole log after
//!   the burst, against the time the same changes took to ingest; and ingest with the projector
//!   following in the background against ingest alone, interleaved in the same run.
//! - `http`: the real `gridwork-server` process, phones enrolled through the admin API, pushes
//!   through `POST /v1/sync` (validation, store, audit, the piggy-backed pull of a recently
//!   synced phone) from several concurrent clients.
//!
//! PostgreSQL runs when `GRIDWORK_TEST_PG_URL` is set (`sync-server/scripts/start-test-postgres.sh`).
//! `GW_BENCH_SCALE` scales the number of phones (default 50 = 10,000 changes; without `--bench`,
//! i.e. under `cargo test --benches`, a 2-phone smoke run). `GW_BENCH_CONC` sets the HTTP
//! clients (default 4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::ActorId;
use gridwork_core::Role;
use gridwork_sync_server::api::attachments_refs::refs_in;
use gridwork_sync_server::store::departments::Registry;
use gridwork_sync_server::store::postgres::PgStore;
use gridwork_sync_server::store::sqlite::SqliteStore;
use gridwork_sync_server::store::{DynStore, NewChange, RoleGrant, Store as _, now_ms};
use gridwork_sync_server::validate::{Writer, validate, validate_push};
use gridwork_tests::measure::{loadavg, machine, median, process_cpu, processes_cpu};
use gridwork_tests::workload::{self, DayOfWork, DayPlan};
use gridwork_tests::{Backend, Server};
use uuid::Uuid;

const SEED: u64 = 20_261_127;

/// How long a section took and the CPU it used.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: Duration,
    /// CPU of this process (the in-process store, or the HTTP clients).
    cpu: Duration,
    /// CPU of the server process and the PostgreSQL backends, where they are separate.
    other_cpu: Duration,
}

impl Run {
    fn rate(&self, n: usize) -> f64 {
        n as f64 / self.wall.as_secs_f64()
    }
}

async fn timed<F: std::future::Future<Output = ()>>(server_pid: Option<u32>, f: F) -> Run {
    let (cpu0, srv0, pg0) =
        (process_cpu(None), server_pid.map(|p| process_cpu(Some(p))), processes_cpu("postgres"));
    let t = Instant::now();
    f.await;
    let wall = t.elapsed();
    let srv = match (srv0, server_pid) {
        (Some(a), Some(p)) => process_cpu(Some(p)).saturating_sub(a),
        _ => Duration::ZERO,
    };
    Run {
        wall,
        cpu: process_cpu(None).saturating_sub(cpu0),
        other_cpu: srv + processes_cpu("postgres").saturating_sub(pg0),
    }
}

fn grants(day: &DayOfWork) -> Vec<RoleGrant> {
    vec![RoleGrant { role: Role::GridWorker, area: day.grid.clone() }]
}

fn actor(day: &DayOfWork) -> ActorId {
    ActorId::from(hex::decode(&day.actor_hex).expect("actor hex"))
}

/// The registry the benches validate against: empty, as the day's work dispatches to no
/// department (a dispatch would be refused, and the bench would say so).
static NO_DEPARTMENTS: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(Registry::default);

/// A writer of no department.
fn writer<'a>(actor: &'a ActorId, grants: &'a [RoleGrant]) -> Writer<'a> {
    Writer { actor, grants, departments: &[], registry: &NO_DEPARTMENTS, server_authored: false }
}

/// Validated pushes, one per phone.
fn validated(days: &[DayOfWork]) -> Vec<Vec<NewChange>> {
    days.iter()
        .map(|d| {
            validate_push(&writer(&actor(d), &grants(d)), d.changes.clone()).expect("valid day")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Baselines: the same bytes into a plain table, one transaction per push.

enum Plain {
    Sqlite { conn: rusqlite::Connection, _dir: tempfile::TempDir },
    Postgres { client: tokio_postgres::Client, table: String, _task: tokio::task::JoinHandle<()> },
}

async fn plain(backend: &str, pg_url: Option<&str>, tag: &str) -> Plain {
    match (backend, pg_url) {
        ("postgres", Some(url)) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            let task = tokio::spawn(async move {
                let _ = conn.await;
            });
            let table = format!("plain_{tag}_{}", Uuid::now_v7().simple());
            client
                .batch_execute(&format!(
                    "CREATE TABLE {table} (seq BIGINT PRIMARY KEY, bytes BYTEA NOT NULL)"
                ))
                .await
                .unwrap();
            Plain::Postgres { client, table, _task: task }
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let c = rusqlite::Connection::open(dir.path().join("plain.db")).unwrap();
            c.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 CREATE TABLE plain (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL);",
            )
            .unwrap();
            Plain::Sqlite { conn: c, _dir: dir }
        }
    }
}

async fn run_plain(p: &mut Plain, pushes: &[Vec<NewChange>]) -> Run {
    match p {
        Plain::Sqlite { conn: c, .. } => {
            timed(None, async {
                let mut seq = 0i64;
                for push in pushes {
                    let tx = c.transaction().unwrap();
                    {
                        let mut st = tx
                            .prepare_cached("INSERT INTO plain (seq, bytes) VALUES (?, ?)")
                            .unwrap();
                        for ch in push {
                            seq += 1;
                            st.execute(rusqlite::params![seq, ch.envelope.bytes]).unwrap();
                        }
                    }
                    tx.commit().unwrap();
                }
            })
            .await
        }
        Plain::Postgres { client, table, .. } => {
            let sql =
                format!("INSERT INTO {table} SELECT * FROM UNNEST($1::bigint[], $2::bytea[])");
            timed(None, async {
                let stmt = client.prepare(&sql).await.unwrap();
                let mut seq = 0i64;
                for push in pushes {
                    let seqs: Vec<i64> = push
                        .iter()
                        .map(|_| {
                            seq += 1;
                            seq
                        })
                        .collect();
                    let bytes: Vec<&[u8]> = push.iter().map(|c| &c.envelope.bytes[..]).collect();
                    let tx = client.transaction().await.unwrap();
                    tx.execute(&stmt, &[&seqs, &bytes]).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------

struct Out(Vec<String>);

impl Out {
    fn add(&mut self, line: String) {
        println!("RESULT {line}");
        self.0.push(line);
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

async fn store_section(
    backend: &str,
    pg_url: Option<&str>,
    pushes: &[Vec<NewChange>],
    total: usize,
    out: &mut Out,
) {
    let mut base = plain(backend, pg_url, "a").await;
    let plain1 = run_plain(&mut base, pushes).await;

    let (store, _dir): (DynStore, Option<tempfile::TempDir>) = match pg_url {
        Some(url) if backend == "postgres" => {
            let schema = format!("bench_{}", Uuid::now_v7().simple());
            (Arc::new(PgStore::connect_in_schema(url, Some(&schema)).await.unwrap()), None)
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            (Arc::new(SqliteStore::open(&dir.path().join("server.db")).await.unwrap()), Some(dir))
        }
    };
    let devices: Vec<Uuid> = pushes.iter().map(|_| Uuid::now_v7()).collect();
    let mut per_push = Vec::new();
    let gw = timed(None, async {
        for (dev, push) in devices.iter().zip(pushes) {
            let t = Instant::now();
            let o = store.push(*dev, now_ms(), push).await.unwrap();
            per_push.push(t.elapsed());
            assert_eq!(o.stored, push.len());
        }
    })
    .await;
    assert_eq!(store.change_count().await.unwrap() as usize, total);
    let dup = timed(None, async {
        for (dev, push) in devices.iter().zip(pushes) {
            let o = store.push(*dev, now_ms(), push).await.unwrap();
            assert_eq!(o.stored, 0);
        }
    })
    .await;

    let mut base2 = plain(backend, pg_url, "b").await;
    let plain2 = run_plain(&mut base2, pushes).await;
    let plain_best = if plain1.wall <= plain2.wall { plain1 } else { plain2 };
    out.add(format!(
        "{backend} store: {total} changes in {} pushes: {:.2} s = {:.0} changes/s (median push {:.1} ms; CPU bench process {:.2} s + postgres {:.2} s) | baseline plain insert {:.3} s = {:.0} rows/s (runs {:.3} / {:.3} s) | gridwork/plain time {:.1}x, throughput {:.0}% of plain | re-push all as duplicates {:.2} s = {:.0} changes/s | load {}",
        pushes.len(),
        secs(gw.wall),
        gw.rate(total),
        median(&per_push).as_secs_f64() * 1e3,
        secs(gw.cpu),
        secs(gw.other_cpu),
        secs(plain_best.wall),
        plain_best.rate(total),
        secs(plain1.wall),
        secs(plain2.wall),
        secs(gw.wall) / secs(plain_best.wall),
        100.0 * secs(plain_best.wall) / secs(gw.wall),
        secs(dup.wall),
        dup.rate(total),
        loadavg()
    ));
}

async fn http_section(
    backend: Backend,
    days: &[DayOfWork],
    pushes: &[Vec<NewChange>],
    conc: usize,
    out: &mut Out,
) {
    let name = backend.name();
    let total: usize = days.iter().map(|d| d.changes.len()).sum();
    let pg_url = match &backend {
        Backend::Postgres(u) => Some(u.clone()),
        Backend::Sqlite => None,
    };
    let server = Server::start(backend).await.unwrap();
    let creds = workload::enrol_days(&server, days).await.unwrap();
    let http = reqwest::Client::new();
    let cursor = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let run = timed(server.pid(), async {
        let mut tasks = Vec::new();
        for w in 0..conc {
            let (http, url) = (http.clone(), server.url.clone());
            let jobs: Vec<(String, Vec<_>)> = days
                .iter()
                .zip(&creds)
                .skip(w)
                .step_by(conc)
                .map(|(d, c)| (c.clone(), d.changes.clone()))
                .collect();
            let (cursor, next, latencies) = (cursor.clone(), next.clone(), latencies.clone());
            tasks.push(tokio::spawn(async move {
                for (cred, push) in jobs {
                    let n = push.len() as u64;
                    // A phone that synced a moment ago: its cursor is the newest one seen.
                    let c = cursor.load(Ordering::SeqCst);
                    let t = Instant::now();
                    let s = workload::light_sync(&http, &url, &cred, c, push).await.unwrap();
                    latencies.lock().unwrap().push(t.elapsed());
                    assert_eq!(s.acked, n);
                    cursor.fetch_max(s.cursor, Ordering::SeqCst);
                    next.fetch_add(n, Ordering::SeqCst);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await;
    let (_, held) = server.log_size().await.unwrap();
    assert_eq!(held as usize, total);
    let lat = latencies.lock().unwrap().clone();

    let mut base = plain(name, pg_url.as_deref(), "h").await;
    let plain_t = run_plain(&mut base, pushes).await;
    out.add(format!(
        "{name} http: {total} changes in {} pushes over {conc} connections: {:.2} s = {:.0} changes/s (median push round trip {:.1} ms; CPU server {:.2} s incl. postgres, clients {:.2} s) | baseline plain insert {:.3} s = {:.0} rows/s | gridwork/plain time {:.1}x | load {}",
        days.len(),
        secs(run.wall),
        run.rate(total),
        median(&lat).as_secs_f64() * 1e3,
        secs(run.other_cpu),
        secs(run.cpu),
        secs(plain_t.wall),
        plain_t.rate(total),
        secs(run.wall) / secs(plain_t.wall),
        loadavg()
    ));
}

/// One SQLite store at a `synchronous` level: every push, sequentially; the wall time.
async fn push_all_sqlite(level: &'static str, pushes: &[Vec<NewChange>]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("server.db")).await.unwrap();
    store.set_synchronous_for_bench(level).await.unwrap();
    let t = Instant::now();
    for push in pushes {
        store.push(Uuid::now_v7(), now_ms(), push).await.unwrap();
    }
    t.elapsed()
}

async fn durability_section(pushes: &[Vec<NewChange>], total: usize, out: &mut Out) {
    let mut normal = Duration::MAX;
    let mut full = Duration::MAX;
    for _ in 0..2 {
        normal = normal.min(push_all_sqlite("NORMAL", pushes).await);
        full = full.min(push_all_sqlite("FULL", pushes).await);
    }
    out.add(format!(
        "sqlite durability: {total} changes in {} pushes | synchronous=FULL {:.2} s = {:.0} changes/s, {:.1} ms/push | NORMAL {:.2} s = {:.0} changes/s, {:.1} ms/push | FULL/NORMAL time {:.2}x | load {}",
        pushes.len(),
        secs(full),
        total as f64 / secs(full),
        secs(full) * 1e3 / pushes.len() as f64,
        secs(normal),
        total as f64 / secs(normal),
        secs(normal) * 1e3 / pushes.len() as f64,
        secs(full) / secs(normal),
        loadavg()
    ));
}

/// A fresh, empty store of `backend` (a new schema on PostgreSQL) with the workload's district
/// registered (the projector reads the log area by area); its directory for SQLite.
async fn fresh_store(backend: &str, pg_url: Option<&str>) -> (DynStore, Option<tempfile::TempDir>) {
    let (store, dir): (DynStore, _) = match pg_url {
        Some(url) if backend == "postgres" => {
            let schema = format!("bench_{}", Uuid::now_v7().simple());
            (Arc::new(PgStore::connect_in_schema(url, Some(&schema)).await.unwrap()), None)
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            (Arc::new(SqliteStore::open(&dir.path().join("server.db")).await.unwrap()), Some(dir))
        }
    };
    store.put_area(&gridwork_core::AreaPath::parse("320612").unwrap(), "通州区").await.unwrap();
    (store, dir)
}

/// Ingests every push into a fresh store of `backend`, optionally with the projector following
/// in the background; returns the store, its directory and the ingest's wall time.
async fn ingest_into(
    backend: &str,
    pg_url: Option<&str>,
    pushes: &[Vec<NewChange>],
    follow: bool,
) -> (DynStore, Option<tempfile::TempDir>, Duration) {
    let (store, dir) = fresh_store(backend, pg_url).await;
    let metrics = Arc::new(gridwork_sync_server::metrics::Metrics::default());
    let projector = follow.then(|| {
        tokio::spawn(gridwork_sync_server::read_model::projector::follow(
            store.clone(),
            metrics.clone(),
            gridwork_sync_server::read_model::progress::Progress::new(),
            Duration::from_millis(100),
        ))
    });
    let t = Instant::now();
    for push in pushes {
        store.push(Uuid::now_v7(), now_ms(), push).await.unwrap();
    }
    let took = t.elapsed();
    if let Some(p) = projector {
        p.abort();
    }
    (store, dir, took)
}

async fn read_model_section(
    backend: &str,
    pg_url: Option<&str>,
    pushes: &[Vec<NewChange>],
    total: usize,
    out: &mut Out,
) {
    use gridwork_sync_server::read_model::projector::Projector;
    // Ingest alone and with the projector following, interleaved, best of two each.
    let mut alone = Duration::MAX;
    let mut with = Duration::MAX;
    for _ in 0..2 {
        alone = alone.min(ingest_into(backend, pg_url, pushes, false).await.2);
        with = with.min(ingest_into(backend, pg_url, pushes, true).await.2);
    }
    // Catch-up after the burst: the whole log folded by a fresh projector.
    let (store, _dir, ingest) = ingest_into(backend, pg_url, pushes, false).await;
    let rm = store.read_model().unwrap();
    let (cpu0, pg0) = (process_cpu(None), processes_cpu("postgres"));
    let t = Instant::now();
    let folded =
        Projector::new(4096, 1 << 20).catch_up(&store, rm, chrono::Utc::now()).await.unwrap();
    let catch_up = t.elapsed();
    let cpu = process_cpu(None).saturating_sub(cpu0);
    let pg_cpu = processes_cpu("postgres").saturating_sub(pg0);
    assert_eq!(folded, total);
    out.add(format!(
        "{backend} read model: catch-up of {total} changes {:.2} s = {:.0} changes/s (CPU {:.2} s, PostgreSQL server processes {:.2} s) vs ingesting them {:.2} s = {:.0} changes/s -> projector/ingest time {:.2}x | ingest with the projector following {:.2} s vs alone {:.2} s -> {:.2}x (goal <= 1.3x) | load {}",
        secs(catch_up),
        total as f64 / secs(catch_up),
        secs(cpu),
        secs(pg_cpu),
        secs(ingest),
        total as f64 / secs(ingest),
        secs(catch_up) / secs(ingest),
        secs(with),
        secs(alone),
        secs(with) / secs(alone),
        loadavg()
    ));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench_mode = args.iter().any(|a| a == "--bench");
    let filters: Vec<&str> =
        args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let wants = |s: &str| filters.is_empty() || filters.iter().any(|f| s.contains(f));
    let sections = ["validate", "store", "durability", "read_model", "http"];
    if !filters.is_empty() && !sections.iter().any(|s| wants(s)) {
        return;
    }
    let scale: f64 = match std::env::var("GW_BENCH_SCALE") {
        Ok(s) => s.parse().expect("GW_BENCH_SCALE must be a number"),
        Err(_) if bench_mode => 1.0,
        Err(_) => 0.04,
    };
    let phones = ((50.0 * scale).round() as usize).max(2);
    let conc: usize = std::env::var("GW_BENCH_CONC").ok().and_then(|c| c.parse().ok()).unwrap_or(4);
    let pg_url = std::env::var("GRIDWORK_TEST_PG_URL").ok();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!("gridwork ingest benchmark: {}; load {}", machine(), loadavg());

    let plan = DayPlan::default();
    let t = Instant::now();
    let days = workload::days_cached(phones, 1, &plan, SEED, 2).unwrap();
    let total: usize = days.iter().map(|d| d.changes.len()).sum();
    let bytes: usize = days.iter().map(DayOfWork::change_bytes).sum();
    println!(
        "workload: {phones} phones x {} changes = {total} changes, {} KiB of change bytes ({} B/change), ready in {:.1} s",
        plan.changes(),
        bytes / 1024,
        bytes / total.max(1),
        t.elapsed().as_secs_f64()
    );
    let mut out = Out(Vec::new());

    // What the push handler does before storing: validation and the attachment-reference scan.
    // `validate` parses each change once and decodes its operations only when needed; the
    // earlier path (`validate_push` then `refs_in`) parsed twice and decoded every visit,
    // patrol and work-order change. Best of three runs each.
    let mut new_t = Duration::MAX;
    let mut old_t = Duration::MAX;
    let mut refs = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let v: Vec<_> = days
            .iter()
            .map(|d| validate(&writer(&actor(d), &grants(d)), d.changes.clone()).unwrap())
            .collect();
        new_t = new_t.min(t.elapsed());
        refs.0 = v.iter().map(|p| p.refs.len()).sum();
        let t = Instant::now();
        let v = validated(&days);
        refs.1 = v.iter().map(|p| refs_in(p).len()).sum();
        old_t = old_t.min(t.elapsed());
    }
    assert_eq!(refs.0, refs.1);
    let pushes = validated(&days);
    if wants("validate") {
        out.add(format!(
            "validate + attachment refs: {total} changes ({} photo refs): {:.1} ms = {:.0} changes/s | earlier path (parse twice, decode every visit) {:.1} ms = {:.0} changes/s -> {:.1}x faster",
            refs.0,
            new_t.as_secs_f64() * 1e3,
            total as f64 / new_t.as_secs_f64(),
            old_t.as_secs_f64() * 1e3,
            total as f64 / old_t.as_secs_f64(),
            old_t.as_secs_f64() / new_t.as_secs_f64()
        ));
    }

    let mut backends = vec!["sqlite"];
    match &pg_url {
        Some(_) => backends.push("postgres"),
        None => println!("PostgreSQL skipped: GRIDWORK_TEST_PG_URL is unset"),
    }
    rt.block_on(async {
        for b in &backends {
            if wants("store") {
                store_section(b, pg_url.as_deref(), &pushes, total, &mut out).await;
            }
        }
        if wants("durability") {
            durability_section(&pushes, total, &mut out).await;
        }
        for b in &backends {
            if wants("read_model") {
                read_model_section(b, pg_url.as_deref(), &pushes, total, &mut out).await;
            }
        }
        for b in &backends {
            if wants("http") {
                let backend = match *b {
                    "postgres" => Backend::postgres().await.unwrap().expect("PG URL"),
                    _ => Backend::Sqlite,
                };
                http_section(backend, &days, &pushes, conc, &mut out).await;
            }
        }
    });
    println!("\nSummary (load now {}):", loadavg());
    for l in &out.0 {
        println!("  {l}");
    }
}
