//! Large-scale benchmarks of the device store (issue 2, "Benchmarks"), each measured against a
//! plain-SQLite baseline in the same run, on files with the same pragmas (WAL,
//! `synchronous = FULL`):
//!
//! - `import`: bulk import of 100,000 households through `Store::batch` vs plain SQLite inserting
//!   the same rows in the same batches; DB size after a checkpoint vs the plain file, with a
//!   per-table breakdown (`dbstat`).
//! - `apply`: applying 10,000 remote changes (households, household edits, visits) to an empty
//!   store in pages of 500 vs plain SQLite inserting 10,000 rows in pages of 500.
//! - `apply_visits`: 4,000 remote visits applied to a store holding their 10,000 households (and
//!   those households applied to an empty store first) vs plain SQLite inserting the visit rows
//!   and updating each household's due date.
//! - `search`: 1,200 household searches over 100,000 Chinese names (1-, 2-, 3-character names,
//!   pinyin initials, full-pinyin prefixes, phone last four) in the whole district: p50/p99 vs a
//!   plain indexed equality lookup on `head_name`; plus the `LIKE '%…%'` scan FTS avoids.
//! - `open`: opening a store of 100,000 households + 300,000 visits and listing due visits vs
//!   opening a plain SQLite file of the same rows and running one indexed query.
//! - `encryption`: the `search` and `open` measurements repeated on a SQLCipher-encrypted copy.
//!
//! A harness-less binary: these need minutes of setup and percentile latencies, which criterion's
//! per-iteration model does not fit. The 100k + 300k dataset is built once and cached in
//! `target/gridwork-bench/` (rebuilt when missing, when `core/src` changes, or with
//! `GW_BENCH_REBUILD=1`). `GW_BENCH_SCALE=0.1` runs everything at a tenth of the size. Without
//! `--bench` (i.e. under `cargo test --benches`) it runs a tiny smoke version. A filter argument
//! (`cargo bench -p gridwork-core --bench scale -- search`) runs only the sections it names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::location::Location;
use gridwork_core::{
    AreaLevel, AreaPath, ChangeEnvelope, HouseholdInput, HouseholdTag, Incoming, Received,
    RecordKind, Role, SignedInUser, Store, VisitInput, VisitOutcome,
};
use rusqlite::{Connection, params};
use uuid::Uuid;

/// Bump when the generated data changes, to invalidate the cached dataset.
const DATA_VERSION: u32 = 1;
const SEED: u64 = 20_240_601;
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
const KEY: [u8; 32] = [0x5a; 32];

struct Cfg {
    households: usize,
    visits: usize,
    batch: usize,
    apply_households: usize,
    apply_edits: usize,
    apply_visits: usize,
    apply_page: usize,
    queries_per_kind: usize,
    like_queries_per_kind: usize,
    open_iters: usize,
}

impl Cfg {
    fn new(scale: f64) -> Cfg {
        let s = |n: usize, min: usize| ((n as f64 * scale).round() as usize).max(min);
        Cfg {
            households: s(100_000, 200),
            visits: s(300_000, 600),
            batch: 1_000,
            apply_households: s(4_000, 40),
            apply_edits: s(2_000, 20),
            apply_visits: s(4_000, 40),
            apply_page: 500,
            queries_per_kind: s(200, 5),
            like_queries_per_kind: s(50, 3),
            open_iters: s(30, 3),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// A wall-clock and on-CPU duration. The machine is shared (other builds run alongside), so the
/// wall time includes waiting for a CPU; the on-CPU time of this thread
/// (`/proc/thread-self/schedstat`) does not, and shows the work itself.
#[derive(Debug, Clone, Copy, Default)]
struct Dur {
    wall: Duration,
    cpu: Duration,
}

struct Timer {
    wall: Instant,
    cpu: u64,
}

/// Nanoseconds this thread has spent on a CPU.
/// Writes one plain-SQLite row of the apply baseline.
type RowWriter = Box<dyn Fn(&Connection)>;

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

impl Timer {
    fn now() -> Timer {
        let cpu = cpu_ns();
        Timer { wall: Instant::now(), cpu }
    }

    fn elapsed(&self) -> Dur {
        let wall = self.wall.elapsed();
        Dur { wall, cpu: Duration::from_nanos(cpu_ns().saturating_sub(self.cpu)) }
    }
}

fn secs(d: Dur) -> f64 {
    d.wall.as_secs_f64()
}

fn cpu_secs(d: Dur) -> f64 {
    d.cpu.as_secs_f64()
}

fn r(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Nearest-rank percentile of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Lat {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
    cpu_p50: Duration,
    cpu_p99: Duration,
    n: usize,
}

fn lat(v: Vec<Dur>) -> Lat {
    let mut w: Vec<Duration> = v.iter().map(|d| d.wall).collect();
    let mut c: Vec<Duration> = v.iter().map(|d| d.cpu).collect();
    w.sort();
    c.sort();
    Lat {
        p50: pct(&w, 50.0),
        p95: pct(&w, 95.0),
        p99: pct(&w, 99.0),
        max: pct(&w, 100.0),
        cpu_p50: pct(&c, 50.0),
        cpu_p99: pct(&c, 99.0),
        n: v.len(),
    }
}

impl std::fmt::Display for Lat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} p50={:.3} ms p95={:.3} ms p99={:.3} ms max={:.3} ms (on-CPU p50={:.3} ms p99={:.3} ms)",
            self.n,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max),
            ms(self.cpu_p50),
            ms(self.cpu_p99)
        )
    }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Lines of the final summary, printed together at the end.
#[derive(Default)]
struct Summary(Vec<String>);

impl Summary {
    fn add(&mut self, line: String) {
        println!("RESULT {line}");
        self.0.push(line);
    }
}

fn interval_days(tags: &[HouseholdTag]) -> i64 {
    tags.iter()
        .map(|t| match t {
            HouseholdTag::ElderlyAlone => 7,
            HouseholdTag::Rental => 90,
            HouseholdTag::Ordinary => 365,
            _ => 30,
        })
        .min()
        .unwrap_or(365)
}

fn tags_text(tags: &[HouseholdTag]) -> String {
    let mut t: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
    t.sort_unstable();
    t.join(",")
}

// ---------------------------------------------------------------------------------------------
// Data

fn micro_grids() -> Vec<AreaPath> {
    demo::areas(14, 8, 5, 4)
        .into_iter()
        .filter(|a| a.path.level() == AreaLevel::MicroGrid)
        .map(|a| a.path)
        .collect()
}

fn district() -> AreaPath {
    AreaPath::parse(demo::DISTRICT).unwrap()
}

/// The 100k households, deterministic.
fn household_inputs(n: usize) -> Vec<HouseholdInput> {
    let micro = micro_grids();
    let mut rng = DemoRng::new(SEED);
    (0..n)
        .map(|_| {
            let mg = &micro[rng.below(micro.len() as u64) as usize];
            demo::household(&mut rng, mg)
        })
        .collect()
}

const SITUATIONS: [&str; 6] = [
    "老人身体状况良好，独自在家",
    "家中一切正常，子女每周探望",
    "租户已登记，居住人数与登记一致",
    "低保材料已更新，生活基本稳定",
    "家中有老人行动不便，需要关注",
    "住户反映楼道照明损坏",
];
const NEEDS: [&str; 5] =
    ["", "希望社区帮助联系家政服务", "申请临时救助", "希望维修楼道灯", "咨询医保报销政策"];

fn visit_input(rng: &mut DemoRng, household: Uuid, now: DateTime<Utc>) -> VisitInput {
    let outcome = match rng.below(20) {
        0..=1 => VisitOutcome::NotHome,
        2 => VisitOutcome::Refused,
        _ => VisitOutcome::Met,
    };
    let met = outcome == VisitOutcome::Met;
    // Fields are drawn in the order the generated data has always used.
    let visited_at = now - TimeDelta::minutes(rng.below(730 * 24 * 60) as i64);
    VisitInput {
        situation: if met { SITUATIONS[rng.below(6) as usize].into() } else { String::new() },
        needs: if met { NEEDS[rng.below(5) as usize].into() } else { String::new() },
        satisfaction: met.then(|| 3 + rng.below(3) as u8),
        knows_worker: met.then(|| rng.below(10) > 0),
        location: Some(Location {
            lat: 32.0 + rng.below(10_000) as f64 / 1e5,
            lon: 121.0 + rng.below(10_000) as f64 / 1e5,
        }),
        ..VisitInput::routine(household, visited_at, outcome)
    }
}

fn new_store(path: &Path, key: Option<&[u8]>) -> Store {
    let mut s = Store::open(path, key).unwrap();
    s.load_areas(&demo::areas(14, 8, 5, 4)).unwrap();
    s.sign_in(SignedInUser {
        user_id: "bench".into(),
        name: "基准测试".into(),
        role: Role::DistrictCentre,
        scope: district(),
    })
    .unwrap();
    s
}

fn plain_open(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch(PRAGMAS).unwrap();
    c
}

const PLAIN_HOUSEHOLD: &str = "CREATE TABLE household (
    id BLOB PRIMARY KEY, area TEXT NOT NULL, address TEXT NOT NULL, building TEXT, unit TEXT,
    room TEXT, head_name TEXT NOT NULL, member_count INTEGER NOT NULL, phone TEXT,
    tags TEXT NOT NULL, interval_days INTEGER NOT NULL, created_at INTEGER NOT NULL,
    last_visit_at INTEGER, next_due_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX household_area ON household(area);";

const PLAIN_VISIT: &str = "CREATE TABLE visit (
    id BLOB PRIMARY KEY, household_id BLOB NOT NULL, area TEXT NOT NULL, visitor TEXT NOT NULL,
    visited_at INTEGER NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL, situation TEXT,
    needs TEXT, satisfaction INTEGER, knows_worker INTEGER, lat REAL, lon REAL
) WITHOUT ROWID;
CREATE INDEX visit_household ON visit(household_id, visited_at);";

const PLAIN_HH_INSERT: &str = "INSERT OR REPLACE INTO household(id, area, address, building, unit,
    room, head_name, member_count, phone, tags, interval_days, created_at, next_due_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)";

fn plain_insert_household(c: &Connection, id: Uuid, h: &HouseholdInput, now: i64) {
    c.prepare_cached(PLAIN_HH_INSERT)
        .unwrap()
        .execute(params![
            id,
            h.area.as_str(),
            h.address,
            h.building,
            h.unit,
            h.room,
            h.head_name,
            h.member_count,
            h.phone,
            tags_text(&h.tags),
            interval_days(&h.tags),
            now
        ])
        .unwrap();
}

fn plain_insert_visit(c: &Connection, id: Uuid, area: &str, v: &VisitInput) {
    c.prepare_cached(
        "INSERT INTO visit VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .unwrap()
    .execute(params![
        id,
        v.household_id,
        area,
        "bench",
        v.visited_at.timestamp_millis(),
        v.kind.as_str(),
        v.outcome.as_str(),
        v.situation,
        v.needs,
        v.satisfaction,
        v.knows_worker,
        v.location.map(|l| l.lat),
        v.location.map(|l| l.lon)
    ])
    .unwrap();
}

/// Where cached datasets live: `target/gridwork-bench/` (the bench binary is in
/// `target/release/deps/`).
fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GW_BENCH_CACHE") {
        let d = PathBuf::from(d);
        std::fs::create_dir_all(&d).unwrap();
        return d;
    }
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
    let dir = target.join("gridwork-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Identifies the cached dataset: sizes, data version, and every source file of the core crate
/// (so a change to projections or schema rebuilds it).
fn fingerprint(cfg: &Cfg) -> String {
    let mut h = DefaultHasher::new();
    (DATA_VERSION, cfg.households, cfg.visits).hash(&mut h);
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

// ---------------------------------------------------------------------------------------------
// 2. Bulk import and size

struct Imported {
    store_path: PathBuf,
    plain_path: PathBuf,
}

fn import(
    cfg: &Cfg,
    dir: &Path,
    inputs: &[HouseholdInput],
    out: &mut Summary,
    report: bool,
) -> Imported {
    let store_path = dir.join("import.db");
    let plain_path = dir.join("import-plain.db");
    let mut store = new_store(&store_path, None);
    let plain = plain_open(&plain_path);
    plain.execute_batch(PLAIN_HOUSEHOLD).unwrap();

    // Plain first, then gridwork, then plain again: the baseline brackets the measurement, and
    // the better of the two plain runs is the anchor (conservative for the ratio).
    let run_plain = |c: &Connection| -> Dur {
        let now = Utc::now().timestamp_millis();
        let t = Timer::now();
        for chunk in inputs.chunks(cfg.batch) {
            let tx = c.unchecked_transaction().unwrap();
            let mut st = tx.prepare_cached(PLAIN_HH_INSERT).unwrap();
            for h in chunk {
                st.execute(params![
                    Uuid::now_v7(),
                    h.area.as_str(),
                    h.address,
                    h.building,
                    h.unit,
                    h.room,
                    h.head_name,
                    h.member_count,
                    h.phone,
                    tags_text(&h.tags),
                    interval_days(&h.tags),
                    now
                ])
                .unwrap();
            }
            drop(st);
            tx.commit().unwrap();
        }
        t.elapsed()
    };
    let plain1 = run_plain(&plain);

    let mut batch_times = Vec::new();
    let t = Timer::now();
    for chunk in inputs.chunks(cfg.batch) {
        let tb = Timer::now();
        store
            .batch(|s| {
                for h in chunk {
                    s.households().add(h.clone())?;
                }
                Ok(())
            })
            .unwrap();
        batch_times.push(tb.elapsed());
    }
    let gw = t.elapsed();

    let scratch = plain_open(&dir.join("import-plain-2.db"));
    scratch.execute_batch(PLAIN_HOUSEHOLD).unwrap();
    let plain2 = run_plain(&scratch);
    drop(scratch);
    let _ = std::fs::remove_file(dir.join("import-plain-2.db"));
    let plain_t = if plain1.wall <= plain2.wall { plain1 } else { plain2 };

    store.checkpoint().unwrap();
    plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(store);
    drop(plain);
    if !report {
        return Imported { store_path, plain_path };
    }
    let n = inputs.len() as f64;
    out.add(format!(
        "import: gridwork {} households in {:.2} s = {:.0} rec/s (batch of {}: {}); plain SQLite {:.3} s = {:.0} rec/s (runs {:.3} / {:.3} s); time ratio {:.1}x, throughput {:.1}% of plain; on-CPU {:.2} s vs {:.3} s = {:.0} vs {:.0} rec/s per CPU-second, ratio {:.1}x",
        inputs.len(),
        secs(gw),
        n / secs(gw),
        cfg.batch,
        lat(batch_times),
        secs(plain_t),
        n / secs(plain_t),
        secs(plain1),
        secs(plain2),
        secs(gw) / secs(plain_t),
        100.0 * secs(plain_t) / secs(gw),
        cpu_secs(gw),
        cpu_secs(plain_t),
        n / cpu_secs(gw),
        n / cpu_secs(plain_t),
        cpu_secs(gw) / cpu_secs(plain_t),
    ));
    let gs = file_size(&store_path);
    let ps = file_size(&plain_path);
    out.add(format!(
        "size: gridwork {:.2} MiB ({} B/household), plain SQLite + area index {:.2} MiB ({} B/household); ratio {:.2}x (goal <= 2x)",
        mib(gs),
        gs / inputs.len() as u64,
        mib(ps),
        ps / inputs.len() as u64,
        gs as f64 / ps as f64
    ));
    size_breakdown("gridwork", &store_path, None, out);
    size_breakdown("plain", &plain_path, None, out);
    // What a `VACUUM` after the import would give each file (every b-tree repacked in key order;
    // b-trees filled at random key positions stay about two-thirds full until then).
    let vacuumed = |p: &Path| -> u64 {
        let to = p.with_extension("vacuumed.db");
        Connection::open(p).unwrap().execute("VACUUM INTO ?1", [to.to_str().unwrap()]).unwrap();
        let n = file_size(&to);
        let _ = std::fs::remove_file(&to);
        n
    };
    let (gv, pv) = (vacuumed(&store_path), vacuumed(&plain_path));
    out.add(format!(
        "size after VACUUM: gridwork {:.2} MiB, plain {:.2} MiB; ratio {:.2}x",
        mib(gv),
        mib(pv),
        gv as f64 / pv as f64
    ));
    let c = Connection::open(&store_path).unwrap();
    let (cn, cb, cmax): (i64, i64, i64) = c
        .query_row("SELECT count(*), sum(length(bytes)), max(length(bytes)) FROM change", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let snaps: i64 = c
        .query_row("SELECT count(*) FROM doc WHERE snapshot IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    let fts_tokens: f64 = c
        .query_row("SELECT avg(length(address) + length(head_name)) FROM household", [], |r| {
            r.get(0)
        })
        .unwrap();
    out.add(format!(
        "size detail: {cn} change rows, {cb} B of change bytes (avg {} B, max {cmax} B); {snaps} docs with a snapshot; avg name+address {:.0} B",
        cb / cn.max(1),
        fts_tokens
    ));
    received_size(dir, &store_path, ps, inputs.len(), cfg.apply_page, out);
    acknowledged_size(dir, &store_path, ps, cfg.apply_page, out);
    Imported { store_path, plain_path }
}

/// The same households as a phone holds them after a sync: applied to an empty store from the
/// server's pages (pages of `page`, each change with its server receive time), as a bootstrap
/// does. Every change is then one the server has, so none keeps an outbox row.
fn received_size(
    dir: &Path,
    imported: &Path,
    plain_size: u64,
    n: usize,
    page: usize,
    out: &mut Summary,
) {
    let changes = Store::open(imported, None).unwrap().outbox(usize::MAX).unwrap();
    let path = dir.join("import-received.db");
    let _ = std::fs::remove_file(&path);
    let mut store = new_store(&path, None);
    let t = Timer::now();
    for chunk in changes.chunks(page) {
        let incoming = Incoming {
            changes: chunk
                .iter()
                .map(|e| Received { envelope: e.clone(), received_at: Some(1_790_000_000_000) })
                .collect(),
            acks: Vec::new(),
            meta: Vec::new(),
        };
        store.apply_incoming(incoming).unwrap();
    }
    let took = t.elapsed();
    store.checkpoint().unwrap();
    drop(store);
    let size = file_size(&path);
    out.add(format!(
        "size received: {} changes applied in pages of {page} in {:.2} s ({:.0} per CPU-second); \
         gridwork {:.2} MiB ({} B/household) vs plain {:.2} MiB; ratio {:.2}x (goal <= 2x)",
        changes.len(),
        secs(took),
        changes.len() as f64 / cpu_secs(took),
        mib(size),
        size / n as u64,
        mib(plain_size),
        size as f64 / plain_size as f64
    ));
    size_breakdown("received", &path, None, out);
    let _ = std::fs::remove_file(&path);
}

/// The imported store after its pushes were acknowledged (rounds of `page`, as a sync sends
/// them): the time acknowledging takes and the live b-tree bytes afterwards (freed pages stay in
/// the file until reused, so the b-trees are what compares).
fn acknowledged_size(dir: &Path, imported: &Path, plain_size: u64, page: usize, out: &mut Summary) {
    let path = dir.join("import-acked.db");
    let _ = std::fs::remove_file(&path);
    Connection::open(imported)
        .unwrap()
        .execute("VACUUM INTO ?1", [path.to_str().unwrap()])
        .unwrap();
    let mut store = Store::open(&path, None).unwrap();
    let hashes: Vec<[u8; 32]> =
        store.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
    let t = Timer::now();
    for chunk in hashes.chunks(page) {
        store.acknowledge(chunk).unwrap();
    }
    let took = t.elapsed();
    store.checkpoint().unwrap();
    drop(store);
    let c = Connection::open(&path).unwrap();
    let live: i64 = c.query_row("SELECT sum(pgsize) FROM dbstat", [], |r| r.get(0)).unwrap();
    out.add(format!(
        "size acknowledged: {} own changes acknowledged in rounds of {page} in {:.2} s ({:.0} per CPU-second); b-trees {:.2} MiB vs plain {:.2} MiB; ratio {:.2}x",
        hashes.len(),
        secs(took),
        hashes.len() as f64 / cpu_secs(took),
        mib(live as u64),
        mib(plain_size),
        live as f64 / plain_size as f64
    ));
    let _ = std::fs::remove_file(&path);
}

/// Bytes per table (indexes and FTS shadow tables grouped under their table) from `dbstat`.
fn size_breakdown(label: &str, path: &Path, key: Option<&[u8]>, out: &mut Summary) {
    let c = Connection::open(path).unwrap();
    if let Some(k) = key {
        c.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex_encode(k))).unwrap();
    }
    let mut st = c
        .prepare(
            "SELECT s.name, coalesce(m.tbl_name, s.name), m.type, count(*), sum(s.pgsize),
                    sum(s.payload)
             FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name
             GROUP BY s.name ORDER BY sum(s.pgsize) DESC",
        )
        .unwrap();
    let rows: Vec<(String, String, Option<String>, i64, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let total: i64 = rows.iter().map(|r| r.4).sum();
    let mut groups: Vec<(String, i64)> = Vec::new();
    let mut parts = Vec::new();
    for (name, tbl, ty, pages, bytes, payload) in &rows {
        let group = if tbl.starts_with("household_fts") {
            "household_fts (search index)".to_string()
        } else {
            tbl.clone()
        };
        match groups.iter_mut().find(|g| g.0 == group) {
            Some(g) => g.1 += bytes,
            None => groups.push((group, *bytes)),
        }
        if *bytes * 100 >= total {
            parts.push(format!(
                "{name}{} {:.2} MiB ({pages} pages, payload {:.2} MiB)",
                ty.as_deref().map(|t| format!(" [{t}]")).unwrap_or_default(),
                mib(*bytes as u64),
                mib(*payload as u64)
            ));
        }
    }
    groups.sort_by_key(|g| -g.1);
    let g: Vec<String> = groups
        .iter()
        .filter(|g| g.1 * 200 >= total)
        .map(|g| {
            format!(
                "{} {:.2} MiB ({:.0}%)",
                g.0,
                mib(g.1 as u64),
                100.0 * g.1 as f64 / total as f64
            )
        })
        .collect();
    out.add(format!(
        "size by table ({label}, {:.2} MiB in b-trees): {}",
        mib(total as u64),
        g.join("; ")
    ));
    out.add(format!("size by b-tree ({label}, >= 1%): {}", parts.join("; ")));
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// 3. Apply remote changes

fn apply(cfg: &Cfg, dir: &Path, out: &mut Summary) {
    let a_path = dir.join("apply-a.db");
    let mut a = new_store(&a_path, None);
    let micro = micro_grids();
    let mut rng = DemoRng::new(SEED ^ 0xA991);
    let now = Utc::now();
    let mut hh = Vec::new();
    a.batch(|s| {
        for _ in 0..cfg.apply_households {
            let mg = &micro[rng.below(micro.len() as u64) as usize];
            let input = demo::household(&mut rng, mg);
            hh.push((s.households().add(input.clone())?, input));
        }
        for i in 0..cfg.apply_edits {
            let (id, input) = &hh[i % hh.len()];
            let mut edited = input.clone();
            edited.phone = Some(demo::mobile(&mut rng));
            edited.member_count = 1 + (edited.member_count % 6);
            s.households().update(*id, edited)?;
        }
        for _ in 0..cfg.apply_visits {
            let h = hh[rng.below(hh.len() as u64) as usize].0;
            s.visits().record(visit_input(&mut rng, h, now))?;
        }
        Ok(())
    })
    .unwrap();
    let t = Timer::now();
    let changes = a.changes_missing_from(&[], None).unwrap();
    let export = t.elapsed();
    let total = changes.len();
    let bytes: usize = changes.iter().map(|c| c.bytes.len()).sum();

    let b_path = dir.join("apply-b.db");
    let mut b = new_store(&b_path, None);
    let mut pages = Vec::new();
    let mut applied = 0;
    let t = Timer::now();
    for page in changes.chunks(cfg.apply_page) {
        let tp = Timer::now();
        applied += b.apply_changes(page).unwrap().applied;
        pages.push(tp.elapsed());
    }
    let gw = t.elapsed();
    assert_eq!(applied, total);
    assert_eq!(
        b.count_records(RecordKind::Household).unwrap(),
        a.count_records(RecordKind::Household).unwrap()
    );
    assert_eq!(b.count_records(RecordKind::Visit).unwrap(), cfg.apply_visits as u64);

    // Re-delivery of everything (duplicates must be harmless): what a retried sync costs.
    let t = Timer::now();
    let mut dups = 0;
    for page in changes.chunks(cfg.apply_page) {
        dups += b.apply_changes(page).unwrap().duplicates;
    }
    let redo = t.elapsed();
    assert_eq!(dups, total);

    // Baseline: the same number of rows (households, household updates, visits) inserted into
    // plain tables in pages of the same size, one commit per page.
    let p = plain_open(&dir.join("apply-plain.db"));
    p.execute_batch(PLAIN_HOUSEHOLD).unwrap();
    p.execute_batch(PLAIN_VISIT).unwrap();
    let mut rng = DemoRng::new(SEED ^ 0xB17);
    let mut rows: Vec<RowWriter> = Vec::new();
    let ts = now.timestamp_millis();
    let ids: Vec<Uuid> = (0..cfg.apply_households).map(|_| Uuid::now_v7()).collect();
    for (i, (_, input)) in hh.iter().enumerate() {
        let (id, input) = (ids[i], input.clone());
        rows.push(Box::new(move |c| plain_insert_household(c, id, &input, ts)));
    }
    for i in 0..cfg.apply_edits {
        let (id, mut input) = (ids[i % ids.len()], hh[i % hh.len()].1.clone());
        input.phone = Some(demo::mobile(&mut rng));
        rows.push(Box::new(move |c| plain_insert_household(c, id, &input, ts)));
    }
    for _ in 0..cfg.apply_visits {
        let h = ids[rng.below(ids.len() as u64) as usize];
        let v = visit_input(&mut rng, h, now);
        let area = hh[0].1.area.as_str().to_owned();
        rows.push(Box::new(move |c| plain_insert_visit(c, Uuid::now_v7(), &area, &v)));
    }
    let t = Timer::now();
    for page in rows.chunks(cfg.apply_page) {
        let tx = p.unchecked_transaction().unwrap();
        for r in page {
            r(&tx);
        }
        tx.commit().unwrap();
    }
    let plain_t = t.elapsed();

    out.add(format!(
        "apply: {total} changes ({} households, {} edits, {} visits; {} KiB) applied to an empty store in pages of {} in {:.2} s = {:.0} changes/s (goal >= 5000/s); per page {}; plain SQLite {} rows in {:.3} s = {:.0} rows/s; time ratio {:.1}x; on-CPU {:.2} s = {:.0} changes per CPU-second vs {:.3} s, ratio {:.1}x",
        cfg.apply_households,
        cfg.apply_edits,
        cfg.apply_visits,
        bytes / 1024,
        cfg.apply_page,
        secs(gw),
        total as f64 / secs(gw),
        lat(pages),
        rows.len(),
        secs(plain_t),
        rows.len() as f64 / secs(plain_t),
        secs(gw) / secs(plain_t),
        cpu_secs(gw),
        total as f64 / cpu_secs(gw),
        cpu_secs(plain_t),
        cpu_secs(gw) / cpu_secs(plain_t)
    ));
    out.add(format!(
        "apply extras: export (changes_missing_from) of {total} changes {:.3} s; re-applying all {total} as duplicates {:.3} s = {:.0} changes/s",
        secs(export),
        secs(redo),
        total as f64 / secs(redo)
    ));
}

/// Applies `changes` to `store` in pages of `page`; returns the total time, the page times and
/// how many changes became part of their documents.
fn apply_pages(
    store: &mut Store,
    changes: &[ChangeEnvelope],
    page: usize,
) -> (Dur, Vec<Dur>, usize) {
    let mut pages = Vec::new();
    let mut applied = 0;
    let t = Timer::now();
    for chunk in changes.chunks(page) {
        let tp = Timer::now();
        applied += store.apply_changes(chunk).unwrap().applied;
        pages.push(tp.elapsed());
    }
    (t.elapsed(), pages, applied)
}

/// A grid's day as a phone pulls it: 4,000 visits recorded elsewhere applied to a store that
/// already holds their 10,000 households (each visit also refreshes its household's due date).
/// The households' own apply into the empty store is reported too (a bootstrap without the
/// network). Baseline: plain SQLite inserting the visit rows and updating each household's due
/// date, in pages of the same size.
fn apply_visits(cfg: &Cfg, dir: &Path, out: &mut Summary) {
    let n_households = cfg.apply_households * 5 / 2;
    let mut a = new_store(&dir.join("apply-visits-a.db"), None);
    let micro = micro_grids();
    let mut rng = DemoRng::new(SEED ^ 0x0515);
    let now = Utc::now();
    let mut hh = Vec::new();
    a.batch(|s| {
        for _ in 0..n_households {
            let mg = &micro[rng.below(micro.len() as u64) as usize];
            hh.push(s.households().add(demo::household(&mut rng, mg))?);
        }
        for _ in 0..cfg.apply_visits {
            let h = hh[rng.below(hh.len() as u64) as usize];
            s.visits().record(visit_input(&mut rng, h, now))?;
        }
        Ok(())
    })
    .unwrap();
    let all = a.changes_missing_from(&[], None).unwrap();
    let (households, visits): (Vec<ChangeEnvelope>, Vec<ChangeEnvelope>) =
        all.into_iter().partition(|c| c.kind == RecordKind::Household);
    assert_eq!(visits.len(), cfg.apply_visits);

    let mut b = new_store(&dir.join("apply-visits-b.db"), None);
    let (hh_t, _, hh_applied) = apply_pages(&mut b, &households, cfg.apply_page);
    assert_eq!(hh_applied, households.len());
    let (gw, pages, applied) = apply_pages(&mut b, &visits, cfg.apply_page);
    assert_eq!(applied, visits.len());
    assert_eq!(b.count_records(RecordKind::Visit).unwrap(), cfg.apply_visits as u64);

    let p = plain_open(&dir.join("apply-visits-plain.db"));
    p.execute_batch(PLAIN_HOUSEHOLD).unwrap();
    p.execute_batch(PLAIN_VISIT).unwrap();
    let ts = now.timestamp_millis();
    let mut rng = DemoRng::new(SEED ^ 0x0516);
    let ids: Vec<Uuid> = (0..n_households).map(|_| Uuid::now_v7()).collect();
    let tx = p.unchecked_transaction().unwrap();
    for id in &ids {
        let mg = &micro[rng.below(micro.len() as u64) as usize];
        plain_insert_household(&tx, *id, &demo::household(&mut rng, mg), ts);
    }
    tx.commit().unwrap();
    let area = micro[0].as_str().to_owned();
    let rows: Vec<VisitInput> = (0..cfg.apply_visits)
        .map(|_| {
            let h = ids[rng.below(ids.len() as u64) as usize];
            visit_input(&mut rng, h, now)
        })
        .collect();
    let t = Timer::now();
    for page in rows.chunks(cfg.apply_page) {
        let tx = p.unchecked_transaction().unwrap();
        for v in page {
            plain_insert_visit(&tx, Uuid::now_v7(), &area, v);
            tx.prepare_cached(
                "UPDATE household SET last_visit_at = max(coalesce(last_visit_at, 0), ?2),
                   next_due_at = max(coalesce(last_visit_at, 0), ?2) + interval_days * 86400000
                 WHERE id = ?1",
            )
            .unwrap()
            .execute(params![v.household_id, v.visited_at.timestamp_millis()])
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let plain_t = t.elapsed();
    out.add(format!(
        "apply_visits: {} households applied to an empty store in {:.2} s = {:.0}/s, on-CPU {:.2} s = {:.0} per CPU-second; then {} visits in pages of {} in {:.2} s = {:.0}/s (per page {}); on-CPU {:.2} s = {:.0} per CPU-second; plain SQLite visit insert + due update {:.3} s (on-CPU {:.3} s); ratio {:.1}x wall, {:.1}x on-CPU",
        households.len(),
        secs(hh_t),
        households.len() as f64 / secs(hh_t),
        cpu_secs(hh_t),
        households.len() as f64 / cpu_secs(hh_t),
        visits.len(),
        cfg.apply_page,
        secs(gw),
        visits.len() as f64 / secs(gw),
        lat(pages),
        cpu_secs(gw),
        visits.len() as f64 / cpu_secs(gw),
        secs(plain_t),
        cpu_secs(plain_t),
        secs(gw) / secs(plain_t),
        cpu_secs(gw) / cpu_secs(plain_t)
    ));
}

// ---------------------------------------------------------------------------------------------
// 4. Search

struct Query {
    kind: &'static str,
    text: String,
}

/// Full pinyin and initials of a name, as the index computes them.
fn pinyin_tokens(name: &str) -> (String, String) {
    let toks = gridwork_core::search::index_tokens(&[name]);
    let mut ascii = toks.split(' ').filter(|t| t.bytes().all(|b| b.is_ascii_lowercase()));
    let full = ascii.next().unwrap_or_default().to_string();
    let initials = ascii.next().unwrap_or_default().to_string();
    (full, initials)
}

fn queries(inputs: &[HouseholdInput], per_kind: usize) -> Vec<Query> {
    let mut rng = DemoRng::new(SEED ^ 0x5EA);
    let pick = |rng: &mut DemoRng| &inputs[rng.below(inputs.len() as u64) as usize];
    let mut out = Vec::new();
    for _ in 0..per_kind {
        let name: Vec<char> = pick(&mut rng).head_name.chars().collect();
        let i = rng.below(name.len() as u64) as usize;
        out.push(Query { kind: "1-char", text: name[i].to_string() });
        let name: Vec<char> = pick(&mut rng).head_name.chars().collect();
        out.push(Query { kind: "2-char", text: name[..2].iter().collect() });
        let name = loop {
            let n = &pick(&mut rng).head_name;
            if n.chars().count() == 3 {
                break n.clone();
            }
        };
        out.push(Query { kind: "3-char", text: name });
        let (_, initials) = pinyin_tokens(&pick(&mut rng).head_name);
        out.push(Query { kind: "initials", text: initials });
        let (full, _) = pinyin_tokens(&pick(&mut rng).head_name);
        let min = 3.min(full.len());
        let len = min + rng.below((full.len() - min + 1) as u64) as usize;
        out.push(Query { kind: "pinyin-prefix", text: full[..len].to_string() });
        let phone = pick(&mut rng).phone.clone().unwrap_or_default();
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        out.push(Query {
            kind: "phone-last4",
            text: digits[digits.len().saturating_sub(4)..].into(),
        });
    }
    out
}

const KINDS: [&str; 6] = ["1-char", "2-char", "3-char", "initials", "pinyin-prefix", "phone-last4"];

fn search_store(label: &str, store: &mut Store, qs: &[Query], out: &mut Summary) -> Lat {
    let area = district();
    // Warm-up pass: page cache and prepared statements, as in an app that has been open a while.
    for q in qs {
        store.households().search(&area, &q.text, 20).unwrap();
    }
    let mut all = Vec::new();
    let mut by_kind: Vec<Vec<Dur>> = vec![Vec::new(); KINDS.len()];
    let mut hits = vec![0usize; KINDS.len()];
    for q in qs {
        let t = Timer::now();
        let r = store.households().search(&area, &q.text, 20).unwrap();
        let d = t.elapsed();
        let k = KINDS.iter().position(|k| *k == q.kind).unwrap();
        by_kind[k].push(d);
        hits[k] += r.len();
        all.push(d);
    }
    let total = lat(all);
    let parts: Vec<String> = KINDS
        .iter()
        .zip(by_kind)
        .zip(&hits)
        .map(|((k, v), h)| {
            let n = v.len().max(1);
            let l = lat(v);
            format!(
                "{k} p50 {:.2} / p99 {:.2} ms ({:.1} hits)",
                ms(l.p50),
                ms(l.p99),
                *h as f64 / n as f64
            )
        })
        .collect();
    out.add(format!("search {label} by kind: {}", parts.join("; ")));
    total
}

/// Row counts the FTS query has to rank for each query kind (why some are slower).
fn match_counts(store_path: &Path, qs: &[Query], out: &mut Summary) {
    let c = Connection::open(store_path).unwrap();
    let mut parts = Vec::new();
    for k in KINDS {
        let mut counts: Vec<i64> = qs
            .iter()
            .filter(|q| q.kind == k)
            .filter_map(|q| gridwork_core::search::match_query(&q.text).unwrap())
            .map(|e| {
                c.query_row(
                    "SELECT count(*) FROM household_fts WHERE household_fts MATCH ?1",
                    [e],
                    |r| r.get(0),
                )
                .unwrap()
            })
            .collect();
        counts.sort_unstable();
        if let (Some(mx), false) = (counts.last(), counts.is_empty()) {
            parts.push(format!("{k} median {} max {}", counts[counts.len() / 2], mx));
        }
    }
    out.add(format!("search matches per query (rows FTS ranks): {}", parts.join("; ")));
}

fn search(cfg: &Cfg, imp: &Imported, inputs: &[HouseholdInput], out: &mut Summary) {
    let qs = queries(inputs, cfg.queries_per_kind);
    let mut store = Store::open(&imp.store_path, None).unwrap();

    // Baseline: plain indexed equality lookup on head_name (the index is added after the size
    // measurement), same number of lookups, same row count.
    let plain = plain_open(&imp.plain_path);
    plain
        .execute_batch("CREATE INDEX IF NOT EXISTS household_head ON household(head_name)")
        .unwrap();
    let mut rng = DemoRng::new(SEED ^ 0xBA5E);
    let names: Vec<&str> = (0..qs.len())
        .map(|_| inputs[rng.below(inputs.len() as u64) as usize].head_name.as_str())
        .collect();
    let run_base = |names: &[&str]| -> Vec<Dur> {
        let mut st = plain
            .prepare_cached(
                "SELECT id, area, address, building, unit, room, head_name, member_count, phone,
                        tags, interval_days, last_visit_at, next_due_at
                 FROM household WHERE head_name = ?1 AND deleted = 0 LIMIT 20",
            )
            .unwrap();
        names
            .iter()
            .map(|n| {
                let t = Timer::now();
                let v: Vec<(Vec<u8>, String)> = st
                    .query_map([n], |r| Ok((r.get(0)?, r.get(2)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                std::hint::black_box(v);
                t.elapsed()
            })
            .collect()
    };
    run_base(&names); // warm-up
    let base = lat(run_base(&names));
    let gw = search_store("gridwork", &mut store, &qs, out);
    out.add(format!("search gridwork all kinds: {gw} (goal p99 <= 5 ms)"));
    out.add(format!("search baseline plain head_name = ? (indexed): {base}"));
    out.add(format!(
        "search ratio gridwork/baseline: p50 {:.1}x, p99 {:.1}x (on-CPU p50 {:.1}x, p99 {:.1}x)",
        r(gw.p50, base.p50),
        r(gw.p99, base.p99),
        r(gw.cpu_p50, base.cpu_p50),
        r(gw.cpu_p99, base.cpu_p99)
    ));
    match_counts(&imp.store_path, &qs, out);

    // What FTS avoids: LIKE '%…%' over name, address and phone (pinyin cannot be done at all).
    let like: Vec<&Query> = KINDS
        .iter()
        .filter(|k| !matches!(**k, "initials" | "pinyin-prefix"))
        .flat_map(|k| qs.iter().filter(move |q| q.kind == *k).take(cfg.like_queries_per_kind))
        .collect();
    let mut st = plain
        .prepare(
            "SELECT id, area, address, head_name, phone FROM household
             WHERE deleted = 0 AND (head_name LIKE ?1 OR address LIKE ?1 OR phone LIKE ?1)
             LIMIT 20",
        )
        .unwrap();
    let mut run_like = || -> Vec<Dur> {
        like.iter()
            .map(|q| {
                let pat = format!("%{}%", q.text);
                let t = Timer::now();
                let n = st.query_map([&pat], |r| r.get::<_, Vec<u8>>(0)).unwrap().count();
                std::hint::black_box(n);
                t.elapsed()
            })
            .collect()
    };
    run_like();
    let l = lat(run_like());
    out.add(format!(
        "search LIKE '%q%' scan (name/address/phone, LIMIT 20, no ranking, no pinyin) over the same rows: {l}; p99 {:.1}x gridwork's",
        r(l.p99, gw.p99)
    ));
}

// ---------------------------------------------------------------------------------------------
// 5. Open a big store and list due visits

struct Big {
    store: PathBuf,
    plain: PathBuf,
    build_note: Option<String>,
}

fn ensure_big(cfg: &Cfg, imp: Option<&Imported>, inputs: &[HouseholdInput], dir: &Path) -> Big {
    let cache = cache_dir();
    let fp = fingerprint(cfg);
    let store = cache.join(format!("big-{}h-{}v.db", cfg.households, cfg.visits));
    let plain = cache.join(format!("big-{}h-{}v-plain.db", cfg.households, cfg.visits));
    let fp_path = store.with_extension("fingerprint");
    let fresh = std::env::var_os("GW_BENCH_REBUILD").is_none()
        && std::fs::read_to_string(&fp_path).is_ok_and(|s| s == fp)
        && store.exists()
        && plain.exists();
    if fresh {
        println!("using cached dataset {}", store.display());
        return Big { store, plain, build_note: None };
    }
    println!(
        "building dataset {} ({} households + {} visits)…",
        store.display(),
        cfg.households,
        cfg.visits
    );
    let _ = std::fs::remove_file(&fp_path);
    let imp_own;
    let imp = match imp {
        Some(i) => i,
        None => {
            imp_own = import(cfg, dir, inputs, &mut Summary::default(), false);
            &imp_own
        }
    };
    for p in [&store, &plain] {
        let _ = std::fs::remove_file(p);
        let _ = std::fs::remove_file(p.with_extension("db-wal"));
        let _ = std::fs::remove_file(p.with_extension("db-shm"));
    }
    std::fs::copy(&imp.store_path, &store).unwrap();
    std::fs::copy(&imp.plain_path, &plain).unwrap();

    let mut s = Store::open(&store, None).unwrap();
    let hh: Vec<(Uuid, String)> = {
        let c = Connection::open(&store).unwrap();
        let mut st = c.prepare("SELECT id, area FROM household ORDER BY rowid").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let plain_hh: Vec<(Uuid, String)> = {
        let c = Connection::open(&plain).unwrap();
        let mut st = c.prepare("SELECT id, area FROM household ORDER BY id").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let now = Utc::now();
    let mut rng = DemoRng::new(SEED ^ 0x7151);
    let inputs_v: Vec<(usize, VisitInput)> = (0..cfg.visits)
        .map(|_| {
            let i = rng.below(hh.len() as u64) as usize;
            (i, visit_input(&mut rng, hh[i].0, now))
        })
        .collect();
    let t = Timer::now();
    for chunk in inputs_v.chunks(cfg.batch) {
        s.batch(|s| {
            for (_, v) in chunk {
                s.visits().record(v.clone())?;
            }
            Ok(())
        })
        .unwrap();
    }
    let gw = t.elapsed();
    s.checkpoint().unwrap();
    drop(s);

    // The plain file: the same visit rows, and the households' due dates kept as the store keeps
    // them, with the index the due query needs.
    let p = plain_open(&plain);
    p.execute_batch(PLAIN_VISIT).unwrap();
    let t = Timer::now();
    for chunk in inputs_v.chunks(cfg.batch) {
        let tx = p.unchecked_transaction().unwrap();
        for (i, v) in chunk {
            let mut v = v.clone();
            v.household_id = plain_hh[*i].0;
            plain_insert_visit(&tx, Uuid::now_v7(), &plain_hh[*i].1, &v);
        }
        tx.commit().unwrap();
    }
    let plain_t = t.elapsed();
    p.execute_batch(
        "UPDATE household SET last_visit_at = (SELECT max(visited_at) FROM visit
            WHERE visit.household_id = household.id AND outcome = 'met');
         UPDATE household SET next_due_at = coalesce(last_visit_at + interval_days * 86400000, created_at);
         CREATE INDEX household_area_due ON household(area, next_due_at);
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    drop(p);
    std::fs::write(&fp_path, &fp).unwrap();
    let note = format!(
        "dataset build: {} visits via record_visit in batches of {} in {:.1} s = {:.0} visits/s; plain inserts {:.2} s = {:.0} rows/s; time ratio {:.1}x; on-CPU {:.1} s = {:.0} visits per CPU-second vs {:.2} s, ratio {:.1}x",
        cfg.visits,
        cfg.batch,
        secs(gw),
        cfg.visits as f64 / secs(gw),
        secs(plain_t),
        cfg.visits as f64 / secs(plain_t),
        secs(gw) / secs(plain_t),
        cpu_secs(gw),
        cfg.visits as f64 / cpu_secs(gw),
        cpu_secs(plain_t),
        cpu_secs(gw) / cpu_secs(plain_t)
    );
    Big { store, plain, build_note: Some(note) }
}

/// A grid holding households (the area a grid worker lists due visits for).
fn a_grid() -> AreaPath {
    AreaPath::parse("320612/007/004/03").unwrap()
}

fn open_due(
    cfg: &Cfg,
    big: &Big,
    key: Option<&[u8]>,
    label: &str,
    out: &mut Summary,
) -> (Lat, Lat) {
    let path = &big.store;
    let now = Utc::now();
    let grid = a_grid();
    let dist = district();
    let mut grid_t = Vec::new();
    let mut dist_t = Vec::new();
    let mut first = None;
    let mut n_grid = 0;
    for i in 0..cfg.open_iters * 2 {
        let (area, v) = if i % 2 == 0 { (&grid, &mut grid_t) } else { (&dist, &mut dist_t) };
        let t = Timer::now();
        let mut s = Store::open(path, key).unwrap();
        let due = s.households().due(area, now, 50).unwrap();
        let d = t.elapsed();
        if i == 0 {
            first = Some(d);
            n_grid = due.len();
        }
        std::hint::black_box(&due);
        drop(s);
        v.push(d);
    }
    let g = lat(grid_t);
    let dl = lat(dist_t);
    out.add(format!(
        "open+due {label} ({:.0} MiB): grid {grid} ({n_grid} due listed): {g}; first {:.2} ms; whole district: {dl} (goal <= 50 ms)",
        mib(file_size(path)),
        ms(first.unwrap_or_default().wall)
    ));
    (g, dl)
}

fn open_due_plain(cfg: &Cfg, big: &Big) -> Lat {
    let now = Utc::now().timestamp_millis();
    let grid = a_grid();
    let mut v = Vec::new();
    for _ in 0..cfg.open_iters {
        let t = Timer::now();
        let c = Connection::open(&big.plain).unwrap();
        c.execute_batch(PRAGMAS).unwrap();
        let rows: Vec<(Vec<u8>, String, String)> = c
            .prepare(
                "SELECT id, area, address, building, unit, room, head_name, member_count, phone,
                        tags, interval_days, last_visit_at, next_due_at
                 FROM household WHERE area > ?1 || '/' AND area < ?1 || '0' AND next_due_at <= ?2
                   AND deleted = 0
                 ORDER BY next_due_at LIMIT 50",
            )
            .unwrap()
            .query_map(params![grid.as_str(), now], |r| Ok((r.get(0)?, r.get(2)?, r.get(6)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let d = t.elapsed();
        std::hint::black_box(rows);
        drop(c);
        v.push(d);
    }
    lat(v)
}

/// A SQLCipher-encrypted copy of a store (`sqlcipher_export`), for the encryption cost.
fn encrypted_copy(src: &Path, dst: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", dst.display()));
    }
    let c = Connection::open(src).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    c.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS enc KEY \"x'{}'\"; SELECT sqlcipher_export('enc');
         PRAGMA enc.user_version = {v}; DETACH DATABASE enc;",
        dst.display(),
        hex_encode(&KEY)
    ))
    .unwrap();
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench_mode = args.iter().any(|a| a == "--bench");
    let filters: Vec<&str> =
        args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let wants =
        |s: &str| filters.is_empty() || filters.iter().any(|f| s.contains(f) || f.contains(s));
    let sections = ["import", "apply", "apply_visits", "search", "open", "encryption"];
    if !filters.is_empty() && !sections.iter().any(|s| wants(s)) {
        return; // a criterion filter meant for another bench
    }
    let scale: f64 = match std::env::var("GW_BENCH_SCALE") {
        Ok(s) => s.parse().expect("GW_BENCH_SCALE must be a number"),
        Err(_) if bench_mode => 1.0,
        Err(_) => 0.002,
    };
    let cfg = Cfg::new(scale);
    let tmp = tempfile::Builder::new().prefix("gw-scale-").tempdir_in(cache_dir()).unwrap();
    let dir = tmp.path();
    let mut out = Summary::default();
    let started = Instant::now();
    println!(
        "gridwork scale benchmarks: scale {scale}, {} households, {} visits",
        cfg.households, cfg.visits
    );

    let inputs = household_inputs(cfg.households);
    let need_import = wants("import") || wants("search");
    let imp = need_import.then(|| import(&cfg, dir, &inputs, &mut out, wants("import")));
    if wants("apply") {
        apply(&cfg, dir, &mut out);
    }
    if wants("apply_visits") {
        apply_visits(&cfg, dir, &mut out);
    }
    if let Some(imp) = &imp
        && wants("search")
    {
        search(&cfg, imp, &inputs, &mut out);
    }
    if wants("open") || wants("encryption") {
        let big = ensure_big(&cfg, imp.as_ref(), &inputs, dir);
        if let Some(n) = &big.build_note {
            out.add(n.clone());
        }
        let base = open_due_plain(&cfg, &big);
        let (g, d) = open_due(&cfg, &big, None, "gridwork", &mut out);
        out.add(format!(
            "open+due baseline plain open + one indexed query (grid, {:.0} MiB): {base}",
            mib(file_size(&big.plain))
        ));
        out.add(format!(
            "open+due ratio gridwork/plain: grid p50 {:.1}x p99 {:.1}x; district p50 {:.1}x",
            r(g.p50, base.p50),
            r(g.p99, base.p99),
            r(d.p50, base.p50)
        ));
        if wants("encryption") {
            let enc = Big {
                store: dir.join("big-encrypted.db"),
                plain: big.plain.clone(),
                build_note: None,
            };
            let t = Timer::now();
            encrypted_copy(&big.store, &enc.store);
            println!("encrypted copy in {:.1} s", secs(t.elapsed()));
            let (ge, de) = open_due(&cfg, &enc, Some(&KEY), "encrypted", &mut out);
            let (gp, dp) = open_due(&cfg, &big, None, "plaintext (again)", &mut out);
            out.add(format!(
                "encryption cost, open+due: grid p50 {:.2}x, district p50 {:.2}x (encrypted/plaintext, same data)",
                r(ge.p50, gp.p50),
                r(de.p50, dp.p50)
            ));
            if let Some(imp) = &imp {
                let qs = queries(&inputs, cfg.queries_per_kind);
                let enc_path = dir.join("import-encrypted.db");
                encrypted_copy(&imp.store_path, &enc_path);
                let mut se = Store::open(&enc_path, Some(&KEY)).unwrap();
                let le = search_store("encrypted", &mut se, &qs, &mut out);
                let mut sp = Store::open(&imp.store_path, None).unwrap();
                let lp = search_store("plaintext (again)", &mut sp, &qs, &mut out);
                out.add(format!(
                    "encryption cost, search: p50 {:.3} vs {:.3} ms ({:.2}x), p99 {:.3} vs {:.3} ms ({:.2}x)",
                    ms(le.p50),
                    ms(lp.p50),
                    r(le.p50, lp.p50),
                    ms(le.p99),
                    ms(lp.p99),
                    r(le.p99, lp.p99)
                ));
                out.add(format!(
                    "encryption cost, size: {:.2} MiB encrypted vs {:.2} MiB plaintext",
                    mib(file_size(&enc_path)),
                    mib(file_size(&imp.store_path))
                ));
            }
        }
    }
    println!("\n==== summary (scale {scale}, {:.0} s) ====", started.elapsed().as_secs_f64());
    for l in &out.0 {
        println!("{l}");
    }
}
