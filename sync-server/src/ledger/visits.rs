//! The visit ledger (走访台账): each visit within the area and period (by when it was made,
//! `visited_at`), optionally by one visitor, with the household visited, the outcome and the
//! two rates' answers (satisfaction, knows the grid worker). Read from the typed tables only —
//! no record JSON — as it is the ledger that grows to millions of rows.

use super::names::Names;
use super::sql::{Reader, area_values, base, in_period};
use super::store::Col;
use super::{Column, Lang, Value, col, labels};
use crate::ledger::filter::LedgerQuery;
use crate::query::sql::Builder;
use crate::query::{Bind, Dialect};
use crate::store::{ReadScope, StoreError};

/// The columns.
pub const COLUMNS: &[Column] = &[
    col("visited_at", "走访时间", "Visited at"),
    col("area", "区域编码", "Area code"),
    col("area_name", "区域名称", "Area"),
    col("head_name", "户主", "Head of household"),
    col("address", "地址", "Address"),
    col("visitor", "走访人", "Visitor"),
    col("outcome", "走访结果", "Outcome"),
    col("satisfaction", "满意度(1-5)", "Satisfaction (1-5)"),
    col("knows_worker", "知晓网格员", "Knows the grid worker"),
    col("id", "记录编号", "Record id"),
];

/// How a page row is read.
pub(crate) const COLS: &[Col] = &[
    Col::Bytes,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Bool,
];

pub(crate) fn select(dialect: Dialect, q: &LedgerQuery, scopes: &[ReadScope]) -> Builder {
    let mut b = base(
        dialect,
        "SELECT t.doc_id, t.area_key, t.visited_at, h.head_name, h.address, t.visitor,
                t.outcome, t.satisfaction, t.knows_worker
         FROM rm_visits t LEFT JOIN rm_households h ON h.doc_id = t.household_id",
        q,
        scopes,
    );
    in_period(&mut b, "t.visited_at", q.from, q.to);
    if let Some(w) = q.worker {
        let p = b.bind(Bind::Text(w.to_string()));
        b.push(&format!(" AND t.visitor = {p}"));
    }
    b
}

pub(crate) fn row(r: &mut Reader, names: &Names, lang: Lang) -> Result<Vec<Value>, StoreError> {
    let id = r.id()?;
    let [area, area_name] = area_values(r.area()?, names);
    let visited = r.int()?;
    let (head, address) = (r.opt_text()?, r.opt_text()?);
    let visitor = r.text()?;
    let outcome = r.text()?;
    Ok(vec![
        Value::time(visited),
        area,
        area_name,
        Value::text(head),
        Value::text(address),
        Value::Text(names.user(&visitor)),
        labels::outcome(&outcome, lang),
        Value::int(r.int()?),
        Value::bool(r.bool()?),
        Value::Text(id.to_string()),
    ])
}
