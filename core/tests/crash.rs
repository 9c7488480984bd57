//! Crash safety: a child process writes records, applies records received from another phone
//! and has its own changes acknowledged (each moving changes into their documents' stored bytes),
//! and is killed with SIGKILL at random moments; after each kill the store opens, passes
//! `PRAGMA integrity_check`, holds every record the child reported as saved, and every document
//! loads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gridwork_core::demo::DemoRng;
use gridwork_core::{RecordKind, VisitInput, VisitOutcome};
use uuid::Uuid;

const ENV: &str = "GRIDWORK_CRASH_CHILD_DB";

/// The child: writes households and visits, applies a peer's households (created and edited)
/// and acknowledges its own oldest changes, until killed, printing each committed id.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(ENV) else { return };
    let mut s = store_at(Some(std::path::Path::new(&path)), "w1");
    let mut peer = store_at(None, "peer");
    let mut out = std::io::stdout().lock();
    let mut rng = DemoRng::new(std::process::id().into());
    loop {
        let p = peer.households().add(household(rng.next_u64())).unwrap();
        let mut edited = household(rng.next_u64());
        edited.member_count += 1;
        peer.households().update(p, edited).unwrap();
        let page = peer.outbox(usize::MAX).unwrap();
        let sent: Vec<[u8; 32]> = page.iter().map(|e| e.hash().unwrap()).collect();
        s.apply_changes(&page).unwrap();
        peer.acknowledge(&sent).unwrap();
        writeln!(out, "household {p}").unwrap();
        out.flush().unwrap();
        let own: Vec<[u8; 32]> =
            s.outbox(2048).unwrap().iter().map(|e| e.hash().unwrap()).collect();
        s.acknowledge(&own).unwrap();
        let h = s.households().add(household(rng.next_u64())).unwrap();
        writeln!(out, "household {h}").unwrap();
        out.flush().unwrap();
        let v = s
            .visits()
            .record(VisitInput {
                situation: "正常".into(),
                satisfaction: Some(4),
                knows_worker: Some(true),
                ..VisitInput::routine(h, chrono::Utc::now(), VisitOutcome::Met)
            })
            .unwrap();
        writeln!(out, "visit {v}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let mut rng = DemoRng::new(0xC4A5);
    let mut saved: Vec<(String, Uuid)> = Vec::new();
    let rounds = 25;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first record so each round kills a writer mid-stream, then a random
        // extra 0–150 ms.
        let mut lines = Vec::new();
        while !lines.iter().any(|l: &String| l.starts_with("household ")) {
            lines.push(rx.recv_timeout(Duration::from_secs(60)).unwrap());
        }
        let until = Instant::now() + Duration::from_millis(rng.below(150));
        while Instant::now() < until {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(1)) {
                lines.push(l);
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for l in lines {
            let Some((kind, id)) = l.split_once(' ') else { continue };
            if let Ok(id) = Uuid::parse_str(id) {
                saved.push((kind.to_owned(), id));
            }
        }
        let mut s = store_at(Some(&db), "w1");
        assert!(s.integrity_check().unwrap(), "integrity check failed after round {round}");
        // Every document loads from its stored bytes and outbox rows.
        s.changes_missing_from(&[], None).unwrap();
        for (kind, id) in &saved {
            match kind.as_str() {
                "household" => {
                    assert!(s.households().get(*id).unwrap().is_some(), "lost household {id}")
                }
                _ => {
                    s.visits().get(*id).unwrap();
                }
            }
        }
    }
    let s = store_at(Some(&db), "w1");
    let households = saved.iter().filter(|(k, _)| k == "household").count() as u64;
    assert!(s.count_records(RecordKind::Household).unwrap() >= households);
    assert!(households >= rounds, "each round saved at least one household");
}
