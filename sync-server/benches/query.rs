//! Staff query API benchmark (issue 10, "Benchmarks"): query p99 for "open work orders of a
//! town" and "households matching a 2-character name" over 1,000,000 visits and 100,000
//! households (goal ≤ 50 ms), on SQLite and PostgreSQL; and the workbench's queue view and
//! Today figures over ~16,700 open work orders (issue 11, goal ≤ 200 ms p99).
//!
//! The read model is filled directly, not by folding a million pushed changes: households
//! (with their `rm_search` tokens, made by the core's tokeniser) and work orders go through
//! `ReadModelStore::rm_commit` — the projector's own write path — while the 1,000,000 visits
//! are generated inside the database by one `INSERT … SELECT` (they only weigh on the tables
//! and indexes a query shares). Queries run the API's own path minus HTTP: the caller's
//! scopes (`query::scope::check`), the statement (`query::sql::list`), `QueryStore::find`
//! (which also parses each record's JSON).
//!
//! `cargo bench -p gridwork-sync-server --bench query`. PostgreSQL runs when
//! `GRIDWORK_TEST_PG_URL` is set; `GW_BENCH_ONLY=sqlite|postgres` runs one backend.
//! `GW_BENCH_SCALE` scales the data (default 1.0; under `cargo test --benches`, a 0.01 smoke
//! run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use gridwork_core::demo::{self, DemoRng};
use gridwork_core::{AreaPath, RecordKind, Role};
use gridwork_sync_server::query::queue::Queue;
use gridwork_sync_server::query::{ListQuery, Listed, QueryStore, scope, sql, stats};
use gridwork_sync_server::read_model::projector::{ReadModelStore, RmBatch};
use gridwork_sync_server::read_model::rows::{KindColumns, RecordRow};
use gridwork_sync_server::store::postgres::PgStore;
use gridwork_sync_server::store::sqlite::SqliteStore;
use gridwork_sync_server::store::{RoleGrant, now_ms};
use gridwork_tests::measure::{loadavg, machine, percentile};
use uuid::Uuid;

const TOWNS: u64 = 10;
const MICROS_PER_TOWN: u64 = 200; // 10 communities × 5 grids × 4 micro-grids

/// The micro-grid area of the `i`-th thing (spread over every town).
fn micro(i: u64) -> String {
    let town = 1 + i % TOWNS;
    let m = (i / TOWNS) % MICROS_PER_TOWN;
    format!("320612/{town:03}/{:03}/{:02}/{:02}", 1 + m / 20, 1 + (m / 4) % 5, 1 + m % 4)
}

fn row(id: Uuid, kind: RecordKind, area: &str, columns: KindColumns, json: String) -> RecordRow {
    RecordRow {
        id,
        kind,
        area: AreaPath::parse(area).unwrap(),
        deleted: false,
        created_at: now_ms(),
        columns,
        json,
    }
}

/// 100,000 households (×scale) and 50,000 work orders through `rm_commit`; returns the
/// households' head names.
async fn fill<S: ReadModelStore>(rm: &S, households: u64, orders: u64) -> Vec<String> {
    let mut rng = DemoRng::new(20_261_201);
    let mut heads = Vec::new();
    let mut batch = Vec::new();
    for i in 0..households {
        let area = micro(i);
        let h = demo::household(&mut rng, &AreaPath::parse(&area).unwrap());
        let tags: Vec<&str> = h.tags.iter().map(|t| t.as_str()).collect();
        let json = serde_json::json!({
            "head_name": h.head_name, "address": h.address, "tags": tags,
            "member_count": h.member_count, "phone": h.phone,
        })
        .to_string();
        heads.push(h.head_name.clone());
        let cols = KindColumns::Household {
            head_name: h.head_name,
            address: h.address,
            tags: tags.join(","),
        };
        batch.push(row(Uuid::now_v7(), RecordKind::Household, &area, cols, json));
        if batch.len() == 1000 {
            commit(rm, &mut batch).await;
        }
    }
    let now = now_ms();
    for i in 0..orders {
        let open = i % 3 == 0;
        let cols = KindColumns::WorkOrder {
            category: ["sanitation", "safety_hazard", "public_facilities"][(i % 3) as usize].into(),
            severity: ["urgent", "important", "ordinary"][(i % 3) as usize].into(),
            state: if open { "dispatched" } else { "closed" }.into(),
            reported_at: now - 86_400_000,
            deadline_at: Some(now + if i % 2 == 0 { -3_600_000 } else { 3_600_000 }),
            closed_at: (!open).then_some(now),
            closed_on_time: (!open).then_some(true),
            is_open: open,
            escalated: false,
            departments: "urban_management".into(),
            dept_states: if open {
                ",urban_management=dispatched,"
            } else {
                ",urban_management=fed_back,"
            }
            .into(),
            pending_ext: 0,
            title: "路灯损坏".into(),
            household_id: None,
            description: "人民路与建设路交叉口路灯不亮".into(),
            conflicts: 0,
        };
        let json =
            serde_json::json!({"title": "路灯损坏", "description": "人民路与建设路交叉口路灯不亮"})
                .to_string();
        batch.push(row(Uuid::now_v7(), RecordKind::WorkOrder, &micro(i * 7), cols, json));
        if batch.len() == 1000 {
            commit(rm, &mut batch).await;
        }
    }
    commit(rm, &mut batch).await;
    heads
}

async fn commit<S: ReadModelStore>(rm: &S, rows: &mut Vec<RecordRow>) {
    let batch = RmBatch { rows: std::mem::take(rows), states: Vec::new(), cursor: 0 };
    rm.rm_commit(&batch).await.unwrap();
}

/// The SQL that generates `n` visits (and their `rm_records` rows) inside the database.
fn visits_sql(postgres: bool, n: u64) -> String {
    let kind = RecordKind::Visit.code();
    if postgres {
        format!(
            "INSERT INTO rm_visits SELECT decode(md5(i::text), 'hex'),
                '320612/' || lpad((1 + i % 10)::text, 3, '0') || '/001/01/01/', decode(md5((i % 100000)::text), 'hex'),
                'visitor-' || (i % 500), 1700000000000 + i * 1000, 'met', 5, TRUE, FALSE
             FROM generate_series(1, {n}) AS i;
             INSERT INTO rm_records SELECT doc_id, {kind}, area_key, FALSE, visited_at,
                '{{\"situation\":\"老人身体尚好，家中整洁\",\"outcome\":\"met\"}}' FROM rm_visits;
             ANALYZE;"
        )
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
             INSERT INTO rm_visits SELECT randomblob(16),
                '320612/' || printf('%03d', 1 + i % 10) || '/001/01/01/', randomblob(16),
                'visitor-' || (i % 500), 1700000000000 + i * 1000, 'met', 5, 1, 0 FROM n;
             INSERT INTO rm_records SELECT doc_id, {kind}, area_key, 0, visited_at,
                '{{\"situation\":\"老人身体尚好，家中整洁\",\"outcome\":\"met\"}}' FROM rm_visits;
             ANALYZE;"
        )
    }
}

/// Runs `q` `runs` times for `grants`; returns the sorted latencies and the rows of the last.
async fn measure(
    qs: &dyn QueryStore,
    grants: &[RoleGrant],
    queries: &[ListQuery],
    runs: usize,
) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut rows = 0;
    for i in 0..runs + runs / 10 {
        let q = &queries[i % queries.len()];
        let t = Instant::now();
        let scopes = scope::check(grants, &[], q.listed.kind(), "x", q.area.as_ref()).unwrap();
        let found = qs.find(&sql::list(qs.dialect(), q, &scopes, now_ms())).await.unwrap();
        let took = t.elapsed();
        rows = found.len();
        if i >= runs / 10 {
            times.push(took); // the first tenth warms the caches
        }
    }
    times.sort();
    (times, rows)
}

fn grant(role: Role, area: &str) -> Vec<RoleGrant> {
    vec![RoleGrant { role, area: AreaPath::parse(area).unwrap() }]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bench<S: ReadModelStore + QueryStore>(
    name: &str,
    store: &S,
    visits_in_db: impl std::future::Future<Output = ()>,
    scale: f64,
    runs: usize,
) {
    let households = (100_000.0 * scale) as u64;
    let orders = (50_000.0 * scale) as u64;
    let t = Instant::now();
    let heads = fill(store, households, orders).await;
    let filled = t.elapsed();
    let t = Instant::now();
    visits_in_db.await;
    let visits_took = t.elapsed();
    println!(
        "{name}: filled {households} households + {orders} work orders via rm_commit in {:.1} s; \
         {} visits in-database in {:.1} s",
        filled.as_secs_f64(),
        (1_000_000.0 * scale) as u64,
        visits_took.as_secs_f64()
    );
    // Open work orders of a town, as its town operator (first page).
    let mut open = ListQuery::new(Listed::WorkOrders);
    open.open = Some(true);
    let town = grant(Role::TownOperator, "320612/004");
    let (t1, n1) = measure(store, &town, &[open.clone()], runs).await;
    // The same, by the district centre filtering by area.
    open.area = Some(AreaPath::parse("320612/004").unwrap());
    let (t2, n2) = measure(store, &grant(Role::DistrictCentre, "320612"), &[open], runs).await;
    // Households matching a 2-character name (50 different names), by the district centre.
    let names: Vec<ListQuery> = heads
        .iter()
        .filter(|h| h.chars().count() == 2)
        .take(50)
        .map(|h| {
            let mut q = ListQuery::new(Listed::Households);
            q.terms = gridwork_core::search::query_terms(h).unwrap();
            q
        })
        .collect();
    let (t3, n3) = measure(store, &grant(Role::DistrictCentre, "320612"), &names, runs).await;
    // The workbench's queue view: a page of 50, newest first, of the district's orders waiting
    // to be signed for (every open order of the data is).
    let mut queue = ListQuery::new(Listed::WorkOrders);
    queue.queue = Some(Queue::ToSign);
    queue.limit = 50;
    queue.newest_first = true;
    let district = grant(Role::DistrictCentre, "320612");
    let (t4, n4) = measure(store, &district, &[queue], runs).await;
    // The workbench's Today figures of the whole district (four grouped counts).
    let mut t5 = Vec::new();
    let scopes = scope::check(&district, &[], RecordKind::WorkOrder, "x", None).unwrap();
    let task_scopes = scope::check(&district, &[], RecordKind::Task, "x", None).unwrap();
    let mut open_counted = 0;
    for i in 0..runs + runs / 10 {
        let t = Instant::now();
        let now = now_ms();
        let mut answers: [Vec<stats::CountRow>; stats::STATEMENTS] = Default::default();
        let statements = stats::statements(
            store.dialect(),
            &scopes,
            &task_scopes,
            None,
            &[],
            now - 86_400_000,
            now,
        );
        for (slot, st) in answers.iter_mut().zip(&statements) {
            *slot = store.run_counts(st).await.unwrap();
        }
        let figures = stats::WorkOrderStats::fold(now, answers);
        if i >= runs / 10 {
            t5.push(t.elapsed());
        }
        open_counted = figures.open as usize;
    }
    t5.sort();
    for (label, t, n) in [
        ("open work orders of a town (town operator)", &t1, n1),
        ("open work orders, area=town (district centre)", &t2, n2),
        ("households matching a 2-character name", &t3, n3),
        ("workbench queue to_sign, page of 50 (district centre)", &t4, n4),
        ("workbench Today figures of the district (open orders counted)", &t5, open_counted),
    ] {
        println!(
            "{name}: {label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} runs, {n} rows/page)",
            ms(percentile(t, 50.0)),
            ms(percentile(t, 99.0)),
            ms(*t.last().unwrap()),
            t.len()
        );
    }
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let scale: f64 = std::env::var("GW_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 0.01 } else { 1.0 });
    let runs = if smoke { 20 } else { 500 };
    println!("machine: {}; load average at start: {}", machine(), loadavg());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("query.db");
        let lite = Arc::new(SqliteStore::open(&path).await.unwrap());
        let n = (1_000_000.0 * scale) as u64;
        let visits = async {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let c = rusqlite::Connection::open(&path).unwrap();
                c.execute_batch(&visits_sql(false, n)).unwrap();
            })
            .await
            .unwrap();
        };
        let only = std::env::var("GW_BENCH_ONLY").unwrap_or_default();
        if only != "postgres" {
            bench("sqlite", lite.as_ref(), visits, scale, runs).await;
        }
        if let Ok(url) = std::env::var("GRIDWORK_TEST_PG_URL")
            && only != "sqlite"
        {
            let schema = format!("bench_query_{}", Uuid::now_v7().simple());
            let pg = PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap();
            let visits = async {
                let mut cfg: tokio_postgres::Config = url.parse().unwrap();
                cfg.options(format!("-c search_path={schema}"));
                let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                client.batch_execute(&visits_sql(true, n)).await.unwrap();
            };
            bench("postgres", &pg, visits, scale, runs).await;
            let (client, conn) = url
                .parse::<tokio_postgres::Config>()
                .unwrap()
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
        }
        println!("load average at end: {}", loadavg());
    });
}
