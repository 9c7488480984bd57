//! The read model's rows as text, the same on both backends
//! ([`crate::read_model::projector::ReadModelStore::rm_rows`]): each backend reads the columns
//! listed here with the types listed here, and [`line`] prints them one way, so equal rows give
//! equal lines whichever database holds them. It also holds the encoding of a document's receive
//! times, stored alike by both.

use std::collections::BTreeMap;

/// How a read-model column is read back (both backends' `rm_` tables hold these types:
/// migration 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// `BLOB` / `BYTEA`.
    Bytes,
    /// `INTEGER` / `BIGINT` (read as 64 bits).
    Int,
    /// `INTEGER` 0/1 / `BOOLEAN`.
    Bool,
    /// `REAL` / `DOUBLE PRECISION`.
    Real,
    /// `TEXT`.
    Text,
}

/// One value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Bytes.
    Bytes(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

impl<T> From<Option<T>> for Cell
where
    Cell: From<T>,
{
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Cell::from)
    }
}

impl From<Vec<u8>> for Cell {
    fn from(v: Vec<u8>) -> Cell {
        Cell::Bytes(v)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Bool(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Real(v)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

/// The tables `rm_rows` lists and the columns it prints, in order. `rm_docs` is listed without
/// its `state` (Automerge `save()` bytes, whose layout may depend on the order changes were
/// loaded in); its receive times are listed.
pub(crate) const ROW_TABLES: &[(&str, &[(&str, Col)])] = &[
    ("rm_cursor", &[("id", Col::Int), ("seq", Col::Int)]),
    ("rm_docs", &[("doc_id", Col::Bytes), ("kind", Col::Int), ("received", Col::Bytes)]),
    (
        "rm_records",
        &[
            ("doc_id", Col::Bytes),
            ("kind", Col::Int),
            ("area_key", Col::Text),
            ("deleted", Col::Bool),
            ("created_at", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "rm_households",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("head_name", Col::Text),
            ("address", Col::Text),
            ("tags", Col::Text),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_residents",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("household_id", Col::Bytes),
            ("name", Col::Text),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_sensitive",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("resident_id", Col::Bytes),
            ("household_id", Col::Bytes),
            ("key_population", Col::Text),
            ("deleted", Col::Bool),
            ("record", Col::Text),
        ],
    ),
    (
        "rm_visits",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("household_id", Col::Bytes),
            ("visitor", Col::Text),
            ("visited_at", Col::Int),
            ("outcome", Col::Text),
            ("satisfaction", Col::Int),
            ("knows_worker", Col::Bool),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_patrols",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("worker", Col::Text),
            ("started_at", Col::Int),
            ("ended_at", Col::Int),
            ("points", Col::Int),
            ("distance_m", Col::Real),
            ("duration_s", Col::Real),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_work_orders",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("category", Col::Text),
            ("severity", Col::Text),
            ("state", Col::Text),
            ("reported_at", Col::Int),
            ("deadline_at", Col::Int),
            ("closed_at", Col::Int),
            ("closed_on_time", Col::Bool),
            ("is_open", Col::Bool),
            ("escalated", Col::Bool),
            ("departments", Col::Text),
            ("dept_states", Col::Text),
            ("pending_ext", Col::Int),
            ("title", Col::Text),
            ("household_id", Col::Bytes),
            ("conflicts", Col::Int),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_tasks",
        &[
            ("doc_id", Col::Bytes),
            ("area_key", Col::Text),
            ("title", Col::Text),
            ("due_at", Col::Int),
            ("completed_at", Col::Int),
            ("deleted", Col::Bool),
        ],
    ),
    (
        "rm_search",
        &[
            ("token", Col::Text),
            ("kind", Col::Int),
            ("doc_id", Col::Bytes),
            ("source_id", Col::Bytes),
        ],
    ),
];

/// Every `rm_` table, for `rm_clear` (the tables of [`ROW_TABLES`]: `rm_docs` is among them).
pub(crate) fn all_tables() -> impl Iterator<Item = &'static str> {
    ROW_TABLES.iter().map(|(t, _)| *t)
}

/// One row as a line: `table|cell|cell…`. Bytes print as lower-case hex, text quoted and escaped
/// (so a `|` or a newline in a value cannot run into the next cell), floats in Rust's shortest
/// round-trip form, NULL as `NULL`.
pub(crate) fn line(table: &str, cells: &[Cell]) -> String {
    let mut out = String::from(table);
    for c in cells {
        out.push('|');
        match c {
            Cell::Null => out.push_str("NULL"),
            Cell::Bytes(b) => out.push_str(&hex::encode(b)),
            Cell::Int(i) => out.push_str(&i.to_string()),
            Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Cell::Real(f) => out.push_str(&format!("{f:?}")),
            Cell::Text(t) => out.push_str(&format!("{t:?}")),
        }
    }
    out
}

/// The receive times of a document's changes as stored in `rm_docs.received` (both backends):
/// each change's 32-byte hash followed by its time as 8 big-endian bytes.
pub(crate) fn received_blob(received: &BTreeMap<[u8; 32], i64>) -> Vec<u8> {
    received.iter().flat_map(|(h, at)| h.iter().copied().chain(at.to_be_bytes())).collect()
}

/// Reads back [`received_blob`]; a truncated tail is ignored.
pub(crate) fn blob_received(blob: &[u8]) -> BTreeMap<[u8; 32], i64> {
    blob.chunks_exact(40)
        .filter_map(|c| {
            let (h, at) = c.split_at(32);
            Some((<[u8; 32]>::try_from(h).ok()?, i64::from_be_bytes(<[u8; 8]>::try_from(at).ok()?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_unambiguous() {
        let l = line(
            "rm_x",
            &[
                Cell::Null,
                Cell::Bytes(vec![0xab, 1]),
                Cell::Int(-3),
                Cell::Bool(true),
                Cell::Real(2.0),
                Cell::Text("a|b\n".into()),
            ],
        );
        assert_eq!(l, "rm_x|NULL|ab01|-3|true|2.0|\"a|b\\n\"");
        assert_eq!(Cell::from(None::<i64>), Cell::Null);
        assert_eq!(Cell::from(Some(4i64)), Cell::Int(4));
    }
}
