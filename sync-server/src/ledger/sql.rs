//! The SQL of ledgers, built once for both backends with the staff query API's statement
//! builder ([`crate::query::sql`]): values are always bound, the caller's read scope is the
//! pulls' predicate. A ledger is read in keyset pages by record id (`doc_id > last ORDER BY
//! doc_id LIMIT n`), so each page is one index range and nothing holds the whole ledger.

use uuid::Uuid;

use super::filter::LedgerQuery;
use super::names::Names;
use super::store::{Cell, Col};
use super::{Lang, Ledger, Value, households, key_population, patrols, visits, work_orders};
use crate::query::sql::Builder;
use crate::query::{Bind, Dialect, Statement};
use crate::store::{ReadScope, StoreError, area_range};

/// Rows per page read from the database.
pub const PAGE_ROWS: u32 = 2_000;

/// One page of `q`'s ledger within `scopes`: rows after record `after` (bytes of its id), at
/// most `limit`, in id order. Every page's first column is the record id.
pub fn page(
    dialect: Dialect,
    q: &LedgerQuery,
    scopes: &[ReadScope],
    after: Option<&[u8]>,
    limit: u32,
) -> Statement {
    let mut b = match q.ledger {
        Ledger::Households => households::select(dialect, q, scopes),
        Ledger::Visits => visits::select(dialect, q, scopes),
        Ledger::Patrols => patrols::select(dialect, q, scopes),
        Ledger::WorkOrders => work_orders::select(dialect, q, scopes),
        Ledger::KeyPopulation => key_population::select(dialect, q, scopes),
    };
    if let Some(after) = after {
        let p = b.bind(Bind::Bytes(after.to_vec()));
        b.push(&format!(" AND t.doc_id > {p}"));
    }
    b.push(&format!(" ORDER BY t.doc_id LIMIT {limit}"));
    b.finish()
}

/// How `ledger`'s page rows are read back.
pub fn cols(ledger: Ledger) -> &'static [Col] {
    match ledger {
        Ledger::Households => households::COLS,
        Ledger::Visits => visits::COLS,
        Ledger::Patrols => patrols::COLS,
        Ledger::WorkOrders => work_orders::COLS,
        Ledger::KeyPopulation => key_population::COLS,
    }
}

/// One page row as the ledger's values (in [`Ledger::columns`] order).
///
/// # Errors
/// [`StoreError::Corrupt`] for a row this server did not write.
pub fn row(
    ledger: Ledger,
    cells: Vec<Cell>,
    names: &Names,
    lang: Lang,
) -> Result<Vec<Value>, StoreError> {
    let mut r = Reader { cells: cells.into_iter(), ledger };
    match ledger {
        Ledger::Households => households::row(&mut r, names, lang),
        Ledger::Visits => visits::row(&mut r, names, lang),
        Ledger::Patrols => patrols::row(&mut r, names, lang),
        Ledger::WorkOrders => work_orders::row(&mut r, names, lang),
        Ledger::KeyPopulation => key_population::row(&mut r, names, lang),
    }
}

/// A statement selecting from `table t` (joined as the ledger needs) with the caller's scope
/// for `ledger` and the request's area applied.
pub(crate) fn base(
    dialect: Dialect,
    select: &str,
    q: &LedgerQuery,
    scopes: &[ReadScope],
) -> Builder {
    let mut b = Builder::new(dialect, select);
    b.push(" WHERE t.deleted = FALSE");
    b.scope("t", q.ledger.kind(), scopes);
    if let Some(area) = &q.area {
        in_area(&mut b, "t.area_key", area.as_str());
    }
    b
}

/// ` AND {col} within area` (whole path segments).
pub(crate) fn in_area(b: &mut Builder, col: &str, area: &str) {
    let (lo, hi) = area_range(area);
    let (lo, hi) = (b.bind(Bind::Text(lo)), b.bind(Bind::Text(hi)));
    b.push(&format!(" AND {col} >= {lo} AND {col} < {hi}"));
}

/// ` AND {col} in [from, to)` for the bounds given.
pub(crate) fn in_period(b: &mut Builder, col: &str, from: Option<i64>, to: Option<i64>) {
    if let Some(from) = from {
        let p = b.bind(Bind::Int(from));
        b.push(&format!(" AND {col} >= {p}"));
    }
    if let Some(to) = to {
        let p = b.bind(Bind::Int(to));
        b.push(&format!(" AND {col} < {p}"));
    }
}

/// The text at `path` inside the JSON text column `col` (`json_extract` / `jsonb #>>`).
pub(crate) fn json_text(dialect: Dialect, col: &str, path: &[&str]) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_extract({col}, '$.{}')", path.join(".")),
        Dialect::Postgres => format!("({col}::jsonb #>> '{{{}}}')", path.join(",")),
    }
}

/// Reads one page row's cells in order, naming the ledger on a bad cell.
pub(crate) struct Reader {
    cells: std::vec::IntoIter<Cell>,
    ledger: Ledger,
}

impl Reader {
    fn next(&mut self) -> Result<Cell, StoreError> {
        self.cells.next().ok_or_else(|| self.corrupt("row too short"))
    }

    fn corrupt(&self, what: &str) -> StoreError {
        StoreError::Corrupt(format!("{} ledger row: {what}", self.ledger.segment()))
    }

    /// A record id.
    pub(crate) fn id(&mut self) -> Result<Uuid, StoreError> {
        match self.next()? {
            Cell::Bytes(b) => Uuid::from_slice(&b).map_err(|_| self.corrupt("bad id")),
            _ => Err(self.corrupt("id is not bytes")),
        }
    }

    /// Text (NULL: empty).
    pub(crate) fn text(&mut self) -> Result<String, StoreError> {
        Ok(self.opt_text()?.unwrap_or_default())
    }

    /// Text or NULL.
    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.next()? {
            Cell::Text(t) => Ok(Some(t)),
            Cell::Null => Ok(None),
            _ => Err(self.corrupt("expected text")),
        }
    }

    /// An area key as its path (`320612/004/`: `320612/004`).
    pub(crate) fn area(&mut self) -> Result<String, StoreError> {
        let key = self.text()?;
        Ok(key.strip_suffix('/').unwrap_or(&key).to_owned())
    }

    /// An integer or NULL.
    pub(crate) fn int(&mut self) -> Result<Option<i64>, StoreError> {
        match self.next()? {
            Cell::Int(i) => Ok(Some(i)),
            Cell::Null => Ok(None),
            _ => Err(self.corrupt("expected an integer")),
        }
    }

    /// A float or NULL.
    pub(crate) fn real(&mut self) -> Result<Option<f64>, StoreError> {
        match self.next()? {
            Cell::Real(f) => Ok(Some(f)),
            Cell::Int(i) => Ok(Some(i as f64)),
            Cell::Null => Ok(None),
            _ => Err(self.corrupt("expected a number")),
        }
    }

    /// A boolean or NULL.
    pub(crate) fn bool(&mut self) -> Result<Option<bool>, StoreError> {
        match self.next()? {
            Cell::Bool(b) => Ok(Some(b)),
            Cell::Int(i) => Ok(Some(i != 0)),
            Cell::Null => Ok(None),
            _ => Err(self.corrupt("expected a boolean")),
        }
    }

    /// A record's JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, StoreError> {
        let text = self.text()?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(&format!("record JSON: {e}")))
    }
}

/// The area cells every ledger starts with after its own: path and name.
pub(crate) fn area_values(path: String, names: &Names) -> [Value; 2] {
    let name = Value::text(names.area(&path));
    [Value::Text(path), name]
}

/// A measurement rounded to `places` decimals (hours, km), so the files show what a person
/// would write.
pub(crate) fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}
