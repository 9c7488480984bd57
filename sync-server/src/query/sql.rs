//! The SQL of every query, built once for both backends: the dialect only changes placeholders
//! (`?N` / `$N`) and one function name. Values are always bound parameters ([`Bind`]); the only
//! text spliced into SQL is this module's own (table and column names, kind codes, the page
//! size after it was checked).

use gridwork_core::RecordKind;
use uuid::Uuid;

use super::{ListQuery, Listed};
use crate::store::{ReadScope, ScopeCols, area_range, scope_sql_on};

/// A backend's SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?1` placeholders, `instr`.
    Sqlite,
    /// PostgreSQL: `$1` placeholders, `strpos`.
    Postgres,
}

impl Dialect {
    /// The placeholder of the `n`-th bound value (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// The function giving the 1-based position of a substring (0 when absent).
    pub(crate) fn position(self) -> &'static str {
        match self {
            Dialect::Sqlite => "instr",
            Dialect::Postgres => "strpos",
        }
    }
}

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `TEXT`.
    Text(String),
    /// `INTEGER` / `BIGINT`.
    Int(i64),
    /// `BLOB` / `BYTEA`.
    Bytes(Vec<u8>),
}

/// A statement with its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// The values of its placeholders `1..=binds.len()`.
    pub binds: Vec<Bind>,
}

/// Builds a statement: SQL text plus values, each value given a placeholder as it is bound.
#[derive(Debug)]
pub(crate) struct Builder {
    dialect: Dialect,
    sql: String,
    binds: Vec<Bind>,
}

impl Builder {
    pub(crate) fn new(dialect: Dialect, sql: impl Into<String>) -> Builder {
        Builder { dialect, sql: sql.into(), binds: Vec::new() }
    }

    /// Binds a value; returns its placeholder.
    pub(crate) fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        self.dialect.placeholder(self.binds.len())
    }

    /// The dialect's substring-position function (`instr` / `strpos`).
    pub(crate) fn position_fn(&self) -> &'static str {
        self.dialect.position()
    }

    pub(crate) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends ` AND (scope)`: the caller's read scopes over `{alias}.area_key` (the predicate
    /// pulls use, [`scope_sql_on`], so a list shows exactly what a pull would serve).
    pub(crate) fn scope(&mut self, alias: &str, kind: RecordKind, scopes: &[ReadScope]) {
        let dialect = self.dialect;
        let mut n = self.binds.len();
        let (area, code, doc) =
            (format!("{alias}.area_key"), kind.code().to_string(), format!("{alias}.doc_id"));
        let cols = ScopeCols { area: &area, kind: &code, doc: &doc };
        let (sql, binds) = scope_sql_on(scopes, cols, || {
            n += 1;
            dialect.placeholder(n)
        });
        self.binds.extend(binds.into_iter().map(Bind::Text));
        self.push(&format!(" AND ({sql})"));
    }

    /// Appends ` AND t.area_key` within `area` (any level).
    pub(crate) fn within(&mut self, area: &str) {
        let (lo, hi) = area_range(area);
        let (lo, hi) = (self.bind(Bind::Text(lo)), self.bind(Bind::Text(hi)));
        self.push(&format!(" AND t.area_key >= {lo} AND t.area_key < {hi}"));
    }

    pub(crate) fn finish(self) -> Statement {
        Statement { sql: self.sql, binds: self.binds }
    }
}

/// The columns every query selects: id, area key, deleted, record JSON ([`super::RawRow`]).
fn select(listed: Listed) -> String {
    format!(
        "SELECT t.doc_id, r.area_key, r.deleted, r.record FROM {} t \
         JOIN rm_records r ON r.doc_id = t.doc_id WHERE TRUE",
        listed.table()
    )
}

/// One page of a list: records within `scopes` matching `q`, ordered by id (descending when
/// `q.newest_first`), at most
/// `q.limit + 1` rows (one more than a page, to tell whether another follows). `now` (ms) is
/// what `overdue` is measured against.
pub fn list(dialect: Dialect, q: &ListQuery, scopes: &[ReadScope], now: i64) -> Statement {
    let mut b = Builder::new(dialect, select(q.listed));
    b.push(" AND t.deleted = FALSE");
    b.scope("t", q.listed.kind(), scopes);
    if let Some(area) = &q.area {
        b.within(area.as_str());
    }
    filters(&mut b, q, now);
    super::search::terms_sql(&mut b, q.listed.kind(), &q.terms);
    let (beyond, order) = if q.newest_first { ("<", "DESC") } else { (">", "ASC") };
    if let Some(after) = q.after {
        let p = b.bind(Bind::Bytes(after.last.as_bytes().to_vec()));
        b.push(&format!(" AND t.doc_id {beyond} {p}"));
    }
    b.push(&format!(" ORDER BY t.doc_id {order} LIMIT {}", u64::from(q.limit) + 1));
    b.finish()
}

/// The kind-specific filters of `q`.
fn filters(b: &mut Builder, q: &ListQuery, now: i64) {
    let time_col = match q.listed {
        Listed::Visits => Some("visited_at"),
        Listed::Patrols => Some("started_at"),
        _ => None,
    };
    if let Some(col) = time_col {
        if let Some(from) = q.from {
            let p = b.bind(Bind::Int(from));
            b.push(&format!(" AND t.{col} >= {p}"));
        }
        if let Some(to) = q.to {
            let p = b.bind(Bind::Int(to));
            b.push(&format!(" AND t.{col} < {p}"));
        }
    }
    if let Some(worker) = q.worker {
        let col = if q.listed == Listed::Visits { "visitor" } else { "worker" };
        let p = b.bind(Bind::Text(worker.to_string()));
        b.push(&format!(" AND t.{col} = {p}"));
    }
    if let Some(h) = q.household {
        let p = b.bind(Bind::Bytes(h.as_bytes().to_vec()));
        b.push(&format!(" AND t.household_id = {p}"));
    }
    if let Some(tag) = q.tag {
        let p = b.bind(Bind::Text(format!(",{},", tag.as_str())));
        let pos = b.dialect.position();
        b.push(&format!(" AND {pos}(',' || t.tags || ',', {p}) > 0"));
    }
    for (col, value) in [
        ("state", q.state.map(|s| s.as_str().to_owned())),
        ("severity", q.severity.map(|s| s.as_str().to_owned())),
        ("category", q.category.clone()),
    ] {
        if let Some(v) = value {
            let p = b.bind(Bind::Text(v));
            b.push(&format!(" AND t.{col} = {p}"));
        }
    }
    if let Some(open) = q.open {
        b.push(match (q.listed, open) {
            (Listed::Tasks, true) => " AND t.completed_at IS NULL",
            (Listed::Tasks, false) => " AND t.completed_at IS NOT NULL",
            (_, true) => " AND t.is_open = TRUE",
            (_, false) => " AND t.is_open = FALSE",
        });
    }
    if let Some(queue) = q.queue {
        let asked: Vec<String> = q.department.iter().cloned().collect();
        let departments = if asked.is_empty() { &q.own_departments } else { &asked };
        queue.push_sql(b, if queue.is_departmental() { departments } else { &[] });
    }
    if let Some(department) = &q.department {
        super::queue::push_department(b, department);
    }
    if let Some(overdue) = q.overdue {
        let p = b.bind(Bind::Int(now));
        let late =
            format!("(t.is_open = TRUE AND t.deadline_at IS NOT NULL AND t.deadline_at < {p})");
        b.push(&if overdue { format!(" AND {late}") } else { format!(" AND NOT {late}") });
    }
}

/// One record by id, within `scopes` (deleted ones too: the answer says so).
pub fn one(dialect: Dialect, listed: Listed, id: Uuid, scopes: &[ReadScope]) -> Statement {
    let mut b = Builder::new(dialect, select(listed));
    let p = b.bind(Bind::Bytes(id.as_bytes().to_vec()));
    b.push(&format!(" AND t.doc_id = {p}"));
    b.scope("t", listed.kind(), scopes);
    b.finish()
}

/// The sensitive record of a resident, within `scopes` (the caller's scopes for sensitive
/// data): from `rm_sensitive` only — sensitive data never enters `rm_records`.
pub fn sensitive_of(dialect: Dialect, resident: Uuid, scopes: &[ReadScope]) -> Statement {
    let mut b = Builder::new(
        dialect,
        "SELECT t.doc_id, t.area_key, t.deleted, t.record FROM rm_sensitive t WHERE t.deleted = FALSE",
    );
    let p = b.bind(Bind::Bytes(resident.as_bytes().to_vec()));
    b.push(&format!(" AND t.resident_id = {p}"));
    b.scope("t", RecordKind::Sensitive, scopes);
    b.push(" ORDER BY t.doc_id");
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwork_core::AreaPath;

    #[test]
    fn values_are_bound_never_spliced() {
        let mut q = ListQuery::new(Listed::WorkOrders);
        q.area = Some(AreaPath::parse("320612/004").unwrap());
        q.category = Some("x".into());
        q.overdue = Some(true);
        // A department handler's scope: the department codes are bound too.
        let scopes = [ReadScope {
            area: AreaPath::parse("320612").unwrap(),
            kinds: vec![RecordKind::WorkOrder],
            departments: Some(vec!["sanitation".into()]),
        }];
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let s = list(d, &q, &scopes, 5);
            assert!(!s.sql.contains("320612") && !s.sql.contains("'x'"), "{}", s.sql);
            assert!(
                !s.sql.contains("sanitation") && s.sql.contains("doc_departments"),
                "{}",
                s.sql
            );
            let last = d.placeholder(s.binds.len());
            assert!(s.sql.contains(&last) && !s.sql.contains(&d.placeholder(s.binds.len() + 1)));
            assert!(s.sql.ends_with("LIMIT 101"), "{}", s.sql);
        }
    }
}
