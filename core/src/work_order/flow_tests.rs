//! Tests of the fold and the local checks over whole flows.

use chrono::TimeDelta;

use super::test_support::*;
use super::*;
use crate::role::Role;
use EventType as E;
use WorkOrderState as S;

fn state(events: &[WorkOrderEvent]) -> Option<S> {
    fold(events, 0).state
}

/// The single conflict of `events`, as (event id, code, reason).
fn only_conflict(events: &[WorkOrderEvent]) -> (String, String, String) {
    let s = fold(events, 0);
    assert_eq!(s.conflicts.len(), 1, "{:?}", s.conflicts);
    let c = &s.conflicts[0];
    (c.event_id.clone(), c.code.clone(), c.reason.clone())
}

fn with(mut events: Vec<WorkOrderEvent>, more: WorkOrderEvent) -> Vec<WorkOrderEvent> {
    events.push(more);
    events
}

#[test]
fn empty_log() {
    let s = fold(&[], 0);
    assert_eq!(s, WorkOrderSummary::new(Severity::Important));
    assert!(!s.is_open() && !s.overdue && s.deadline.is_none());
}

#[test]
fn happy_path() {
    let s = fold(&closed(), 80);
    assert_eq!(s.state, Some(S::Closed));
    assert_eq!(s.reporter.as_deref(), Some("user-grid_worker"));
    assert_eq!(s.reported_at, Some(t(0)));
    assert_eq!(s.clock_started_at, Some(t(10)));
    assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(24)));
    assert_eq!(s.closed_at, Some(t(70)));
    assert_eq!(s.closed_on_time, Some(true));
    assert!(!s.overdue && !s.is_open() && !s.has_conflicts());
    assert_eq!(s.events.len(), 8);
    assert_eq!(s.departments.get("sanitation"), Some(&S::FedBack));
}

#[test]
fn each_step_state() {
    let all = closed();
    let expect = [
        S::Reported,
        S::Accepted,
        S::Dispatched,
        S::Signed,
        S::Handling,
        S::FedBack,
        S::Verified,
        S::Closed,
    ];
    for (n, want) in expect.iter().enumerate() {
        assert_eq!(state(&all[..=n]), Some(*want), "after {} events", n + 1);
    }
}

#[test]
fn report_only_first() {
    let (id, code, reason) =
        only_conflict(&with(dispatched(), ev("r2", E::Report, Role::GridWorker, 5)));
    assert_eq!((id.as_str(), code.as_str()), ("r2", "illegal_transition"));
    assert_eq!(reason, "cannot report a work order in state reported");
    // Nothing applies before a report.
    let s = fold(&[ev("a", E::Accept, Role::GridHead, 0)], 0);
    assert_eq!(s.state, None);
    assert_eq!(s.conflicts[0].reason, "cannot accept a work order that has not been reported");
}

#[test]
fn report_is_folded_first_despite_a_skewed_clock() {
    let mut events = dispatched();
    events[0].at = t(1_000); // the reporter's phone clock is ahead
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Dispatched));
    assert!(!s.has_conflicts());
}

#[test]
fn received_at_beats_device_time() {
    // The accept's device clock says minute 100, but the server got it at minute 5, before the
    // dispatch (minute 20): it is ordered by receive time.
    let mut events = dispatched();
    events[1].at = t(100);
    events[1].received_at = Some(t(5));
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Dispatched));
    assert_eq!(s.clock_started_at, Some(t(5)));
    assert!(!s.has_conflicts());
}

#[test]
fn accept_rules() {
    let twice = with(dispatched()[..2].to_vec(), ev("a2", E::Accept, Role::GridHead, 15));
    assert_eq!(only_conflict(&twice).2, "cannot accept a work order in state accepted");
    let by_worker =
        vec![ev("r", E::Report, Role::Liaison, 0), ev("a", E::Accept, Role::GridWorker, 10)];
    let (_, code, reason) = only_conflict(&by_worker);
    assert_eq!(
        (code.as_str(), reason.as_str()),
        ("role_not_allowed", "role grid_worker may not accept")
    );
}

#[test]
fn dispatch_rules() {
    // Before accept: illegal.
    let early = vec![
        ev("r", E::Report, Role::GridWorker, 0),
        ev("d", E::Dispatch, Role::DistrictCentre, 5).with_department("police"),
    ];
    assert_eq!(only_conflict(&early).2, "cannot dispatch a work order in state reported");
    // Must name a department.
    let mut no_dept = dispatched();
    no_dept[2].department = Some(" ".into());
    assert_eq!(only_conflict(&no_dept).1, "missing_department");
    // Same department twice: the second is a conflict.
    let twice = with(
        dispatched(),
        ev("d2", E::Dispatch, Role::DistrictCentre, 25).with_department("sanitation"),
    );
    assert_eq!(only_conflict(&twice).1, "already_dispatched");
    // Co-dispatch to another department while the first works: order back to dispatched.
    let mut co = fed_back();
    co.push(ev("d2", E::Dispatch, Role::DistrictCentre, 55).with_department("police"));
    let s = fold(&co, 0);
    assert_eq!(s.state, Some(S::Dispatched));
    assert_eq!(s.departments.len(), 2);
    // …and it is fed back only when the second department has reported back too.
    co.push(ev("s2", E::Sign, Role::DepartmentHandler, 60).with_department("police"));
    co.push(ev("f2", E::Feedback, Role::DepartmentHandler, 65).with_department("police"));
    let s = fold(&co, 0);
    assert_eq!(s.state, Some(S::FedBack));
    assert!(!s.has_conflicts());
    // Dispatch after verify is illegal.
    let late = with(verified(), ev("d3", E::Dispatch, Role::GridHead, 65).with_department("x"));
    assert_eq!(only_conflict(&late).2, "cannot dispatch a work order in state verified");
}

#[test]
fn sign_rules() {
    let twice = with(
        with(dispatched(), ev("s", E::Sign, Role::DepartmentHandler, 30)),
        ev("s2", E::Sign, Role::DepartmentHandler, 31),
    );
    assert_eq!(only_conflict(&twice).2, "cannot sign a work order in state signed");
    let named = with(
        with(
            dispatched(),
            ev("s", E::Sign, Role::DepartmentHandler, 30).with_department("sanitation"),
        ),
        ev("s2", E::Sign, Role::DepartmentHandler, 31).with_department("sanitation"),
    );
    assert_eq!(only_conflict(&named).2, "cannot sign for department sanitation in state signed");
    let wrong =
        with(dispatched(), ev("s", E::Sign, Role::DepartmentHandler, 30).with_department("police"));
    let (_, code, reason) = only_conflict(&wrong);
    assert_eq!(code, "department_not_dispatched");
    assert_eq!(reason, "cannot sign: department police was not dispatched this work order");
    let by_centre = with(dispatched(), ev("s", E::Sign, Role::DistrictCentre, 30));
    assert_eq!(only_conflict(&by_centre).1, "role_not_allowed");
    let before = with(dispatched()[..2].to_vec(), ev("s", E::Sign, Role::DepartmentHandler, 30));
    assert_eq!(only_conflict(&before).2, "cannot sign a work order in state accepted");
}

#[test]
fn handle_rules() {
    // Signing may be skipped; progress notes may repeat.
    let skip = with(dispatched(), ev("h", E::Handle, Role::DepartmentHandler, 30));
    assert_eq!(state(&skip), Some(S::Handling));
    let again = with(skip, ev("h2", E::Handle, Role::DepartmentHandler, 35).with_note("进展"));
    assert_eq!(fold(&again, 0).events.len(), 5);
    let after_feedback = with(fed_back(), ev("h2", E::Handle, Role::DepartmentHandler, 55));
    assert_eq!(only_conflict(&after_feedback).2, "cannot handle a work order in state fed_back");
}

#[test]
fn feedback_rules() {
    let from_signed = with(
        with(dispatched(), ev("s", E::Sign, Role::DepartmentHandler, 30)),
        ev("f", E::Feedback, Role::DepartmentHandler, 35),
    );
    assert_eq!(state(&from_signed), Some(S::FedBack));
    let from_dispatched = with(dispatched(), ev("f", E::Feedback, Role::DepartmentHandler, 30));
    assert_eq!(
        only_conflict(&from_dispatched).2,
        "cannot feedback a work order in state dispatched"
    );
    let twice = with(fed_back(), ev("f2", E::Feedback, Role::DepartmentHandler, 55));
    assert_eq!(only_conflict(&twice).2, "cannot feedback a work order in state fed_back");
}

#[test]
fn verify_rules() {
    assert_eq!(state(&verified()), Some(S::Verified));
    let early = with(dispatched(), ev("v", E::Verify, Role::GridWorker, 30));
    assert_eq!(only_conflict(&early).2, "cannot verify a work order in state dispatched");
    let by_handler = with(fed_back(), ev("v", E::Verify, Role::DepartmentHandler, 60));
    assert_eq!(only_conflict(&by_handler).2, "role department_handler may not verify");
    let by_liaison = with(fed_back(), ev("v", E::Verify, Role::Liaison, 60));
    assert_eq!(only_conflict(&by_liaison).1, "role_not_allowed");
}

#[test]
fn close_rules() {
    // From fed back: command centres may, grid workers and heads must verify first.
    for role in [Role::DistrictCentre, Role::TownOperator] {
        let s = fold(&with(fed_back(), ev("c", E::Close, role, 60)), 0);
        assert_eq!(s.state, Some(S::Closed), "{role}");
    }
    for role in [Role::GridWorker, Role::GridHead] {
        let events = with(fed_back(), ev("c", E::Close, role, 60));
        assert_eq!(only_conflict(&events).2, "cannot close a work order in state fed_back");
    }
    let early = with(dispatched(), ev("c", E::Close, Role::DistrictCentre, 30));
    assert_eq!(only_conflict(&early).2, "cannot close a work order in state dispatched");
}

#[test]
fn two_people_closing() {
    let events = with(closed(), ev("c2", E::Close, Role::GridHead, 71));
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Closed));
    assert_eq!(s.closed_at, Some(t(70)));
    let (id, code, reason) = only_conflict(&events);
    assert_eq!((id.as_str(), code.as_str()), ("c2", "illegal_transition"));
    assert_eq!(reason, "cannot close a work order in state closed");
}

#[test]
fn reviewing_conflicts() {
    let two_closes = with(closed(), ev("c2", E::Close, Role::GridHead, 71));
    let s = fold(&two_closes, 0);
    assert!(s.has_conflicts());
    assert_eq!(s.unreviewed_conflicts(), 1);
    // Who may review: the centres and the grid head, not a worker or a handler.
    for role in [Role::GridHead, Role::TownOperator, Role::DistrictCentre] {
        assert_eq!(check_transition(&s, E::ReviewConflicts, role), Ok(()), "{role}");
    }
    for role in [Role::GridWorker, Role::DepartmentHandler, Role::Liaison] {
        let e = check_transition(&s, E::ReviewConflicts, role).unwrap_err();
        assert_eq!(e.code(), "role_not_allowed", "{role}");
    }

    // Reviewed: the conflict stays in the record, marked, and no longer waits; the order's state
    // is untouched; the review is in the timeline.
    let reviewed = with(two_closes.clone(), ev("rv", E::ReviewConflicts, Role::TownOperator, 80));
    let r = fold(&reviewed, 0);
    assert_eq!(r.state, Some(S::Closed));
    assert_eq!(r.closed_at, s.closed_at);
    assert_eq!(r.conflicts.len(), 1);
    assert!(r.conflicts[0].reviewed && !r.has_conflicts() && r.unreviewed_conflicts() == 0);
    assert_eq!(r.events.last().map(|e| e.event_type), Some(E::ReviewConflicts));

    // Nothing left to review: writers are refused, with a code.
    let again = ev("rv2", E::ReviewConflicts, Role::DistrictCentre, 81);
    assert_eq!(check_event(&r, &again).unwrap_err().code(), "no_conflict_to_review");
    assert_eq!(
        check_transition(&r, E::ReviewConflicts, Role::DistrictCentre).unwrap_err().code(),
        "no_conflict_to_review"
    );
    assert_eq!(
        check_transition(&fold(&closed(), 0), E::ReviewConflicts, Role::GridHead)
            .unwrap_err()
            .code(),
        "no_conflict_to_review"
    );

    // Two reviewers at once (or a double press merged from two phones): the second review is a
    // no-op in the fold, never a new conflict.
    let twice = with(reviewed.clone(), again);
    let r2 = fold(&twice, 0);
    assert!(!r2.has_conflicts());
    assert_eq!(r2.conflicts.len(), 1);

    // A conflict the reviewer had not seen (folded after the review) still waits.
    let late = with(reviewed, ev("c3", E::Close, Role::GridWorker, 82));
    let l = fold(&late, 0);
    assert_eq!(l.conflicts.len(), 2);
    assert_eq!(l.unreviewed_conflicts(), 1);
    assert!(!l.conflicts[1].reviewed && l.conflicts[1].event_id == "c3");
}

#[test]
fn close_while_reopening() {
    // Reopen lands first: the concurrent close is a conflict, the order is open again.
    let events = with(
        with(verified(), ev("o", E::Reopen, Role::GridHead, 65)),
        ev("c", E::Close, Role::GridWorker, 70),
    );
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Accepted));
    assert_eq!(only_conflict(&events).2, "cannot close a work order in state accepted");
    // Close lands first: the reopen applies after it.
    let events = with(closed(), ev("o", E::Reopen, Role::GridHead, 75));
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Accepted));
    assert!(s.departments.is_empty() && s.closed_at.is_none() && s.closed_on_time.is_none());
    assert!(!s.has_conflicts());
}

#[test]
fn reopen_rules() {
    for base in [fed_back(), verified(), closed()] {
        assert_eq!(state(&with(base, ev("o", E::Reopen, Role::GridWorker, 90))), Some(S::Accepted));
    }
    let early = with(dispatched(), ev("o", E::Reopen, Role::GridWorker, 30));
    assert_eq!(only_conflict(&early).2, "cannot reopen a work order in state dispatched");
    let by_liaison = with(closed(), ev("o", E::Reopen, Role::Liaison, 90));
    assert_eq!(only_conflict(&by_liaison).1, "role_not_allowed");
    // Reopened, it must be dispatched again and can close again.
    let mut again = with(closed(), ev("o", E::Reopen, Role::GridWorker, 90));
    again.push(ev("d2", E::Dispatch, Role::TownOperator, 100).with_department("sanitation"));
    again.push(ev("f2", E::Handle, Role::DepartmentHandler, 110));
    again.push(ev("f3", E::Feedback, Role::DepartmentHandler, 120));
    again.push(ev("c2", E::Close, Role::TownOperator, 130));
    let s = fold(&again, 0);
    assert_eq!(s.state, Some(S::Closed));
    assert_eq!(s.closed_at, Some(t(130)));
    assert!(!s.has_conflicts());
}

#[test]
fn return_rules() {
    let returned = with(
        dispatched(),
        ev("x", E::Return, Role::DepartmentHandler, 30).with_note("不属于本部门"),
    );
    let s = fold(&returned, 0);
    assert_eq!(s.state, Some(S::Returned));
    assert!(s.departments.is_empty());
    // A returned order is accepted or re-dispatched by the centre.
    let redispatched = with(
        returned.clone(),
        ev("d2", E::Dispatch, Role::DistrictCentre, 40).with_department("police"),
    );
    assert_eq!(state(&redispatched), Some(S::Dispatched));
    assert_eq!(
        state(&with(returned.clone(), ev("a2", E::Accept, Role::GridHead, 40))),
        Some(S::Accepted)
    );
    // From signed too, but not while handling.
    let signed = with(dispatched(), ev("s", E::Sign, Role::DepartmentHandler, 25));
    assert_eq!(
        state(&with(signed, ev("x", E::Return, Role::DepartmentHandler, 30))),
        Some(S::Returned)
    );
    let handling = with(dispatched(), ev("h", E::Handle, Role::DepartmentHandler, 25));
    let late = with(handling, ev("x", E::Return, Role::DepartmentHandler, 30));
    assert_eq!(only_conflict(&late).2, "cannot return a work order in state handling");
    // Nothing to return once returned.
    let again = with(returned, ev("x2", E::Return, Role::DepartmentHandler, 35));
    assert_eq!(only_conflict(&again).2, "cannot return a work order in state returned");
}

#[test]
fn one_of_two_departments_returns() {
    let mut events = dispatched();
    events.push(ev("d2", E::Dispatch, Role::TownOperator, 21).with_department("police"));
    events.push(ev("s", E::Sign, Role::DepartmentHandler, 30).with_department("sanitation"));
    assert_eq!(state(&events), Some(S::Dispatched)); // police has not signed
    events.push(ev("x", E::Return, Role::DepartmentHandler, 31).with_department("police"));
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Signed));
    assert_eq!(s.departments.keys().collect::<Vec<_>>(), ["sanitation"]);
}

#[test]
fn deadline_per_severity() {
    let policy = DeadlinePolicy::default();
    for (severity, hours) in
        [(Severity::Urgent, 2), (Severity::Important, 24), (Severity::Ordinary, 72)]
    {
        let s = derive(&dispatched(), severity, &policy, t(0));
        assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(hours)), "{severity}");
        assert_eq!(s.severity, severity);
    }
    let custom = DeadlinePolicy { urgent_hours: 1, ..policy };
    let s = derive(&dispatched(), Severity::Urgent, &custom, t(0));
    assert_eq!(s.deadline, Some(t(70)));
    // Not accepted yet: no deadline, never overdue.
    let s = fold(&dispatched()[..1], 100_000);
    assert!(s.deadline.is_none() && !s.overdue);
    // The clock starts at the first accept or dispatch, not at the report.
    let reported = vec![ev("r", E::Report, Role::GridWorker, 0)];
    assert!(fold(&reported, 0).clock_started_at.is_none());
}

#[test]
fn extension_extends_deadline_once_approved() {
    let asked = with(
        with(
            dispatched(),
            ev("x1", E::RequestExtension, Role::DepartmentHandler, 30).with_extension_hours(4),
        ),
        ev("x2", E::RequestExtension, Role::DepartmentHandler, 40).with_extension_hours(20),
    );
    // Asked, not granted: the deadline stands; the newer request replaced the older one.
    let s = fold(&asked, 0);
    assert_eq!(s.extension_hours, 0);
    assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(24)));
    assert_eq!(s.pending_extensions.len(), 1);
    assert_eq!(s.pending_extensions[0].department, "sanitation");
    assert_eq!(s.pending_extensions[0].hours, 20);
    assert_eq!(s.pending_extensions[0].event_id, "x2");
    let events = with(asked.clone(), ev("ok", E::ApproveExtension, Role::TownOperator, 50));
    let s = fold(&events, 0);
    assert_eq!(s.extension_hours, 20);
    assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(44)));
    assert!(s.pending_extensions.is_empty());
    assert_eq!(s.state, Some(S::Dispatched));
    // Overdue without the extension, not with it.
    let now = 10 + 30 * 60;
    assert!(fold(&asked, now).overdue);
    assert!(!fold(&events, now).overdue);
    // A second approval has nothing to approve.
    let twice = with(events, ev("ok2", E::ApproveExtension, Role::TownOperator, 60));
    assert_eq!(only_conflict(&twice).1, "no_pending_extension");
}

#[test]
fn declined_extension_leaves_the_deadline() {
    let asked = with(
        dispatched(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 30).with_extension_hours(8),
    );
    let declined = with(
        asked.clone(),
        ev("no", E::DeclineExtension, Role::DistrictCentre, 40).with_department("sanitation"),
    );
    let s = fold(&declined, 0);
    assert_eq!(s.extension_hours, 0);
    assert!(s.pending_extensions.is_empty());
    assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(24)));
    // Nothing waits: neither decision is legal, and the pre-check says so.
    let none = fold(&dispatched(), 0);
    for t in [E::ApproveExtension, E::DeclineExtension] {
        assert_eq!(
            check_transition(&none, t, Role::TownOperator).unwrap_err().code(),
            "no_pending_extension"
        );
    }
    // Only command roles decide; a decision naming another department finds nothing.
    let by_handler = with(asked.clone(), ev("h", E::ApproveExtension, Role::DepartmentHandler, 40));
    assert_eq!(only_conflict(&by_handler).1, "role_not_allowed");
    let wrong = with(
        asked.clone(),
        ev("w", E::ApproveExtension, Role::TownOperator, 40).with_department("police"),
    );
    assert_eq!(only_conflict(&wrong).1, "no_pending_extension");
    // A department that returns the order takes its request with it.
    let returned = with(asked, ev("ret", E::Return, Role::DepartmentHandler, 40));
    assert!(fold(&returned, 0).pending_extensions.is_empty());
}

#[test]
fn two_departments_waiting_need_a_named_decision() {
    let events = with(
        with(
            with(
                dispatched(),
                ev("d2", E::Dispatch, Role::TownOperator, 25).with_department("police"),
            ),
            ev("x1", E::RequestExtension, Role::DepartmentHandler, 30)
                .with_department("sanitation")
                .with_extension_hours(4),
        ),
        ev("x2", E::RequestExtension, Role::DepartmentHandler, 31)
            .with_department("police")
            .with_extension_hours(6),
    );
    let unnamed = with(events.clone(), ev("ap", E::ApproveExtension, Role::TownOperator, 40));
    assert_eq!(only_conflict(&unnamed).1, "missing_department");
    let named = with(
        events,
        ev("ap", E::ApproveExtension, Role::TownOperator, 40).with_department("police"),
    );
    let s = fold(&named, 0);
    assert_eq!(s.extension_hours, 6);
    assert_eq!(s.pending_extensions.len(), 1);
    assert_eq!(s.pending_extensions[0].department, "sanitation");
}

#[test]
fn verify_carries_the_residents_satisfaction() {
    let events = with(fed_back(), ev("v", E::Verify, Role::GridWorker, 60).with_satisfaction(4));
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Verified));
    assert_eq!(s.satisfaction, Some(4));
    for bad in [0, 6] {
        let e = with(fed_back(), ev("v", E::Verify, Role::GridWorker, 60).with_satisfaction(bad));
        assert_eq!(only_conflict(&e).1, "invalid_satisfaction", "score {bad}");
    }
    let on_close = with(verified(), ev("c", E::Close, Role::GridWorker, 70).with_satisfaction(5));
    assert_eq!(only_conflict(&on_close).1, "invalid_satisfaction");
    // A reopen keeps the score given; the next verify's score replaces it.
    let reverified = with(
        with(with(events, ev("ro", E::Reopen, Role::TownOperator, 70)), {
            ev("d2", E::Dispatch, Role::TownOperator, 80).with_department("sanitation")
        }),
        ev("s2", E::Sign, Role::DepartmentHandler, 90),
    );
    assert_eq!(fold(&reverified, 0).satisfaction, Some(4));
}

#[test]
fn extension_rules() {
    let zero = with(
        dispatched(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 30).with_extension_hours(0),
    );
    assert_eq!(only_conflict(&zero).1, "invalid_extension");
    let none = with(dispatched(), ev("x", E::RequestExtension, Role::DepartmentHandler, 30));
    assert_eq!(only_conflict(&none).1, "invalid_extension");
    let max = super::check::MAX_EXTENSION_HOURS;
    let too_long = with(
        dispatched(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 30).with_extension_hours(max + 1),
    );
    assert_eq!(only_conflict(&too_long).1, "invalid_extension");
    let longest = with(
        dispatched(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 30).with_extension_hours(max),
    );
    assert!(fold(&longest, 0).conflicts.is_empty(), "a year's extension is allowed");
    let late = with(
        fed_back(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 60).with_extension_hours(2),
    );
    assert_eq!(only_conflict(&late).2, "cannot request_extension a work order in state fed_back");
    let early = with(
        dispatched()[..2].to_vec(),
        ev("x", E::RequestExtension, Role::DepartmentHandler, 15).with_extension_hours(2),
    );
    assert_eq!(only_conflict(&early).1, "illegal_transition");
    let by_worker = with(
        dispatched(),
        ev("x", E::RequestExtension, Role::GridWorker, 30).with_extension_hours(2),
    );
    assert_eq!(only_conflict(&by_worker).1, "role_not_allowed");
}

#[test]
fn escalate_rules() {
    let s = fold(&with(dispatched(), ev("e", E::Escalate, Role::DistrictCentre, 30)), 0);
    assert!(s.escalated);
    assert_eq!(s.state, Some(S::Dispatched));
    assert!(
        fold(&with(dispatched()[..1].to_vec(), ev("e", E::Escalate, Role::GridHead, 5)), 0)
            .escalated
    );
    let closed_too = with(closed(), ev("e", E::Escalate, Role::DistrictCentre, 80));
    assert_eq!(only_conflict(&closed_too).2, "cannot escalate a work order in state closed");
    let by_worker = with(dispatched(), ev("e", E::Escalate, Role::GridWorker, 30));
    assert_eq!(only_conflict(&by_worker).2, "role grid_worker may not escalate");
    assert!(!fold(&by_worker, 0).escalated);
}

#[test]
fn sync_admin_does_nothing() {
    let s = fold(&[ev("r", E::Report, Role::SyncAdmin, 0)], 0);
    assert_eq!(s.state, None);
    assert_eq!(s.conflicts[0].code, "role_not_allowed");
}

#[test]
fn overdue_vs_closed() {
    let deadline_min = 10 + 24 * 60;
    assert!(!fold(&dispatched(), deadline_min).overdue, "due exactly now is not overdue");
    assert!(fold(&dispatched(), deadline_min + 1).overdue);
    assert!(fold(&verified(), deadline_min + 1).overdue, "verified is still open");
    // Closed on time: never overdue afterwards.
    let s = fold(&closed(), deadline_min + 10_000);
    assert!(!s.overdue);
    assert_eq!(s.closed_on_time, Some(true));
    // Closed late: not overdue (closed), but not on time.
    let mut late = verified();
    late.push(ev("c", E::Close, Role::GridWorker, deadline_min + 5));
    let s = fold(&late, deadline_min + 10);
    assert!(!s.overdue);
    assert_eq!(s.closed_on_time, Some(false));
    // An open order has no closure verdict.
    assert_eq!(fold(&verified(), 0).closed_on_time, None);
}

#[test]
fn duplicates_count_once() {
    let events = closed();
    let mut repeated = events.clone();
    repeated.extend(events.iter().take(4).cloned());
    assert_eq!(fold(&repeated, 0), fold(&events, 0));
    assert!(!fold(&repeated, 0).has_conflicts());
}

#[test]
fn log_order_not_device_clocks_decides() {
    // The handler's phone clock is an hour slow: its sign, handle and feedback carry times
    // before the dispatch they followed. The log's order (causal) still applies them in turn.
    let mut events = closed();
    for e in events.iter_mut() {
        if e.role == Role::DepartmentHandler {
            e.at -= chrono::TimeDelta::minutes(60);
        }
    }
    let s = fold(&events, 0);
    assert_eq!(s.state, Some(S::Closed));
    assert!(!s.has_conflicts(), "{:?}", s.conflicts);
}

#[test]
fn reused_id_with_other_content_is_a_conflict() {
    let mut events = dispatched();
    let mut forged = ev("a", E::Escalate, Role::DistrictCentre, 30);
    forged.note = Some("same id".into());
    events.push(forged);
    let (id, code, _) = only_conflict(&events);
    assert_eq!((id.as_str(), code.as_str()), ("a", "duplicate_event"));
    // The first in log order is the one applied.
    assert_eq!(fold(&events, 0).state, Some(S::Dispatched));
}

#[test]
fn check_transition_refuses_locally() {
    let s = fold(&dispatched(), 0);
    let err = check_transition(&s, E::Close, Role::DistrictCentre).unwrap_err();
    assert_eq!(err.to_string(), "cannot close a work order in state dispatched");
    assert_eq!(err.code(), "illegal_transition");
    let err = check_transition(&s, E::Dispatch, Role::Liaison).unwrap_err();
    assert_eq!(err.to_string(), "role liaison may not dispatch");
    assert_eq!(err.code(), "role_not_allowed");
    assert!(check_transition(&s, E::Sign, Role::DepartmentHandler).is_ok());
    assert!(check_transition(&s, E::Dispatch, Role::DistrictCentre).is_ok());
    assert!(check_transition(&s, E::Feedback, Role::DepartmentHandler).is_err());
    assert!(
        check_transition(&WorkOrderSummary::new(Severity::Urgent), E::Report, Role::Liaison)
            .is_ok()
    );
    // The full check also looks at the department.
    let dup = ev("d2", E::Dispatch, Role::DistrictCentre, 30).with_department("sanitation");
    assert_eq!(check_event(&s, &dup).unwrap_err().code(), "already_dispatched");
    let ok = ev("d2", E::Dispatch, Role::DistrictCentre, 30).with_department("police");
    assert!(check_event(&s, &ok).is_ok());
}

#[test]
fn check_agrees_with_fold() {
    // Every event the fold applied passed check_event against the summary before it.
    let events = closed();
    for n in 0..events.len() {
        let before = fold(&events[..n], 0);
        assert!(check_event(&before, &events[n]).is_ok(), "event {n}");
        assert!(check_transition(&before, events[n].event_type, events[n].role).is_ok());
    }
}

#[test]
fn summary_serializes_snake_case() {
    let s = fold(&with(closed(), ev("c2", E::Close, Role::GridHead, 71)), 0);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["state"], "closed");
    assert_eq!(json["departments"]["sanitation"], "fed_back");
    assert_eq!(json["conflicts"][0]["code"], "illegal_transition");
    assert_eq!(json["conflicts"][0]["event_type"], "close");
    let back: WorkOrderSummary = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}
