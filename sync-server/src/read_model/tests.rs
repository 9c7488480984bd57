//! The read model reads records exactly as a phone does: random work recorded on phones (a grid
//! worker's and the grid head's), folded from the log the server would hold, gives rows equal,
//! field by field, to what the phone that holds every record shows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{TimeDelta, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    AreaPath, ChangeEnvelope, RecordKind, Role, SignedInUser, Store, VisitInput, VisitOutcome,
};
use proptest::prelude::*;
use uuid::Uuid;

use super::docs::Docs;
use super::rows::{KindColumns, row_of};

const GRID: &str = "320612/001/001/01";
const MICRO: &str = "320612/001/001/01/01";

fn phone(user: &str, role: Role) -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
    s.sign_in(SignedInUser {
        user_id: user.into(),
        name: user.into(),
        role,
        scope: AreaPath::parse(GRID).unwrap(),
    })
    .unwrap();
    s
}

/// Random field work: households, visits, incidents on the worker's phone; the grid head takes
/// some orders a few steps and deletes a visit. Returns the log (in the order a server would
/// receive it) and the head's phone, which then holds every record.
fn field_work(seed: u64) -> (Vec<ChangeEnvelope>, Store) {
    let mut rng = DemoRng::new(seed);
    let micro = AreaPath::parse(MICRO).unwrap();
    let mut worker = phone("w1", Role::GridWorker);
    let mut households = Vec::new();
    for _ in 0..(2 + rng.below(4)) {
        households.push(worker.households().add(demo::household(&mut rng, &micro)).unwrap());
    }
    let mut visits = Vec::new();
    for (i, h) in households.iter().enumerate() {
        let outcome = [VisitOutcome::Met, VisitOutcome::NotHome, VisitOutcome::Refused]
            [usize::try_from(rng.below(3)).unwrap()];
        let mut v = VisitInput::routine(*h, Utc::now() - TimeDelta::days(i as i64), outcome);
        v.satisfaction = (rng.below(2) == 0).then_some(1 + u8::try_from(rng.below(5)).unwrap());
        v.situation = demo::person_name(&mut rng);
        visits.push(worker.visits().record(v).unwrap());
    }
    let mut orders = Vec::new();
    for _ in 0..(1 + rng.below(3)) {
        let severity = [Severity::Urgent, Severity::Important, Severity::Ordinary]
            [usize::try_from(rng.below(3)).unwrap()];
        orders.push(
            worker
                .work_orders()
                .report(IncidentInput {
                    area: micro.clone(),
                    category: "sanitation".into(),
                    severity,
                    title: demo::person_name(&mut rng),
                    description: String::new(),
                    location: None,
                    photos: vec![],
                    source: IncidentSource::GridReport,
                    household_id: households.first().copied(),
                    patrol_id: None,
                    reported_at: Utc::now() - TimeDelta::hours(3),
                })
                .unwrap(),
        );
    }
    let mut log = worker.outbox(usize::MAX).unwrap();
    let mut head = phone("h1", Role::GridHead);
    head.apply_changes(&log).unwrap();
    let act = |t, dep: Option<&str>| WorkOrderAction {
        event_type: t,
        department: dep.map(str::to_owned),
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    };
    for id in &orders {
        let steps = rng.below(3);
        if steps >= 1 {
            head.work_orders().act(*id, act(EventType::Accept, None)).unwrap();
        }
        if steps >= 2 {
            head.work_orders().act(*id, act(EventType::Dispatch, Some("城管中队"))).unwrap();
        }
    }
    if rng.below(2) == 0
        && let Some(v) = visits.first()
    {
        head.delete_record(RecordKind::Visit, *v).unwrap();
    }
    log.extend(head.outbox(usize::MAX).unwrap());
    (log, head)
}

/// Folds `log` as the projector does, one document at a time in log order.
fn fold(log: &[ChangeEnvelope]) -> BTreeMap<Uuid, super::rows::RecordRow> {
    let mut docs = Docs::new(4);
    let mut saved: BTreeMap<Uuid, Vec<u8>> = BTreeMap::new();
    let mut rows = BTreeMap::new();
    for e in log {
        let stored = if docs.has(&e.doc_id) { None } else { saved.get(&e.doc_id).cloned() };
        let record = docs.apply(e.doc_id, e.kind, stored.as_deref(), [e.bytes.clone()]).unwrap();
        if let Some(bytes) = docs.save(&e.doc_id) {
            saved.insert(e.doc_id, bytes);
        }
        if let Some(r) = record {
            rows.insert(e.doc_id, row_of(&r, |_| None, Utc::now()));
        }
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rows_equal_what_a_phone_shows(seed in any::<u64>()) {
        let (log, mut head) = fold_input(seed);
        let rows = fold(&log);
        prop_assert!(!rows.is_empty());
        for (id, row) in &rows {
            match row.kind {
                RecordKind::Household => {
                    let h = head.households().get(*id).unwrap().unwrap();
                    let KindColumns::Household { head_name, address, tags } = &row.columns else {
                        panic!("household columns")
                    };
                    prop_assert_eq!(head_name, &h.head_name);
                    prop_assert_eq!(address, &h.address);
                    let phone_tags: Vec<&str> = h.tags.iter().map(|t| t.as_str()).collect();
                    prop_assert_eq!(tags, &phone_tags.join(","));
                    prop_assert_eq!(&row.area, &h.area);
                }
                RecordKind::Visit => {
                    let v = head.visits().get(*id).unwrap();
                    prop_assert_eq!(&row.json, &serde_json::to_string(&v).unwrap());
                    let phone_deleted = !head.visits().of_household(v.household_id).unwrap().contains(id);
                    prop_assert_eq!(row.deleted, phone_deleted);
                }
                RecordKind::WorkOrder => {
                    let w = head.work_orders().get(*id).unwrap();
                    let KindColumns::WorkOrder { state, deadline_at, departments, is_open, .. } = &row.columns else {
                        panic!("work-order columns")
                    };
                    prop_assert_eq!(state.as_str(), w.summary.state.map_or("unknown", |s| s.as_str()));
                    prop_assert_eq!(*deadline_at, w.summary.deadline.map(|d| d.timestamp_millis()));
                    prop_assert_eq!(*is_open, w.summary.is_open());
                    let deps: Vec<&str> = w.summary.departments.keys().map(String::as_str).collect();
                    prop_assert_eq!(departments, &deps.join(","));
                    prop_assert_eq!(&row.json, &serde_json::to_string(&w).unwrap());
                }
                other => prop_assert!(false, "unexpected kind {other}"),
            }
        }
    }
}

fn fold_input(seed: u64) -> (Vec<ChangeEnvelope>, Store) {
    field_work(seed)
}

#[test]
fn a_document_folds_the_same_from_saved_state_as_from_memory() {
    let (log, _) = field_work(7);
    // A cache of one forces nearly every change to start from the saved state.
    let small = {
        let mut docs = Docs::new(1);
        let mut saved: BTreeMap<Uuid, Vec<u8>> = BTreeMap::new();
        let mut rows = BTreeMap::new();
        for e in &log {
            let stored = if docs.has(&e.doc_id) { None } else { saved.get(&e.doc_id).cloned() };
            if let Some(r) =
                docs.apply(e.doc_id, e.kind, stored.as_deref(), [e.bytes.clone()]).unwrap()
            {
                rows.insert(e.doc_id, row_of(&r, |_| None, Utc::now()).columns);
            }
            if let Some(b) = docs.save(&e.doc_id) {
                saved.insert(e.doc_id, b);
            }
        }
        rows
    };
    let large: BTreeMap<Uuid, KindColumns> =
        fold(&log).into_iter().map(|(id, r)| (id, r.columns)).collect();
    assert_eq!(small, large);
    assert!(!small.is_empty());
}

#[test]
fn a_stored_state_that_does_not_load_is_a_clear_error() {
    let mut docs = Docs::new(2);
    let err =
        docs.apply(Uuid::now_v7(), RecordKind::Household, Some(b"not a document"), []).unwrap_err();
    assert!(err.to_string().contains("does not load"));
}
