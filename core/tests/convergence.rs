//! Convergence: replicas doing random creates, edits, visits and deletes, exchanging changes in
//! random order with duplicates and partial deliveries, end with identical documents and
//! identical projection rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    ChangeEnvelope, RecordKind, Role, SignedInUser, Store, VisitInput, VisitOutcome,
};
use proptest::prelude::*;
use uuid::Uuid;

const REPLICAS: usize = 3;
const ROLES: [(Role, &str); 3] = [
    (Role::GridWorker, GRID),
    (Role::TownOperator, "320612/001"),
    (Role::DepartmentHandler, "320612"),
];

#[derive(Debug, Clone)]
enum Op {
    Report {
        r: usize,
        urgent: bool,
    },
    Act {
        r: usize,
        w: usize,
        step: usize,
        dept: bool,
    },
    Create {
        r: usize,
        seed: u64,
    },
    Edit {
        r: usize,
        h: usize,
        seed: u64,
        members: u32,
    },
    Visit {
        r: usize,
        h: usize,
        day: i64,
        met: bool,
    },
    Delete {
        r: usize,
        h: usize,
    },
    /// Deliver a random subset of `from`'s changes to `to`, shuffled, some twice.
    Deliver {
        from: usize,
        to: usize,
        pick: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..REPLICAS;
    prop_oneof![
        3 => (r.clone(), any::<u64>()).prop_map(|(r, seed)| Op::Create { r, seed }),
        3 => (r.clone(), 0..8usize, any::<u64>(), 1..9u32)
            .prop_map(|(r, h, seed, members)| Op::Edit { r, h, seed, members }),
        3 => (r.clone(), 0..8usize, 0..400i64, any::<bool>())
            .prop_map(|(r, h, day, met)| Op::Visit { r, h, day, met }),
        1 => (r.clone(), 0..8usize).prop_map(|(r, h)| Op::Delete { r, h }),
        2 => (r.clone(), any::<bool>()).prop_map(|(r, urgent)| Op::Report { r, urgent }),
        14 => (r.clone(), 0..4usize, 0..EventType::ALL.len(), any::<bool>())
            .prop_map(|(r, w, step, dept)| Op::Act { r, w, step, dept }),
        3 => (r.clone(), r, prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(from, to, pick)| Op::Deliver { from, to, pick }),
    ]
}

/// Records of `kind` this replica knows, in id order.
fn known_of(s: &Store, kind: RecordKind) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = s.digest(None).unwrap().into_iter().map(|d| d.id).collect();
    ids.retain(|id| s.record_kind(*id).unwrap() == Some(kind));
    ids
}

fn known(s: &Store) -> Vec<Uuid> {
    known_of(s, RecordKind::Household)
}

/// Index into ROLES of the role that takes step `t`.
fn role_for(t: EventType) -> usize {
    match t {
        EventType::Accept | EventType::Dispatch | EventType::Escalate => 1,
        EventType::Sign
        | EventType::Handle
        | EventType::Feedback
        | EventType::Return
        | EventType::RequestExtension => 2,
        _ => 0,
    }
}

fn all_changes(s: &mut Store) -> Vec<ChangeEnvelope> {
    s.changes_missing_from(&[], None).unwrap()
}

fn projection(s: &mut Store) -> String {
    let mut out = String::new();
    for h in s.households().in_area(&area("320612"), 10_000).unwrap() {
        out += &format!("{h:?}\n");
        out += &format!("{:?}\n", s.visits().of_household(h.id).unwrap());
    }
    let far = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    out += &format!("{:?}\n", s.work_orders().open(&area("320612"), far, 10_000).unwrap());
    out += &format!("{:?}\n", s.work_orders().with_conflicts(&area("320612"), 10_000).unwrap());
    out += &format!("{:?}", s.households().due(&area("320612"), far, 10_000).unwrap());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge(ops in prop::collection::vec(op(), 1..60)) {
        let mut rs: Vec<Store> = (0..REPLICAS).map(|i| store_at(None, &format!("w{i}"))).collect();
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
        for op in ops {
            match op {
                Op::Create { r, seed } => { rs[r].households().add(household(seed)).unwrap(); }
                Op::Edit { r, h, seed, members } => {
                    let ids = known(&rs[r]);
                    if let Some(id) = ids.get(h % ids.len().max(1)) {
                        let mut input = household(seed);
                        input.member_count = members;
                        // Editing a household whose creation has not arrived is refused.
                        let _ = rs[r].households().update(*id, input);
                    }
                }
                Op::Visit { r, h, day, met } => {
                    let ids = known(&rs[r]);
                    if let Some(id) = ids.get(h % ids.len().max(1)) {
                        let _ = rs[r].visits().record(VisitInput::routine(
                            *id,
                            base + chrono::Duration::days(day),
                            if met { VisitOutcome::Met } else { VisitOutcome::NotHome },
                        ));
                    }
                }
                Op::Delete { r, h } => {
                    let ids = known(&rs[r]);
                    if let Some(id) = ids.get(h % ids.len().max(1)) {
                        let _ = rs[r].delete_record(RecordKind::Household, *id);
                    }
                }
                Op::Report { r, urgent } => {
                    rs[r].work_orders().report(IncidentInput {
                        area: area(MICRO),
                        category: "dispute".into(),
                        severity: if urgent { Severity::Urgent } else { Severity::Ordinary },
                        title: "邻里纠纷".into(),
                        description: String::new(),
                        location: None,
                        photos: vec![],
                        source: IncidentSource::GridReport,
                        household_id: None,
                        patrol_id: None,
                        reported_at: base,
                    }).unwrap();
                }
                Op::Act { r, w, step, dept } => {
                    let ids = known_of(&rs[r], RecordKind::WorkOrder);
                    if let Some(id) = ids.get(w % ids.len().max(1)) {
                        // Take the first step, from a random starting point in the list, that
                        // is legal here; each step is taken in the role that may take it.
                        for k in 0..EventType::ALL.len() {
                            let t = EventType::ALL[(step + k) % EventType::ALL.len()];
                            let (role, scope) = ROLES[role_for(t)];
                            rs[r].sign_in(SignedInUser {
                                user_id: format!("u{r}-{}", role.as_str()),
                                name: "x".into(),
                                role,
                                scope: area(scope),
                            }).unwrap();
                            let done = rs[r].work_orders().act(*id, WorkOrderAction {
                                event_type: t,
                                department: (dept || t == EventType::Dispatch)
                                    .then(|| "城管".to_string()),
                                note: None,
                                extension_hours: (t == EventType::RequestExtension).then_some(4),
                                satisfaction: (t == EventType::Verify).then_some(4),
                                // A feedback shows the finished work (a nested list to merge).
                                photos: if t == EventType::Feedback {
                                    vec![gridwork_core::PhotoRef {
                                        hash: format!("{:064x}", step + k),
                                        size: 1024,
                                        mime: "image/jpeg".into(),
                                    }]
                                } else {
                                    vec![]
                                },
                                at: base + chrono::Duration::minutes((step + k) as i64),
                            });
                            if done.is_ok() { break; }
                        }
                    }
                }
                Op::Deliver { from, to, pick } => {
                    if from == to { continue; }
                    let changes = all_changes(&mut rs[from]);
                    if changes.is_empty() { continue; }
                    let batch: Vec<ChangeEnvelope> = pick
                        .iter()
                        .map(|p| changes[*p as usize % changes.len()].clone())
                        .collect();
                    rs[to].apply_changes(&batch).unwrap();
                }
            }
        }
        // Full exchange, all pairs, until quiescent.
        for _ in 0..2 {
            for from in 0..REPLICAS {
                for to in 0..REPLICAS {
                    if from != to {
                        let theirs = rs[to].digest(None).unwrap();
                        let missing = rs[from].changes_missing_from(&theirs, None).unwrap();
                        rs[to].apply_changes(&missing).unwrap();
                    }
                }
            }
        }
        let wos = known_of(&rs[0], RecordKind::WorkOrder);
        for id in wos {
            let s0 = rs[0].work_orders().get(id).map(|w| w.summary).ok();
            for r in rs[1..].iter_mut() {
                prop_assert_eq!(&r.work_orders().get(id).map(|w| w.summary).ok(), &s0);
            }
        }
        let d0 = rs[0].digest(None).unwrap();
        let p0 = projection(&mut rs[0]);
        for r in rs[1..].iter_mut() {
            prop_assert_eq!(&r.digest(None).unwrap(), &d0);
            prop_assert_eq!(&projection(r), &p0);
        }
    }
}
