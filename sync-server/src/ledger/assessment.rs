//! Assessment (考核) and the "two rates" (两率) on the server: the core's figures
//! (`core/src/assessment.rs`, what a phone shows for its area) computed over the read model for
//! an area and a period, grouped per district, town, community, grid, micro-grid or worker,
//! ranked, and over months (the trend). The definitions — each figure's numerator, denominator
//! and clock — are the core's, written down in `docs/assessment.md`; a test computes them on a
//! phone's store and here and compares.
//!
//! Six grouped statements answer everything: they group by area key (and person), so the
//! database returns one row per area and person, never per record; this module sums those rows
//! into the groups asked for. Every statement carries the caller's read scope for its kind.

use std::collections::{BTreeMap, HashMap};

use gridwork_core::{AreaPath, RecordKind, Role};
use serde::Serialize;
use utoipa::ToSchema;

use super::LedgerError;
use super::period::{month_of, month_start, next_month, parse_time};
use super::sql::{in_area, in_period, json_text};
use super::store::{Cell, Col, LedgerStore};
use crate::query::sql::Builder;
use crate::query::{Bind, Dialect, QueryError, Statement};
use crate::store::{DynStore, ReadScope, RoleGrant, area_from_key};

/// A day in ms.
const DAY_MS: i64 = 86_400_000;
/// The most months a trend covers.
pub const MAX_TREND_MONTHS: usize = 36;

/// A share `numerator / denominator`, kept as counts so reports can show both (the core's
/// `Rate`, with its value).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, ToSchema)]
pub struct Rate {
    /// What met the criterion.
    pub numerator: u64,
    /// What was counted.
    pub denominator: u64,
    /// `numerator / denominator`, `null` when nothing was counted.
    pub value: Option<f64>,
}

impl Rate {
    /// The rate of two counts.
    pub fn of(numerator: u64, denominator: u64) -> Rate {
        let value = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        Rate { numerator, denominator, value }
    }
}

/// The assessment figures of an area (or a worker in their area) over a period. See
/// `docs/assessment.md` for each definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, ToSchema)]
pub struct Figures {
    /// Visit coverage (走访覆盖率): households due in the period that were met in it ÷
    /// households due in the period.
    pub visit_coverage: Rate,
    /// Visit coverage among the households carrying each household tag.
    pub visit_coverage_by_tag: BTreeMap<String, Rate>,
    /// Visits recorded in the period.
    pub visits: u64,
    /// Of those, visits where the household was met.
    pub visits_met: u64,
    /// Patrols started in the period.
    pub patrols: u64,
    /// Their hours.
    pub patrol_hours: f64,
    /// Their distance, km.
    pub patrol_km: f64,
    /// Their GPS fixes.
    pub patrol_gps_points: u64,
    /// Incidents reported in the period (report received by the server in it).
    pub incidents_reported: u64,
    /// On-time closure (按时办结率): work orders closed in the period by their deadline ÷ work
    /// orders closed in the period.
    pub on_time_closure: Rate,
    /// Satisfaction (满意率): visits rated 4 or 5 ÷ visits where satisfaction was asked.
    pub satisfaction: Rate,
    /// Awareness (知晓率): visits where the resident knew their grid worker ÷ visits where it was
    /// asked.
    pub awareness: Rate,
}

/// Raw sums, added up area by area before the rates are taken.
#[derive(Debug, Clone, Default, PartialEq)]
struct Sums {
    due: u64,
    covered: u64,
    by_tag: BTreeMap<String, (u64, u64)>,
    visits: u64,
    met: u64,
    sat_hi: u64,
    sat_n: u64,
    aware: u64,
    aware_n: u64,
    patrols: u64,
    seconds: f64,
    metres: f64,
    points: u64,
    reported: u64,
    closed: u64,
    on_time: u64,
}

impl Sums {
    fn figures(&self) -> Figures {
        Figures {
            visit_coverage: Rate::of(self.covered, self.due),
            visit_coverage_by_tag: self
                .by_tag
                .iter()
                .map(|(t, (covered, due))| (t.clone(), Rate::of(*covered, *due)))
                .collect(),
            visits: self.visits,
            visits_met: self.met,
            patrols: self.patrols,
            patrol_hours: self.seconds / 3600.0,
            patrol_km: self.metres / 1000.0,
            patrol_gps_points: self.points,
            incidents_reported: self.reported,
            on_time_closure: Rate::of(self.on_time, self.closed),
            satisfaction: Rate::of(self.sat_hi, self.sat_n),
            awareness: Rate::of(self.aware, self.aware_n),
        }
    }
}

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Per area of this level (1 district … 5 micro-grid).
    Area(usize),
    /// Per grid worker or liaison (each role grant within the area).
    Worker,
}

impl Level {
    /// A level by name: `district`, `town`, `community`, `grid`, `micro_grid`, `worker`.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "district" => Level::Area(1),
            "town" => Level::Area(2),
            "community" => Level::Area(3),
            "grid" => Level::Area(4),
            "micro_grid" => Level::Area(5),
            "worker" => Level::Worker,
            _ => return None,
        })
    }
}

/// What groups are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Visit coverage.
    VisitCoverage,
    /// On-time closure.
    OnTimeClosure,
    /// Satisfaction.
    Satisfaction,
    /// Awareness.
    Awareness,
    /// Visits.
    Visits,
    /// Patrols.
    Patrols,
    /// Patrol hours.
    PatrolHours,
    /// Incidents reported.
    IncidentsReported,
}

impl Metric {
    /// Every metric, with its name.
    pub const ALL: [(Metric, &'static str); 8] = [
        (Metric::VisitCoverage, "visit_coverage"),
        (Metric::OnTimeClosure, "on_time_closure"),
        (Metric::Satisfaction, "satisfaction"),
        (Metric::Awareness, "awareness"),
        (Metric::Visits, "visits"),
        (Metric::Patrols, "patrols"),
        (Metric::PatrolHours, "patrol_hours"),
        (Metric::IncidentsReported, "incidents_reported"),
    ];

    /// A metric by name.
    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.iter().find(|(_, n)| *n == s).map(|(m, _)| *m)
    }

    /// The metric's name.
    pub fn name(self) -> &'static str {
        Metric::ALL.iter().find(|(m, _)| *m == self).map_or("visit_coverage", |(_, n)| n)
    }

    /// The value a group is ranked by (`None`: nothing counted, ranked last).
    fn of(self, f: &Figures) -> Option<f64> {
        match self {
            Metric::VisitCoverage => f.visit_coverage.value,
            Metric::OnTimeClosure => f.on_time_closure.value,
            Metric::Satisfaction => f.satisfaction.value,
            Metric::Awareness => f.awareness.value,
            Metric::Visits => Some(f.visits as f64),
            Metric::Patrols => Some(f.patrols as f64),
            Metric::PatrolHours => Some(f.patrol_hours),
            Metric::IncidentsReported => Some(f.incidents_reported as f64),
        }
    }
}

/// A checked assessment request.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentQuery {
    /// The area assessed (any level).
    pub area: Option<AreaPath>,
    /// Grouping.
    pub level: Level,
    /// Period start, ms (inclusive).
    pub from: i64,
    /// Period end, ms (exclusive).
    pub to: i64,
    /// What groups are ranked by.
    pub rank_by: Metric,
}

fn invalid(name: &'static str, reason: impl Into<String>) -> QueryError {
    QueryError::Invalid { name, reason: reason.into() }
}

impl AssessmentQuery {
    /// Parses `level`, `area`, `from`, `to` (or `month`) and `rank_by`.
    ///
    /// # Errors
    /// [`QueryError`] naming the first bad or missing parameter.
    pub fn parse(pairs: &[(String, String)]) -> Result<AssessmentQuery, QueryError> {
        let allowed = ["level", "area", "from", "to", "month", "rank_by"];
        let mut get: HashMap<&str, &str> = HashMap::new();
        for (k, v) in pairs {
            let Some(&name) = allowed.iter().find(|a| **a == k.as_str()) else {
                return Err(QueryError::UnknownFilter {
                    name: k.chars().take(40).filter(char::is_ascii_graphic).collect(),
                    kind: "assessment",
                    allowed: allowed.join(", "),
                });
            };
            if get.insert(name, v.trim()).is_some() {
                return Err(invalid(name, "given more than once"));
            }
        }
        let level = match get.get("level") {
            None => Level::Area(4),
            Some(v) => Level::parse(v).ok_or_else(|| {
                invalid("level", "one of: district, town, community, grid, micro_grid, worker")
            })?,
        };
        let area = get
            .get("area")
            .map(|v| AreaPath::parse(v).map_err(|e| QueryError::Area(e.to_string())))
            .transpose()?;
        let (from, to) = match (get.get("month"), get.get("from"), get.get("to")) {
            (Some(m), None, None) => {
                let from = parse_time("month", m)?;
                let (y, mo) = month_of(from).ok_or_else(|| invalid("month", "out of range"))?;
                let (y, mo) = next_month(y, mo);
                (from, month_start(y, mo).ok_or_else(|| invalid("month", "out of range"))?)
            }
            (None, Some(f), Some(t)) => (parse_time("from", f)?, parse_time("to", t)?),
            _ => return Err(invalid("from", "give `month`, or both `from` and `to`")),
        };
        if to <= from {
            return Err(invalid("to", "the period must end after it starts"));
        }
        let rank_by = match get.get("rank_by") {
            None => Metric::VisitCoverage,
            Some(v) => Metric::parse(v).ok_or_else(|| {
                let all: Vec<&str> = Metric::ALL.iter().map(|(_, n)| *n).collect();
                invalid("rank_by", format!("one of: {}", all.join(", ")))
            })?,
        };
        Ok(AssessmentQuery { area, level, from, to, rank_by })
    }
}

/// The read scopes each figure is computed under (the caller's, for its kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Scopes {
    /// Households (coverage).
    pub households: Vec<ReadScope>,
    /// Visits.
    pub visits: Vec<ReadScope>,
    /// Patrols.
    pub patrols: Vec<ReadScope>,
    /// Work orders.
    pub work_orders: Vec<ReadScope>,
}

/// The kinds an assessment reads.
pub const KINDS: [RecordKind; 4] =
    [RecordKind::Household, RecordKind::Visit, RecordKind::Patrol, RecordKind::WorkOrder];

impl Scopes {
    /// The scopes of `grants` for an assessment of `area`.
    ///
    /// # Errors
    /// [`QueryError::NoAccess`] when the caller's roles do not read all four kinds;
    /// [`QueryError::OutOfScope`] when `area` is not within their scope for each.
    pub fn of(
        grants: &[RoleGrant],
        departments: &[String],
        area: &AreaPath,
    ) -> Result<Scopes, QueryError> {
        let check =
            |kind, what| crate::query::scope::check(grants, departments, kind, what, Some(area));
        let s = Scopes {
            households: check(RecordKind::Household, "households")?,
            visits: check(RecordKind::Visit, "visits")?,
            patrols: check(RecordKind::Patrol, "patrols")?,
            work_orders: check(RecordKind::WorkOrder, "work orders")?,
        };
        // A department handler reads only their departments' work orders: their on-time rate
        // would not be the area's, so the assessment is not theirs to read.
        if s.work_orders.iter().any(|w| w.departments.is_some()) {
            return Err(QueryError::NoAccess { what: "the assessment" });
        }
        Ok(s)
    }

    /// Every record of the four kinds within `area` (the command line's scope).
    pub fn whole(area: &AreaPath) -> Scopes {
        let s = |k| vec![ReadScope::new(area.clone(), vec![k])];
        Scopes {
            households: s(RecordKind::Household),
            visits: s(RecordKind::Visit),
            patrols: s(RecordKind::Patrol),
            work_orders: s(RecordKind::WorkOrder),
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Group {
    /// The area (for a worker: the area of their role grant).
    pub area: String,
    /// The area's name, when registered.
    pub area_name: Option<String>,
    /// The worker (worker level only).
    pub worker: Option<String>,
    /// The worker's name.
    pub worker_name: Option<String>,
    /// The worker's role (`grid_worker`, `liaison`).
    pub role: Option<String>,
    /// Rank by `rank_by`, 1 = best; equal values share a rank; groups where nothing was
    /// counted come last.
    pub rank: u32,
    /// The figures.
    pub figures: Figures,
}

/// An assessment: the area's figures, and each group's, ranked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Assessment {
    /// The area assessed.
    pub area: String,
    /// Grouping: `district` … `micro_grid`, or `worker`.
    pub level: String,
    /// Period start (RFC 3339, China Standard Time; inclusive).
    pub from: String,
    /// Period end (exclusive).
    pub to: String,
    /// What `rank` orders by.
    pub rank_by: String,
    /// The whole area's figures.
    pub total: Figures,
    /// Each group's, best first.
    pub groups: Vec<Group>,
}

/// One month of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Month {
    /// `2026-11`.
    pub month: String,
    /// The area's figures for the month.
    pub figures: Figures,
}

/// An area's figures month by month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trend {
    /// The area.
    pub area: String,
    /// Month by month, oldest first.
    pub months: Vec<Month>,
}

/// The raw answers of the six statements.
#[derive(Debug, Default)]
struct Raw {
    /// `(area path, tags, due, covered)`.
    households: Vec<(String, String, u64, u64)>,
    /// `(area path, tags, visitor, covered)` (worker level only).
    covered_by: Vec<(String, String, String, u64)>,
    /// `(area path, visitor, [visits, met, sat_hi, sat_n, aware, aware_n])`.
    visits: Vec<(String, String, [u64; 6])>,
    /// `(area path, worker, patrols, seconds, metres, points)`.
    patrols: Vec<(String, String, u64, f64, f64, u64)>,
    /// `(area path, reporter, reported)`.
    reported: Vec<(String, String, u64)>,
    /// `(area path, closed, on time)`.
    closed: Vec<(String, u64, u64)>,
}

fn area_of(cell: &Cell) -> Result<String, LedgerError> {
    match cell {
        Cell::Text(k) => Ok(area_from_key(k)?.as_str().to_owned()),
        _ => Err(corrupt("area")),
    }
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        _ => String::new(),
    }
}

fn count(cell: &Cell) -> u64 {
    match cell {
        Cell::Int(i) => u64::try_from(*i).unwrap_or(0),
        _ => 0,
    }
}

fn real(cell: &Cell) -> f64 {
    match cell {
        Cell::Real(f) => *f,
        Cell::Int(i) => *i as f64,
        _ => 0.0,
    }
}

fn corrupt(what: &str) -> LedgerError {
    LedgerError::Store(crate::store::StoreError::Corrupt(format!("assessment row: {what}")))
}

/// `WITH h AS (…)`: the live households within scope and area, each with the time it falls due
/// as of the period's start (the core's rule: its last met visit before the period plus its
/// visit interval, else its creation). The interval is the smallest of its tags' and its
/// residents' key-population categories' intervals (`ledger_tag_interval`), 365 days without.
///
/// The intervals are joined, not looked up per household: the tag lists' (`ti`, a handful of
/// rows) and the key-population residents' (`sk`, one row per household that has one) are each
/// computed once. Only the last met visit stays a per-household probe of the covering index
/// `rm_visits_met`: its cost follows the households asked about, not the years of visits behind
/// them (docs/BENCHMARKS.md, "Ledger exports and assessment").
fn due_households(b: &mut Builder, dialect: Dialect, q: &AssessmentQuery, scopes: &Scopes) {
    let pos = dialect.position();
    let least = match dialect {
        Dialect::Sqlite => "min",
        Dialect::Postgres => "LEAST",
    };
    // The interval of each distinct tag list (a handful), not of each household.
    b.push(&format!(
        "WITH ti AS MATERIALIZED (SELECT x.tags, min(l.days) AS days
            FROM (SELECT DISTINCT tags FROM rm_households) x
            JOIN ledger_tag_interval l ON {pos}(',' || x.tags || ',', ',' || l.tag || ',') > 0
            GROUP BY x.tags),
          sk AS MATERIALIZED (SELECT s.household_id, min(l.days) AS days FROM rm_sensitive s
            JOIN ledger_tag_interval l ON l.tag = s.key_population
            WHERE s.deleted = FALSE"
    ));
    if let Some(area) = &q.area {
        in_area(b, "s.area_key", area.as_str());
    }
    b.push(" GROUP BY s.household_id),");
    let from = b.bind(Bind::Int(q.from));
    b.push(&format!(
        " h AS (SELECT t.doc_id, t.area_key, t.tags,
            coalesce((SELECT max(v.visited_at) FROM rm_visits v
                WHERE v.household_id = t.doc_id AND v.outcome = 'met' AND v.deleted = FALSE
                  AND v.visited_at < {from})
              + {least}(coalesce(ti.days, 365), coalesce(sk.days, 365))
                * CAST({DAY_MS} AS BIGINT),
              r.created_at) AS due_at
          FROM rm_households t JOIN rm_records r ON r.doc_id = t.doc_id
            LEFT JOIN ti ON ti.tags = t.tags
            LEFT JOIN sk ON sk.household_id = t.doc_id
          WHERE t.deleted = FALSE"
    ));
    b.scope("t", RecordKind::Household, &scopes.households);
    if let Some(area) = &q.area {
        in_area(b, "t.area_key", area.as_str());
    }
    b.push(")");
}

/// Which of the six statements a row answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Households,
    CoveredBy,
    Visits,
    Patrols,
    Reported,
    Closed,
}

/// The six statements (the second only for the worker level).
fn statements(
    dialect: Dialect,
    q: &AssessmentQuery,
    scopes: &Scopes,
) -> Vec<(Part, Statement, &'static [Col])> {
    let mut out = Vec::new();
    let met_in_period = |b: &mut Builder, alias: &str| {
        let (f, t) = (b.bind(Bind::Int(q.from)), b.bind(Bind::Int(q.to)));
        format!(
            "{alias}.outcome = 'met' AND {alias}.deleted = FALSE
             AND {alias}.visited_at >= {f} AND {alias}.visited_at < {t}"
        )
    };

    let mut b = Builder::new(dialect, "");
    due_households(&mut b, dialect, q, scopes);
    let met = met_in_period(&mut b, "v");
    let to = b.bind(Bind::Int(q.to));
    b.push(&format!(
        " SELECT h.area_key, h.tags, count(*),
            sum(CASE WHEN EXISTS (SELECT 1 FROM rm_visits v WHERE v.household_id = h.doc_id
                AND {met}) THEN 1 ELSE 0 END)
          FROM h WHERE h.due_at < {to} GROUP BY h.area_key, h.tags"
    ));
    out.push((Part::Households, b.finish(), &[Col::Text, Col::Text, Col::Int, Col::Int][..]));

    if q.level == Level::Worker {
        let mut b = Builder::new(dialect, "");
        due_households(&mut b, dialect, q, scopes);
        let met = met_in_period(&mut b, "v");
        let to = b.bind(Bind::Int(q.to));
        b.push(&format!(
            " SELECT h.area_key, h.tags, v.visitor, count(DISTINCT h.doc_id)
              FROM h JOIN rm_visits v ON v.household_id = h.doc_id
              WHERE h.due_at < {to} AND {met}
              GROUP BY h.area_key, h.tags, v.visitor"
        ));
        out.push((Part::CoveredBy, b.finish(), &[Col::Text, Col::Text, Col::Text, Col::Int][..]));
    }

    let grouped =
        |select: &str, kind: RecordKind, scopes: &[ReadScope], time: &str, group: &str| {
            let mut b = Builder::new(dialect, select);
            b.push(" WHERE t.deleted = FALSE");
            b.scope("t", kind, scopes);
            if let Some(area) = &q.area {
                in_area(&mut b, "t.area_key", area.as_str());
            }
            in_period(&mut b, time, Some(q.from), Some(q.to));
            b.push(&format!(" GROUP BY {group}"));
            b.finish()
        };
    // People are told apart only for the worker level; otherwise one row per area key (and no
    // record JSON is read for the reporter).
    let by_person = q.level == Level::Worker;
    let person = |col: &str| if by_person { col.to_owned() } else { "CAST('' AS TEXT)".into() };
    let group =
        |col: &str| if by_person { format!("t.area_key, {col}") } else { "t.area_key".into() };
    out.push((
        Part::Visits,
        grouped(
            &format!(
                "SELECT t.area_key, {}, count(*),
                    sum(CASE WHEN t.outcome = 'met' THEN 1 ELSE 0 END),
                    sum(CASE WHEN t.satisfaction >= 4 THEN 1 ELSE 0 END), count(t.satisfaction),
                    sum(CASE WHEN t.knows_worker = TRUE THEN 1 ELSE 0 END), count(t.knows_worker)
                 FROM rm_visits t",
                person("t.visitor")
            ),
            RecordKind::Visit,
            &scopes.visits,
            "t.visited_at",
            &group("t.visitor"),
        ),
        &[Col::Text, Col::Text, Col::Int, Col::Int, Col::Int, Col::Int, Col::Int, Col::Int],
    ));
    out.push((
        Part::Patrols,
        grouped(
            &format!(
                "SELECT t.area_key, {}, count(*), sum(t.duration_s), sum(t.distance_m),
                    CAST(sum(t.points) AS BIGINT)
                 FROM rm_patrols t",
                person("t.worker")
            ),
            RecordKind::Patrol,
            &scopes.patrols,
            "t.started_at",
            &group("t.worker"),
        ),
        &[Col::Text, Col::Text, Col::Int, Col::Real, Col::Real, Col::Int],
    ));
    let reporter = json_text(dialect, "r.record", &["summary", "reporter"]);
    let join = if by_person { " JOIN rm_records r ON r.doc_id = t.doc_id" } else { "" };
    out.push((
        Part::Reported,
        grouped(
            &format!(
                "SELECT t.area_key, {}, count(*) FROM rm_work_orders t{join}",
                person(&reporter)
            ),
            RecordKind::WorkOrder,
            &scopes.work_orders,
            "t.reported_at",
            &group(&reporter),
        ),
        &[Col::Text, Col::Text, Col::Int],
    ));
    out.push((
        Part::Closed,
        grouped(
            "SELECT t.area_key, count(*),
                sum(CASE WHEN t.closed_on_time = TRUE THEN 1 ELSE 0 END)
             FROM rm_work_orders t",
            RecordKind::WorkOrder,
            &scopes.work_orders,
            "t.closed_at",
            "t.area_key",
        ),
        &[Col::Text, Col::Int, Col::Int],
    ));
    out
}

async fn raw(
    ls: &dyn LedgerStore,
    q: &AssessmentQuery,
    scopes: &Scopes,
) -> Result<Raw, LedgerError> {
    let mut raw = Raw::default();
    // The statements are independent: run at once, the answer takes the slowest one's time, not
    // the sum (each backend gives each its own connection).
    let statements = statements(ls.dialect(), q, scopes);
    let answers = futures_util::future::try_join_all(
        statements.iter().map(|(_, st, cols)| ls.aggregate_rows(st, cols)),
    )
    .await?;
    for ((part, _, _), rows) in statements.iter().zip(answers) {
        let part = *part;
        for r in rows {
            let area = area_of(r.first().ok_or_else(|| corrupt("empty"))?)?;
            let c = |i: usize| r.get(i).unwrap_or(&Cell::Null);
            match part {
                Part::Households => {
                    raw.households.push((area, text(c(1)), count(c(2)), count(c(3))));
                }
                Part::CoveredBy => raw.covered_by.push((area, text(c(1)), text(c(2)), count(c(3)))),
                Part::Visits => {
                    raw.visits.push((area, text(c(1)), [2, 3, 4, 5, 6, 7].map(|i| count(c(i)))))
                }
                Part::Patrols => raw.patrols.push((
                    area,
                    text(c(1)),
                    count(c(2)),
                    real(c(3)),
                    real(c(4)),
                    count(c(5)),
                )),
                Part::Reported => raw.reported.push((area, text(c(1)), count(c(2)))),
                Part::Closed => raw.closed.push((area, count(c(1)), count(c(2)))),
            }
        }
    }
    Ok(raw)
}

impl Raw {
    /// Adds the area's rows — households due (and, `covered`, those met) and closures — whose
    /// area `within` accepts. Closures count for the area whoever closed them (the core's
    /// rule, also for a worker).
    fn add_area_rows(&self, s: &mut Sums, within: &dyn Fn(&str) -> bool, covered: bool) {
        for (area, tags, due, met) in &self.households {
            if !within(area) {
                continue;
            }
            s.due += due;
            if covered {
                s.covered += met;
            }
            for t in tags.split(',').filter(|t| !t.is_empty()) {
                let e = s.by_tag.entry(t.to_owned()).or_default();
                e.1 += due;
                if covered {
                    e.0 += met;
                }
            }
        }
        for (area, closed, on_time) in &self.closed {
            if within(area) {
                s.closed += closed;
                s.on_time += on_time;
            }
        }
    }

    /// Adds the rows of people's work — visits, patrols, reports and (`covered_by`) the due
    /// households they met — whose area `within` accepts.
    fn add_person_rows(&self, s: &mut Sums, within: &dyn Fn(&str) -> bool, covered_by: bool) {
        if covered_by {
            for (area, tags, _, met) in &self.covered_by {
                if within(area) {
                    s.covered += met;
                    for t in tags.split(',').filter(|t| !t.is_empty()) {
                        s.by_tag.entry(t.to_owned()).or_default().0 += met;
                    }
                }
            }
        }
        for (area, _, n) in &self.visits {
            if within(area) {
                s.visits += n[0];
                s.met += n[1];
                s.sat_hi += n[2];
                s.sat_n += n[3];
                s.aware += n[4];
                s.aware_n += n[5];
            }
        }
        for (area, _, n, secs, metres, points) in &self.patrols {
            if within(area) {
                s.patrols += n;
                s.seconds += secs;
                s.metres += metres;
                s.points += points;
            }
        }
        for (area, _, n) in &self.reported {
            if within(area) {
                s.reported += n;
            }
        }
    }

    /// The sums of everything (an area's figures).
    fn total(&self) -> Sums {
        let mut s = Sums::default();
        self.add_area_rows(&mut s, &|_| true, true);
        self.add_person_rows(&mut s, &|_| true, false);
        s
    }

    /// The rows split by `key` of their area (rows whose key is `None` are dropped), in one
    /// pass.
    fn split(self, key: impl Fn(&str) -> Option<String>) -> BTreeMap<String, Raw> {
        let mut out: BTreeMap<String, Raw> = BTreeMap::new();
        for r in self.households {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().households.push(r);
            }
        }
        for r in self.covered_by {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().covered_by.push(r);
            }
        }
        for r in self.visits {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().visits.push(r);
            }
        }
        for r in self.patrols {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().patrols.push(r);
            }
        }
        for r in self.reported {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().reported.push(r);
            }
        }
        for r in self.closed {
            if let Some(k) = key(&r.0) {
                out.entry(k).or_default().closed.push(r);
            }
        }
        out
    }

    /// The rows of people's work split by person (visitor, worker, reporter).
    fn by_person(&self) -> HashMap<&str, Raw> {
        let mut out: HashMap<&str, Raw> = HashMap::new();
        for r in &self.covered_by {
            out.entry(r.2.as_str()).or_default().covered_by.push(r.clone());
        }
        for r in &self.visits {
            out.entry(r.1.as_str()).or_default().visits.push(r.clone());
        }
        for r in &self.patrols {
            out.entry(r.1.as_str()).or_default().patrols.push(r.clone());
        }
        for r in &self.reported {
            out.entry(r.1.as_str()).or_default().reported.push(r.clone());
        }
        out
    }
}

/// The first `n` segments of an area path (the path itself when shorter).
fn truncate(path: &str, n: usize) -> &str {
    match path.match_indices('/').nth(n.saturating_sub(1)) {
        Some((i, _)) => &path[..i],
        None => path,
    }
}

fn within(outer: &str, inner: &str) -> bool {
    gridwork_core::area::path_contains(outer, inner)
}

/// The whole area's figures for `q` (no groups), e.g. one month of a trend.
///
/// # Errors
/// [`LedgerError::NoReadModel`]; storage errors.
pub async fn total(
    store: &DynStore,
    q: &AssessmentQuery,
    scopes: &Scopes,
) -> Result<Figures, LedgerError> {
    let ls = store.ledger().ok_or(LedgerError::NoReadModel)?;
    let q = AssessmentQuery { level: Level::Area(1), ..q.clone() };
    Ok(raw(ls, &q, scopes).await?.total().figures())
}

/// The assessment `q` asks for, under `scopes`, with the area `area` (the request's, or the
/// caller's only scope).
///
/// # Errors
/// [`LedgerError::NoReadModel`]; storage errors.
pub async fn assess(
    store: &DynStore,
    q: &AssessmentQuery,
    area: &AreaPath,
    scopes: &Scopes,
) -> Result<Assessment, LedgerError> {
    let ls = store.ledger().ok_or(LedgerError::NoReadModel)?;
    let q = AssessmentQuery { area: Some(area.clone()), ..q.clone() };
    let raw = raw(ls, &q, scopes).await?;
    let names = super::names::Names::load(store).await?;
    let in_scope = |p: &str| scopes.households.iter().any(|s| within(s.area.as_str(), p));
    let total = raw.total().figures();
    let mut groups = Vec::new();
    match q.level {
        Level::Area(n) => {
            let mut by_key = raw.split(|a| Some(truncate(a, n).to_owned()));
            // Every registered area of the level is listed, with or without records.
            for p in names.areas.keys() {
                if p.split('/').count() == n && within(area.as_str(), p) && in_scope(p) {
                    by_key.entry(p.clone()).or_default();
                }
            }
            for (key, rows) in by_key {
                groups.push(Group {
                    area_name: names.area(&key),
                    area: key,
                    worker: None,
                    worker_name: None,
                    role: None,
                    rank: 0,
                    figures: rows.total().figures(),
                });
            }
        }
        Level::Worker => {
            let people = raw.by_person();
            let nobody = Raw::default();
            for user in store.list_users().await? {
                let id = user.id.to_string();
                let theirs = people.get(id.as_str()).unwrap_or(&nobody);
                for g in &user.roles {
                    let counted = matches!(g.role, Role::GridWorker | Role::Liaison);
                    let grant = g.area.as_str();
                    if !counted || !within(area.as_str(), grant) || !in_scope(grant) {
                        continue;
                    }
                    let mut sums = Sums::default();
                    raw.add_area_rows(&mut sums, &|a| within(grant, a), false);
                    theirs.add_person_rows(&mut sums, &|a| within(grant, a), true);
                    groups.push(Group {
                        area: grant.to_owned(),
                        area_name: names.area(grant),
                        worker: Some(id.clone()),
                        worker_name: Some(user.name.clone()),
                        role: Some(g.role.as_str().to_owned()),
                        rank: 0,
                        figures: sums.figures(),
                    });
                }
            }
        }
    }
    rank(&mut groups, q.rank_by);
    let level = match q.level {
        Level::Worker => "worker".to_owned(),
        Level::Area(n) => ["district", "town", "community", "grid", "micro_grid"]
            .get(n.saturating_sub(1))
            .copied()
            .unwrap_or("grid")
            .to_owned(),
    };
    Ok(Assessment {
        area: area.as_str().to_owned(),
        level,
        from: rfc3339(q.from),
        to: rfc3339(q.to),
        rank_by: q.rank_by.name().to_owned(),
        total,
        groups,
    })
}

/// Orders groups best first by `metric` and numbers them; equal values share a rank, groups
/// with nothing counted come last (sharing the last rank).
fn rank(groups: &mut [Group], metric: Metric) {
    groups.sort_by(|a, b| {
        let (x, y) = (metric.of(&a.figures), metric.of(&b.figures));
        match (x, y) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.area.cmp(&b.area))
        .then_with(|| a.worker.cmp(&b.worker))
    });
    let mut prev: Option<Option<f64>> = None;
    let mut rank = 0u32;
    for (i, g) in groups.iter_mut().enumerate() {
        let v = metric.of(&g.figures);
        if prev != Some(v) {
            rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
            prev = Some(v);
        }
        g.rank = rank;
    }
}

fn rfc3339(ms: i64) -> String {
    super::local_time(ms).map_or_else(|| ms.to_string(), |t| t.to_rfc3339())
}

/// The whole area's figures for each month from the month of `q.from` to the month before
/// `q.to` (at most [`MAX_TREND_MONTHS`]).
///
/// # Errors
/// [`QueryError::Invalid`] for too many months; [`LedgerError::NoReadModel`]; storage errors.
pub async fn trend(
    store: &DynStore,
    q: &AssessmentQuery,
    area: &AreaPath,
    scopes: &Scopes,
) -> Result<Trend, LedgerError> {
    let (mut y, mut m) = month_of(q.from).ok_or_else(|| invalid("from", "out of range"))?;
    let mut months = Vec::new();
    while let Some(start) = month_start(y, m).filter(|s| *s < q.to) {
        if months.len() >= MAX_TREND_MONTHS {
            return Err(
                invalid("to", format!("a trend covers at most {MAX_TREND_MONTHS} months")).into()
            );
        }
        let (ny, nm) = next_month(y, m);
        let end = month_start(ny, nm).ok_or_else(|| invalid("to", "out of range"))?;
        let mq = AssessmentQuery { area: Some(area.clone()), from: start, to: end, ..q.clone() };
        months.push(Month {
            month: format!("{y:04}-{m:02}"),
            figures: total(store, &mq, scopes).await?,
        });
        (y, m) = (ny, nm);
    }
    Ok(Trend { area: area.as_str().to_owned(), months })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_truncate_and_rank() {
        assert_eq!(truncate("320612/004/017/03/02", 4), "320612/004/017/03");
        assert_eq!(truncate("320612/004", 4), "320612/004");
        assert_eq!(truncate("320612/004", 1), "320612");
        let g = |area: &str, n: u64, d: u64| Group {
            area: area.into(),
            area_name: None,
            worker: None,
            worker_name: None,
            role: None,
            rank: 0,
            figures: Figures { visit_coverage: Rate::of(n, d), ..Figures::default() },
        };
        let mut groups = vec![g("a", 1, 2), g("b", 0, 0), g("c", 2, 2), g("d", 2, 4)];
        rank(&mut groups, Metric::VisitCoverage);
        let order: Vec<(&str, u32)> = groups.iter().map(|g| (g.area.as_str(), g.rank)).collect();
        assert_eq!(order, vec![("c", 1), ("a", 2), ("d", 2), ("b", 4)]);
    }

    #[test]
    fn requests_parse_and_refuse() {
        let p = |v: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> =
                v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
            AssessmentQuery::parse(&pairs)
        };
        let q = p(&[("month", "2026-11"), ("level", "town")]).unwrap();
        assert_eq!(q.level, Level::Area(2));
        assert_eq!(q.to - q.from, 30 * DAY_MS);
        assert!(p(&[("month", "2026-11"), ("from", "2026-11")]).is_err());
        assert!(p(&[("from", "2026-12"), ("to", "2026-11")]).is_err());
        assert!(p(&[("month", "2026-11"), ("level", "planet")]).is_err());
        assert!(p(&[("month", "2026-11"), ("rank_by", "x")]).is_err());
        assert!(matches!(p(&[("x", "1")]), Err(QueryError::UnknownFilter { .. })));
    }
}
