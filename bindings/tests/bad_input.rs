//! Every exported function, called with bad input, returns a typed error — never a panic (which
//! UniFFI would turn into an "internal" error) and never an abort. Also checks that the store stays
//! usable afterwards and that observers and subscriptions behave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use gridwork_core::sync::{EnrolRequest, SyncConfig, SyncPhase, SyncProgress};
use gridwork_core::work_order::{
    EventType, IncidentDetails, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    Area, AreaPath, ChangeEnvelope, HouseholdInput, HouseholdTag, PhotoRef, RecordKind, Role,
    SignedInUser, VisitInput, VisitOutcome, location::Location,
};
use gridwork_core::{
    CheckInInput, Gender, ObservationInput, Relation, ResidentInput, SensitiveInput, TaskInput,
    TaskRecords, TrackPoint,
};
use gridwork_ffi::{
    ChangeOrigin, DataChanged, DataObserver, GridworkError, GridworkStore, GridworkSync,
    SyncProgressObserver, SyncStep, change_hash, default_sync_config, gridwork_version,
    normalize_phone, parse_area_path,
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
    VisitInput::routine(h, Utc::now(), VisitOutcome::Met)
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
    code("not_signed_in", anon.my_day(Utc::now(), Utc::now()));
    code("not_signed_in", anon.alerts(Utc::now(), false));
    code("not_signed_in", anon.unseen_alert_count(Utc::now()));
    code("not_signed_in", anon.ack_alert("task_overdue:x".into(), Utc::now()));
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
    code("not_found", s.update_visit(nobody, visit(h)));
    code("not_found", s.update_visit(h, visit(h))); // a household is not a visit
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
    let now = Utc::now() + Duration::minutes(1);
    let day = s.my_day(now - Duration::hours(1), now).unwrap();
    assert_eq!(day.due_visit_count, 40);
    assert_eq!(day.pending_changes, 40);
}

#[test]
fn sync_progress_observer_is_a_plain_trait() {
    struct Phases(Mutex<Vec<SyncPhase>>);
    impl SyncProgressObserver for Phases {
        fn on_progress(&self, p: SyncStep) -> Result<(), GridworkError> {
            self.0.lock().unwrap().push(p.phase);
            Ok(())
        }
    }
    let p = Phases(Mutex::default());
    let step = SyncStep { phase: SyncPhase::Exchanging, progress: SyncProgress::default() };
    p.on_progress(step).unwrap();
    assert_eq!(*p.0.lock().unwrap(), vec![SyncPhase::Exchanging]);
}

/// Asserts a typed error that is not the catch-all `internal` one (what a panic would become).
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, GridworkError>) -> GridworkError {
    match r {
        Err(GridworkError::Internal { code, detail }) => panic!("internal error {code}: {detail}"),
        Err(e) => e,
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
    }
}

fn resident(h: Uuid, name: &str) -> ResidentInput {
    ResidentInput {
        household_id: h,
        name: name.into(),
        gender: Gender::Female,
        birth_year: Some(1950),
        relation: Relation::Head,
        phone: None,
    }
}

fn incident(title: &str) -> IncidentInput {
    IncidentInput {
        area: path(GRID),
        category: "sanitation".into(),
        severity: Severity::Ordinary,
        title: title.into(),
        description: String::new(),
        location: None,
        photos: vec![],
        source: IncidentSource::Patrol,
        household_id: None,
        patrol_id: None,
        reported_at: Utc::now(),
    }
}

fn action(event_type: EventType) -> WorkOrderAction {
    WorkOrderAction {
        event_type,
        department: None,
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    }
}

#[test]
fn residents_patrols_work_orders_and_tasks_reject_bad_input() {
    let s = store();
    let nobody = Uuid::now_v7();
    let now = Utc::now();
    let h = s.add_household(household("张三")).unwrap();

    // Visits: an edit is checked like a recording, and may not move the visit.
    let v = s.record_visit(visit(h)).unwrap();
    invalid("satisfaction", s.update_visit(v, VisitInput { satisfaction: Some(9), ..visit(h) }));
    invalid("household_id", s.update_visit(v, visit(nobody)));
    invalid(
        "photos",
        s.update_visit(
            v,
            VisitInput {
                photos: vec![PhotoRef { hash: "zz".into(), size: 1, mime: "image/jpeg".into() }],
                ..visit(h)
            },
        ),
    );
    s.update_visit(v, VisitInput { situation: "已改".into(), ..visit(h) }).unwrap();
    assert_eq!(s.visit(v).unwrap().situation, "已改");
    s.delete_record(RecordKind::Visit, v).unwrap();
    code("not_found", s.update_visit(v, visit(h)));

    // Residents and sensitive records.
    refused(s.add_resident(resident(nobody, "王芳")));
    invalid("name", s.add_resident(resident(h, "")));
    invalid(
        "birth_year",
        s.add_resident(ResidentInput { birth_year: Some(3000), ..resident(h, "王芳") }),
    );
    let r = s.add_resident(resident(h, "王芳")).unwrap();
    refused(s.update_resident(nobody, resident(h, "王芳")));
    assert_eq!(s.resident(nobody).unwrap(), None);
    assert!(s.residents_of(nobody).unwrap().is_empty());
    assert_eq!(s.residents_of(h).unwrap().len(), 1);
    refused(s.set_sensitive(nobody, SensitiveInput::default()));
    invalid(
        "id_card",
        s.set_sensitive(r, SensitiveInput { id_card: Some("123".into()), ..Default::default() }),
    );
    refused(s.delete_sensitive(nobody));
    invalid("area", s.key_population_ledger("//".into()));
    let liaison = GridworkStore::open_in_memory().unwrap();
    liaison.load_areas(areas()).unwrap();
    liaison.sign_in(SignedInUser { role: Role::Liaison, ..user() }).unwrap();
    code("forbidden", liaison.sensitive_of(r));
    code("forbidden", liaison.key_population_ledger(GRID.into()));

    // Patrols.
    invalid("area", s.start_patrol("abc".into(), now, None));
    invalid("area", s.start_patrol("320612/001".into(), now, None));
    refused(s.start_patrol(GRID.into(), now, Some(nobody)));
    let p = s.start_patrol(GRID.into(), now, None).unwrap();
    let bad_point =
        TrackPoint { t_ms: now.timestamp_millis(), lat: 95.0, lon: 0.0, accuracy_m: None };
    refused(s.add_track_points(p, vec![bad_point]));
    let good_point = TrackPoint { lat: 32.0, ..bad_point };
    code("not_found", s.add_track_points(nobody, vec![good_point]));
    let at_checkin = CheckInInput {
        name: String::new(),
        location: Location { lat: 31.0, lon: 121.0 },
        at: now,
        point_id: None,
    };
    invalid("name", s.check_in(p, at_checkin));
    let obs = ObservationInput { text: String::new(), location: None, at: now, photos: vec![] };
    invalid("text", s.add_observation(p, obs));
    refused(s.link_observation_incident(p, nobody, nobody));
    invalid("ended_at", s.end_patrol(p, now - Duration::hours(1)));
    code("not_found", s.patrol(nobody));
    invalid("area", s.patrols_in("x".into(), now, now));
    assert!(s.patrols_of("nobody".into(), now, now).unwrap().is_empty());

    // Incidents and work orders.
    invalid(
        "category",
        s.report_incident(IncidentInput { category: "no-such".into(), ..incident("垃圾") }),
    );
    invalid("title", s.report_incident(incident("")));
    let w = s.report_incident(incident("垃圾堆放")).unwrap();
    code("not_found", s.act_on_work_order(nobody, action(EventType::Accept)));
    let e = refused(s.act_on_work_order(w, action(EventType::Close)));
    assert!(matches!(e, GridworkError::WorkOrderRefused { .. }), "{e:?}");
    invalid(
        "note",
        s.act_on_work_order(
            w,
            WorkOrderAction { note: Some("x".repeat(100_000)), ..action(EventType::Handle) },
        ),
    );
    let details = IncidentDetails::from(&incident("垃圾堆放"));
    code("not_found", s.update_incident(nobody, details.clone()));
    invalid(
        "title",
        s.update_incident(w, IncidentDetails { title: " ".into(), ..details.clone() }),
    );
    invalid(
        "category",
        s.update_incident(w, IncidentDetails { category: "no-such".into(), ..details.clone() }),
    );
    invalid(
        "lat",
        s.update_incident(
            w,
            IncidentDetails { location: Some(Location { lat: 91.0, lon: 0.0 }), ..details.clone() },
        ),
    );
    let urgent = IncidentDetails { severity: Severity::Urgent, ..details.clone() };
    assert_eq!(s.update_incident(w, urgent).unwrap().severity, Severity::Urgent);
    s.sign_in(SignedInUser { user_id: "w2".into(), ..user() }).unwrap();
    code("role_not_allowed", s.update_incident(w, details.clone()));
    s.sign_in(user()).unwrap();
    code("not_found", s.work_order_summary(nobody, now));
    code("not_found", s.work_order(nobody));
    invalid("area", s.open_work_orders("".into(), now, 10));
    invalid("area", s.overdue_work_orders("abc".into(), now, 10));
    invalid("area", s.work_orders_with_conflicts("abc".into(), 10));

    // Tasks (a grid worker may not issue them).
    let task = TaskInput {
        area: path(GRID),
        title: "走访独居老人".into(),
        instructions: String::new(),
        households: vec![h],
        due_at: None,
        assignee: None,
    };
    code("forbidden", s.create_task(task.clone()));
    refused(s.update_task(nobody, task));
    refused(s.add_task_households(nobody, vec![h]));
    refused(s.complete_task(nobody, "done".into()));
    code("not_found", s.task(nobody));
    invalid("area", s.tasks_in("?".into(), 10));
    refused(s.task_progress(nobody));
    // An unknown task simply has no records.
    assert_eq!(s.task_records(nobody).unwrap(), TaskRecords::default());

    // The day, the assessment, photos.
    invalid("area", s.assessment("".into(), None, now, now + Duration::days(1)));
    invalid("to", s.assessment(GRID.into(), None, now, now));
    invalid("photos", s.add_attachment(vec![], "image/jpeg".into()));
    invalid("photos", s.add_attachment(vec![1, 2, 3], "text/plain".into()));
    invalid("hash", s.attachment_bytes("not-hex".into()));
    // Alerts: an alert the user does not have.
    code("not_found", s.ack_alert(String::new(), now));
    code("not_found", s.ack_alert("work_order_overdue:nope".into(), now));

    // Still usable.
    assert_eq!(s.count_records(RecordKind::WorkOrder).unwrap(), 1);
}

#[test]
fn the_sync_object_rejects_bad_input_offline() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let s = store();
    let config = SyncConfig {
        connect_timeout: std::time::Duration::from_millis(300),
        request_timeout: std::time::Duration::from_millis(500),
        max_attempts: 1,
        ..default_sync_config()
    };
    let sync = GridworkSync::with_config(s.clone(), config).unwrap();
    let request = |url: &str| EnrolRequest {
        server_url: url.into(),
        code: "AAAA-BBBB-CCCC".into(),
        device_name: "测试机".into(),
        role: None,
    };
    rt.block_on(async {
        invalid("server_url", sync.enrol(request("not a url")).await);
        invalid("server_url", sync.enrol(request("ftp://example.invalid")).await);
        // Nothing listens on port 9 of loopback: a network error, not a hang or a panic.
        code("network", sync.enrol(request("http://127.0.0.1:9")).await);
        code("not_enrolled", sync.sync_now(None).await);
        code("not_enrolled", sync.refresh_areas().await);
        code("not_enrolled", sync.upload_attachments().await);
        code("not_enrolled", sync.download_attachments().await);
    });
    sync.cancel();
    let status = sync.status().unwrap();
    assert!(!status.state.enrolled && !status.running && !status.revoked);
    assert_eq!(status.pending.changes, 0);
    let photo =
        s.add_attachment(vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], "image/jpeg".into()).unwrap();
    assert_eq!(sync.pending().unwrap().uploads, 1);
    assert_eq!(sync.upload_queue().unwrap()[0].photo, photo);
    assert!(sync.download_queue().unwrap().is_empty());
}
