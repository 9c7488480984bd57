//! UniFFI declarations for the foreign types the core's data types use (only with the `uniffi`
//! feature, for the `gridwork-ffi` crate; DESIGN §7). The core's own records and enums derive
//! `uniffi::Record` / `uniffi::Enum` where they are declared.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::area::AreaPath;
use crate::work_order::WorkOrderState;

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

/// A count or size the core keeps as `usize` (track points, loaded areas, push bytes): it
/// crosses as an unsigned 64-bit integer.
type Count = usize;

uniffi::custom_type!(Count, u64, {
    remote,
    lower: |n| u64::try_from(n).unwrap_or(u64::MAX),
    try_lift: |n| Ok(usize::try_from(n)?),
});

/// A work order's state per department, kept ordered by department name in the core; it
/// crosses as a map (`Map<String, WorkOrderState>` in Kotlin, a `dict` in Python).
type DepartmentStates = BTreeMap<String, WorkOrderState>;

uniffi::custom_type!(DepartmentStates, HashMap<String, WorkOrderState>, {
    remote,
    lower: |m| m.into_iter().collect(),
    try_lift: |m| Ok(m.into_iter().collect()),
});
