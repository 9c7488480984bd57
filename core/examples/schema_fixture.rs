//! Writes a store file of the current schema holding every kind of record, and a JSON file of
//! what the store shows of them, for `tests/upgrade.rs`: every later schema must open that file,
//! migrate it and show the same records. Run once per schema version, before its successor:
//!
//! `cargo run -p gridwork-core --example schema_fixture -- core/tests/fixtures/store-schema4`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{TimeZone, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    AreaPath, Gender, ObservationInput, Relation, ResidentInput, Role, SensitiveInput,
    SignedInUser, Store, TaskInput, TrackPoint, VisitInput, VisitOutcome,
};
use serde_json::json;

fn main() {
    let base = std::env::args().nth(1).expect("usage: schema_fixture <path without extension>");
    let db = format!("{base}.sqlite");
    let _ = std::fs::remove_file(&db);
    let grid = AreaPath::parse("320612/001/001/01").unwrap();
    let micro = AreaPath::parse("320612/001/001/01/01").unwrap();
    let areas = demo::areas(2, 2, 2, 2);
    let user = |id: &str, role| SignedInUser {
        user_id: id.into(),
        name: format!("用户{id}"),
        role,
        scope: grid.clone(),
    };
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();

    // Another phone's records, received by this one (stored as received, not in its outbox).
    let mut other = Store::open_in_memory().unwrap();
    other.load_areas(&areas).unwrap();
    other.sign_in(user("w2", Role::GridWorker)).unwrap();
    let mut rng = DemoRng::new(4);
    let theirs = other.households().add(demo::household(&mut rng, &micro)).unwrap();

    let mut s = Store::open(&db, None).unwrap();
    s.load_areas(&areas).unwrap();
    s.apply_changes(&other.outbox(usize::MAX).unwrap()).unwrap();
    s.sign_in(user("w1", Role::GridWorker)).unwrap();
    let mut households = vec![theirs];
    for _ in 0..3 {
        households.push(s.households().add(demo::household(&mut rng, &micro)).unwrap());
    }
    let head = s
        .residents()
        .add(ResidentInput {
            household_id: households[1],
            name: "王秀兰".into(),
            gender: Gender::Female,
            birth_year: Some(1941),
            relation: Relation::Head,
            phone: Some("13912345678".into()),
        })
        .unwrap();
    s.sensitive()
        .set(
            head,
            SensitiveInput {
                id_card: Some("11010519491231002X".into()),
                health: "高血压".into(),
                key_population: None,
                relief_status: None,
            },
        )
        .unwrap();
    let photo = s.add_attachment(b"\xff\xd8\xff fixture photo", "image/jpeg").unwrap();
    let mut visit = VisitInput::routine(households[1], at(20, 9), VisitOutcome::Met);
    visit.situation = "独居，身体尚可".into();
    visit.satisfaction = Some(5);
    visit.photos = vec![photo.clone()];
    let visit = s.visits().record(visit).unwrap();
    let patrol = s.patrols().start(&grid, at(21, 8), None).unwrap();
    let points: Vec<TrackPoint> = (0..20)
        .map(|i| TrackPoint {
            t_ms: at(21, 8).timestamp_millis() + i * 30_000,
            lat: 31.98 + i as f64 * 0.0002,
            lon: 120.89,
            accuracy_m: Some(5.0),
        })
        .collect();
    s.patrols().add_track_points(patrol, &points).unwrap();
    s.patrols()
        .add_observation(
            patrol,
            ObservationInput {
                text: "楼道堆放杂物".into(),
                location: None,
                at: at(21, 8),
                photos: vec![photo.clone()],
            },
        )
        .unwrap();
    s.patrols().end(patrol, at(21, 9)).unwrap();
    let order = s
        .work_orders()
        .report(IncidentInput {
            area: micro.clone(),
            category: "fire_safety".into(),
            severity: Severity::Urgent,
            title: "楼道堆物".into(),
            description: "三楼楼道堆放纸箱".into(),
            location: None,
            photos: vec![photo],
            source: IncidentSource::Patrol,
            household_id: None,
            patrol_id: Some(patrol),
            reported_at: at(21, 9),
        })
        .unwrap();
    s.sign_in(user("h1", Role::GridHead)).unwrap();
    s.work_orders()
        .act(
            order,
            WorkOrderAction {
                event_type: EventType::Accept,
                department: None,
                note: None,
                extension_hours: None,
                satisfaction: None,
                at: at(21, 10),
            },
        )
        .unwrap();
    let task = s
        .tasks()
        .create(TaskInput {
            area: grid.clone(),
            title: "冬季独居老人走访".into(),
            instructions: "逐户走访并记录取暖情况".into(),
            households: vec![households[1]],
            due_at: Some(at(30, 18)),
            assignee: None,
        })
        .unwrap();
    // Half the outbox acknowledged, half still waiting.
    let sent = s.outbox(usize::MAX).unwrap();
    let acked: Vec<[u8; 32]> = sent[..sent.len() / 2]
        .iter()
        .map(|e| automerge::Change::from_bytes(e.bytes.clone()).unwrap().hash().0)
        .collect();
    s.acknowledge(&acked).unwrap();

    let shown = json!({
        "households": households.iter().map(|h| s.households().get(*h).unwrap()).collect::<Vec<_>>(),
        "residents": s.residents().of_household(households[1]).unwrap(),
        "sensitive": s.sensitive().of_resident(head).unwrap(),
        "visit": s.visits().get(visit).unwrap(),
        "patrol": s.patrols().get(patrol).unwrap(),
        "work_order": s.work_orders().get(order).unwrap(),
        "task": s.tasks().get(task).unwrap(),
        "outbox": s.outbox(usize::MAX).unwrap().iter().map(|e| hex::encode(&e.bytes)).collect::<Vec<_>>(),
    });
    drop(s);
    std::fs::write(format!("{base}.json"), serde_json::to_string_pretty(&shown).unwrap()).unwrap();
    println!("wrote {db} and {base}.json");
}
