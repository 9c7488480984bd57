//! The read model's rows: what the server's typed tables hold for one decoded record. Derived
//! only from the core's decoders and work-order fold ([`gridwork_core::kinds::decode_any`]), so
//! a record reads the same on the server as on a phone. Pure: no SQL, no clock except the `now`
//! a work order's overdue flag is measured against (stored rows never hold it: queries compute
//! it).

use chrono::{DateTime, Utc};
use gridwork_core::kinds::AnyRecord;
use gridwork_core::spec::Header;
use gridwork_core::work_order::DeadlinePolicy;
use gridwork_core::{AreaPath, RecordKind};
use uuid::Uuid;

/// The row of one record in the read model: the columns every kind shares, the kind's typed
/// columns, and the whole decoded record as JSON (what a detail view shows).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// Record id.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// Its area (the winner of concurrent moves).
    pub area: AreaPath,
    /// Deleted (tombstone).
    pub deleted: bool,
    /// Created, ms since the Unix epoch (creating device's clock).
    pub created_at: i64,
    /// The kind's typed columns.
    pub columns: KindColumns,
    /// The decoded record, JSON (for sensitive records: only in the sensitive table).
    pub json: String,
}

/// The typed, filterable columns of each kind.
#[derive(Debug, Clone, PartialEq)]
pub enum KindColumns {
    /// A household.
    Household {
        /// Head of household.
        head_name: String,
        /// Full address.
        address: String,
        /// Tags, comma-separated codes.
        tags: String,
    },
    /// A resident.
    Resident {
        /// Household.
        household_id: Uuid,
        /// Name.
        name: String,
    },
    /// A resident's sensitive data (its own table, its own permission).
    Sensitive {
        /// Resident.
        resident_id: Uuid,
        /// Household.
        household_id: Uuid,
        /// Key-population category code.
        key_population: Option<String>,
    },
    /// A visit.
    Visit {
        /// Household visited.
        household_id: Uuid,
        /// Visitor's user id.
        visitor: String,
        /// When, ms.
        visited_at: i64,
        /// Outcome code.
        outcome: String,
        /// Satisfaction 1–5.
        satisfaction: Option<i64>,
        /// Knows the grid worker.
        knows_worker: Option<bool>,
    },
    /// A patrol with its track summary.
    Patrol {
        /// Worker's user id.
        worker: String,
        /// Started, ms.
        started_at: i64,
        /// Ended, ms.
        ended_at: Option<i64>,
        /// GPS fixes.
        points: i64,
        /// Distance walked, metres.
        distance_m: f64,
        /// Duration, seconds.
        duration_s: f64,
    },
    /// A work order with its folded state.
    WorkOrder {
        /// Category code.
        category: String,
        /// Severity code.
        severity: String,
        /// State code (`unknown` for a log that folds to none).
        state: String,
        /// Reported, ms.
        reported_at: i64,
        /// Deadline, ms.
        deadline_at: Option<i64>,
        /// Closed, ms.
        closed_at: Option<i64>,
        /// Closed on time.
        closed_on_time: Option<bool>,
        /// Open.
        is_open: bool,
        /// Escalated (督办).
        escalated: bool,
        /// Departments dispatched to, comma-separated.
        departments: String,
        /// Each dispatched department's progress, `,police=dispatched,sanitation=signed,`.
        dept_states: String,
        /// Extension requests waiting for the centre.
        pending_ext: i64,
        /// The incident's title.
        title: String,
        /// The household it concerns.
        household_id: Option<Uuid>,
        /// The incident's description (searched, not a column).
        description: String,
        /// Conflicting steps awaiting review.
        conflicts: i64,
    },
    /// The district's reference data (no typed columns: its JSON is the record).
    Reference,
    /// A task.
    Task {
        /// Title.
        title: String,
        /// Due, ms.
        due_at: Option<i64>,
        /// Completed, ms.
        completed_at: Option<i64>,
    },
}

/// The row of a decoded record under the default deadline policy (see [`row_with`]).
pub fn row_of(
    record: &AnyRecord,
    received: impl Fn(&[u8; 32]) -> Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> RecordRow {
    row_with(record, &DeadlinePolicy::default(), received, now)
}

/// The row of a decoded record. `policy` is the deadline policy of the record's district (from
/// its reference record); `received` gives the server receive time of a change (the work-order
/// fold measures deadlines with it); `now` is only passed to the fold.
pub fn row_with(
    record: &AnyRecord,
    policy: &DeadlinePolicy,
    received: impl Fn(&[u8; 32]) -> Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> RecordRow {
    let (header, columns, json): (&Header, KindColumns, String) = match record {
        AnyRecord::Household(r) => {
            let h = &r.record;
            let tags: Vec<&str> = h.tags.iter().map(|t| t.as_str()).collect();
            (
                &r.header,
                KindColumns::Household {
                    head_name: h.head_name.clone(),
                    address: h.address.clone(),
                    tags: tags.join(","),
                },
                json(h),
            )
        }
        AnyRecord::Resident(r) => (
            &r.header,
            KindColumns::Resident {
                household_id: r.record.household_id,
                name: r.record.name.clone(),
            },
            json(&r.record),
        ),
        AnyRecord::Sensitive(r) => (
            &r.header,
            KindColumns::Sensitive {
                resident_id: r.record.resident_id,
                household_id: r.record.household_id,
                key_population: r.record.key_population.map(|k| k.as_str().to_owned()),
            },
            json(&r.record),
        ),
        AnyRecord::Visit(r) => {
            let v = &r.record;
            (
                &r.header,
                KindColumns::Visit {
                    household_id: v.household_id,
                    visitor: v.visitor.clone(),
                    visited_at: v.visited_at.timestamp_millis(),
                    outcome: v.outcome.as_str().to_owned(),
                    satisfaction: v.satisfaction.map(i64::from),
                    knows_worker: v.knows_worker,
                },
                json(v),
            )
        }
        AnyRecord::Patrol(r) => {
            let p = &r.record;
            (
                &r.header,
                KindColumns::Patrol {
                    worker: p.worker.clone(),
                    started_at: p.started_at.timestamp_millis(),
                    ended_at: p.ended_at.map(|t| t.timestamp_millis()),
                    points: i64::try_from(p.track.len()).unwrap_or(i64::MAX),
                    distance_m: p.stats.distance_m,
                    duration_s: p.duration_s,
                },
                json(p),
            )
        }
        AnyRecord::WorkOrder(r) => {
            let summary = r.record.summary_with(policy, &received, now);
            let departments: Vec<&str> = summary.departments.keys().map(String::as_str).collect();
            let order = gridwork_core::work_order::WorkOrder::new(r.clone(), summary.clone());
            (
                &r.header,
                KindColumns::WorkOrder {
                    category: r.record.category.clone(),
                    severity: summary.severity.as_str().to_owned(),
                    state: summary.state.map_or("unknown", |s| s.as_str()).to_owned(),
                    reported_at: summary.reported_at.map_or(0, |t| t.timestamp_millis()),
                    deadline_at: summary.deadline.map(|t| t.timestamp_millis()),
                    closed_at: summary.closed_at.map(|t| t.timestamp_millis()),
                    closed_on_time: summary.closed_on_time,
                    is_open: summary.is_open(),
                    escalated: summary.escalated,
                    departments: departments.join(","),
                    dept_states: dept_states(&summary.departments),
                    pending_ext: i64::try_from(summary.pending_extensions.len())
                        .unwrap_or(i64::MAX),
                    title: r.record.title.clone(),
                    household_id: r.record.household_id,
                    description: r.record.description.clone(),
                    conflicts: i64::try_from(summary.unreviewed_conflicts()).unwrap_or(i64::MAX),
                },
                json(&order),
            )
        }
        AnyRecord::Reference(r) => (&r.header, KindColumns::Reference, json(&r.record)),
        AnyRecord::Task(r) => {
            let t = &r.record;
            (
                &r.header,
                KindColumns::Task {
                    title: t.title.clone(),
                    due_at: t.due_at.map(|d| d.timestamp_millis()),
                    completed_at: t.completed_at.map(|d| d.timestamp_millis()),
                },
                json(t),
            )
        }
    };
    RecordRow {
        id: header.id,
        kind: header.kind,
        area: header.area.clone(),
        deleted: header.deleted,
        created_at: header.created_at,
        columns,
        json,
    }
}

/// A record as JSON; the core's record types always serialise.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Each department's progress as `,name=state,name=state,` (the map is sorted by name): one
/// department's progress is one substring test (`query::queue`).
pub(crate) fn dept_states(
    departments: &std::collections::BTreeMap<String, gridwork_core::work_order::WorkOrderState>,
) -> String {
    let mut out = String::from(",");
    for (name, state) in departments {
        out.push_str(name);
        out.push('=');
        out.push_str(state.as_str());
        out.push(',');
    }
    if out.len() == 1 { String::new() } else { out }
}
