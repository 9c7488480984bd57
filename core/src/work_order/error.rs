//! Why a work order event is not allowed: refused locally by
//! [`check_event`](super::check_event), or recorded as a [`Conflict`](super::Conflict) by the fold.

use thiserror::Error;

use super::event::EventType;
use super::state::WorkOrderState;
use crate::role::Role;

/// An event that may not be applied to a work order as it stands. Each variant names the event
/// and why; [`code`](WorkOrderError::code) gives a stable code for localized UI text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WorkOrderError {
    /// The role may never perform this kind of event.
    #[error("role {role} may not {event_type}")]
    RoleNotAllowed {
        /// The role the user acted in.
        role: Role,
        /// The event attempted.
        event_type: EventType,
    },
    /// The event is not legal in the order's current state.
    #[error("cannot {event_type} a work order {}", describe_state(.state))]
    IllegalTransition {
        /// The order's state (`None`: nothing reported yet).
        state: Option<WorkOrderState>,
        /// The event attempted.
        event_type: EventType,
    },
    /// The event is not legal for this department at its own progress.
    #[error("cannot {event_type} for department {department} in state {state}")]
    IllegalDepartmentTransition {
        /// The event attempted.
        event_type: EventType,
        /// The department addressed.
        department: String,
        /// That department's progress.
        state: WorkOrderState,
    },
    /// A dispatch must name the department it goes to.
    #[error("{event_type} must name a department")]
    MissingDepartment {
        /// The event attempted.
        event_type: EventType,
    },
    /// The department named is not (or no longer) dispatched on this order.
    #[error("cannot {event_type}: department {department} was not dispatched this work order")]
    DepartmentNotDispatched {
        /// The event attempted.
        event_type: EventType,
        /// The department named.
        department: String,
    },
    /// The order is already dispatched to this department.
    #[error("cannot dispatch: already dispatched to department {department}")]
    AlreadyDispatched {
        /// The department named.
        department: String,
    },
    /// An extension request without a positive number of hours, or one the deadline cannot hold.
    #[error("invalid extension request: {reason}")]
    InvalidExtension {
        /// What was wrong, in English.
        reason: String,
    },
    /// An extension decision with no extension request waiting for it (none asked, already
    /// decided, or the department named asked for none).
    #[error("no extension request is waiting{}", describe_department(.department))]
    NoPendingExtension {
        /// The department named by the decision, if any.
        department: Option<String>,
    },
    /// A conflict review when no conflicting step waits for one.
    #[error("no conflicting step waits for review")]
    NoConflictToReview,
    /// A resident satisfaction score outside 1–5, or given on a step other than verify.
    #[error("invalid satisfaction: {reason}")]
    InvalidSatisfaction {
        /// What was wrong, in English.
        reason: String,
    },
    /// The incident's details may not be edited by this user in the order's state: a closed
    /// order (reopen it first), or a reporter's own report once it was accepted (the command
    /// centre edits it then).
    #[error("role {role} may not edit the details of a work order {}", describe_state(.state))]
    DetailsLocked {
        /// The role the user acted in.
        role: Role,
        /// The order's state (`None`: nothing reported yet).
        state: Option<WorkOrderState>,
    },
    /// The role may not edit this incident's details: only its reporter (before acceptance) and
    /// the command roles (grid head, town operator, district centre) may.
    #[error(
        "role {role} may not edit the details of this work order: only its reporter (before it \
         is accepted) and the command centre may"
    )]
    DetailsNotAllowed {
        /// The role the user acted in.
        role: Role,
    },
    /// Two events share an id but differ in content; the one ordered first was kept.
    #[error("event id {id} is used by another event with different content")]
    DuplicateEventId {
        /// The shared id.
        id: String,
    },
}

fn describe_department(department: &Option<String>) -> String {
    match department {
        Some(d) => format!(" from department {d}"),
        None => String::new(),
    }
}

fn describe_state(state: &Option<WorkOrderState>) -> String {
    match state {
        Some(s) => format!("in state {s}"),
        None => "that has not been reported".to_owned(),
    }
}

impl WorkOrderError {
    /// A stable, language-independent code; apps map it to localized text.
    pub fn code(&self) -> &'static str {
        match self {
            WorkOrderError::RoleNotAllowed { .. } | WorkOrderError::DetailsNotAllowed { .. } => {
                "role_not_allowed"
            }
            WorkOrderError::DetailsLocked { .. } => "details_locked",
            WorkOrderError::IllegalTransition { .. }
            | WorkOrderError::IllegalDepartmentTransition { .. } => "illegal_transition",
            WorkOrderError::MissingDepartment { .. } => "missing_department",
            WorkOrderError::DepartmentNotDispatched { .. } => "department_not_dispatched",
            WorkOrderError::AlreadyDispatched { .. } => "already_dispatched",
            WorkOrderError::InvalidExtension { .. } => "invalid_extension",
            WorkOrderError::NoPendingExtension { .. } => "no_pending_extension",
            WorkOrderError::NoConflictToReview => "no_conflict_to_review",
            WorkOrderError::InvalidSatisfaction { .. } => "invalid_satisfaction",
            WorkOrderError::DuplicateEventId { .. } => "duplicate_event",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes() {
        let e = WorkOrderError::IllegalTransition {
            state: Some(WorkOrderState::Dispatched),
            event_type: EventType::Close,
        };
        assert_eq!(e.to_string(), "cannot close a work order in state dispatched");
        assert_eq!(e.code(), "illegal_transition");
        let e = WorkOrderError::IllegalTransition { state: None, event_type: EventType::Accept };
        assert_eq!(e.to_string(), "cannot accept a work order that has not been reported");
        let e =
            WorkOrderError::RoleNotAllowed { role: Role::Liaison, event_type: EventType::Dispatch };
        assert_eq!(e.to_string(), "role liaison may not dispatch");
        assert_eq!(e.code(), "role_not_allowed");
        let e = WorkOrderError::IllegalDepartmentTransition {
            event_type: EventType::Sign,
            department: "police".into(),
            state: WorkOrderState::Signed,
        };
        assert_eq!(e.to_string(), "cannot sign for department police in state signed");
        assert_eq!(
            WorkOrderError::MissingDepartment { event_type: EventType::Dispatch }.code(),
            "missing_department"
        );
        assert_eq!(
            WorkOrderError::AlreadyDispatched { department: "x".into() }.code(),
            "already_dispatched"
        );
        assert_eq!(
            WorkOrderError::DepartmentNotDispatched {
                event_type: EventType::Sign,
                department: "x".into()
            }
            .code(),
            "department_not_dispatched"
        );
        assert_eq!(
            WorkOrderError::InvalidExtension { reason: "r".into() }.code(),
            "invalid_extension"
        );
        assert_eq!(WorkOrderError::DuplicateEventId { id: "i".into() }.code(), "duplicate_event");
        let e = WorkOrderError::DetailsLocked {
            role: Role::GridWorker,
            state: Some(WorkOrderState::Accepted),
        };
        assert_eq!(
            e.to_string(),
            "role grid_worker may not edit the details of a work order in state accepted"
        );
        assert_eq!(e.code(), "details_locked");
        let e = WorkOrderError::DetailsNotAllowed { role: Role::DepartmentHandler };
        assert!(e.to_string().starts_with("role department_handler may not edit the details"));
        assert_eq!(e.code(), "role_not_allowed");
    }
}
