//! `loadsim`: load scenarios against the real `gridwork-server` process (issue 3, "Benchmarks").
//!
//! ```text
//! cargo run --release -p gridwork-tests --bin loadsim -- burst [--devices 1000] [--per-grid 4]
//!     [--concurrency 64] [--backend sqlite|postgres|both]
//! cargo run --release -p gridwork-tests --bin loadsim -- bootstrap [--households 10000]
//!     [--backend sqlite|postgres|both]
//! ```
//!
//! - `burst`, the morning burst: N phones (grid workers, `--per-grid` of them sharing each grid)
//!   each push a day's work (200 real Automerge changes made by a core store with the phone's own
//!   actor) and pull their grid's news, all at once with at most `--concurrency` syncs in flight.
//!   Reports per-phone sync latency (p50/p99), total time, changes/s, and as same-run baseline
//!   the latency of a sync with nothing to do under the same concurrency. The simulated phones
//!   are light: pre-generated changes sent with the core's protocol encoding over HTTP, pulled
//!   pages counted but not applied to a store (the core's `apply` bench measures that).
//! - `bootstrap`: 10,000 households created by real core stores (five grid workers of one
//!   community) and pushed; then a new phone with a real store and the real sync client enrols
//!   for the community and pulls it all through a byte-counting proxy. Reports bytes on the wire
//!   (HTTP headers included) and time, with a breakdown per household and, as same-run baseline,
//!   the households' plain field values as JSON, zstd-compressed.
//!
//! PostgreSQL needs `GRIDWORK_TEST_PG_URL` (see `sync-server/scripts/start-test-postgres.sh`).
//! Generated workloads are cached in `target/gridwork-bench/` (`GW_BENCH_REBUILD=1` regenerates).

use std::sync::Arc;
use std::time::{Duration, Instant};

use gridwork_core::RecordKind;
use gridwork_core::demo::{self, DemoRng};
use gridwork_tests::measure::{loadavg, machine, ms, percentile, process_cpu, processes_cpu};
use gridwork_tests::workload::{self, DayPlan, LightSync};
use gridwork_tests::{Backend, Device, HarnessResult, Proxy, Server};

const SEED: u64 = 20_261_127;

#[derive(Debug, Clone)]
struct Args {
    scenario: String,
    devices: usize,
    per_grid: usize,
    concurrency: usize,
    backend: String,
    households: usize,
}

fn parse_args() -> HarnessResult<Args> {
    let mut a = Args {
        scenario: "burst".into(),
        devices: 1000,
        per_grid: 4,
        concurrency: 64,
        backend: "both".into(),
        households: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "burst" | "bootstrap" | "all" => a.scenario = arg,
            "--devices" => a.devices = value("--devices")?.parse()?,
            "--per-grid" => a.per_grid = value("--per-grid")?.parse()?,
            "--concurrency" => a.concurrency = value("--concurrency")?.parse()?,
            "--backend" => a.backend = value("--backend")?,
            "--households" => a.households = value("--households")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "loadsim [burst|bootstrap|all] [--devices N] [--per-grid N] [--concurrency N] [--backend sqlite|postgres|both] [--households N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

async fn backends(which: &str) -> HarnessResult<Vec<Backend>> {
    let mut out = Vec::new();
    if which == "sqlite" || which == "both" {
        out.push(Backend::Sqlite);
    }
    if which == "postgres" || which == "both" {
        match Backend::postgres().await? {
            Some(b) => out.push(b),
            None if which == "postgres" => return Err("GRIDWORK_TEST_PG_URL is unset".into()),
            None => println!("PostgreSQL skipped: GRIDWORK_TEST_PG_URL is unset"),
        }
    }
    Ok(out)
}

fn lat_line(v: &mut [Duration]) -> String {
    v.sort();
    format!(
        "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(percentile(v, 50.0)),
        ms(percentile(v, 90.0)),
        ms(percentile(v, 99.0)),
        ms(percentile(v, 100.0))
    )
}

/// Runs one sync per phone, at most `concurrency` at once; returns per-phone latency (from the
/// moment its sync starts), the syncs, and the total wall time.
async fn round(
    url: &str,
    creds: &[String],
    cursors: &[u64],
    pushes: Vec<Vec<gridwork_core::ChangeEnvelope>>,
    concurrency: usize,
) -> HarnessResult<(Vec<Duration>, Vec<LightSync>, Duration)> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(creds.len());
    for ((cred, cursor), push) in creds.iter().zip(cursors).zip(pushes) {
        let (http, url, cred, cursor, sem) =
            (http.clone(), url.to_owned(), cred.clone(), *cursor, sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.map_err(|e| e.to_string())?;
            let t = Instant::now();
            let s = workload::light_sync(&http, &url, &cred, cursor, push)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((t.elapsed(), s))
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    let mut syncs = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (d, s) = t.await??;
        lat.push(d);
        syncs.push(s);
    }
    Ok((lat, syncs, started.elapsed()))
}

async fn burst(args: &Args, backend: Backend) -> HarnessResult<String> {
    let name = backend.name();
    let plan = DayPlan::default();
    let t = Instant::now();
    let days = workload::days_cached(args.devices, args.per_grid, &plan, SEED, 2)?;
    let total: usize = days.iter().map(|d| d.changes.len()).sum();
    let bytes: usize = days.iter().map(workload::DayOfWork::change_bytes).sum();
    println!(
        "[{name}] workload: {} phones x {} changes = {total} changes ({} MiB of changes) ready in {:.1} s",
        days.len(),
        plan.changes(),
        bytes / (1024 * 1024),
        t.elapsed().as_secs_f64()
    );
    let server = Server::start(backend).await?;
    let t = Instant::now();
    let creds = workload::enrol_days(&server, &days).await?;
    println!("[{name}] enrolled {} phones in {:.1} s", creds.len(), t.elapsed().as_secs_f64());

    let (srv0, pg0, me0) =
        (process_cpu(server.pid()), processes_cpu("postgres"), process_cpu(None));
    let load_before = loadavg();
    let pushes: Vec<_> = days.iter().map(|d| d.changes.clone()).collect();
    let zeros = vec![0u64; days.len()];
    let (mut lat, syncs, wall) =
        round(&server.url, &creds, &zeros, pushes, args.concurrency).await?;
    let srv_cpu = process_cpu(server.pid()).saturating_sub(srv0);
    let pg_cpu = processes_cpu("postgres").saturating_sub(pg0);
    let me_cpu = process_cpu(None).saturating_sub(me0);
    let load_after = loadavg();
    let acked: u64 = syncs.iter().map(|s| s.acked).sum();
    if acked != total as u64 {
        return Err(format!("{acked} acknowledged of {total}").into());
    }
    let (_, held) = server.log_size().await?;
    if held != total as u64 {
        return Err(format!("server holds {held} changes of {total}").into());
    }
    let pulled: u64 = syncs.iter().map(|s| s.pulled).sum();
    let mut rounds: Vec<Duration> =
        syncs.iter().map(|s| Duration::from_millis(u64::from(s.rounds))).collect();
    rounds.sort();
    let up: u64 = syncs.iter().map(|s| s.bytes_up).sum();
    let down: u64 = syncs.iter().map(|s| s.bytes_down).sum();

    // Catch-up: every phone pulls what its grid-mates pushed after its sync, so that the
    // baseline round below has nothing to do.
    let cursors: Vec<u64> = syncs.iter().map(|s| s.cursor).collect();
    let empty = vec![Vec::new(); days.len()];
    let (mut lat_catch, catch, _) =
        round(&server.url, &creds, &cursors, empty.clone(), args.concurrency).await?;
    let caught: u64 = catch.iter().map(|s| s.pulled).sum();
    let cursors: Vec<u64> = catch.iter().map(|s| s.cursor).collect();
    let (mut lat_empty, _, wall_empty) =
        round(&server.url, &creds, &cursors, empty, args.concurrency).await?;
    let p50 = percentile(
        &{
            lat.sort();
            lat.clone()
        },
        50.0,
    );
    let p50_empty = percentile(
        &{
            lat_empty.sort();
            lat_empty.clone()
        },
        50.0,
    );
    let per_grid_news = args.per_grid.saturating_sub(1) * plan.changes();
    Ok(format!(
        "{name} burst: {} phones ({} per grid) x {} changes, concurrency {}: total {:.1} s, {:.0} changes/s ingested; per-phone sync {} ({} round trips median); pulled {pulled} grid-mates' changes during the burst + {caught} in a catch-up round ({} expected in all; catch-up {}); wire {:.1} MiB up, {:.1} MiB down (bodies) | baseline: empty sync under the same concurrency {} (whole round {:.2} s) -> burst p50 is {:.1}x an empty sync | CPU: server {:.1} s, postgres {:.1} s, load generator {:.1} s over {:.1} s wall | load {load_before} -> {load_after}",
        days.len(),
        args.per_grid,
        plan.changes(),
        args.concurrency,
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        lat_line(&mut lat),
        percentile(&rounds, 50.0).as_millis(),
        per_grid_news * days.len(),
        lat_line(&mut lat_catch),
        up as f64 / 1048576.0,
        down as f64 / 1048576.0,
        lat_line(&mut lat_empty),
        wall_empty.as_secs_f64(),
        p50.as_secs_f64() / p50_empty.as_secs_f64().max(1e-9),
        srv_cpu.as_secs_f64(),
        pg_cpu.as_secs_f64(),
        me_cpu.as_secs_f64(),
        wall.as_secs_f64(),
    ))
}

async fn bootstrap(args: &Args, backend: Backend) -> HarnessResult<String> {
    let name = backend.name();
    let areas = workload::district_areas();
    let community = gridwork_core::AreaPath::parse("320612/001/001")?;
    let grids: Vec<_> =
        workload::grids(&areas).into_iter().filter(|g| community.contains(g)).collect();
    let server = Server::start(backend).await?;
    server.create_areas(&workload::areas_for_grids(&areas, &grids)).await?;

    // Five grid workers register the community's households on their phones and push them.
    let t = Instant::now();
    let mut rng = DemoRng::new(SEED);
    let mut plain_json = Vec::new();
    let mut change_bytes = 0usize;
    let http = reqwest::Client::new();
    let per_grid = args.households.div_ceil(grids.len());
    for (g, grid) in grids.iter().enumerate() {
        let micros: Vec<_> = areas
            .iter()
            .filter(|a| a.path != *grid && grid.contains(&a.path))
            .map(|a| a.path.clone())
            .collect();
        let mut store = workload::grid_worker_store(&areas, grid, &format!("worker-{g}"))?;
        let n = per_grid.min(args.households.saturating_sub(g * per_grid));
        let inputs: Vec<_> =
            (0..n).map(|i| demo::household(&mut rng, &micros[i % micros.len()])).collect();
        store.batch(|s| {
            for h in &inputs {
                s.households().add(h.clone())?;
            }
            Ok(())
        })?;
        plain_json.extend(serde_json::to_vec(&inputs)?);
        let outbox = store.outbox(usize::MAX)?;
        change_bytes += outbox.iter().map(|c| c.bytes.len()).sum::<usize>();
        let user = server.create_user(&format!("网格员{g}"), "grid_worker", grid.as_str()).await?;
        let cred = server.enrol_actor(&user, &store.actor_id().to_hex_string()).await?;
        for chunk in outbox.chunks(2000) {
            workload::light_sync(&http, &server.url, &cred, 0, chunk.to_vec()).await?;
        }
    }
    let (_, held) = server.log_size().await?;
    println!(
        "[{name}] {held} households created by core stores and pushed in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The new phone: a real store and the real sync client, through a byte-counting proxy.
    let proxy = Proxy::start(server.addr).await?;
    let phone = Device::new()?;
    phone.enrol_new_user(&server, &proxy.url, "新网格长", "grid_head", community.as_str()).await?;
    proxy.reset();
    let load_before = loadavg();
    let t = Instant::now();
    let report = phone.sync().await?;
    let wall = t.elapsed();
    let (up, down) = proxy.bytes();
    let got = phone.count(RecordKind::Household)?;
    if got != args.households as u64 {
        return Err(format!("the new phone holds {got} households of {}", args.households).into());
    }
    let n = args.households as f64;
    let plain_zstd = zstd::encode_all(&plain_json[..], 3)?.len();
    let limit = 1_200_000.0;
    Ok(format!(
        "{name} bootstrap: {} households: {:.3} MB on the wire ({up} B up, {down} B down, HTTP headers included; {} B protocol bodies down, {} round trips) = {:.0} B/household; goal <= 1.2 MB: {} | pull + apply into the phone's store {:.1} s ({:.0} households/s) | change bytes in the log {:.0} B/household ({:.2} MB); wire/raw {:.0}% | baseline: plain household fields as JSON {:.0} B/household raw, {:.0} B/household zstd-3 ({:.2} MB) -> wire is {:.1}x the compressed plain data | load {load_before} -> {}",
        args.households,
        (up + down) as f64 / 1e6,
        report.bytes_down,
        report.round_trips,
        (up + down) as f64 / n,
        if (up + down) as f64 <= limit { "met" } else { "NOT met" },
        wall.as_secs_f64(),
        n / wall.as_secs_f64(),
        change_bytes as f64 / n,
        change_bytes as f64 / 1e6,
        100.0 * down as f64 / change_bytes as f64,
        plain_json.len() as f64 / n,
        plain_zstd as f64 / n,
        plain_zstd as f64 / 1e6,
        (up + down) as f64 / plain_zstd as f64,
        loadavg()
    ))
}

async fn run() -> HarnessResult<()> {
    let args = parse_args()?;
    println!("loadsim {}: {}; load {}", args.scenario, machine(), loadavg());
    let mut results = Vec::new();
    // A fresh database (or data directory) for every scenario.
    if args.scenario == "burst" || args.scenario == "all" {
        for backend in backends(&args.backend).await? {
            let line = burst(&args, backend).await?;
            println!("RESULT {line}");
            results.push(line);
        }
    }
    if args.scenario == "bootstrap" || args.scenario == "all" {
        for backend in backends(&args.backend).await? {
            let line = bootstrap(&args, backend).await?;
            println!("RESULT {line}");
            results.push(line);
        }
    }
    println!("\nSummary:");
    for l in results {
        println!("  {l}");
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("loadsim: {e}");
        std::process::exit(1);
    }
}
