//! The commands for taking part in the work: one module per kind of record, each turning the
//! core's answer into a [`Reply`](crate::output::Reply) with a JSON value and a text for people.

pub mod alerts;
pub mod patrol;
pub mod resident;
pub mod task;
pub mod work_order;

use serde_json::Value;

/// `v` as a JSON value (`null` if it cannot be one, which the core's types never are).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
