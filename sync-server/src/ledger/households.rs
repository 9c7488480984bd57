//! The household registry (人房台账): every live household within the area with its tags, its
//! size, its registered residents and when it was last met at a visit. The period filters by
//! registration (the record's creation); `tag` by household tag.

use serde::Deserialize;

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
    col("area", "区域编码", "Area code"),
    col("area_name", "区域名称", "Area"),
    col("head_name", "户主", "Head of household"),
    col("address", "地址", "Address"),
    col("member_count", "家庭人数", "Members"),
    col("phone", "联系电话", "Phone"),
    col("tags", "户籍分类", "Tags"),
    col("residents", "登记居民数", "Residents registered"),
    col("last_met_at", "最近见面走访", "Last met at a visit"),
    col("registered_at", "登记时间", "Registered at"),
    col("id", "记录编号", "Record id"),
];

/// How a page row is read.
pub(crate) const COLS: &[Col] = &[
    Col::Bytes,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
];

/// The household fields the typed table does not hold.
#[derive(Deserialize)]
struct Extra {
    #[serde(default)]
    member_count: Option<i64>,
    #[serde(default)]
    phone: Option<String>,
}

pub(crate) fn select(dialect: Dialect, q: &LedgerQuery, scopes: &[ReadScope]) -> Builder {
    let mut b = base(
        dialect,
        "SELECT t.doc_id, t.area_key, t.head_name, t.address, t.tags, r.record, r.created_at,
                (SELECT count(*) FROM rm_residents x
                  WHERE x.household_id = t.doc_id AND x.deleted = FALSE),
                (SELECT max(v.visited_at) FROM rm_visits v
                  WHERE v.household_id = t.doc_id AND v.outcome = 'met' AND v.deleted = FALSE)
         FROM rm_households t JOIN rm_records r ON r.doc_id = t.doc_id",
        q,
        scopes,
    );
    in_period(&mut b, "r.created_at", q.from, q.to);
    if let Some(tag) = q.tag {
        let p = b.bind(Bind::Text(format!(",{},", tag.as_str())));
        b.push(&format!(" AND {}(',' || t.tags || ',', {p}) > 0", dialect.position()));
    }
    b
}

pub(crate) fn row(r: &mut Reader, names: &Names, lang: Lang) -> Result<Vec<Value>, StoreError> {
    let id = r.id()?;
    let [area, area_name] = area_values(r.area()?, names);
    let (head, address, tags) = (r.text()?, r.text()?, r.text()?);
    let extra: Extra = r.json()?;
    let created = r.int()?;
    let residents = r.int()?;
    let last_met = r.int()?;
    Ok(vec![
        area,
        area_name,
        Value::Text(head),
        Value::Text(address),
        Value::int(extra.member_count),
        Value::text(extra.phone),
        labels::tags(&tags, lang),
        Value::int(residents),
        Value::time(last_met),
        Value::time(created),
        Value::Text(id.to_string()),
    ])
}
