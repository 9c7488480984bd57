//! Every exported function, called with bad input, returns a typed error — never a panic (which
//! UniFFI would turn into an "internal" error) and never an abort. Also checks that the store stays
//! usable afterwards and that observers and subscriptions behave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use gridwork_core::{
    Area, AreaPath, ChangeEnvelope, HouseholdInput, HouseholdTag, PhotoRef, RecordKind, Role,
    SignedInUser, VisitInput, VisitKind, VisitOutcome, location::Location,
};
use gridwork_ffi::sync::{SyncPhase, SyncProgress, SyncProgressObserver};
use gridwork_ffi::{
    ChangeOrigin, DataChanged, DataObserver, GridworkError, GridworkStore, change_hash,
    gridwork_version, normalize_phone, parse_area_path,
};
use uuid::Uuid;

const GRID: &str = "320612/001/001/01";
const MICRO: &str = "320612/001/001/01/01";

fn path(p: &str) -> AreaPath {
    AreaPath::parse(p).unwrap()
}

fn areas() -> Vec<Area> {
    [
        ("320612", "通州区"),
        ("320612/001", "金沙街道"),
        ("320612/001/001", "幸福社区"),
        (GRID, "第一网格"),
        (MICRO, "一号微网格"),
        ("320612/002", "兴仁镇"),
    ]
    .into_iter()
    .map(|(p, n)| Area { path: path(p), name: n.into() })
    .collect()
}

fn user() -> SignedInUser {
    SignedInUser {
        user_id: "w1".into(),
        name: "李娟".into(),
        role: Role::GridWorker,
        scope: path(GRID),
    }
}

fn store() -> Arc<GridworkStore> {
    let s = GridworkStore::open_in_memory().unwrap();
    s.load_areas(areas()).unwrap();
    s.sign_in(user()).unwrap();
    s
}

fn household(head: &str) -> HouseholdInput {
    HouseholdInput {
        area: path(MICRO),
        address: "幸福小区1幢101室".into(),
        building: None,
        unit: None,
        room: None,
        head_name: head.into(),
        member_count: 3,
        phone: Some("13812345678".into()),
        tags: vec![HouseholdTag::Ordinary],
    }
}

fn visit(h: Uuid) -> VisitInput {
    VisitInput {
        household_id: h,
        visited_at: Utc::now(),
        kind: VisitKind::Routine,
        outcome: VisitOutcome::Met,
        situation: String::new(),
        needs: String::new(),
        satisfaction: None,
        knows_worker: None,
        follow_up_due: None,
        photos: vec![],
        location: None,
        incident_id: None,
        task_id: None,
    }
}

#[track_caller]
fn invalid<T: std::fmt::Debug>(field: &str, r: Result<T, GridworkError>) {
    match r {
        Err(GridworkError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    }
}

#[track_caller]
fn code<T: std::fmt::Debug>(code: &str, r: Result<T, GridworkError>) {
    match r {
        Err(e) => assert_eq!(e.code(), code, "{e}"),
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
    }
}

#[test]
fn every_exported_function_rejects_bad_input_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.db");
    let nobody = Uuid::now_v7();

    // Free functions.
    assert!(!gridwork_version().is_empty());
    invalid("area", parse_area_path("320612/".into()));
    invalid("area", parse_area_path(String::new()));
    invalid("phone", normalize_phone("123".into()));
    invalid(
        "change",
        change_hash(ChangeEnvelope {
            doc_id: nobody,
            kind: RecordKind::Visit,
            area: path(GRID),
            bytes: vec![],
        }),
    );

    // Opening.
    invalid("key", GridworkStore::open(file.to_string_lossy().into(), Some(vec![1; 31])));
    invalid("path", GridworkStore::open("  ".into(), None));
    code("storage", GridworkStore::open("/nonexistent-dir/a/b.db".into(), None));
    {
        let enc = GridworkStore::open(file.to_string_lossy().into(), Some(vec![7; 32])).unwrap();
        enc.load_areas(areas()).unwrap();
    }
    code("locked", GridworkStore::open(file.to_string_lossy().into(), None));
    code("locked", GridworkStore::open(file.to_string_lossy().into(), Some(vec![8; 32])));
    let not_a_store = dir.path().join("junk.db");
    std::fs::write(&not_a_store, vec![0x42; 8192]).unwrap();
    code("locked", GridworkStore::open(not_a_store.to_string_lossy().into(), None));

    // Writes with nobody signed in.
    let anon = GridworkStore::open_in_memory().unwrap();
    anon.load_areas(areas()).unwrap();
    assert_eq!(anon.signed_in_user().unwrap(), None);
    code("not_signed_in", anon.add_household(household("张三")));
    code("not_signed_in", anon.add_households(vec![household("张三")]));
    code("not_signed_in", anon.my_day(Utc::now(), 5));
    invalid("user_id", anon.sign_in(SignedInUser { user_id: " ".into(), ..user() }));
    invalid("name", anon.sign_in(SignedInUser { name: String::new(), ..user() }));

    let s = store();
    assert_eq!(s.actor_id().unwrap().len(), 32);
    // Areas.
    invalid("name", s.load_areas(vec![Area { path: path("320612/009"), name: " ".into() }]));
    code("not_found", s.load_areas(vec![Area { path: path("320699/001"), name: "孤儿".into() }]));
    invalid("path", s.area("abc".into()));
    invalid("parent", s.child_areas(Some("320612//1".into())));
    assert_eq!(s.child_areas(None).unwrap().len(), 1);

    // Households.
    invalid("head_name", s.add_household(household("")));
    invalid(
        "member_count",
        s.add_household(HouseholdInput { member_count: 100, ..household("张三") }),
    );
    invalid(
        "phone",
        s.add_household(HouseholdInput { phone: Some("999".into()), ..household("张三") }),
    );
    invalid(
        "tags",
        s.add_household(HouseholdInput {
            tags: vec![HouseholdTag::DrugRehab],
            ..household("张三")
        }),
    );
    invalid(
        "address",
        s.add_household(HouseholdInput { address: "x".repeat(10_000), ..household("张三") }),
    );
    code(
        "not_found",
        s.add_household(HouseholdInput {
            area: path("320612/001/001/01/09"), ..household("张三")
        }),
    );
    code(
        "out_of_scope",
        s.add_household(HouseholdInput { area: path("320612/002"), ..household("张三") }),
    );
    invalid("head_name", s.add_households(vec![household("甲"), household("")]));
    assert_eq!(
        s.count_records(RecordKind::Household).unwrap(),
        0,
        "a refused batch writes nothing"
    );
    code("not_found", s.update_household(nobody, household("张三")));
    let h = s.add_household(household("张三")).unwrap();
    invalid(
        "member_count",
        s.update_household(h, HouseholdInput { member_count: 0, ..household("张三") }),
    );
    assert_eq!(s.household(nobody).unwrap(), None);
    invalid("area", s.households_in("32061".into(), 10));
    invalid("area", s.search_households("".into(), "王".into(), 10));
    invalid("query", s.search_households(GRID.into(), "王".repeat(2000), 10));
    for q in ["\"", "*", "NEAR(", "a:b", "王 OR 芳", "\0", "'); DROP TABLE household;--"] {
        s.search_households(GRID.into(), q.into(), 10).unwrap();
    }
    invalid("area", s.due_visits("x".into(), Utc::now(), 10));
    assert!(s.households_in(GRID.into(), 0).unwrap().is_empty());

    // Visits.
    code("not_found", s.record_visit(visit(nobody)));
    invalid("satisfaction", s.record_visit(VisitInput { satisfaction: Some(0), ..visit(h) }));
    invalid(
        "lat",
        s.record_visit(VisitInput {
            location: Some(Location { lat: f64::NAN, lon: 0.0 }),
            ..visit(h)
        }),
    );
    invalid(
        "lon",
        s.record_visit(VisitInput {
            location: Some(Location { lat: 0.0, lon: 181.0 }),
            ..visit(h)
        }),
    );
    invalid(
        "photos",
        s.record_visit(VisitInput {
            photos: vec![PhotoRef { hash: "zz".into(), size: 1, mime: "image/jpeg".into() }],
            ..visit(h)
        }),
    );
    invalid(
        "follow_up_due",
        s.record_visit(VisitInput {
            follow_up_due: Some(Utc::now() - Duration::days(1)),
            ..visit(h)
        }),
    );
    invalid(
        "situation",
        s.record_visit(VisitInput { situation: "很".repeat(100_000), ..visit(h) }),
    );
    code("not_found", s.visit(nobody));
    code("not_found", s.visit(h)); // a household is not a visit
    assert!(s.visits_of_household(nobody).unwrap().is_empty());

    // Any record.
    code("not_found", s.delete_record(RecordKind::Household, nobody));
    code("not_found", s.delete_record(RecordKind::Visit, h));
    code("not_found", s.history(RecordKind::Visit, nobody));
    code("not_found", s.conflicts(RecordKind::Household, nobody));
    code(
        "not_found",
        s.resolve_conflict(RecordKind::Household, nobody, "head_name".into(), "x".into()),
    );
    invalid("kind", s.resolve_conflict(RecordKind::Household, h, "kind".into(), "x".into()));
    invalid(
        "member_count",
        s.resolve_conflict(RecordKind::Household, h, "member_count".into(), "x".into()),
    );
    invalid("nope", s.resolve_conflict(RecordKind::Household, h, "nope".into(), "x".into()));

    // Change exchange.
    code(
        "bad_change",
        s.apply_changes(vec![ChangeEnvelope {
            doc_id: nobody,
            kind: RecordKind::Household,
            area: path(GRID),
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
        }]),
    );
    let mine = s.outbox(u64::MAX).unwrap();
    let wrong_kind: Vec<ChangeEnvelope> =
        mine.iter().cloned().map(|c| ChangeEnvelope { kind: RecordKind::Task, ..c }).collect();
    code("bad_change", s.apply_changes(wrong_kind));
    invalid("hashes", s.acknowledge(vec![vec![0; 31]]));
    s.acknowledge(vec![vec![0; 32]]).unwrap(); // unknown hashes are harmless
    assert_eq!(s.outbox(0).unwrap().len(), 1, "at least one change however small the limit");

    // The store is intact after all that.
    assert!(s.integrity_check().unwrap());
    s.checkpoint().unwrap();
    assert_eq!(s.count_records(RecordKind::Household).unwrap(), 1);
    assert_eq!(s.pending_changes().unwrap(), 1);
    assert_eq!(s.history(RecordKind::Household, h).unwrap().len(), 1);
}

struct Recorder(Mutex<Vec<DataChanged>>);

impl DataObserver for Recorder {
    fn on_data_changed(&self, change: DataChanged) -> Result<(), GridworkError> {
        self.0.lock().unwrap().push(change);
        Ok(())
    }
}

struct Failing(AtomicUsize);

impl DataObserver for Failing {
    fn on_data_changed(&self, _: DataChanged) -> Result<(), GridworkError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(GridworkError::Internal { code: "observer".into(), detail: "boom".into() })
    }
}

/// An observer that reads the store from inside its callback: no lock is held then.
struct Reentrant(Arc<GridworkStore>, AtomicUsize);

impl DataObserver for Reentrant {
    fn on_data_changed(&self, _: DataChanged) -> Result<(), GridworkError> {
        self.1.fetch_add(
            usize::try_from(self.0.count_records(RecordKind::Household)?).unwrap_or(0),
            Ordering::SeqCst,
        );
        Ok(())
    }
}

#[test]
fn observers_hear_changes_until_their_subscription_goes() {
    let a = store();
    let b = store();
    let rec = Arc::new(Recorder(Mutex::default()));
    let failing = Arc::new(Failing(AtomicUsize::new(0)));
    let sub = b.subscribe(rec.clone());
    let sub_failing = b.subscribe(failing.clone());

    let h = a.add_household(household("王芳")).unwrap();
    b.apply_changes(a.outbox(1 << 20).unwrap()).unwrap();
    // Duplicates change nothing and tell nobody.
    b.apply_changes(a.outbox(1 << 20).unwrap()).unwrap();
    let v = b.record_visit(visit(h)).unwrap();
    {
        let heard = rec.0.lock().unwrap();
        assert_eq!(heard.len(), 2);
        assert_eq!(heard[0].origin, ChangeOrigin::Remote);
        assert_eq!(heard[0].ids, vec![h]);
        assert_eq!(heard[1].origin, ChangeOrigin::Local);
        assert_eq!(heard[1].kinds, vec![RecordKind::Visit, RecordKind::Household]);
        assert_eq!(heard[1].ids, vec![v, h]);
    }
    assert_eq!(failing.0.load(Ordering::SeqCst), 2, "a failing observer is still called");

    sub.cancel();
    sub.cancel();
    drop(sub_failing);
    b.add_household(household("张伟")).unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 2);
    assert_eq!(failing.0.load(Ordering::SeqCst), 2);

    let reentrant = Arc::new(Reentrant(b.clone(), AtomicUsize::new(0)));
    let _sub = b.subscribe(reentrant.clone());
    b.add_household(household("刘洋")).unwrap();
    assert_eq!(reentrant.1.load(Ordering::SeqCst), 3);
}

#[test]
fn the_store_is_shared_across_threads() {
    let s = store();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    s.add_household(household(&format!("住户{t}-{i}"))).unwrap();
                    s.households_in(GRID.into(), 5).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.count_records(RecordKind::Household).unwrap(), 40);
    let day = s.my_day(Utc::now() + Duration::minutes(1), 30).unwrap();
    assert_eq!(day.due_visits.len(), 30);
    assert!(day.more_due);
    assert_eq!(day.pending_changes, 40);
}

#[test]
fn sync_progress_observer_is_a_plain_trait() {
    struct Phases(Mutex<Vec<SyncPhase>>);
    impl SyncProgressObserver for Phases {
        fn on_progress(&self, p: SyncProgress) -> Result<(), GridworkError> {
            self.0.lock().unwrap().push(p.phase);
            Ok(())
        }
    }
    let p = Phases(Mutex::default());
    p.on_progress(SyncProgress { phase: SyncPhase::Pushing, done: 1, total: Some(2) }).unwrap();
    assert_eq!(*p.0.lock().unwrap(), vec![SyncPhase::Pushing]);
}
