//! Ledger export and assessment benchmark (issue 12, "Benchmark"):
//!
//! - CSV and XLSX export of **1,000,000 visit rows** by the real `gridwork-server export visits`
//!   process — rows/s, and the process's peak RSS as `/usr/bin/time -v` reports it (its
//!   "Maximum resident set size", the kernel's high-water mark of the process) — goals ≥ 100,000
//!   rows/s for CSV and ≤ 100 MB peak RSS for both;
//! - the assessment of a district for a month, per grid over **1,049 grids** (goal ≤ 2 s),
//!   the API's own path minus HTTP (`ledger::assessment::assess`).
//!
//! The read model is filled inside the database by `INSERT … SELECT` (making a million real
//! visit changes through simulated phones costs about an hour here; see the query benchmark):
//! 314,700 households (300 per grid, each with its `rm_records` row), 1,000,000 visits in
//! November 2026 (each to one of those households, half of them asking satisfaction and
//! awareness), 20,980 patrols and 20,980 work orders (with the record JSON the assessment reads
//! the reporter from). As a same-run baseline, the time to read the same rows without encoding
//! them (`SELECT count(*)` over the ledger's join) is printed beside each export.
//!
//! `cargo bench -p gridwork-sync-server --bench export`. PostgreSQL runs when
//! `GRIDWORK_TEST_PG_URL` is set; `GW_BENCH_ONLY=sqlite|postgres` runs one backend;
//! `GW_BENCH_ASSESS_ONLY=1` skips the exports (to iterate on the assessment);
//! `GW_BENCH_SCALE` scales the rows (default 1.0; under `cargo test --benches`, a 0.01 smoke
//! run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use gridwork_core::{AreaPath, RecordKind};
use gridwork_sync_server::ledger::assessment::{self, AssessmentQuery, Level, Metric, Scopes};
use gridwork_sync_server::store::DynStore;
use gridwork_sync_server::store::postgres::PgStore;
use gridwork_sync_server::store::sqlite::SqliteStore;
use gridwork_tests::measure::{loadavg, machine};
use uuid::Uuid;

const GRIDS: u64 = 1_049;
/// 2026-11-01T00:00:00+08:00.
const NOV: i64 = 1_793_462_400_000;
const MONTH_MS: i64 = 30 * 86_400_000;

/// The grid path of grid `g` (10 towns of 21 communities of 5 grids, 1,049 of them).
fn grid(g: u64) -> String {
    format!("320612/{:03}/{:03}/{:02}", 1 + g / 105, 1 + (g % 105) / 5, 1 + g % 5)
}

/// The SQL filling the read model: `households` households, `visits` visits, `others` patrols
/// and work orders. `pg` picks the dialect.
fn fill_sql(pg: bool, households: u64, visits: u64, others: u64) -> String {
    let (hk, wk) = (RecordKind::Household.code(), RecordKind::WorkOrder.code());
    // The area key of household `x`'s grid, and a 16-byte id of `n`.
    type Sql = fn(&str) -> String;
    let (area, id, series): (Sql, Sql, fn(u64) -> String) = if pg {
        (
            |x: &str| {
                format!(
                    "'320612/' || lpad((1 + ({x} % {GRIDS}) / 105)::text, 3, '0') || '/' || \
                     lpad((1 + (({x} % {GRIDS}) % 105) / 5)::text, 3, '0') || '/' || \
                     lpad((1 + ({x} % {GRIDS}) % 5)::text, 2, '0') || '/'"
                )
            },
            |n: &str| format!("convert_to(lpad(({n})::text, 16, '0'), 'UTF8')"),
            |n: u64| format!("FROM generate_series(0::BIGINT, {n} - 1) AS s(i)"),
        )
    } else {
        (
            |x: &str| {
                format!(
                    "'320612/' || printf('%03d', 1 + ({x} % {GRIDS}) / 105) || '/' || \
                     printf('%03d', 1 + (({x} % {GRIDS}) % 105) / 5) || '/' || \
                     printf('%02d', 1 + ({x} % {GRIDS}) % 5) || '/'"
                )
            },
            |n: &str| format!("CAST(printf('%016d', {n}) AS BLOB)"),
            |n: u64| {
                format!(
                    "FROM (WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s \
                     WHERE i < {n} - 1) SELECT i FROM s)"
                )
            },
        )
    };
    let (t, f) = if pg { ("TRUE", "FALSE") } else { ("1", "0") };
    let h_area = area("i");
    let v_area = area(&format!("(i % {households})"));
    let o_area = area("i");
    let h_id = id("i");
    let v_hid = id(&format!("i % {households}"));
    let v_id = id("1000000000 + i");
    let p_id = id("3000000000 + i");
    let w_id = id("4000000000 + i");
    let s_h = series(households);
    let s_v = series(visits);
    let s_o = series(others);
    format!(
        "INSERT INTO rm_households SELECT {h_id}, {h_area}, '张' || (i % 1000),
            '幸福小区' || (i % 50) || '幢' || (i % 6) || '单元' || (i % 30) || '室',
            CASE WHEN i % 10 = 0 THEN 'elderly_alone' WHEN i % 10 = 1 THEN 'rental' ELSE '' END,
            {f} {s_h};
         INSERT INTO rm_records SELECT doc_id, {hk}, area_key, {f}, 1790000000000,
            '{{\"member_count\":3}}' FROM rm_households;
         INSERT INTO rm_visits SELECT {v_id}, {v_area}, {v_hid}, 'visitor-' || (i % 2000),
            {NOV} + (i * 2591) % {MONTH_MS},
            CASE WHEN i % 7 = 0 THEN 'not_home' ELSE 'met' END,
            CASE WHEN i % 2 = 0 THEN 1 + i % 5 END,
            CASE WHEN i % 2 = 0 THEN (CASE WHEN i % 3 = 0 THEN {f} ELSE {t} END) END,
            {f} {s_v};
         INSERT INTO rm_patrols SELECT {p_id}, {o_area}, 'visitor-' || (i % 2000),
            {NOV} + (i * 7919) % {MONTH_MS}, {NOV} + (i * 7919) % {MONTH_MS} + 5400000,
            120, 2500.0, 5400.0, {f} {s_o};
         INSERT INTO rm_work_orders (doc_id, area_key, category, severity, state, reported_at,
            deadline_at, closed_at, closed_on_time, is_open, escalated, departments, conflicts,
            deleted) SELECT {w_id}, {o_area}, 'sanitation', 'ordinary', 'closed',
            {NOV} + (i * 6007) % {MONTH_MS}, {NOV} + (i * 6007) % {MONTH_MS} + 259200000,
            {NOV} + (i * 6007) % {MONTH_MS} + 86400000 * (1 + i % 5),
            CASE WHEN i % 5 < 3 THEN {t} ELSE {f} END, {f}, {f}, 'police', 0, {f} {s_o};
         INSERT INTO rm_records SELECT doc_id, {wk}, area_key, {f}, reported_at,
            '{{\"summary\":{{\"reporter\":\"visitor-1\"}}}}' FROM rm_work_orders;
         ANALYZE;"
    )
}

/// Runs `gridwork-server export visits` under `/usr/bin/time -v`; returns (rows, seconds,
/// peak RSS in MiB, file size in MiB).
fn export(url: &str, format: &str, out: &Path) -> (u64, f64, f64, f64) {
    let t = Instant::now();
    let o = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_gridwork-server"))
        .args(["--database-url", url, "export", "visits", "--format", format, "--out"])
        .arg(out)
        .env_remove("GRIDWORK_CONFIG")
        .env("GRIDWORK_LOG", "warn")
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}{stderr}");
    let rows: u64 = stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    let kb: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .unwrap()
        .parse()
        .unwrap();
    let size = std::fs::metadata(out).unwrap().len() as f64 / 1_048_576.0;
    (rows, secs, kb / 1024.0, size)
}

async fn bench(
    name: &str,
    store: DynStore,
    url: &str,
    fill: impl std::future::Future<Output = ()>,
    scale: f64,
) {
    store.put_area(&AreaPath::parse("320612").unwrap(), "通州区").await.unwrap();
    for g in 0..GRIDS {
        store.put_area(&AreaPath::parse(&grid(g)).unwrap(), &format!("网格{g}")).await.unwrap();
    }
    let t = Instant::now();
    fill.await;
    println!("{name}: filled in-database in {:.1} s", t.elapsed().as_secs_f64());
    let visits = (1_000_000.0 * scale) as u64;

    let dir = tempfile::tempdir().unwrap();
    let formats: &[&str] =
        if std::env::var_os("GW_BENCH_ASSESS_ONLY").is_some() { &[] } else { &["csv", "xlsx"] };
    for format in formats {
        let out = dir.path().join(format!("visits.{format}"));
        let (rows, secs, rss, size) = export(url, format, &out);
        assert_eq!(rows, visits);
        println!(
            "{name}: export {format}: {rows} rows in {secs:.2} s = {:.0} rows/s (process wall \
             time, start-up included); peak RSS {rss:.1} MiB; file {size:.1} MiB",
            rows as f64 / secs
        );
    }
    let t = Instant::now();
    let rows = baseline(&store).await;
    println!(
        "{name}: baseline: reading the {rows} visit rows (with the household join) in pages \
         without encoding: {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // The assessment of the district for November, per grid.
    let district = AreaPath::parse("320612").unwrap();
    let q = AssessmentQuery {
        area: Some(district.clone()),
        level: Level::Area(4),
        from: NOV,
        to: NOV + MONTH_MS,
        rank_by: Metric::VisitCoverage,
    };
    let scopes = Scopes::whole(&district);
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let a = assessment::assess(&store, &q, &district, &scopes).await.unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(a.groups.len() as u64, GRIDS);
        assert_eq!(a.total.visits, visits);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name}: assessment of the district for a month, {GRIDS} grids: best {:.2} s, median \
         {:.2} s, worst {:.2} s (3 runs)",
        times[0], times[1], times[2]
    );
}

/// Reads the visits ledger's pages (the export's statement) without encoding them; returns the
/// rows read.
async fn baseline(store: &DynStore) -> u64 {
    use gridwork_sync_server::ledger::filter::LedgerQuery;
    use gridwork_sync_server::ledger::store::Cell;
    use gridwork_sync_server::ledger::{Ledger, sql};
    let ls = store.ledger().unwrap();
    let q = LedgerQuery::new(Ledger::Visits);
    let scopes = vec![gridwork_sync_server::store::ReadScope::new(
        AreaPath::parse("320612").unwrap(),
        vec![RecordKind::Visit],
    )];
    let mut after: Option<Vec<u8>> = None;
    let mut n = 0u64;
    loop {
        let st = sql::page(ls.dialect(), &q, &scopes, after.as_deref(), sql::PAGE_ROWS);
        let rows = ls.ledger_rows(&st, sql::cols(Ledger::Visits)).await.unwrap();
        n += rows.len() as u64;
        if let Some(Cell::Bytes(last)) = rows.last().and_then(|r| r.first()) {
            after = Some(last.clone());
        }
        if rows.len() < sql::PAGE_ROWS as usize {
            return n;
        }
    }
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let scale: f64 = std::env::var("GW_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 0.01 } else { 1.0 });
    let only = std::env::var("GW_BENCH_ONLY").ok();
    println!("machine: {}; load average at start: {}", machine(), loadavg());
    let households = ((GRIDS * 300) as f64 * scale).max(GRIDS as f64) as u64;
    let visits = (1_000_000.0 * scale) as u64;
    let others = ((GRIDS * 20) as f64 * scale).max(1.0) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if only.as_deref() != Some("postgres") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("export.db");
            let store: DynStore = Arc::new(SqliteStore::open(&path).await.unwrap());
            let fill = async {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(&path).unwrap();
                    c.execute_batch(&fill_sql(false, households, visits, others)).unwrap();
                })
                .await
                .unwrap();
            };
            bench("SQLite", store, &path.display().to_string(), fill, scale).await;
        }
        if only.as_deref() != Some("sqlite") {
            let Ok(url) = std::env::var("GRIDWORK_TEST_PG_URL") else {
                println!("PostgreSQL: skipped (GRIDWORK_TEST_PG_URL is unset)");
                return;
            };
            let schema = format!("bench_{}", Uuid::now_v7().simple());
            let pg = PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            let schema_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            let sql = fill_sql(true, households, visits, others);
            let fill = async {
                let (c, conn) =
                    tokio_postgres::connect(&schema_url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(conn);
                c.batch_execute(&sql).await.unwrap();
            };
            let store: DynStore = Arc::new(pg);
            bench("PostgreSQL", store, &schema_url, fill, scale).await;
        }
    });
}
