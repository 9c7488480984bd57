//! Times and periods as ledger and assessment requests give them: milliseconds since the epoch,
//! RFC 3339, or a calendar date or month in China Standard Time (`2026-11-03`, `2026-11`: its
//! first instant). Periods are half-open, `[from, to)`.

use chrono::{Datelike, NaiveDate, TimeZone};

use super::cst;
use crate::query::QueryError;

/// A time (ms since the epoch) from a request value; `name` is the filter reported on error.
///
/// # Errors
/// [`QueryError::Invalid`] naming `name` for anything else.
pub fn parse_time(name: &'static str, v: &str) -> Result<i64, QueryError> {
    let v = v.trim();
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d"));
    date.ok().and_then(day_start).ok_or_else(|| QueryError::Invalid {
        name,
        reason: "not a month (2026-11), a date (2026-11-03), an RFC 3339 time or milliseconds \
                 since the epoch"
            .into(),
    })
}

/// The first instant (ms) of a calendar day in China Standard Time.
pub fn day_start(date: NaiveDate) -> Option<i64> {
    let t = date.and_hms_opt(0, 0, 0)?;
    cst().from_local_datetime(&t).single().map(|t| t.timestamp_millis())
}

/// The month (year, month) of a time in China Standard Time.
pub fn month_of(ms: i64) -> Option<(i32, u32)> {
    super::local_time(ms).map(|t| (t.year(), t.month()))
}

/// The first instant (ms) of a month in China Standard Time.
pub fn month_start(year: i32, month: u32) -> Option<i64> {
    NaiveDate::from_ymd_opt(year, month, 1).and_then(day_start)
}

/// The month after `(year, month)`.
pub const fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month >= 12 { (year + 1, 1) } else { (year, month + 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_a_time() {
        let nov = parse_time("from", "2026-11").unwrap();
        assert_eq!(nov, parse_time("from", "2026-11-01").unwrap());
        assert_eq!(nov, parse_time("from", "2026-11-01T00:00:00+08:00").unwrap());
        assert_eq!(nov, parse_time("from", "2026-10-31T16:00:00Z").unwrap());
        assert_eq!(nov.to_string(), nov.to_string().parse::<i64>().unwrap().to_string());
        assert_eq!(month_of(nov), Some((2026, 11)));
        assert_eq!(month_of(nov - 1), Some((2026, 10)));
        assert_eq!(month_start(2026, 12).unwrap() - nov, 30 * 86_400_000);
        assert_eq!(next_month(2026, 12), (2027, 1));
        for bad in ["", "2026-13", "yesterday", "2026-11-31"] {
            assert!(
                matches!(parse_time("to", bad), Err(QueryError::Invalid { name: "to", .. })),
                "{bad}"
            );
        }
    }
}
