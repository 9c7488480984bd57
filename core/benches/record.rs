//! Recording one visit (document + change + projection + commit) against a plain-SQLite
//! insert-and-commit of the same row, both on a file with the same pragmas (WAL,
//! `synchronous = FULL`), measured in the same run; and the same write on an encrypted store
//! (SQLCipher, raw 32-byte key) for the cost of encryption.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::{AreaPath, Role, SignedInUser, Store, VisitInput, VisitOutcome};
use rusqlite::{Connection, params};

fn visit_input(h: uuid::Uuid) -> VisitInput {
    VisitInput {
        situation: "老人身体状况良好，独自在家".into(),
        needs: "希望社区帮助联系家政服务".into(),
        satisfaction: Some(5),
        knows_worker: Some(true),
        location: Some(gridwork_core::location::Location { lat: 32.06, lon: 121.07 }),
        ..VisitInput::routine(h, Utc::now(), VisitOutcome::Met)
    }
}

fn bench_record_visit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let grid = AreaPath::parse("320612/001/001/01").unwrap();
    let micro = AreaPath::parse("320612/001/001/01/01").unwrap();

    let mut store = Store::open(dir.path().join("g.db"), None).unwrap();
    store.load_areas(&demo::areas(1, 1, 1, 1)).unwrap();
    store
        .sign_in(SignedInUser {
            user_id: "w1".into(),
            name: "网格员".into(),
            role: Role::GridWorker,
            scope: grid,
        })
        .unwrap();
    let mut rng = DemoRng::new(1);
    let households: Vec<_> = (0..200)
        .map(|_| store.households().add(demo::household(&mut rng, &micro)).unwrap())
        .collect();

    let plain = Connection::open(dir.path().join("plain.db")).unwrap();
    plain
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE visit (id BLOB PRIMARY KEY, household_id BLOB NOT NULL, area TEXT,
               visitor TEXT, visited_at INTEGER, kind TEXT, outcome TEXT, situation TEXT,
               needs TEXT, satisfaction INTEGER, knows_worker INTEGER, lat REAL, lon REAL)
               WITHOUT ROWID;
             CREATE INDEX visit_household ON visit(household_id, visited_at);",
        )
        .unwrap();

    let mut g = c.benchmark_group("record_visit");
    let mut i = 0usize;
    g.bench_function("plain_sqlite_insert_commit", |b| {
        b.iter(|| {
            i += 1;
            let v = visit_input(households[i % households.len()]);
            let tx = plain.unchecked_transaction().unwrap();
            tx.prepare_cached(
                "INSERT INTO visit VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .unwrap()
            .execute(params![
                uuid::Uuid::now_v7(),
                v.household_id,
                "320612/001/001/01/01",
                "w1",
                v.visited_at.timestamp_millis(),
                v.kind.as_str(),
                v.outcome.as_str(),
                v.situation,
                v.needs,
                v.satisfaction,
                v.knows_worker,
                32.06,
                121.07
            ])
            .unwrap();
            tx.commit().unwrap();
        })
    });
    g.bench_function("gridwork_record_visit", |b| {
        b.iter(|| {
            i += 1;
            store.visits().record(visit_input(households[i % households.len()])).unwrap()
        })
    });
    g.finish();

    // The cost of encryption: the same write on a SQLCipher-encrypted store.
    let mut enc = Store::open(dir.path().join("enc.db"), Some(&[7u8; 32])).unwrap();
    enc.load_areas(&demo::areas(1, 1, 1, 1)).unwrap();
    enc.sign_in(SignedInUser {
        user_id: "w1".into(),
        name: "网格员".into(),
        role: Role::GridWorker,
        scope: AreaPath::parse("320612/001/001/01").unwrap(),
    })
    .unwrap();
    let enc_households: Vec<_> = (0..200)
        .map(|_| enc.households().add(demo::household(&mut rng, &micro)).unwrap())
        .collect();
    let mut g = c.benchmark_group("record_visit_encrypted");
    g.bench_function("gridwork_record_visit_sqlcipher", |b| {
        b.iter(|| {
            i += 1;
            enc.visits().record(visit_input(enc_households[i % enc_households.len()])).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(8));
    targets = bench_record_visit
}
criterion_main!(benches);
