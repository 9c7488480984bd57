//! The figures of the workbench's "Today" view (issue 11): open work orders by town, state,
//! severity and category, how many are overdue, what was reported since a time, how many wait in
//! each queue, and tasks falling due — counted by the database within the caller's scope, so the
//! page draws its charts from a few dozen numbers, never from ten thousand orders.

use std::collections::BTreeMap;

use gridwork_core::RecordKind;
use serde::Serialize;
use utoipa::ToSchema;

use super::queue::Queue;
use super::sql::{Bind, Builder, Dialect, Statement};
use crate::store::ReadScope;

/// The figures for one caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkOrderStats {
    /// When they were counted (ms since the epoch): "overdue" is measured against it.
    pub now: i64,
    /// Open work orders.
    pub open: u64,
    /// Open work orders past their deadline.
    pub overdue: u64,
    /// Work orders reported at or after `since` (any state).
    pub reported_since: u64,
    /// Open work orders by severity code.
    pub by_severity: BTreeMap<String, u64>,
    /// Open overdue work orders by severity code.
    pub overdue_by_severity: BTreeMap<String, u64>,
    /// Open work orders by category code.
    pub by_category: BTreeMap<String, u64>,
    /// Open work orders by town (area path of two levels) and state code.
    pub by_town: BTreeMap<String, BTreeMap<String, u64>>,
    /// Work orders waiting in each queue (`to_accept`…), judged for the caller's departments.
    pub queues: BTreeMap<String, u64>,
    /// Open tasks due before `now` + 24 h (overdue ones included).
    pub tasks_due: u64,
}

/// A grouped count: its key columns (as text) and the count.
pub type CountRow = (Vec<String>, i64);

/// How many statements [`statements`] makes (and [`WorkOrderStats::fold`] reads).
pub const STATEMENTS: usize = 3;

/// The statements the figures are counted with, in the order [`WorkOrderStats::fold`] reads
/// their answers.
pub fn statements(
    dialect: Dialect,
    order_scopes: &[ReadScope],
    task_scopes: &[ReadScope],
    area: Option<&str>,
    departments: &[String],
    since: i64,
    now: i64,
) -> Vec<Statement> {
    // Placeholders are numbered (`?1`, `$1`), so a value may be bound before the text that
    // uses it is pushed.
    let orders = |b: &mut Builder, select: &str| {
        b.push(select);
        b.push(" FROM rm_work_orders t WHERE t.deleted = FALSE");
        b.scope("t", RecordKind::WorkOrder, order_scopes);
        if let Some(a) = area {
            b.within(a);
        }
    };
    // Open orders grouped by area, state, severity, category, whether overdue and which queues
    // they wait in: one pass over the open orders gives every figure but two.
    let mut groups = Builder::new(dialect, "");
    let p = groups.bind(Bind::Int(now));
    let mut select = format!(
        "SELECT t.area_key, t.state, t.severity, t.category, \
         CASE WHEN t.deadline_at IS NOT NULL AND t.deadline_at < {p} THEN 'y' ELSE 'n' END"
    );
    for queue in Queue::ALL.into_iter().filter(|q| q.open_only()) {
        let cond =
            queue.condition(&mut groups, if queue.is_departmental() { departments } else { &[] });
        select.push_str(&format!(", CASE WHEN {cond} THEN 'y' ELSE 'n' END"));
    }
    select.push_str(", COUNT(*)");
    orders(&mut groups, &select);
    let keys = 5 + Queue::ALL.iter().filter(|q| q.open_only()).count();
    let by: Vec<String> = (1..=keys).map(|i| i.to_string()).collect();
    groups.push(&format!(" AND t.is_open = TRUE GROUP BY {}", by.join(", ")));
    // Reported since, and the queues that hold closed orders too, over every order.
    let mut reported = Builder::new(dialect, "");
    orders(&mut reported, "SELECT 'reported', COUNT(*)");
    let s = reported.bind(Bind::Int(since));
    reported.push(&format!(" AND t.reported_at >= {s}"));
    for queue in Queue::ALL.into_iter().filter(|q| !q.open_only()) {
        // The queue code is this server's own constant, not input.
        reported.push(" UNION ALL ");
        orders(&mut reported, &format!("SELECT '{}', COUNT(*)", queue.as_str()));
        let cond = queue.condition(&mut reported, &[]);
        reported.push(&format!(" AND ({cond})"));
    }
    let mut tasks = Builder::new(
        dialect,
        "SELECT 'tasks', COUNT(*) FROM rm_tasks t WHERE t.deleted = FALSE \
         AND t.completed_at IS NULL AND t.due_at IS NOT NULL",
    );
    let due = tasks.bind(Bind::Int(now.saturating_add(24 * 3600 * 1000)));
    tasks.push(&format!(" AND t.due_at < {due}"));
    tasks.scope("t", RecordKind::Task, task_scopes);
    if let Some(a) = area {
        tasks.within(a);
    }
    vec![groups.finish(), reported.finish(), tasks.finish()]
}

/// The town of an area key (`320612/004/017/03/` → `320612/004`): its first two levels.
fn town_of(area_key: &str) -> String {
    area_key.split('/').filter(|s| !s.is_empty()).take(2).collect::<Vec<_>>().join("/")
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl WorkOrderStats {
    /// The figures from the answers to [`statements`], in their order.
    pub fn fold(now: i64, answers: [Vec<CountRow>; STATEMENTS]) -> WorkOrderStats {
        let [groups, reported, tasks] = answers;
        let mut out = WorkOrderStats { now, ..WorkOrderStats::default() };
        out.queues = Queue::ALL.iter().map(|q| (q.as_str().to_owned(), 0)).collect();
        for (keys, n) in groups {
            let [area, state, severity, category, late, queues @ ..] = keys.as_slice() else {
                continue;
            };
            let n = count(n);
            for (queue, waits) in Queue::ALL.iter().filter(|q| q.open_only()).zip(queues) {
                if waits == "y" {
                    *out.queues.entry(queue.as_str().to_owned()).or_default() += n;
                }
            }
            out.open += n;
            *out.by_severity.entry(severity.clone()).or_default() += n;
            *out.by_category.entry(category.clone()).or_default() += n;
            *out.by_town.entry(town_of(area)).or_default().entry(state.clone()).or_default() += n;
            if late == "y" {
                out.overdue += n;
                *out.overdue_by_severity.entry(severity.clone()).or_default() += n;
            }
        }
        for (keys, n) in reported {
            match keys.first().map(String::as_str) {
                Some("reported") => out.reported_since = count(n),
                Some(queue) => {
                    out.queues.insert(queue.to_owned(), count(n));
                }
                None => {}
            }
        }
        out.tasks_due = tasks.iter().map(|(_, n)| count(*n)).sum();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn towns_are_the_first_two_levels() {
        assert_eq!(town_of("320612/004/017/03/02/"), "320612/004");
        assert_eq!(town_of("320612/"), "320612");
    }

    #[test]
    fn folds_groups_into_figures() {
        // Keys: area, state, severity, category, overdue, then one flag per queue.
        let row = |k: &[&str], queue: Option<Queue>, n| {
            let mut keys: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            keys.extend(
                Queue::ALL.iter().map(|q| if Some(*q) == queue { "y" } else { "n" }.into()),
            );
            (keys, n)
        };
        let to_accept = Some(Queue::ToAccept);
        let stats = WorkOrderStats::fold(
            5,
            [
                vec![
                    row(
                        &["320612/004/017/03/", "reported", "urgent", "fire_safety", "y"],
                        to_accept,
                        2,
                    ),
                    row(
                        &["320612/004/018/01/", "dispatched", "ordinary", "dispute", "n"],
                        Some(Queue::ToSign),
                        3,
                    ),
                    row(
                        &["320612/005/001/01/", "reported", "urgent", "dispute", "n"],
                        to_accept,
                        1,
                    ),
                ],
                vec![(vec!["reported".into()], 4), (vec!["conflicts".into()], 2)],
                vec![(vec!["tasks".into()], 7)],
            ],
        );
        assert_eq!(
            (stats.open, stats.overdue, stats.reported_since, stats.tasks_due),
            (6, 2, 4, 7)
        );
        assert_eq!(stats.by_severity["urgent"], 3);
        assert_eq!(stats.overdue_by_severity["urgent"], 2);
        assert_eq!(stats.by_category["dispute"], 4);
        assert_eq!(stats.by_town["320612/004"]["dispatched"], 3);
        assert_eq!(stats.by_town["320612/005"]["reported"], 1);
        assert_eq!(stats.queues["to_accept"], 3);
        assert_eq!(stats.queues["to_sign"], 3);
        assert_eq!(stats.queues["extensions"], 0, "every queue is listed");
        assert_eq!(stats.queues["conflicts"], 2, "closed orders' conflicts count too");
    }
}
