//! Time conversions. Documents and projections store instants as milliseconds since the Unix
//! epoch (UTC); the API uses `chrono` types.

use chrono::{DateTime, TimeZone, Utc};

/// The instant `ms` milliseconds after the epoch (clamped to the epoch if out of range).
pub fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// [`ms_to_time`] for an optional value.
pub fn opt_ms_to_time(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(ms_to_time)
}
