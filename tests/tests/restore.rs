//! Issue 8, item 2: the server's database is put back to an earlier backup while the phones
//! keep working. The log gets a new epoch; every phone re-sends its own changes and pulls its
//! scope again, so every change the server ever acknowledged is back and every phone converges.
//! On both backends: SQLite by file copies, PostgreSQL by a template copy of the database.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;
use gridwork_core::RecordKind;
use gridwork_tests::{Backend, Device, HarnessResult, Server};

const DB_FILES: [&str; 3] =
    ["gridwork-server.db", "gridwork-server.db-wal", "gridwork-server.db-shm"];

fn copy_db(from: &Path, to: &Path) -> HarnessResult<()> {
    for f in DB_FILES {
        let src = from.join(f);
        if src.exists() {
            std::fs::copy(&src, to.join(f))?;
        } else {
            let _ = std::fs::remove_file(to.join(f));
        }
    }
    Ok(())
}

/// Takes and puts back the server's database, with the server stopped: file copies for SQLite,
/// a template copy of the database for PostgreSQL.
async fn backup(server: &Server, to: &Path) -> HarnessResult<()> {
    match server.backend() {
        Backend::Sqlite => copy_db(server.data_dir(), to),
        Backend::Postgres(url) => pg_copy(&db_name(url)?, &backup_name(url)?).await,
    }
}

async fn restore(server: &Server, from: &Path) -> HarnessResult<()> {
    match server.backend() {
        Backend::Sqlite => copy_db(from, server.data_dir()),
        Backend::Postgres(url) => {
            let live = db_name(url)?;
            pg_admin(&format!("DROP DATABASE {live}")).await?;
            pg_copy(&backup_name(url)?, &live).await
        }
    }
}

fn db_name(url: &str) -> HarnessResult<String> {
    let tail = url.rsplit('/').next().ok_or("no database in the URL")?;
    Ok(tail.split('?').next().unwrap_or(tail).to_owned())
}

fn backup_name(url: &str) -> HarnessResult<String> {
    Ok(format!("{}_backup", db_name(url)?))
}

/// Runs `sql` on the test cluster's own database (not the server's), retrying while the
/// killed server's connections are still being torn down.
async fn pg_admin(sql: &str) -> HarnessResult<()> {
    let admin = std::env::var("GRIDWORK_TEST_PG_URL")?;
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    let mut last = None;
    for _ in 0..50 {
        match client.batch_execute(sql).await {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    drop(client);
    let _ = task.await;
    match last {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

async fn pg_copy(from: &str, to: &str) -> HarnessResult<()> {
    pg_admin(&format!("DROP DATABASE IF EXISTS {to}")).await?;
    pg_admin(&format!("CREATE DATABASE {to} TEMPLATE {from}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restored_from_backup_loses_nothing_acknowledged_sqlite() -> HarnessResult<()> {
    restored_from_backup_loses_nothing_acknowledged(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restored_from_backup_loses_nothing_acknowledged_postgres() -> HarnessResult<()> {
    let Some(backend) = Backend::postgres().await? else { return Ok(()) };
    restored_from_backup_loses_nothing_acknowledged(backend).await
}

async fn restored_from_backup_loses_nothing_acknowledged(backend: Backend) -> HarnessResult<()> {
    let (mut server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let head = Device::new()?;
    head.enrol_new_user(&server, &proxy.url, "李强", "grid_head", GRID_A).await?;

    let first: Vec<_> = worker.with(|s| {
        (0..3).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<Vec<_>, _>>()
    })?;
    worker.sync().await?;
    head.sync().await?;

    // The nightly backup (taken with the server stopped, as a file copy).
    server.kill().await?;
    let saved = tempfile::tempdir()?;
    backup(&server, saved.path()).await?;
    server.restart().await?;
    proxy.set_upstream(server.addr);

    // A day's work after the backup, all acknowledged by the server.
    let later: Vec<_> = worker.with(|s| -> HarnessResult<Vec<uuid::Uuid>> {
        let ids =
            (3..6).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<_, _>>()?;
        let mut edit = household(0, MICRO_A);
        edit.member_count = 17;
        s.households().update(first[0], edit)?;
        Ok(ids)
    })?;
    let heads: Vec<_> = head.with(|s| {
        (10..12).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<Vec<_>, _>>()
    })?;
    for _ in 0..2 {
        worker.sync().await?;
        head.sync().await?;
    }
    let (_, acknowledged) = server.log_size().await?;
    assert_eq!(worker.with(|s| s.outbox_len())?, 0);
    assert_eq!(head.with(|s| s.outbox_len())?, 0);

    // The disk is lost; the database comes back from the backup.
    server.kill().await?;
    restore(&server, saved.path()).await?;
    // SQLite notices a restored file by itself; PostgreSQL is told.
    let restored: &[&str] =
        if matches!(server.backend(), Backend::Postgres(_)) { &["--restored"] } else { &[] };
    server.restart_with(restored).await?;
    proxy.set_upstream(server.addr);
    let (_, after_restore) = server.log_size().await?;
    assert!(
        after_restore < acknowledged,
        "the restore lost {} changes",
        acknowledged - after_restore
    );

    let report = worker.sync().await?;
    assert!(report.epoch_changed, "the worker noticed the restore: {report:?}");
    let report = head.sync().await?;
    assert!(report.epoch_changed, "the grid head noticed the restore: {report:?}");
    for _ in 0..2 {
        worker.sync().await?;
        head.sync().await?;
    }

    let (_, repaired) = server.log_size().await?;
    assert_eq!(repaired, acknowledged, "every acknowledged change is back on the server");
    for phone in [&worker, &head] {
        assert_eq!(phone.count(RecordKind::Household)?, 8);
        phone.with(|s| -> HarnessResult<()> {
            assert_eq!(s.households().get(first[0])?.ok_or("missing")?.member_count, 17);
            for id in later.iter().chain(&heads) {
                s.households().get(*id)?.ok_or("missing after the restore")?;
            }
            Ok(())
        })?;
        let diff = phone.compare_with_server(&area(GRID_A)).await?;
        assert!(diff.divergent.is_empty() && diff.unknown_to_server.is_empty(), "{diff:?}");
        // Nothing is stuck: the next sync is quiet.
        let quiet = phone.sync().await?;
        assert!(!quiet.epoch_changed && quiet.pulled == 0, "{quiet:?}");
    }
    Ok(())
}

/// The repair path: a server that lost a record's changes without noticing (no restore, no
/// new epoch — a damaged table) is found out by the digest comparison, and the author's phone
/// sends them again; the other phones get them back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn digest_repair_sends_what_the_server_silently_lost() -> HarnessResult<()> {
    let (mut server, proxy) = world(Backend::Sqlite).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let ids: Vec<_> = worker.with(|s| {
        (0..4).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<Vec<_>, _>>()
    })?;
    worker.sync().await?;
    let (_, before) = server.log_size().await?;

    // Damage: two records' changes vanish from the server's log.
    server.kill().await?;
    {
        let db = rusqlite::Connection::open(server.data_dir().join("gridwork-server.db"))?;
        for id in &ids[..2] {
            db.execute("DELETE FROM changes WHERE doc_id = ?1", [id.as_bytes().as_slice()])?;
            db.execute("DELETE FROM documents WHERE doc_id = ?1", [id.as_bytes().as_slice()])?;
        }
    }
    server.restart().await?;
    proxy.set_upstream(server.addr);
    assert_eq!(server.log_size().await?.1, before - 2);
    // The cursor cannot tell: a plain sync finds nothing to do.
    assert_eq!(worker.sync().await?.pushed, 0);

    let outcome =
        worker.client.repair(&*worker.store, &gridwork_core::sync::CancelToken::new()).await?;
    assert_eq!((outcome.divergent, outcome.requeued), (0, 2), "{outcome:?}");
    assert_eq!(worker.sync().await?.pushed, 2);
    assert_eq!(server.log_size().await?.1, before, "the lost changes are back");

    let head = Device::new()?;
    head.enrol_new_user(&server, &proxy.url, "李强", "grid_head", GRID_A).await?;
    head.sync().await?;
    assert_eq!(head.count(RecordKind::Household)?, 4);
    // Nothing left to repair.
    let again =
        worker.client.repair(&*worker.store, &gridwork_core::sync::CancelToken::new()).await?;
    assert_eq!((again.divergent, again.requeued), (0, 0));
    Ok(())
}
