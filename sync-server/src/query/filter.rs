//! The filters of a list request, parsed and checked before any SQL is made: an unknown or
//! repeated filter, a value of the wrong shape, a bad area or cursor, a limit out of range or an
//! oversized search text is a [`QueryError`] naming the filter (never echoing the value).

use gridwork_core::search::QueryTerm;
use gridwork_core::work_order::{Severity, WorkOrderState};
use gridwork_core::{AreaPath, HouseholdTag};
use uuid::Uuid;

use super::queue::Queue;
use super::{Listed, cursor};

/// The most records one page holds.
pub const MAX_LIMIT: u32 = 500;
/// Records per page when the request names no `limit`.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most characters of a search text `q`.
pub const MAX_Q_CHARS: usize = 64;
/// The most characters of any other filter value.
const MAX_VALUE_CHARS: usize = 200;

/// Why a query request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A filter this kind of record does not have.
    #[error("unknown filter `{name}`; {kind} take: {allowed}")]
    UnknownFilter {
        /// The filter named.
        name: String,
        /// The listed kind.
        kind: &'static str,
        /// The filters it takes, comma-separated.
        allowed: String,
    },
    /// A filter given twice, or a value of the wrong shape.
    #[error("filter `{name}`: {reason}")]
    Invalid {
        /// The filter.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The `area` filter is not an area path.
    #[error("`area` is not an area path (e.g. 320612/004/017): {0}")]
    Area(String),
    /// The cursor is not one this server gave.
    #[error("`cursor` is not a cursor this server gave; start again without it")]
    Cursor,
    /// `limit` out of range.
    #[error("`limit` must be a whole number from 1 to {MAX_LIMIT}")]
    Limit,
    /// The search text is too long.
    #[error("`q` must be at most {MAX_Q_CHARS} characters")]
    QueryTooLong,
    /// The area asked for is not within the caller's scope for this kind.
    #[error("area {area} is outside what your roles may read")]
    OutOfScope {
        /// The area asked for.
        area: String,
    },
    /// The caller's roles read no records of this kind (sync admins read none).
    #[error("your roles may not read {what}")]
    NoAccess {
        /// What was asked for.
        what: &'static str,
    },
}

/// A checked list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// What is listed.
    pub listed: Listed,
    /// Only records within this area.
    pub area: Option<AreaPath>,
    /// Search terms (households, residents): every one must match.
    pub terms: Vec<QueryTerm>,
    /// Households with this tag.
    pub tag: Option<HouseholdTag>,
    /// Residents of, or visits to, this household.
    pub household: Option<Uuid>,
    /// Visits by / patrols of this user.
    pub worker: Option<Uuid>,
    /// Visits / patrols at or after this time (ms since the epoch).
    pub from: Option<i64>,
    /// Visits / patrols before this time (ms since the epoch).
    pub to: Option<i64>,
    /// Work orders in this state.
    pub state: Option<WorkOrderState>,
    /// Work orders of this severity.
    pub severity: Option<Severity>,
    /// Work orders of this category code.
    pub category: Option<String>,
    /// Open (or, `false`, closed) work orders; tasks not completed (or completed).
    pub open: Option<bool>,
    /// Open work orders past their deadline (or, `false`, all others).
    pub overdue: Option<bool>,
    /// Work orders waiting in this queue.
    pub queue: Option<Queue>,
    /// Work orders a department is working (dispatched to it and not returned).
    pub department: Option<String>,
    /// The caller's own departments (not a filter: set by the API for a handler), which the
    /// departmental queues judge when no `department` is asked.
    pub own_departments: Vec<String>,
    /// Pages newest first (by record id, descending) rather than oldest first.
    pub newest_first: bool,
    /// Where the page starts (the cursor's record, excluded).
    pub after: Option<cursor::Cursor>,
    /// Records per page.
    pub limit: u32,
}

impl ListQuery {
    /// An unfiltered first page of `listed`.
    pub fn new(listed: Listed) -> ListQuery {
        ListQuery {
            listed,
            area: None,
            terms: Vec::new(),
            tag: None,
            household: None,
            worker: None,
            from: None,
            to: None,
            state: None,
            severity: None,
            category: None,
            open: None,
            overdue: None,
            queue: None,
            department: None,
            own_departments: Vec::new(),
            newest_first: false,
            after: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Parses the query-string pairs of a list request.
    ///
    /// # Errors
    /// [`QueryError`] for the first problem found.
    pub fn parse(listed: Listed, pairs: &[(String, String)]) -> Result<ListQuery, QueryError> {
        let mut q = ListQuery::new(listed);
        let allowed = filters_of(listed);
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            let Some(&known) = allowed.iter().find(|a| **a == name.as_str()) else {
                return Err(QueryError::UnknownFilter {
                    name: printable(name),
                    kind: listed.segment(),
                    allowed: allowed.join(", "),
                });
            };
            if seen.contains(&known) {
                return Err(invalid(known, "given more than once"));
            }
            seen.push(known);
            q.set(known, value)?;
        }
        if let (Some(from), Some(to)) = (q.from, q.to)
            && from > to
        {
            return Err(invalid("from", "must not be after `to`"));
        }
        if q.after.is_some_and(|c| c.newest_first != q.newest_first) {
            // A cursor of pages in the other order.
            return Err(QueryError::Cursor);
        }
        Ok(q)
    }

    fn set(&mut self, name: &'static str, value: &str) -> Result<(), QueryError> {
        if name == "q" {
            if value.chars().nth(MAX_Q_CHARS).is_some() {
                return Err(QueryError::QueryTooLong);
            }
        } else if value.chars().nth(MAX_VALUE_CHARS).is_some() {
            return Err(invalid(name, format!("longer than {MAX_VALUE_CHARS} characters")));
        }
        if value.chars().any(char::is_control) {
            return Err(invalid(name, "contains control characters"));
        }
        let v = value.trim();
        match name {
            "area" => {
                self.area = Some(AreaPath::parse(v).map_err(|e| QueryError::Area(e.to_string()))?);
            }
            "cursor" => self.after = Some(cursor::decode(v)?),
            "limit" => {
                self.limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or(QueryError::Limit)?;
            }
            "q" => {
                self.terms =
                    gridwork_core::search::query_terms(v).map_err(|_| QueryError::QueryTooLong)?;
                if self.terms.is_empty() {
                    return Err(invalid(name, "has no letters, digits or Chinese characters"));
                }
            }
            "tag" => {
                self.tag = Some(HouseholdTag::parse(v).map_err(|_| {
                    invalid(name, format!("not a household tag; one of: {}", tag_codes()))
                })?);
            }
            "household" => self.household = Some(uuid(name, v)?),
            "worker" => self.worker = Some(uuid(name, v)?),
            "from" => self.from = Some(time(name, v)?),
            "to" => self.to = Some(time(name, v)?),
            "state" => {
                self.state = Some(WorkOrderState::parse(v).map_err(|_| {
                    let all: Vec<&str> = WorkOrderState::ALL.iter().map(|s| s.as_str()).collect();
                    invalid(name, format!("not a work-order state; one of: {}", all.join(", ")))
                })?);
            }
            "severity" => {
                self.severity = Some(Severity::parse(v).map_err(|_| {
                    let all: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
                    invalid(name, format!("not a severity; one of: {}", all.join(", ")))
                })?);
            }
            "category" => self.category = Some(code(name, v)?),
            "department" => self.department = Some(code(name, v)?),
            "queue" => {
                self.queue = Some(Queue::parse(v).ok_or_else(|| {
                    let all: Vec<&str> = Queue::ALL.iter().map(|q| q.as_str()).collect();
                    invalid(name, format!("not a queue; one of: {}", all.join(", ")))
                })?);
            }
            "order" => {
                self.newest_first = match v {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(invalid(name, "must be `asc` or `desc`")),
                };
            }
            "open" => self.open = Some(boolean(name, v)?),
            "overdue" => self.overdue = Some(boolean(name, v)?),
            _ => {}
        }
        Ok(())
    }
}

/// The filters a listed kind takes (`area`, `cursor`, `limit` and `order` all take).
pub fn filters_of(listed: Listed) -> &'static [&'static str] {
    match listed {
        Listed::Households => &["area", "cursor", "limit", "order", "q", "tag"],
        Listed::Residents => &["area", "cursor", "limit", "order", "q", "household"],
        Listed::Visits => {
            &["area", "cursor", "limit", "order", "from", "to", "worker", "household"]
        }
        Listed::Patrols => &["area", "cursor", "limit", "order", "from", "to", "worker"],
        Listed::WorkOrders => &[
            "area",
            "cursor",
            "limit",
            "order",
            "state",
            "severity",
            "category",
            "open",
            "overdue",
            "queue",
            "department",
            "q",
            "household",
        ],
        Listed::Tasks => &["area", "cursor", "limit", "order", "open"],
    }
}

fn invalid(name: &'static str, reason: impl Into<String>) -> QueryError {
    QueryError::Invalid { name, reason: reason.into() }
}

/// A filter name for an error message: at most 40 characters, ASCII graphic only.
fn printable(name: &str) -> String {
    name.chars().take(40).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

fn tag_codes() -> String {
    HouseholdTag::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

/// A registry code (category, department): a-z, 0-9 and `_`, at most 64 characters.
fn code(name: &'static str, v: &str) -> Result<String, QueryError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(v.to_owned()) } else { Err(invalid(name, "not a code (a-z, 0-9, _)")) }
}

fn uuid(name: &'static str, v: &str) -> Result<Uuid, QueryError> {
    Uuid::parse_str(v).map_err(|_| invalid(name, "not a UUID"))
}

fn boolean(name: &'static str, v: &str) -> Result<bool, QueryError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(name, "must be `true` or `false`")),
    }
}

/// A time: RFC 3339 (`2026-12-01T08:00:00+08:00`) or milliseconds since the Unix epoch.
fn time(name: &'static str, v: &str) -> Result<i64, QueryError> {
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .map_err(|_| invalid(name, "not an RFC 3339 time or milliseconds since the epoch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    fn parse(l: Listed, p: &[(&str, &str)]) -> Result<ListQuery, QueryError> {
        ListQuery::parse(l, &pairs(p))
    }

    #[test]
    fn filters_parse_and_refuse() {
        let q = parse(
            Listed::WorkOrders,
            &[("area", "320612/004"), ("state", "dispatched"), ("overdue", "true"), ("limit", "7")],
        )
        .unwrap();
        assert_eq!(q.area.unwrap().as_str(), "320612/004");
        assert_eq!(q.state, Some(WorkOrderState::Dispatched));
        assert_eq!((q.overdue, q.limit), (Some(true), 7));
        let h = parse(Listed::Households, &[("q", "王芳"), ("tag", "elderly_alone")]).unwrap();
        assert_eq!(h.terms.len(), 1);
        assert!(matches!(
            parse(Listed::Households, &[("state", "x")]),
            Err(QueryError::UnknownFilter { .. })
        ));
        assert!(matches!(
            parse(Listed::Households, &[("q", "a"), ("q", "b")]),
            Err(QueryError::Invalid { name: "q", .. })
        ));
        for bad in ["0", "501", "-1", "ten", "1e2", ""] {
            assert_eq!(parse(Listed::Tasks, &[("limit", bad)]), Err(QueryError::Limit), "{bad}");
        }
        for bad in ["320612/", "' OR 1=1 --", "%", "_", ""] {
            assert!(
                matches!(parse(Listed::Tasks, &[("area", bad)]), Err(QueryError::Area(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse(Listed::Households, &[("q", &"王".repeat(65))]),
            Err(QueryError::QueryTooLong)
        );
        assert!(parse(Listed::Households, &[("q", &"王".repeat(64))]).is_ok());
        assert!(
            parse(Listed::Visits, &[("from", "2026-12-01T08:00:00+08:00"), ("to", "1")]).is_err()
        );
        assert!(parse(Listed::WorkOrders, &[("category", "x' OR '1")]).is_err());
        assert!(parse(Listed::WorkOrders, &[("open", "yes")]).is_err());
        assert!(parse(Listed::Visits, &[("worker", "%")]).is_err());
        assert!(parse(Listed::Households, &[("tag", "a\u{0}")]).is_err());
        assert_eq!(parse(Listed::Households, &[("cursor", "%_")]), Err(QueryError::Cursor));
        let asc = cursor::encode(Uuid::now_v7(), false);
        assert!(parse(Listed::Tasks, &[("cursor", &asc), ("order", "asc")]).is_ok());
        assert_eq!(
            parse(Listed::Tasks, &[("order", "desc"), ("cursor", &asc)]),
            Err(QueryError::Cursor)
        );
        assert!(parse(Listed::Tasks, &[("order", "sideways")]).is_err());
    }

    #[test]
    fn metacharacters_in_q_become_plain_terms() {
        let q = parse(Listed::Households, &[("q", "' OR 1=1 --")]).unwrap();
        assert!(q.terms.iter().all(|t| t.token.chars().all(char::is_alphanumeric)));
        assert!(matches!(
            parse(Listed::Households, &[("q", "%_")]),
            Err(QueryError::Invalid { name: "q", .. })
        ));
    }
}
