//! Work order states and the legal-transition tables.
//!
//! Two levels:
//! - the **order** ([`order_transition`]): report, accept, dispatch, verify, close, reopen,
//!   escalate;
//! - each dispatched **department** ([`department_transition`]): sign, handle, feedback, return,
//!   request_extension. An order dispatched to several departments is, while they work, in the
//!   state of its least advanced department; it is fed back only once all have fed back.
//!
//! Decisions (DOMAIN.md leaves them open):
//! - `report` is legal only on an empty log; everything else needs a report first.
//! - `accept` from reported or returned. `dispatch` from accepted or returned, and also while
//!   departments are working or have fed back (co-dispatch, 网格吹哨、部门报到: adds one more
//!   department and puts the order back to dispatched until it too reports back).
//! - A department: `sign` from dispatched; `handle` from dispatched (signing may be skipped),
//!   signed or handling (progress updates); `feedback` from signed or handling; `return` from
//!   dispatched or signed (wrong department: the department leaves the order; with none left the
//!   order is returned to the centre to accept or re-dispatch); `request_extension` from
//!   dispatched, signed or handling: it waits for the centre, whose `approve_extension` moves the
//!   deadline and whose `decline_extension` drops it (either needs a waiting request; a
//!   department that returns the order, or a reopen, drops its waiting request).
//! - `verify` from fed back. `close` from verified; command centres (town operator, district
//!   centre) may also close straight from fed back, having done the call-back themselves; grid
//!   workers and grid heads must verify first.
//! - `escalate` in any state but closed; flags the order supervised without changing its state.
//! - `reopen` from fed back, verified or closed → accepted (resident dissatisfied): departments
//!   are cleared and it must be dispatched again; the original deadline still stands.

use serde::{Deserialize, Serialize};

use super::event::EventType;
use crate::error::CoreError;
use crate::role::Role;

/// Where a work order (or one department's part of it) stands. Declared in flow order, which is
/// also the derived [`Ord`]: the least advanced of several departments is the minimum.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderState {
    /// 已上报: reported, waiting to be accepted.
    Reported,
    /// 已受理: accepted (or reopened), waiting to be dispatched.
    Accepted,
    /// 已派单: dispatched to at least one department that has not signed yet.
    Dispatched,
    /// 已签收: every dispatched department has at least signed.
    Signed,
    /// 处置中: every dispatched department is at least handling it.
    Handling,
    /// 已反馈: every dispatched department has reported back.
    FedBack,
    /// 已核查: the result was checked; waiting to be closed.
    Verified,
    /// 已办结: closed. The only state that is not open.
    Closed,
    /// 已退单: every department returned it; back with the centre.
    Returned,
}

impl WorkOrderState {
    /// Every state, in declaration order.
    pub const ALL: [WorkOrderState; 9] = [
        WorkOrderState::Reported,
        WorkOrderState::Accepted,
        WorkOrderState::Dispatched,
        WorkOrderState::Signed,
        WorkOrderState::Handling,
        WorkOrderState::FedBack,
        WorkOrderState::Verified,
        WorkOrderState::Closed,
        WorkOrderState::Returned,
    ];

    /// The stable snake_case name (`fed_back`…), used in projections and statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkOrderState::Reported => "reported",
            WorkOrderState::Accepted => "accepted",
            WorkOrderState::Dispatched => "dispatched",
            WorkOrderState::Signed => "signed",
            WorkOrderState::Handling => "handling",
            WorkOrderState::FedBack => "fed_back",
            WorkOrderState::Verified => "verified",
            WorkOrderState::Closed => "closed",
            WorkOrderState::Returned => "returned",
        }
    }

    /// The state with this stable name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `state` when the name is unknown.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        WorkOrderState::ALL.into_iter().find(|s| s.as_str() == name).ok_or_else(|| {
            CoreError::invalid("state", format!("unknown work order state `{name}`"))
        })
    }

    /// Whether the order is still open (not closed): open orders can be overdue.
    pub fn is_open(self) -> bool {
        self != WorkOrderState::Closed
    }

    /// Whether departments are at work on the order (dispatched … fed back), so that department
    /// events and co-dispatch apply.
    pub fn is_departmental(self) -> bool {
        matches!(
            self,
            WorkOrderState::Dispatched
                | WorkOrderState::Signed
                | WorkOrderState::Handling
                | WorkOrderState::FedBack
        )
    }
}

impl std::fmt::Display for WorkOrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of applying an event type in a state, per the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// Legal; the order (or department) moves to this state. For a department, `Returned` means
    /// it leaves the order.
    To(WorkOrderState),
    /// Legal; the state does not change (escalate, extension request).
    Unchanged,
    /// Legal at order level; each addressed department's progress decides
    /// ([`department_transition`]).
    PerDepartment,
    /// Not legal here.
    Illegal,
}

/// The order-level table: what `event_type`, done in `role`, does to an order in state `from`
/// (`None`: nothing reported yet). Role permissions beyond the close-from-fed-back rule are
/// checked separately by [`role_may_perform`](super::role_may_perform).
pub fn order_transition(
    from: Option<WorkOrderState>,
    event_type: EventType,
    role: Role,
) -> Transition {
    use EventType as E;
    use Transition::{Illegal, PerDepartment, To, Unchanged};
    use WorkOrderState as S;
    let Some(from) = from else {
        return if event_type == E::Report { To(S::Reported) } else { Illegal };
    };
    match event_type {
        E::Report => Illegal,
        E::Accept => match from {
            S::Reported | S::Returned => To(S::Accepted),
            _ => Illegal,
        },
        E::Dispatch => match from {
            S::Accepted | S::Returned => To(S::Dispatched),
            s if s.is_departmental() => To(S::Dispatched),
            _ => Illegal,
        },
        E::Sign | E::Handle | E::Feedback | E::Return | E::RequestExtension => {
            if from.is_departmental() { PerDepartment } else { Illegal }
        }
        E::Verify => match from {
            S::FedBack => To(S::Verified),
            _ => Illegal,
        },
        E::Close => match from {
            S::Verified => To(S::Closed),
            S::FedBack if matches!(role, Role::TownOperator | Role::DistrictCentre) => {
                To(S::Closed)
            }
            _ => Illegal,
        },
        E::ApproveExtension | E::DeclineExtension => {
            if from.is_departmental() {
                Unchanged
            } else {
                Illegal
            }
        }
        E::Escalate => {
            if from.is_open() {
                Unchanged
            } else {
                Illegal
            }
        }
        E::Reopen => match from {
            S::FedBack | S::Verified | S::Closed => To(S::Accepted),
            _ => Illegal,
        },
        // Conflicts wait for review whatever the state, a closed order's too.
        E::ReviewConflicts => Unchanged,
    }
}

/// The department-level table: what a department event does to one department whose progress is
/// `from` (dispatched, signed, handling or fed back). Order-level events are
/// [`Transition::Illegal`] here.
pub fn department_transition(from: WorkOrderState, event_type: EventType) -> Transition {
    use EventType as E;
    use Transition::{Illegal, To, Unchanged};
    use WorkOrderState as S;
    match (event_type, from) {
        (E::Sign, S::Dispatched) => To(S::Signed),
        (E::Handle, S::Dispatched | S::Signed | S::Handling) => To(S::Handling),
        (E::Feedback, S::Signed | S::Handling) => To(S::FedBack),
        (E::Return, S::Dispatched | S::Signed) => To(S::Returned),
        (E::RequestExtension, S::Dispatched | S::Signed | S::Handling) => Unchanged,
        _ => Illegal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType as E;
    use Transition::{Illegal, PerDepartment, To, Unchanged};
    use WorkOrderState as S;

    const ANY: Role = Role::DistrictCentre;

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(S::FedBack.as_str(), "fed_back");
        assert!(S::parse("done").is_err());
        assert!(S::ALL.iter().all(|s| s.is_open() == (*s != S::Closed)));
    }

    #[test]
    fn report_only_first() {
        assert_eq!(order_transition(None, E::Report, Role::Liaison), To(S::Reported));
        for t in E::ALL.into_iter().filter(|t| *t != E::Report) {
            assert_eq!(order_transition(None, t, ANY), Illegal, "{t} before report");
        }
        for s in S::ALL {
            assert_eq!(order_transition(Some(s), E::Report, ANY), Illegal);
        }
    }

    /// The order-level states from which `t` is legal (for the district centre).
    fn legal_from(t: EventType, role: Role) -> Vec<S> {
        S::ALL.into_iter().filter(|s| order_transition(Some(*s), t, role) != Illegal).collect()
    }

    #[test]
    fn order_table() {
        assert_eq!(legal_from(E::Accept, ANY), vec![S::Reported, S::Returned]);
        assert_eq!(
            legal_from(E::Dispatch, ANY),
            vec![S::Accepted, S::Dispatched, S::Signed, S::Handling, S::FedBack, S::Returned]
        );
        assert_eq!(order_transition(Some(S::Signed), E::Dispatch, ANY), To(S::Dispatched));
        let dept = vec![S::Dispatched, S::Signed, S::Handling, S::FedBack];
        for t in [E::Sign, E::Handle, E::Feedback, E::Return, E::RequestExtension] {
            assert_eq!(legal_from(t, Role::DepartmentHandler), dept, "{t}");
            assert_eq!(order_transition(Some(S::Handling), t, ANY), PerDepartment);
        }
        assert_eq!(legal_from(E::Verify, ANY), vec![S::FedBack]);
        assert_eq!(order_transition(Some(S::FedBack), E::Verify, ANY), To(S::Verified));
        assert_eq!(legal_from(E::Close, Role::DistrictCentre), vec![S::FedBack, S::Verified]);
        assert_eq!(legal_from(E::Close, Role::TownOperator), vec![S::FedBack, S::Verified]);
        assert_eq!(legal_from(E::Close, Role::GridWorker), vec![S::Verified]);
        assert_eq!(legal_from(E::Close, Role::GridHead), vec![S::Verified]);
        assert_eq!(order_transition(Some(S::Verified), E::Close, ANY), To(S::Closed));
        let open: Vec<S> = S::ALL.into_iter().filter(|s| *s != S::Closed).collect();
        assert_eq!(legal_from(E::Escalate, ANY), open);
        assert_eq!(order_transition(Some(S::Dispatched), E::Escalate, ANY), Unchanged);
        assert_eq!(legal_from(E::Reopen, ANY), vec![S::FedBack, S::Verified, S::Closed]);
        for t in [E::ApproveExtension, E::DeclineExtension] {
            assert_eq!(legal_from(t, ANY), dept, "{t}");
        }
        assert_eq!(order_transition(Some(S::Closed), E::Reopen, ANY), To(S::Accepted));
    }

    #[test]
    fn department_table() {
        let progress = [S::Dispatched, S::Signed, S::Handling, S::FedBack];
        let legal = |t| -> Vec<S> {
            progress.into_iter().filter(|s| department_transition(*s, t) != Illegal).collect()
        };
        assert_eq!(legal(E::Sign), vec![S::Dispatched]);
        assert_eq!(legal(E::Handle), vec![S::Dispatched, S::Signed, S::Handling]);
        assert_eq!(legal(E::Feedback), vec![S::Signed, S::Handling]);
        assert_eq!(legal(E::Return), vec![S::Dispatched, S::Signed]);
        assert_eq!(legal(E::RequestExtension), vec![S::Dispatched, S::Signed, S::Handling]);
        assert_eq!(department_transition(S::Dispatched, E::Sign), To(S::Signed));
        assert_eq!(department_transition(S::Signed, E::Feedback), To(S::FedBack));
        assert_eq!(department_transition(S::Signed, E::Return), To(S::Returned));
        assert_eq!(department_transition(S::Handling, E::RequestExtension), Unchanged);
        for t in [
            E::Report,
            E::Accept,
            E::Dispatch,
            E::Verify,
            E::Close,
            E::Escalate,
            E::Reopen,
            E::ApproveExtension,
            E::DeclineExtension,
        ] {
            assert!(legal(t).is_empty(), "{t} is not a department event");
        }
    }
}
