//! The read model in a real server process: what phones push reaches it in the background
//! (the lag in `/metrics` falls to 0 and its cursor reaches the log's head), and
//! `gridwork-server rebuild-read-model` folds the whole log again from the command line.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use gridwork_tests::server::server_binary;
use gridwork_tests::{Backend, Device, HarnessResult};

/// A gauge's value in the metrics text.
fn gauge(metrics: &str, name: &str) -> Option<u64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l[name.len()..].trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushed_records_reach_the_read_model_and_a_rebuild_refolds_the_log_sqlite()
-> HarnessResult<()> {
    read_model_in_a_server(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushed_records_reach_the_read_model_and_a_rebuild_refolds_the_log_postgres()
-> HarnessResult<()> {
    let Some(backend) = Backend::postgres().await? else { return Ok(()) };
    read_model_in_a_server(backend).await
}

async fn read_model_in_a_server(backend: Backend) -> HarnessResult<()> {
    let (mut server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    worker.with(|s| {
        for i in 0..5 {
            s.households().add(household(i, MICRO_A))?;
        }
        Ok::<_, gridwork_core::CoreError>(())
    })?;
    worker.sync().await?;

    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (cursor, lag) = loop {
        let text = http.get(format!("{}/metrics", server.url)).send().await?.text().await?;
        let cursor = gauge(&text, "gridwork_read_model_cursor").unwrap_or(0);
        let lag = gauge(&text, "gridwork_read_model_lag_changes").unwrap_or(u64::MAX);
        if (cursor >= 5 && lag == 0) || Instant::now() > deadline {
            break (cursor, lag);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(lag, 0, "the projector caught up");
    assert!(cursor >= 5, "cursor {cursor}: the five households were folded");

    server.kill().await?;
    let mut rebuild = std::process::Command::new(server_binary()?);
    rebuild.arg("--data-dir").arg(server.data_dir());
    if let Backend::Postgres(url) = server.backend() {
        rebuild.arg("--database-url").arg(url);
    }
    let out = rebuild.arg("rebuild-read-model").output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("from {cursor} logged changes")), "{stdout}");
    Ok(())
}
