//! Scenario 3: faults. The connection drops mid-push and mid-pull (fault-injecting proxy); the
//! server is killed with SIGKILL during ingest and restarted → sync completes, nothing
//! acknowledged is lost, nothing duplicated.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use gridwork_core::RecordKind;
use gridwork_core::sync::{CancelToken, SyncConfig, SyncError, SyncPhase, SyncProgress};
use gridwork_tests::device::test_config;
use gridwork_tests::{Backend, Device, Fault, HarnessResult};

fn add_households(d: &Device, n: u64, seed: u64) -> HarnessResult<()> {
    d.with(|s| {
        s.batch(|s| {
            for i in 0..n {
                s.households().add(household(seed + i, MICRO_A))?;
            }
            Ok(())
        })
    })?;
    Ok(())
}

fn small_requests() -> SyncConfig {
    SyncConfig { max_push_bytes: 16 * 1024, page_bytes: 64 * 1024, ..test_config() }
}

async fn dropped_connections(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::with_config(small_requests())?;
    let b = Device::with_config(small_requests())?;
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    b.enrol_new_user(&server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    add_households(&a, 300, 0)?;
    let outbox = a.with(|s| s.outbox_len())?;

    // Mid-push: the first connection is cut inside the first request's body, the second a
    // few requests later. Retries complete the sync.
    proxy.inject(&[Fault::CutUpAfter(3_000), Fault::CutUpAfter(8_000)]);
    let report = a.sync().await?;
    assert!(
        proxy.cuts() >= 2,
        "the faults fired: cuts {} conns {} bytes {:?} report {report:?}",
        proxy.cuts(),
        proxy.connections(),
        proxy.bytes()
    );
    assert!(report.retries >= 2);
    assert_eq!(a.with(|s| s.outbox_len())?, 0);
    let (head, changes) = server.log_size().await?;
    // +1: the district's reference record, authored by the server when the district was
    // registered (issue 11).
    assert_eq!((head, changes), (outbox + 1, outbox + 1), "each change stored exactly once");

    // Mid-pull: cut inside the first page, then inside a later one.
    let cuts = proxy.cuts();
    proxy.inject(&[Fault::CutDownAfter(2_000), Fault::CutDownAfter(6_000)]);
    b.sync().await?;
    assert_eq!(proxy.cuts(), cuts + 2, "both pull faults fired");
    proxy.reset();
    let d = Device::with_config(small_requests())?;
    d.enrol_new_user(&server, &proxy.url, "周杰", "grid_worker", GRID_A).await?;
    proxy.reset();
    d.sync().await?;
    let full_pull = proxy.bytes().1;
    assert_eq!(b.count(RecordKind::Household)?, 300);

    // Without retries the sync fails; the next one resumes where it stopped.
    let c = Device::with_config(SyncConfig { max_attempts: 1, ..small_requests() })?;
    c.enrol_new_user(&server, &proxy.url, "张伟", "grid_worker", GRID_A).await?;
    proxy.inject(&[Fault::CutDownAfter(full_pull * 3 / 4)]);
    match c.sync().await {
        Err(e @ SyncError::Transport { .. }) => assert_eq!(e.code(), "network"),
        other => return Err(format!("expected a network error, got {other:?}").into()),
    }
    let partial = c.count(RecordKind::Household)?;
    let cursor = c.with(|s| gridwork_core::sync::state::cursor(s))?;
    assert!(cursor > 0 && partial > 0 && partial < 300, "kept the pages applied: {partial}");
    let resumed = c.sync().await?;
    assert_eq!(c.count(RecordKind::Household)?, 300);
    assert_eq!(resumed.pulled, 300 - partial, "nothing pulled twice");
    // +1: the district's reference record (issue 11).
    assert_eq!(server.log_size().await?.1, outbox + 1);
    Ok(())
}

async fn server_killed_during_ingest(backend: Backend) -> HarnessResult<()> {
    let (mut server, proxy) = world(backend).await?;
    let config = SyncConfig {
        max_attempts: 30,
        backoff_max: Duration::from_millis(500),
        ..small_requests()
    };
    let a = Arc::new(Device::with_config(config)?);
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    add_households(&a, 600, 0)?;
    let outbox = a.with(|s| s.outbox_len())?;
    let acked = Arc::new(AtomicU64::new(0));
    let seen = acked.clone();
    let dev = a.clone();
    let task = tokio::spawn(async move {
        let progress = move |_: SyncPhase, p: &SyncProgress| seen.store(p.pushed, Ordering::SeqCst);
        dev.client.sync(&dev.store, &progress, &CancelToken::new()).await
    });
    // Kill once some changes are acknowledged and more are in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < 50 {
        if tokio::time::Instant::now() > deadline {
            return Err("no progress before the kill".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill().await?;
    let acked_at_kill = acked.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart().await?;
    proxy.set_upstream(server.addr);
    let report = task.await??;
    assert!(report.retries >= 1, "the sync had to retry");
    assert!(acked_at_kill > 0);
    assert_eq!(a.with(|s| s.outbox_len())?, 0);
    let (head, changes) = server.log_size().await?;
    // +1: the district's reference record, authored by the server when the district was
    // registered (issue 11).
    assert_eq!(changes, outbox + 1, "nothing acknowledged lost, nothing duplicated");
    assert_eq!(head, changes);
    let b = Device::new()?;
    b.enrol_new_user(&server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    b.sync().await?;
    assert_eq!(b.count(RecordKind::Household)?, 600);
    Ok(())
}

both!(dropped_connections);
both!(server_killed_during_ingest);
