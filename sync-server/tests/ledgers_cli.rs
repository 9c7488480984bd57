//! `gridwork-server export …`, run as the real binary on a database (SQLite file, or a
//! PostgreSQL schema when `GRIDWORK_TEST_PG_URL` is set) holding the seeded demo district: the
//! CSV and XLSX files hold exactly the read model's live visits (all, or one area's), the file
//! appears only when complete, every export is audited, and bad arguments fail with a message
//! naming what is wrong and write nothing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use calamine::{Reader, Xlsx};
use chrono::Utc;
use gridwork_sync_server::demo;
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::read_model::projector::Projector;
use gridwork_sync_server::store::{AuditAction, DynStore};

/// Runs `gridwork-server --database-url URL export ARGS…`; returns success, stdout and stderr.
fn export(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gridwork-server"))
        .args(["--database-url", url, "export"])
        .args(args)
        .env_remove("GRIDWORK_CONFIG")
        .env("GRIDWORK_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The area paths of the read model's live visits (the oracle).
async fn live_visit_areas(store: &DynStore) -> Vec<String> {
    let rows = store.read_model().unwrap().rm_rows().await.unwrap();
    rows.iter()
        .filter(|r| r.starts_with("rm_visits|"))
        .map(|r| r.split('|').map(|c| c.trim_matches('"').to_owned()).collect::<Vec<_>>())
        .filter(|c| c[9] == "false")
        .map(|c| c[2].trim_end_matches('/').to_owned())
        .collect()
}

async fn command_line_exports(store: DynStore, url: &str) {
    demo::seed(&store, &CoreDemoRecords { households_per_worker: 8, seed: 7 }).await.unwrap();
    let rm = store.read_model().unwrap();
    Projector::new(1024, 1 << 20).catch_up(&store, rm, Utc::now()).await.unwrap();
    let areas = live_visit_areas(&store).await;
    assert!(areas.len() >= 6, "{areas:?}");
    let dir = tempfile::tempdir().unwrap();

    // Every visit of the district, as CSV.
    let csv_path = dir.path().join("visits.csv");
    let (ok, stdout, stderr) =
        export(url, &["visits", "--format", "csv", "--out", csv_path.to_str().unwrap()]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains(&format!("Wrote {} rows", areas.len())), "{stdout}");
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut rd = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&rd.headers().unwrap()[0], "走访时间");
    let mut got: Vec<String> = rd.records().map(|r| r.unwrap()[1].to_owned()).collect();
    let mut want = areas.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // One town's, as XLSX in English.
    let town = areas[0].split('/').take(2).collect::<Vec<_>>().join("/");
    let in_town = areas.iter().filter(|a| a.starts_with(&format!("{town}/"))).count();
    assert!(0 < in_town && in_town < areas.len(), "{town}: {in_town} of {}", areas.len());
    let xlsx_path = dir.path().join("town.xlsx");
    let (ok, stdout, stderr) = export(
        url,
        &[
            "visits",
            "--format",
            "xlsx",
            "--lang",
            "en",
            "--area",
            &town,
            "--out",
            xlsx_path.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stdout}{stderr}");
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx_path).unwrap();
    let sheet = book.worksheet_range("Visit ledger").unwrap();
    assert_eq!(sheet.rows().count(), in_town + 1, "a header and the town's visits");
    assert!(!dir.path().join("town.xlsx.partial").exists());

    // Bad arguments: a message naming the problem, no file.
    let bad = dir.path().join("bad.csv");
    for (args, says) in [
        (vec!["nothing"], "no ledger `nothing`"),
        (vec!["visits", "--from", "2026-13"], "from"),
        (vec!["visits", "--format", "pdf"], "format"),
        (vec!["key-population", "--from", "2026-11"], "unknown filter `from`"),
    ] {
        let mut a = args.clone();
        a.extend(["--out", bad.to_str().unwrap()]);
        let (ok, _, stderr) = export(url, &a);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!bad.exists());
    }

    // Audited: two exports by the command line, with their row counts.
    let audit = store.list_audit(100, None).await.unwrap();
    let cli: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::Export && e.detail.contains("by=cli"))
        .collect();
    assert_eq!(cli.len(), 2, "{cli:?}");
    assert!(cli.iter().any(|e| e.count == areas.len() as u64 && e.detail.contains("format=csv")));
    assert!(cli.iter().any(|e| e.count == in_town as u64 && e.areas == vec![town.clone()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_command_line_exports() {
    let (t, url) = common::sqlite_with_url().await;
    command_line_exports(t.store.clone(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_command_line_exports() {
    let Some((t, url)) = common::postgres_with_url().await else { return };
    command_line_exports(t.store.clone(), &url).await;
}
