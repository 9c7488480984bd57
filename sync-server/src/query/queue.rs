//! The command centre's work queues (issue 11, "Queues"): which open work orders wait for whom.
//! A queue is a filter of the work-order list (`?queue=to_sign`), so it pages, searches and
//! scopes like any list; the departmental queues read the order's per-department progress
//! (`rm_work_orders.dept_states`, migration 8).

use super::sql::{Bind, Builder};

/// A work queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Reported, waiting to be accepted (受理).
    ToAccept,
    /// Accepted, waiting to be dispatched (派单).
    ToDispatch,
    /// Every department returned it (退单): back with the centre.
    Returned,
    /// A department has it and has not signed for it yet (签收).
    ToSign,
    /// A department signed for it or is handling it, and has not fed back yet (处置、反馈).
    ToHandle,
    /// Every department fed back: the centre checks and calls the resident back (核查、回访).
    ToVerify,
    /// Verified, waiting to be closed (办结).
    ToClose,
    /// A department's extension request waits for the centre (延期审批).
    Extensions,
    /// Steps that were not legal where they landed wait for review (冲突).
    Conflicts,
    /// Under supervision (督办) and still open.
    Supervised,
}

impl Queue {
    /// Every queue, in the order the workbench shows them.
    pub const ALL: [Queue; 10] = [
        Queue::ToAccept,
        Queue::ToDispatch,
        Queue::Returned,
        Queue::ToSign,
        Queue::ToHandle,
        Queue::ToVerify,
        Queue::ToClose,
        Queue::Extensions,
        Queue::Conflicts,
        Queue::Supervised,
    ];

    /// The stable code (`to_sign`…).
    pub const fn as_str(self) -> &'static str {
        match self {
            Queue::ToAccept => "to_accept",
            Queue::ToDispatch => "to_dispatch",
            Queue::Returned => "returned",
            Queue::ToSign => "to_sign",
            Queue::ToHandle => "to_handle",
            Queue::ToVerify => "to_verify",
            Queue::ToClose => "to_close",
            Queue::Extensions => "extensions",
            Queue::Conflicts => "conflicts",
            Queue::Supervised => "supervised",
        }
    }

    /// The queue with this code.
    pub fn parse(code: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == code)
    }

    /// Whether a department works this queue: its orders are judged by the progress of the
    /// departments asked about (the `department` filter, else the caller's own).
    pub const fn is_departmental(self) -> bool {
        matches!(self, Queue::ToSign | Queue::ToHandle)
    }

    /// The department progress codes this queue waits on.
    const fn progress(self) -> &'static [&'static str] {
        match self {
            Queue::ToSign => &["dispatched"],
            Queue::ToHandle => &["signed", "handling"],
            _ => &[],
        }
    }

    /// Whether only open orders wait in this queue: all but the conflicts, which wait for review
    /// on a closed order too (a close that lost to another one).
    pub const fn open_only(self) -> bool {
        !matches!(self, Queue::Conflicts)
    }

    /// Appends this queue's condition on `rm_work_orders t`. `departments` narrows the
    /// departmental queues to those departments' progress (empty: any department's).
    pub(crate) fn push_sql(self, b: &mut Builder, departments: &[String]) {
        let cond = self.condition(b, departments);
        let open = if self.open_only() { " AND t.is_open = TRUE" } else { "" };
        b.push(&format!("{open} AND ({cond})"));
    }

    /// This queue's condition on an order of `rm_work_orders t` (besides being open, for
    /// [`Queue::open_only`] queues), as an SQL expression
    /// (its values bound in `b`): the list filters with it, the Today figures count with it.
    pub(crate) fn condition(self, b: &mut Builder, departments: &[String]) -> String {
        let mut state = |s: &str| {
            let p = b.bind(Bind::Text(s.to_owned()));
            format!("t.state = {p}")
        };
        match self {
            Queue::ToAccept => state("reported"),
            Queue::ToDispatch => state("accepted"),
            Queue::Returned => state("returned"),
            Queue::ToVerify => state("fed_back"),
            Queue::ToClose => state("verified"),
            Queue::Extensions => "t.pending_ext > 0".to_owned(),
            Queue::Conflicts => "t.conflicts > 0".to_owned(),
            Queue::Supervised => "t.escalated = TRUE".to_owned(),
            Queue::ToSign | Queue::ToHandle => {
                let mut needles = Vec::new();
                for progress in self.progress() {
                    if departments.is_empty() {
                        needles.push(format!("={progress},"));
                    } else {
                        needles.extend(departments.iter().map(|d| format!(",{d}={progress},")));
                    }
                }
                let position = b.position_fn();
                let tests: Vec<String> = needles
                    .into_iter()
                    .map(|n| {
                        let p = b.bind(Bind::Text(n));
                        format!("{position}(t.dept_states, {p}) > 0")
                    })
                    .collect();
                format!("({})", tests.join(" OR "))
            }
        }
    }
}

/// Appends "dispatched to this department (still working it)" on `rm_work_orders t`.
pub(crate) fn push_department(b: &mut Builder, department: &str) {
    let p = b.bind(Bind::Text(format!(",{department}=")));
    b.push(&format!(" AND {}(t.dept_states, {p}) > 0", b.position_fn()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for q in Queue::ALL {
            assert_eq!(Queue::parse(q.as_str()), Some(q));
        }
        assert_eq!(Queue::parse("to_nowhere"), None);
        assert!(Queue::ToSign.is_departmental() && !Queue::ToVerify.is_departmental());
    }
}
