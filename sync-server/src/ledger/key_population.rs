//! The key-population ledger (重点人员台账): residents of a key-population category (社区矫正,
//! 刑满释放, 社区戒毒康复, 严重精神障碍) within the area, with their household and when it was
//! last met at a visit. Sensitive: only roles that read sensitive data get it (the read scope
//! of [`gridwork_core::RecordKind::Sensitive`]), and every export of it is audited. It holds the
//! least the ledger needs: no ID-card number, health or relief detail.

use super::names::Names;
use super::sql::{Reader, area_values, base};
use super::store::Col;
use super::{Column, Lang, Value, col, labels};
use crate::ledger::filter::LedgerQuery;
use crate::query::Dialect;
use crate::query::sql::Builder;
use crate::store::{ReadScope, StoreError};

/// The columns.
pub const COLUMNS: &[Column] = &[
    col("area", "区域编码", "Area code"),
    col("area_name", "区域名称", "Area"),
    col("name", "姓名", "Name"),
    col("category", "重点人员类别", "Key-population category"),
    col("head_name", "户主", "Head of household"),
    col("address", "地址", "Address"),
    col("last_met_at", "最近见面走访", "Last met at a visit"),
    col("id", "记录编号", "Record id"),
];

/// How a page row is read.
pub(crate) const COLS: &[Col] =
    &[Col::Bytes, Col::Text, Col::Text, Col::Text, Col::Text, Col::Text, Col::Int];

pub(crate) fn select(dialect: Dialect, q: &LedgerQuery, scopes: &[ReadScope]) -> Builder {
    let mut b = base(
        dialect,
        "SELECT t.doc_id, t.area_key, x.name, t.key_population, h.head_name, h.address,
                (SELECT max(v.visited_at) FROM rm_visits v
                  WHERE v.household_id = t.household_id AND v.outcome = 'met'
                    AND v.deleted = FALSE)
         FROM rm_sensitive t
         LEFT JOIN rm_residents x ON x.doc_id = t.resident_id
         LEFT JOIN rm_households h ON h.doc_id = t.household_id",
        q,
        scopes,
    );
    b.push(" AND t.key_population IS NOT NULL");
    b
}

pub(crate) fn row(r: &mut Reader, names: &Names, lang: Lang) -> Result<Vec<Value>, StoreError> {
    let id = r.id()?;
    let [area, area_name] = area_values(r.area()?, names);
    let name = r.opt_text()?;
    let category = r.text()?;
    let category = Value::Label { text: labels::tag_name(&category, lang), code: category };
    Ok(vec![
        area,
        area_name,
        Value::text(name),
        category,
        Value::text(r.opt_text()?),
        Value::text(r.opt_text()?),
        Value::time(r.int()?),
        Value::Text(id.to_string()),
    ])
}
