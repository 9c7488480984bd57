//! `seed_orders`: fills a running `gridwork-server` with open work orders, reported by a real
//! device (a core store enrolled with a code, its own Automerge actor, the real sync client) —
//! for the workbench's first-render benchmark (`sync-server/workbench/bench/first_render.mjs`).
//!
//! ```text
//! seed_orders --server http://127.0.0.1:8480 --code XXXX-XXXX-XXXX --area 320612/004/017/03/02 --count 10000
//! ```
//! Prints one JSON line: how many were reported and pushed, and how long it took.

use std::time::Instant;

use chrono::Utc;
use gridwork_core::AreaPath;
use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
use gridwork_tests::{Device, HarnessResult};

const CATEGORIES: [&str; 4] = ["sanitation", "safety_hazard", "public_facilities", "dispute"];

fn arg(args: &[String], name: &str) -> HarnessResult<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .ok_or_else(|| format!("missing {name}").into())
}

#[tokio::main]
async fn main() -> HarnessResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let server = arg(&args, "--server")?;
    let code = arg(&args, "--code")?;
    let area = AreaPath::parse(&arg(&args, "--area")?)?;
    let count: usize = arg(&args, "--count")?.parse()?;
    let device = Device::new()?;
    device.enrol(&server, &code).await?;
    let started = Instant::now();
    for i in 0..count {
        device.with(|s| {
            s.work_orders().report(IncidentInput {
                area: area.clone(),
                category: CATEGORIES[i % CATEGORIES.len()].into(),
                severity: Severity::ALL[i % Severity::ALL.len()],
                title: format!("第{}号楼道堆物", i + 1),
                description: "楼道堆放杂物，影响消防通道".into(),
                location: None,
                photos: vec![],
                source: IncidentSource::GridReport,
                household_id: None,
                patrol_id: None,
                reported_at: Utc::now(),
            })
        })?;
    }
    let reported = started.elapsed();
    // A sync pushes a bounded batch: sync until nothing is pending.
    let mut pushed = 0;
    loop {
        let report = device.sync().await?;
        pushed += report.pushed;
        if report.pending == 0 {
            break;
        }
    }
    println!(
        "{{\"reported\": {count}, \"pushed\": {pushed}, \"report_s\": {:.1}, \"total_s\": {:.1}}}",
        reported.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
