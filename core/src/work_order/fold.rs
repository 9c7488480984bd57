//! The deterministic fold of a work order's event log into its current summary.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::check::{Step, plan};
use super::error::WorkOrderError;
use super::event::{EventType, WorkOrderEvent};
use super::severity::{DeadlinePolicy, Severity};
use super::state::WorkOrderState;
use crate::role::Role;

/// An event that was not legal at its place in the fold order, kept for review (e.g. the second
/// of two concurrent closes, or a close that landed after a reopen). It did not change the order.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conflict {
    /// The event's id.
    pub event_id: String,
    /// What the event tried to do.
    pub event_type: EventType,
    /// Who did it.
    pub by: String,
    /// In which role.
    pub role: Role,
    /// The event's effective time (server receive time, else device time).
    pub at: DateTime<Utc>,
    /// The stable code of the [`WorkOrderError`] (`illegal_transition`…), for localized text.
    pub code: String,
    /// Why it was not applied, in English (`cannot close a work order in state closed`).
    pub reason: String,
    /// Reviewed by the centre (a later `review_conflicts` step): it no longer waits in the
    /// conflicts queue, and the timeline still shows it.
    #[serde(default)]
    pub reviewed: bool,
}

impl Conflict {
    fn new(event: &WorkOrderEvent, error: &WorkOrderError) -> Self {
        Conflict {
            event_id: event.id.clone(),
            event_type: event.event_type,
            by: event.by.clone(),
            role: event.role,
            at: event.effective_at(),
            code: error.code().to_owned(),
            reason: error.to_string(),
            reviewed: false,
        }
    }
}

/// One dispatched department's own clock on a work order.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepartmentDeadline {
    /// The department's code.
    pub department: String,
    /// When its clock started: its signing (or first handling), server receive time when known.
    pub clock_started_at: DateTime<Utc>,
    /// Its deadline: the clock start + the severity's time + extensions.
    pub deadline: DateTime<Utc>,
}

/// A department's extension request waiting for the centre's decision.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExtension {
    /// The department asking.
    pub department: String,
    /// Hours asked for.
    pub hours: u32,
    /// When it asked (effective time: server receive time, else device time).
    pub requested_at: DateTime<Utc>,
    /// The request event's id.
    pub event_id: String,
}

/// A work order as derived from its events by [`derive`](fn@derive): what the projection table,
/// lists and statistics (按时办结率, overdue lists) read.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderSummary {
    /// Current state; `None` while no valid report is in the log.
    pub state: Option<WorkOrderState>,
    /// The severity the deadline was computed for.
    pub severity: Severity,
    /// Departments currently dispatched, each with its own progress (dispatched, signed,
    /// handling or fed back). Departments that returned the order are gone; kept after verify
    /// and close as the departments that handled it; cleared by reopen.
    pub departments: BTreeMap<String, WorkOrderState>,
    /// Who reported it.
    pub reporter: Option<String>,
    /// When it was reported.
    pub reported_at: Option<DateTime<Utc>>,
    /// When the deadline clock started: the first accept or dispatch.
    pub clock_started_at: Option<DateTime<Utc>>,
    /// Hours added by granted extension requests.
    pub extension_hours: u64,
    /// Extension requests waiting for the centre, by department name (a department's newer
    /// request replaces its older one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_extensions: Vec<PendingExtension>,
    /// The resident's satisfaction (1–5) given at the latest verify that carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<u8>,
    /// The deadline: clock start + the severity's time + extensions. Reopening keeps it.
    pub deadline: Option<DateTime<Utc>>,
    /// Open and past its deadline at the `now` given to [`derive`](fn@derive). A closed order
    /// never is.
    pub overdue: bool,
    /// Put under supervision (督办) at some point.
    pub escalated: bool,
    /// How many supervision / escalation steps were applied (the automatic ones: the first when
    /// the order becomes overdue, the second when it is overdue past the policy's escalation
    /// threshold, to the district).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub escalations: u32,
    /// Each dispatched department's own clock (网格吹哨、部门报到), by department code: it starts
    /// when the department signed for the order (or began handling it, if it skipped signing),
    /// and its deadline is that + the severity's time + extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub department_deadlines: Vec<DepartmentDeadline>,
    /// The departments past their own deadline that have not fed back, at the `now` given to
    /// [`derive`](fn@derive) (only while the order is open).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overdue_departments: Vec<String>,
    /// When it was closed, while it is closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// For a closed order, whether it closed by its deadline (for the on-time closure rate).
    pub closed_on_time: Option<bool>,
    /// The events applied, in fold order.
    pub events: Vec<WorkOrderEvent>,
    /// The events not applied, in fold order, with the reason.
    pub conflicts: Vec<Conflict>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl WorkOrderSummary {
    /// The summary of an empty log: nothing reported yet.
    pub fn new(severity: Severity) -> Self {
        WorkOrderSummary {
            state: None,
            severity,
            departments: BTreeMap::new(),
            reporter: None,
            reported_at: None,
            clock_started_at: None,
            extension_hours: 0,
            pending_extensions: Vec::new(),
            satisfaction: None,
            deadline: None,
            overdue: false,
            escalated: false,
            escalations: 0,
            department_deadlines: Vec::new(),
            overdue_departments: Vec::new(),
            closed_at: None,
            closed_on_time: None,
            events: Vec::new(),
            conflicts: Vec::new(),
        }
    }

    /// Whether the order exists and is not closed.
    pub fn is_open(&self) -> bool {
        self.state.is_some_and(WorkOrderState::is_open)
    }

    /// Whether any conflicting event waits for review.
    pub fn has_conflicts(&self) -> bool {
        self.conflicts.iter().any(|c| !c.reviewed)
    }

    /// How many conflicting events wait for review (the conflicts queue counts these).
    pub fn unreviewed_conflicts(&self) -> usize {
        self.conflicts.iter().filter(|c| !c.reviewed).count()
    }

    fn start_clock(&mut self, at: DateTime<Utc>, policy: &DeadlinePolicy) {
        if self.clock_started_at.is_none() {
            self.clock_started_at = Some(at);
            self.deadline = at.checked_add_signed(policy.duration(self.severity));
        }
    }

    fn extend(&mut self, hours: u32) {
        self.extension_hours += u64::from(hours);
        // Saturates: a measured deadline at the end of time stays there.
        self.deadline = self.deadline.map(|d| {
            d.checked_add_signed(TimeDelta::hours(i64::from(hours)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
    }

    fn apply(&mut self, event: &WorkOrderEvent, step: Step, policy: &DeadlinePolicy) {
        let at = event.effective_at();
        match step {
            Step::Report => {
                self.state = Some(WorkOrderState::Reported);
                self.reporter = Some(event.by.clone());
                self.reported_at = Some(at);
            }
            Step::Order(state) => {
                self.state = Some(state);
                match event.event_type {
                    EventType::Accept => self.start_clock(at, policy),
                    EventType::Close => self.closed_at = Some(at),
                    EventType::Verify if event.satisfaction.is_some() => {
                        self.satisfaction = event.satisfaction;
                    }
                    EventType::Reopen => {
                        self.departments.clear();
                        self.department_deadlines.clear();
                        self.pending_extensions.clear();
                        self.closed_at = None;
                    }
                    _ => {}
                }
            }
            Step::Dispatch(department) => {
                self.departments.insert(department, WorkOrderState::Dispatched);
                self.state = Some(WorkOrderState::Dispatched);
                self.start_clock(at, policy);
            }
            Step::Departments(targets) => {
                for (department, progress) in targets {
                    if progress == WorkOrderState::Returned {
                        self.department_deadlines.retain(|d| d.department != department);
                        self.pending_extensions.retain(|p| p.department != department);
                        self.departments.remove(&department);
                    } else {
                        if matches!(event.event_type, EventType::Sign | EventType::Handle)
                            && !self.department_deadlines.iter().any(|d| d.department == department)
                        {
                            self.department_deadlines.push(DepartmentDeadline {
                                department: department.clone(),
                                clock_started_at: at,
                                deadline: at,
                            });
                        }
                        self.departments.insert(department, progress);
                    }
                }
                // Least advanced department; none left means the order went back to the centre.
                let least = self.departments.values().min().copied();
                self.state = Some(least.unwrap_or(WorkOrderState::Returned));
            }
            Step::RequestExtension(departments, hours) => {
                for department in departments {
                    self.pending_extensions.retain(|p| p.department != department);
                    self.pending_extensions.push(PendingExtension {
                        department,
                        hours,
                        requested_at: at,
                        event_id: event.id.clone(),
                    });
                }
                self.pending_extensions.sort_by(|a, b| a.department.cmp(&b.department));
            }
            Step::DecideExtension { department, approve } => {
                let Some(i) =
                    self.pending_extensions.iter().position(|p| p.department == department)
                else {
                    return;
                };
                let request = self.pending_extensions.remove(i);
                if approve {
                    self.extend(request.hours);
                }
            }
            Step::Escalate => {
                self.escalated = true;
                self.escalations = self.escalations.saturating_add(1);
            }
            // What the reviewer saw: the conflicts folded before this step. One concurrent with
            // the review folds after it and still waits.
            Step::ReviewConflicts => {
                for c in &mut self.conflicts {
                    c.reviewed = true;
                }
            }
        }
        self.events.push(event.clone());
    }
}

/// Each department's deadline from its own clock start, and which are overdue at `now`.
fn department_deadlines(
    summary: &mut WorkOrderSummary,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) {
    let allowed = policy
        .duration(summary.severity)
        .checked_add(&TimeDelta::hours(i64::try_from(summary.extension_hours).unwrap_or(i64::MAX)))
        .unwrap_or(TimeDelta::MAX);
    for d in &mut summary.department_deadlines {
        d.deadline =
            d.clock_started_at.checked_add_signed(allowed).unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
    summary.department_deadlines.sort_by(|a, b| a.department.cmp(&b.department));
    let open = summary.is_open();
    summary.overdue_departments = summary
        .department_deadlines
        .iter()
        .filter(|d| {
            open && now > d.deadline
                && summary
                    .departments
                    .get(&d.department)
                    .is_some_and(|p| *p < WorkOrderState::FedBack)
        })
        .map(|d| d.department.clone())
        .collect();
}

/// Derives a work order's summary from its event log, deterministically.
///
/// The fold order is the log's own order — the document's `events` list, which Automerge keeps
/// identical on every replica and which extends causality (an event appended after seeing
/// another comes after it; concurrent ones are ordered by Automerge's deterministic tie-break)
/// — with the report moved first. It is a function of replicated data only: never of device
/// clocks, nor of which receive times a device happens to know, so every phone and the server
/// fold the same state, departments and conflicts. Times only *measure*: the deadline, the
/// closure time and on-time closure use each event's effective time (server receive time, else
/// device time).
///
/// Exact copies of an earlier event count once; an event reusing an earlier id with different
/// content is a conflict. Each event is checked against the order as it stands
/// ([`check_event`](super::check_event)): legal ones are applied, illegal ones become
/// [`Conflict`]s (the second of two concurrent closes, a close after a concurrent reopen).
///
/// `severity` and `policy` give the deadline; `now` decides the overdue flag. Never panics.
pub fn derive(
    events: &[WorkOrderEvent],
    severity: Severity,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) -> WorkOrderSummary {
    let mut ordered: Vec<&WorkOrderEvent> = events.iter().collect();
    // Stable: everything but the report keeps the log's order. Every other event causally
    // follows the report, so this only matters for malformed logs.
    ordered.sort_by_key(|e| e.event_type != EventType::Report);

    let mut summary = WorkOrderSummary::new(severity);
    let mut seen: HashMap<&str, Vec<&WorkOrderEvent>> = HashMap::new();
    for event in ordered {
        let same_id = seen.entry(event.id.as_str()).or_default();
        if same_id.contains(&event) {
            continue;
        }
        same_id.push(event);
        if same_id.len() > 1 {
            let error = WorkOrderError::DuplicateEventId { id: event.id.clone() };
            summary.conflicts.push(Conflict::new(event, &error));
            continue;
        }
        match plan(&summary, event) {
            Ok(step) => summary.apply(event, step, policy),
            Err(error) => summary.conflicts.push(Conflict::new(event, &error)),
        }
    }

    summary.overdue = summary.is_open() && summary.deadline.is_some_and(|d| now > d);
    department_deadlines(&mut summary, policy, now);
    if summary.state == Some(WorkOrderState::Closed) {
        summary.closed_on_time = summary.closed_at.zip(summary.deadline).map(|(c, d)| c <= d);
    }
    summary
}

#[cfg(test)]
mod clock_tests {
    use super::super::test_support::{dispatched, ev, t};
    use super::*;

    /// Important (24 h) order: report 0, accept 10, dispatch to sanitation 20 and police 25 —
    /// each event's device clock a day fast, the server's receive time the truth.
    fn two_departments() -> Vec<WorkOrderEvent> {
        let skew = TimeDelta::days(1);
        let mut events = dispatched();
        events
            .push(ev("d2", EventType::Dispatch, Role::TownOperator, 25).with_department("police"));
        events
            .into_iter()
            .map(|e| {
                let rx = e.at;
                WorkOrderEvent { at: rx + skew, ..e }.with_received_at(rx)
            })
            .collect()
    }

    #[test]
    fn deadlines_count_on_the_server_clock_from_acceptance_and_each_signing() {
        let policy = DeadlinePolicy::default();
        let mut events = two_departments();
        events.push(
            ev("s1", EventType::Sign, Role::DepartmentHandler, 60)
                .with_department("sanitation")
                .with_received_at(t(60)),
        );
        events.push(
            ev("s2", EventType::Handle, Role::DepartmentHandler, 120)
                .with_department("police")
                .with_received_at(t(120)),
        );
        let s = derive(&events, Severity::Important, &policy, t(0));
        // The order's clock: acceptance at minute 10 as the server received it.
        assert_eq!(s.clock_started_at, Some(t(10)));
        assert_eq!(s.deadline, Some(t(10) + TimeDelta::hours(24)));
        // Each department's clock: its own signing (or first handling).
        let clocks: Vec<(&str, DateTime<Utc>, DateTime<Utc>)> = s
            .department_deadlines
            .iter()
            .map(|d| (d.department.as_str(), d.clock_started_at, d.deadline))
            .collect();
        assert_eq!(
            clocks,
            vec![
                ("police", t(120), t(120) + TimeDelta::hours(24)),
                ("sanitation", t(60), t(60) + TimeDelta::hours(24)),
            ]
        );

        // At minute 24 h + 90: the order and sanitation are overdue, police is not yet.
        let later = t(24 * 60 + 90);
        let s = derive(&events, Severity::Important, &policy, later);
        assert!(s.overdue);
        assert_eq!(s.overdue_departments, vec!["sanitation".to_owned()]);
        // A district that allows 48 h: nobody is.
        let lenient = DeadlinePolicy { important_hours: 48, ..policy };
        let s = derive(&events, Severity::Important, &lenient, later);
        assert!(!s.overdue && s.overdue_departments.is_empty());
    }

    #[test]
    fn escalations_are_counted_and_returns_stop_a_department_clock() {
        let mut events = two_departments();
        events
            .push(ev("s1", EventType::Sign, Role::DepartmentHandler, 30).with_department("police"));
        events.push(ev("x1", EventType::Escalate, Role::DistrictCentre, 40));
        events.push(ev("x2", EventType::Escalate, Role::DistrictCentre, 50));
        events.push(
            ev("r1", EventType::Return, Role::DepartmentHandler, 60).with_department("police"),
        );
        let s = derive(&events, Severity::Urgent, &DeadlinePolicy::default(), t(24 * 60));
        assert_eq!(s.escalations, 2);
        assert!(s.escalated);
        assert!(s.department_deadlines.iter().all(|d| d.department != "police"));
        assert!(
            s.overdue_departments.is_empty(),
            "sanitation never signed: the order's clock only"
        );
        assert!(s.overdue);
    }
}
