//! Whether an event may be applied to a work order as it stands: the single rule function shared
//! by the local pre-check (so the UI refuses before writing) and by the fold (which records a
//! refusal as a conflict).

use super::error::WorkOrderError;
use super::event::{EventType, WorkOrderEvent, role_may_perform};
use super::fold::WorkOrderSummary;
use super::state::{Transition, WorkOrderState, department_transition, order_transition};
use crate::role::Role;

/// What a legal event does, as decided by [`plan`] and carried out by the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// The first report.
    Report,
    /// Accept, verify, close or reopen: the order moves to this state.
    Order(WorkOrderState),
    /// Dispatch to one more department.
    Dispatch(String),
    /// Departments move to these states (`Returned`: the department leaves the order).
    Departments(Vec<(String, WorkOrderState)>),
    /// These departments ask for this many more hours (waiting for the centre).
    RequestExtension(Vec<String>, u32),
    /// The centre decides this department's waiting request: granted (the deadline moves) or not.
    DecideExtension {
        /// The department whose request is decided.
        department: String,
        /// Granted.
        approve: bool,
    },
    /// Flag the order supervised.
    Escalate,
    /// Mark the conflicts folded so far reviewed.
    ReviewConflicts,
}

/// Whether a user in `role` may perform `event_type` on the work order `summary` describes,
/// judging role and state only (not the department or extension hours an event would carry: use
/// [`check_event`] for the full check). Department events pass when at least one dispatched
/// department could take them.
///
/// # Errors
/// [`WorkOrderError::RoleNotAllowed`] when the role may never do this;
/// [`WorkOrderError::IllegalTransition`] naming the current state otherwise.
pub fn check_transition(
    summary: &WorkOrderSummary,
    event_type: EventType,
    role: Role,
) -> Result<(), WorkOrderError> {
    check_role(event_type, role)?;
    check_reviewable(summary, event_type)?;
    match order_transition(summary.state, event_type, role) {
        Transition::Illegal => Err(illegal(summary, event_type)),
        Transition::Unchanged
            if matches!(event_type, EventType::ApproveExtension | EventType::DeclineExtension)
                && summary.pending_extensions.is_empty() =>
        {
            Err(WorkOrderError::NoPendingExtension { department: None })
        }
        Transition::PerDepartment => {
            if summary.departments.values().any(|p| legal_for_department(*p, event_type)) {
                Ok(())
            } else {
                Err(illegal(summary, event_type))
            }
        }
        Transition::To(_) | Transition::Unchanged => Ok(()),
    }
}

/// Whether `event` may be applied to the work order `summary` describes: role, state, the
/// department it names and, for an extension, its hours. The fold applies exactly the events this
/// accepts at their place (and a conflict review only when a conflict waits for one).
///
/// # Errors
/// Any [`WorkOrderError`] but `DuplicateEventId`, naming the event and why.
pub fn check_event(
    summary: &WorkOrderSummary,
    event: &WorkOrderEvent,
) -> Result<(), WorkOrderError> {
    plan(summary, event)?;
    check_reviewable(summary, event.event_type)
}

/// A conflict review needs a conflict waiting for one. Only writers are held to this: the fold
/// applies a review that finds nothing (a second reviewer's, concurrent with the first) as a
/// no-op, so reviewing never makes a new conflict.
fn check_reviewable(
    summary: &WorkOrderSummary,
    event_type: EventType,
) -> Result<(), WorkOrderError> {
    if event_type == EventType::ReviewConflicts && !summary.has_conflicts() {
        return Err(WorkOrderError::NoConflictToReview);
    }
    Ok(())
}

/// Decides what `event` does to the order, or why it may not.
pub(crate) fn plan(
    summary: &WorkOrderSummary,
    event: &WorkOrderEvent,
) -> Result<Step, WorkOrderError> {
    let t = event.event_type;
    check_role(t, event.role)?;
    check_satisfaction(event)?;
    match order_transition(summary.state, t, event.role) {
        Transition::Illegal => Err(illegal(summary, t)),
        Transition::Unchanged => match t {
            EventType::ApproveExtension | EventType::DeclineExtension => {
                Ok(Step::DecideExtension {
                    department: waiting_request(summary, event)?,
                    approve: t == EventType::ApproveExtension,
                })
            }
            EventType::ReviewConflicts => Ok(Step::ReviewConflicts),
            _ => Ok(Step::Escalate),
        },
        Transition::To(to) => match t {
            EventType::Report => Ok(Step::Report),
            EventType::Dispatch => {
                let department = event
                    .department_name()
                    .ok_or(WorkOrderError::MissingDepartment { event_type: t })?;
                if summary.departments.contains_key(department) {
                    return Err(WorkOrderError::AlreadyDispatched {
                        department: department.to_owned(),
                    });
                }
                Ok(Step::Dispatch(department.to_owned()))
            }
            _ => Ok(Step::Order(to)),
        },
        Transition::PerDepartment => {
            let targets = department_targets(summary, event)?;
            if t == EventType::RequestExtension {
                let hours = extension_hours(event)?;
                let departments = targets.into_iter().map(|(d, _)| d).collect();
                return Ok(Step::RequestExtension(departments, hours));
            }
            Ok(Step::Departments(targets))
        }
    }
}

fn check_role(event_type: EventType, role: Role) -> Result<(), WorkOrderError> {
    if role_may_perform(role, event_type) {
        Ok(())
    } else {
        Err(WorkOrderError::RoleNotAllowed { role, event_type })
    }
}

fn illegal(summary: &WorkOrderSummary, event_type: EventType) -> WorkOrderError {
    WorkOrderError::IllegalTransition { state: summary.state, event_type }
}

fn legal_for_department(progress: WorkOrderState, event_type: EventType) -> bool {
    department_transition(progress, event_type) != Transition::Illegal
}

/// The departments a department event moves, with their new progress. An event naming its
/// department addresses that one; one naming none addresses every department it can apply to.
fn department_targets(
    summary: &WorkOrderSummary,
    event: &WorkOrderEvent,
) -> Result<Vec<(String, WorkOrderState)>, WorkOrderError> {
    let t = event.event_type;
    let next = |progress: WorkOrderState| match department_transition(progress, t) {
        Transition::To(s) => Some(s),
        Transition::Unchanged => Some(progress),
        Transition::PerDepartment | Transition::Illegal => None,
    };
    match event.department_name() {
        Some(department) => {
            let progress = *summary.departments.get(department).ok_or_else(|| {
                WorkOrderError::DepartmentNotDispatched {
                    event_type: t,
                    department: department.to_owned(),
                }
            })?;
            let to = next(progress).ok_or_else(|| WorkOrderError::IllegalDepartmentTransition {
                event_type: t,
                department: department.to_owned(),
                state: progress,
            })?;
            Ok(vec![(department.to_owned(), to)])
        }
        None => {
            let targets: Vec<_> = summary
                .departments
                .iter()
                .filter_map(|(d, p)| next(*p).map(|to| (d.clone(), to)))
                .collect();
            if targets.is_empty() { Err(illegal(summary, t)) } else { Ok(targets) }
        }
    }
}

/// The department whose waiting extension request a decision addresses: the one it names, or
/// the only one waiting when it names none.
fn waiting_request(
    summary: &WorkOrderSummary,
    event: &WorkOrderEvent,
) -> Result<String, WorkOrderError> {
    let waiting = |d: &str| summary.pending_extensions.iter().any(|p| p.department == d);
    match event.department_name() {
        Some(d) if waiting(d) => Ok(d.to_owned()),
        Some(d) => Err(WorkOrderError::NoPendingExtension { department: Some(d.to_owned()) }),
        None => match summary.pending_extensions.as_slice() {
            [] => Err(WorkOrderError::NoPendingExtension { department: None }),
            [only] => Ok(only.department.clone()),
            _ => Err(WorkOrderError::MissingDepartment { event_type: event.event_type }),
        },
    }
}

/// A satisfaction score belongs to a verify (the call-back) and lies in 1–5.
fn check_satisfaction(event: &WorkOrderEvent) -> Result<(), WorkOrderError> {
    let Some(score) = event.satisfaction else { return Ok(()) };
    if event.event_type != EventType::Verify {
        return Err(WorkOrderError::InvalidSatisfaction {
            reason: format!("only a verify carries one, not {}", event.event_type),
        });
    }
    crate::validate::satisfaction(score)
        .map(|_| ())
        .map_err(|_| WorkOrderError::InvalidSatisfaction { reason: "must be 1 to 5".into() })
}

/// The longest extension one request may ask for: a year.
pub const MAX_EXTENSION_HOURS: u32 = 24 * 366;

fn extension_hours(event: &WorkOrderEvent) -> Result<u32, WorkOrderError> {
    let hours = event.extension_hours.filter(|h| *h > 0).ok_or_else(|| {
        WorkOrderError::InvalidExtension {
            reason: "must ask for a positive number of hours".into(),
        }
    })?;
    // Judged by the hours asked for alone, never by the deadline they extend: the deadline is a
    // measured time (device or receive clock), and the fold must not depend on clocks.
    if hours > MAX_EXTENSION_HOURS {
        return Err(WorkOrderError::InvalidExtension {
            reason: format!("at most {MAX_EXTENSION_HOURS} hours per request"),
        });
    }
    Ok(hours)
}
