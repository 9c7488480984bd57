//! UniFFI declarations for the foreign types the core's data types use (only with the `uniffi`
//! feature, for the `gridwork-ffi` crate; DESIGN §7). The core's own records and enums derive
//! `uniffi::Record` / `uniffi::Enum` where they are declared.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::area::AreaPath;

// A record id crosses as its hyphenated text (`java.util.UUID` in Kotlin, via uniffi.toml).
uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(Uuid::parse_str(&s)?),
});

type UtcDateTime = DateTime<Utc>;

// A point in time crosses as a timestamp (`java.time.Instant`, `Date`, `datetime`).
uniffi::custom_type!(UtcDateTime, std::time::SystemTime, {
    remote,
    lower: |t| t.into(),
    try_lift: |t| Ok(t.into()),
});

// An area code path crosses as its text, validated on the way in.
uniffi::custom_type!(AreaPath, String, {
    lower: |a| a.into(),
    try_lift: |s| Ok(AreaPath::parse(&s)?),
});
