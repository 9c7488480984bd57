//! Writes a store file of the current schema holding every kind of record, and a JSON file of
//! what the store shows of them, for `tests/upgrade.rs`: every later schema must open that file,
//! migrate it and show the same records. Run once per schema version, before its successor:
//!
//! `cargo run -p gridwork-core --example schema_fixture -- core/tests/fixtures/store-schema9`
//!
//! Besides every kind of record it leaves: a household edited often enough to be compacted into
//! a snapshot (with unsent changes inside it), changes received from another phone, one held for
//! a missing dependency and one corrupt change set aside, acknowledged and unsent outbox changes.
//! The JSON also lists every document's heads and every change's bytes, so an upgrade that
//! changes how documents and changes are stored must give back exactly the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{TimeZone, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    AreaPath, ChangeEnvelope, Gender, Incoming, ObservationInput, Received, RecordKind, Relation,
    ResidentInput, Role, SensitiveInput, SignedInUser, Store, TaskInput, TrackPoint, VisitInput,
    VisitOutcome,
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
    // Two edits made on the other phone; only the second arrives here: held for its missing
    // dependency. And a change too corrupt to read, set aside.
    let mut edited = demo::household(&mut rng, &micro);
    edited.phone = Some("13700000001".into());
    other.households().update(theirs, edited.clone()).unwrap();
    edited.phone = Some("13700000002".into());
    other.households().update(theirs, edited).unwrap();
    let mut other_outbox = other.outbox(usize::MAX).unwrap();
    let second_edit = other_outbox.pop().unwrap();
    let first_edit = other_outbox.pop().unwrap();
    let corrupt = ChangeEnvelope {
        doc_id: theirs,
        kind: RecordKind::Household,
        area: micro.clone(),
        bytes: vec![0x85, 0x6f, 0x4a, 0x83, 0xde, 0xad],
    };
    let report = s
        .apply_incoming(Incoming {
            changes: [second_edit, corrupt]
                .into_iter()
                .map(|envelope| Received { envelope, received_at: Some(1_764_000_000_000) })
                .collect(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((report.held, report.refused), (1, 1), "{report:?}");
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
    let not_home = s
        .visits()
        .record(VisitInput::routine(households[2], at(20, 10), VisitOutcome::NotHome))
        .unwrap();
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
                photos: vec![],
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
    // Edited until its loose changes are folded into a snapshot; half of these edits stay unsent
    // (inside the snapshot and in the outbox) after the acknowledgement below.
    let mut often = demo::household(&mut rng, &micro);
    let compacted = s.households().add(often.clone()).unwrap();
    let address = often.address.clone();
    for i in 0..16 {
        often.phone = Some(format!("1390000{i:04}"));
        often.address = format!("{address}（第{i}次核对）");
        s.households().update(compacted, often.clone()).unwrap();
    }
    households.push(compacted);
    // Half the outbox acknowledged, half still waiting.
    let sent = s.outbox(usize::MAX).unwrap();
    let acked: Vec<[u8; 32]> = sent[..sent.len() / 2]
        .iter()
        .map(|e| automerge::Change::from_bytes(e.bytes.clone()).unwrap().hash().0)
        .collect();
    s.acknowledge(&acked).unwrap();

    let mut changes: Vec<String> =
        s.changes_missing_from(&[], None).unwrap().iter().map(|e| hex::encode(&e.bytes)).collect();
    changes.sort();
    let shown = json!({
        "households": households.iter().map(|h| s.households().get(*h).unwrap()).collect::<Vec<_>>(),
        "residents": s.residents().of_household(households[1]).unwrap(),
        "sensitive": s.sensitive().of_resident(head).unwrap(),
        "visit": s.visits().get(visit).unwrap(),
        "visits": [s.visits().get(visit).unwrap(), s.visits().get(not_home).unwrap()],
        "patrol": s.patrols().get(patrol).unwrap(),
        "work_order": s.work_orders().get(order).unwrap(),
        "task": s.tasks().get(task).unwrap(),
        "outbox": s.outbox(usize::MAX).unwrap().iter().map(|e| hex::encode(&e.bytes)).collect::<Vec<_>>(),
        "held": s.held_changes().unwrap(),
        "held_dependency": hex::encode(&first_edit.bytes),
        "held_household": theirs,
        "digest": s.digest(None).unwrap(),
        "changes": changes,
    });
    drop(s);
    std::fs::write(format!("{base}.json"), serde_json::to_string_pretty(&shown).unwrap()).unwrap();
    println!("wrote {db} and {base}.json");
}
