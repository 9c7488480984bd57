//! `soak`: the district chaos scenario (`gridwork_tests::chaos`, issue 7) with many random
//! seeds, a benchmark-style run that reports how much chaos the sync survived.
//!
//! ```text
//! GRIDWORK_SOAK_RUNS=20 cargo run -p gridwork-tests --bin soak -- [--backend sqlite|postgres|both]
//!     [--seed N] [--rounds N] [--ops N]
//! ```
//!
//! Each run draws its seed from `--seed` (default: the clock) and runs on each backend. Prints
//! one line per run and the totals — runs, operations, faults (connections cut mid-request and
//! mid-response), kills (server SIGKILLs, phones killed in-process, CLI processes SIGKILLed) and
//! divergences — and every divergence with the seed that reproduces it
//! (`GRIDWORK_CHAOS_SEED=… cargo test -p gridwork-tests --test district`). Exits non-zero when
//! any run diverged or failed. PostgreSQL needs `GRIDWORK_TEST_PG_URL`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use gridwork_core::demo::DemoRng;
use gridwork_tests::chaos::{self, ChaosConfig, ChaosReport};
use gridwork_tests::{Backend, HarnessResult};

#[derive(Debug)]
struct Args {
    runs: usize,
    backend: String,
    seed: Option<u64>,
    rounds: Option<usize>,
    ops: Option<usize>,
}

fn parse_args() -> HarnessResult<Args> {
    let runs = match std::env::var("GRIDWORK_SOAK_RUNS") {
        Ok(v) => v.parse().map_err(|e| format!("GRIDWORK_SOAK_RUNS={v}: {e}"))?,
        Err(_) => 20,
    };
    let mut a = Args { runs, backend: "both".into(), seed: None, rounds: None, ops: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--backend" => a.backend = value("--backend")?,
            "--seed" => a.seed = Some(value("--seed")?.parse()?),
            "--rounds" => a.rounds = Some(value("--rounds")?.parse()?),
            "--ops" => a.ops = Some(value("--ops")?.parse()?),
            "--runs" => a.runs = value("--runs")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "GRIDWORK_SOAK_RUNS=N soak [--backend sqlite|postgres|both] [--seed N] [--rounds N] [--ops N] [--runs N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

async fn backend(which: &str) -> HarnessResult<Option<Backend>> {
    match which {
        "sqlite" => Ok(Some(Backend::Sqlite)),
        _ => Backend::postgres().await,
    }
}

#[derive(Debug, Default)]
struct Totals {
    runs: u64,
    failed_runs: u64,
    operations: u64,
    moves: u64,
    steps: u64,
    syncs: u64,
    failed_syncs: u64,
    cuts_up: u64,
    cuts_down: u64,
    server_kills: u64,
    device_kills: u64,
    cli_kills: u64,
    conflicts: u64,
    divergences: u64,
    diverged_runs: u64,
    seconds: f64,
}

impl Totals {
    fn add(&mut self, r: &ChaosReport) {
        self.runs += 1;
        self.operations += r.operations;
        self.moves += r.moves;
        self.steps += r.steps;
        self.syncs += r.syncs;
        self.failed_syncs += r.failed_syncs;
        self.cuts_up += r.cuts_up;
        self.cuts_down += r.cuts_down;
        self.server_kills += r.server_kills;
        self.device_kills += r.device_kills;
        self.cli_kills += r.cli_kills;
        self.conflicts += r.conflicts;
        self.divergences += r.divergences.len() as u64;
        self.diverged_runs += u64::from(!r.divergences.is_empty());
        self.seconds += r.elapsed.as_secs_f64();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> HarnessResult<()> {
    let args = parse_args()?;
    let base = match args.seed {
        Some(s) => s,
        None => {
            u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() % (1 << 48))?
        }
    };
    let mut seeds = DemoRng::new(base);
    let names: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    println!(
        "soak: {} runs × {names:?}, seeds drawn from {base}; {}, load {}",
        args.runs,
        gridwork_tests::measure::machine(),
        gridwork_tests::measure::loadavg()
    );
    let started = Instant::now();
    let mut totals = Totals::default();
    for run in 0..args.runs {
        // The first run uses the base seed itself, so `--seed` reproduces a reported run.
        let seed = if run == 0 { base } else { seeds.next_u64() % (1 << 48) };
        for name in &names {
            let Some(b) = backend(name).await? else {
                println!("PostgreSQL skipped: GRIDWORK_TEST_PG_URL is unset");
                continue;
            };
            let mut config = ChaosConfig::new(b, seed);
            config.rounds = args.rounds.unwrap_or(config.rounds);
            config.ops = args.ops.unwrap_or(config.ops);
            match chaos::run(&config).await {
                Ok(report) => {
                    println!("run {run}: {report}");
                    for d in &report.divergences {
                        println!("    divergence: {d}");
                    }
                    totals.add(&report);
                }
                Err(e) => {
                    totals.failed_runs += 1;
                    println!("run {run}: {name} seed {seed}: FAILED: {e}");
                }
            }
        }
    }
    let t = &totals;
    println!(
        "\nsoak totals: {} runs ({} failed to run), {} operations ({} moves, {} work-order steps), \
         {} syncs under faults ({} failed and were retried later), faults: {} connections cut \
         mid-request + {} mid-response, kills: {} server SIGKILLs + {} phones killed in-process \
         + {} CLI SIGKILLs, {} work-order conflicts surfaced, divergences: {} (in {} runs); \
         {:.0} s of runs, {:.0} s wall",
        t.runs,
        t.failed_runs,
        t.operations,
        t.moves,
        t.steps,
        t.syncs,
        t.failed_syncs,
        t.cuts_up,
        t.cuts_down,
        t.server_kills,
        t.device_kills,
        t.cli_kills,
        t.conflicts,
        t.divergences,
        t.diverged_runs,
        t.seconds,
        started.elapsed().as_secs_f64()
    );
    if t.divergences > 0 || t.failed_runs > 0 {
        std::process::exit(1);
    }
    Ok(())
}
