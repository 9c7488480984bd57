//! The filters of a ledger request, parsed and checked before any SQL is made, with the staff
//! query API's errors (`unknown_filter`, `invalid_filter`, `invalid_area`): every ledger takes
//! `area` (any level), `format` and `lang`; the period (`from`, `to`) and the person (`worker`)
//! where the ledger has them.

use gridwork_core::{AreaPath, HouseholdTag};
use uuid::Uuid;

use super::period::parse_time;
use super::{Format, Lang, Ledger};
use crate::query::QueryError;

/// The most characters of any filter value.
const MAX_VALUE_CHARS: usize = 200;

/// A checked ledger request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerQuery {
    /// Which ledger.
    pub ledger: Ledger,
    /// Only rows within this area.
    pub area: Option<AreaPath>,
    /// Period start, ms (inclusive): visited, patrol started, work order reported (server
    /// receive time), household registered.
    pub from: Option<i64>,
    /// Period end, ms (exclusive).
    pub to: Option<i64>,
    /// Only this person's rows: the visitor, the patrolling worker, the reporter.
    pub worker: Option<Uuid>,
    /// Households with this tag.
    pub tag: Option<HouseholdTag>,
    /// Download format (default JSON).
    pub format: Format,
    /// Headings and labels (default Chinese).
    pub lang: Lang,
}

impl LedgerQuery {
    /// An unfiltered request for `ledger` as JSON in Chinese.
    pub fn new(ledger: Ledger) -> LedgerQuery {
        LedgerQuery {
            ledger,
            area: None,
            from: None,
            to: None,
            worker: None,
            tag: None,
            format: Format::Json,
            lang: Lang::Zh,
        }
    }

    /// Parses the query-string pairs of a ledger request.
    ///
    /// # Errors
    /// [`QueryError`] for the first problem found.
    pub fn parse(ledger: Ledger, pairs: &[(String, String)]) -> Result<LedgerQuery, QueryError> {
        let mut q = LedgerQuery::new(ledger);
        let allowed = filters_of(ledger);
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            let Some(&known) = allowed.iter().find(|a| **a == name.as_str()) else {
                return Err(QueryError::UnknownFilter {
                    name: name.chars().take(40).filter(char::is_ascii_graphic).collect(),
                    kind: ledger.segment(),
                    allowed: allowed.join(", "),
                });
            };
            if seen.contains(&known) {
                return Err(invalid(known, "given more than once"));
            }
            seen.push(known);
            if value.chars().nth(MAX_VALUE_CHARS).is_some() {
                return Err(invalid(known, format!("longer than {MAX_VALUE_CHARS} characters")));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid(known, "contains control characters"));
            }
            q.set(known, value.trim())?;
        }
        q.check_period()?;
        Ok(q)
    }

    /// Refuses a period that ends before it starts.
    ///
    /// # Errors
    /// [`QueryError::Invalid`] naming `from`.
    pub fn check_period(&self) -> Result<(), QueryError> {
        match (self.from, self.to) {
            (Some(f), Some(t)) if f > t => Err(invalid("from", "must not be after `to`")),
            _ => Ok(()),
        }
    }

    fn set(&mut self, name: &'static str, v: &str) -> Result<(), QueryError> {
        match name {
            "area" => {
                self.area = Some(AreaPath::parse(v).map_err(|e| QueryError::Area(e.to_string()))?);
            }
            "from" => self.from = Some(parse_time(name, v)?),
            "to" => self.to = Some(parse_time(name, v)?),
            "worker" => {
                self.worker = Some(Uuid::parse_str(v).map_err(|_| invalid(name, "not a UUID"))?);
            }
            "tag" => {
                self.tag =
                    Some(HouseholdTag::parse(v).map_err(|_| invalid(name, "not a household tag"))?);
            }
            "format" => {
                self.format = Format::parse(v)
                    .ok_or_else(|| invalid(name, "must be `json`, `csv` or `xlsx`"))?;
            }
            "lang" => {
                self.lang = match v {
                    "zh" => Lang::Zh,
                    "en" => Lang::En,
                    _ => return Err(invalid(name, "must be `zh` or `en`")),
                };
            }
            _ => {}
        }
        Ok(())
    }

    /// The filter as text for the audit log (`area=… from=… to=… worker=…`).
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("ledger={}", self.ledger.segment())];
        if let Some(a) = &self.area {
            parts.push(format!("area={}", a.as_str()));
        }
        for (k, v) in [("from", self.from), ("to", self.to)] {
            if let Some(ms) = v {
                let t = super::local_time(ms).map_or_else(|| ms.to_string(), |t| t.to_rfc3339());
                parts.push(format!("{k}={t}"));
            }
        }
        if let Some(w) = self.worker {
            parts.push(format!("worker={w}"));
        }
        if let Some(t) = self.tag {
            parts.push(format!("tag={}", t.as_str()));
        }
        parts.push(format!("format={}", self.format.extension()));
        parts.join(" ")
    }
}

/// The filters a ledger takes.
pub fn filters_of(ledger: Ledger) -> &'static [&'static str] {
    match ledger {
        Ledger::Households => &["area", "from", "to", "tag", "format", "lang"],
        Ledger::Visits | Ledger::Patrols | Ledger::WorkOrders => {
            &["area", "from", "to", "worker", "format", "lang"]
        }
        Ledger::KeyPopulation => &["area", "format", "lang"],
    }
}

fn invalid(name: &'static str, reason: impl Into<String>) -> QueryError {
    QueryError::Invalid { name, reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(l: Ledger, p: &[(&str, &str)]) -> Result<LedgerQuery, QueryError> {
        let pairs: Vec<(String, String)> =
            p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        LedgerQuery::parse(l, &pairs)
    }

    #[test]
    fn filters_parse_and_refuse() {
        let q = parse(
            Ledger::Visits,
            &[("area", "320612/004"), ("from", "2026-11"), ("to", "2026-12"), ("format", "csv")],
        )
        .unwrap();
        assert_eq!(q.area.unwrap().as_str(), "320612/004");
        assert_eq!(q.format, Format::Csv);
        assert!(q.from < q.to);
        assert!(matches!(
            parse(Ledger::KeyPopulation, &[("worker", &Uuid::nil().to_string())]),
            Err(QueryError::UnknownFilter { .. })
        ));
        assert!(matches!(
            parse(Ledger::Visits, &[("from", "2026-12"), ("to", "2026-11")]),
            Err(QueryError::Invalid { name: "from", .. })
        ));
        assert!(matches!(
            parse(Ledger::Visits, &[("format", "pdf")]),
            Err(QueryError::Invalid { name: "format", .. })
        ));
        assert!(matches!(parse(Ledger::Visits, &[("area", "x")]), Err(QueryError::Area(_))));
        assert!(matches!(
            parse(Ledger::Visits, &[("lang", "en"), ("lang", "zh")]),
            Err(QueryError::Invalid { name: "lang", .. })
        ));
        assert_eq!(parse(Ledger::Patrols, &[("lang", "en")]).unwrap().lang, Lang::En);
    }
}
