//! Property tests: the fold is independent of input order and duplicates, and never panics.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::sample::Index;

use super::test_support::t;
use super::*;
use crate::role::Role;

fn event_type() -> impl Strategy<Value = EventType> {
    proptest::sample::select(EventType::ALL.to_vec())
}

fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

/// A role allowed to perform `t` (most of the time), so flows get past the first steps.
fn plausible_role(t: EventType) -> impl Strategy<Value = Role> {
    let allowed: Vec<Role> = Role::ALL.into_iter().filter(|r| role_may_perform(*r, t)).collect();
    prop_oneof![9 => proptest::sample::select(allowed), 1 => role()]
}

/// An event in a small world (few ids, departments and minutes) so ties, id reuse and legal flows
/// all happen.
fn small_event() -> impl Strategy<Value = WorkOrderEvent> {
    let ty = prop_oneof![
        3 => Just(EventType::Report),
        2 => Just(EventType::Accept),
        4 => Just(EventType::Dispatch),
        10 => event_type(),
    ];
    ty.prop_flat_map(|ty| {
        (
            0..80u32,
            plausible_role(ty),
            0..120i64,
            proptest::option::of(0..120i64),
            proptest::option::weighted(
                0.8,
                proptest::sample::select(vec!["police", "sanitation", " "]),
            ),
            proptest::option::of(proptest::sample::select(vec!["a", "b"])),
            proptest::option::of(0..30u32),
            proptest::option::weighted(0.3, 0..7u8),
        )
            .prop_map(move |(id, role, at, rx, dept, note, hours, score)| WorkOrderEvent {
                id: format!("e{id}"),
                event_type: ty,
                by: format!("u-{}", role.as_str()),
                role,
                at: t(at),
                received_at: rx.map(t),
                department: dept.map(str::to_owned),
                note: note.map(str::to_owned),
                extension_hours: hours,
                satisfaction: score,
                photos: vec![],
            })
    })
}

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp())
        .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// Any event at all: extreme times, any role, any department text, huge extensions.
fn wild_event() -> impl Strategy<Value = WorkOrderEvent> {
    (
        ".{0,4}",
        event_type(),
        ".{0,4}",
        role(),
        any_time(),
        proptest::option::of(any_time()),
        proptest::option::of(".{0,6}"),
        proptest::option::of(".{0,6}"),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(
                id,
                event_type,
                by,
                role,
                at,
                received_at,
                department,
                note,
                extension_hours,
                satisfaction,
            )| {
                WorkOrderEvent {
                    id,
                    event_type,
                    by,
                    role,
                    at,
                    received_at,
                    department,
                    note,
                    extension_hours,
                    satisfaction,
                    photos: vec![],
                }
            },
        )
}

fn severity() -> impl Strategy<Value = Severity> {
    proptest::sample::select(Severity::ALL.to_vec())
}

/// A log and the same log with exact copies of some events inserted after their originals (a
/// document merged twice, a replayed change).
fn log_and_duplicated(
    event: impl Strategy<Value = WorkOrderEvent>,
) -> impl Strategy<Value = (Vec<WorkOrderEvent>, Vec<WorkOrderEvent>)> {
    (
        proptest::collection::vec(event, 0..40),
        proptest::collection::vec(any::<(Index, Index)>(), 0..10),
    )
        .prop_map(|(events, dups)| {
            let mut copy = events.clone();
            for (what, at) in dups {
                if events.is_empty() {
                    break;
                }
                let original = what.index(events.len());
                let e = events[original].clone();
                // Insert somewhere after the original's position in the copy.
                let pos = copy.iter().position(|x| *x == e).unwrap_or(0);
                let after = pos + 1 + at.index(copy.len() - pos);
                copy.insert(after.min(copy.len()), e);
            }
            (events, copy)
        })
}

/// A log and the same log as seen with other device clocks: every event's own time skewed by
/// up to a day either way (receive times unknown).
fn log_and_skewed(
    event: impl Strategy<Value = WorkOrderEvent>,
) -> impl Strategy<Value = (Vec<WorkOrderEvent>, Vec<WorkOrderEvent>)> {
    proptest::collection::vec((event, -1440i64..1440), 0..40).prop_map(|pairs| {
        let events: Vec<WorkOrderEvent> = pairs.iter().map(|(e, _)| e.clone()).collect();
        // One skew per distinct event: a duplicate delivery of an event carries the same
        // device time, so it stays a duplicate.
        let mut first: Vec<(WorkOrderEvent, i64)> = Vec::new();
        let skewed = pairs
            .into_iter()
            .map(|(e, minutes)| {
                let minutes = match first.iter().find(|(f, _)| *f == e) {
                    Some((_, m)) => *m,
                    None => {
                        first.push((e.clone(), minutes));
                        minutes
                    }
                };
                let mut e = e;
                e.at += chrono::TimeDelta::minutes(minutes);
                e.received_at = None;
                e
            })
            .collect();
        (events, skewed)
    })
}

fn ids(events: &[WorkOrderEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn duplicates_do_not_matter(
        (events, duplicated) in log_and_duplicated(small_event()),
        severity in severity(),
        now in 0..6000i64,
    ) {
        let policy = DeadlinePolicy::default();
        let a = derive(&events, severity, &policy, t(now));
        let b = derive(&duplicated, severity, &policy, t(now));
        prop_assert_eq!(a, b);
    }

    /// The fold order is the log's order: device clocks (a handler's phone 60 s slow, a
    /// reporter's a day ahead) change measured times, never which steps apply or conflict.
    #[test]
    fn device_clocks_do_not_change_the_fold(
        (events, skewed) in log_and_skewed(prop_oneof![small_event(), wild_event()]),
        severity in severity(),
    ) {
        let policy = DeadlinePolicy::default();
        let now = t(0);
        let a = derive(&events, severity, &policy, now);
        let b = derive(&skewed, severity, &policy, now);
        prop_assert_eq!(a.state, b.state);
        prop_assert_eq!(&a.departments, &b.departments);
        prop_assert_eq!(ids(&a.events), ids(&b.events));
        let conflicts = |s: &WorkOrderSummary| -> Vec<(String, String)> {
            s.conflicts.iter().map(|c| (c.event_id.clone(), c.code.clone())).collect()
        };
        prop_assert_eq!(conflicts(&a), conflicts(&b));
    }

    #[test]
    fn fold_never_panics_and_accounts_for_every_event(
        events in proptest::collection::vec(prop_oneof![small_event(), wild_event()], 0..60),
        severity in severity(),
        hours in any::<(u32, u32, u32)>(),
        now in any_time(),
    ) {
        let policy = DeadlinePolicy {
            urgent_hours: hours.0,
            important_hours: hours.1,
            ordinary_hours: hours.2,
            escalate_after_hours: hours.0,
        };
        let s = derive(&events, severity, &policy, now);
        let mut distinct: Vec<&WorkOrderEvent> = Vec::new();
        for e in &events {
            if !distinct.contains(&e) {
                distinct.push(e);
            }
        }
        // Each distinct event is either applied or a conflict, never dropped.
        prop_assert_eq!(s.events.len() + s.conflicts.len(), distinct.len());
        prop_assert!(!s.overdue || s.is_open());
        let closed = s.state == Some(WorkOrderState::Closed);
        prop_assert_eq!(s.closed_on_time.is_some(), closed && s.deadline.is_some());
        // Replaying the applied events alone gives the same state with no conflicts.
        let replay = derive(&s.events, severity, &policy, now);
        prop_assert_eq!(replay.state, s.state);
        prop_assert!(replay.conflicts.is_empty());
    }
}
