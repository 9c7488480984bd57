//! The patrol ledger (巡查台账): each patrol within the area and period (by when it started),
//! optionally by one worker, with its hours, distance, GPS fixes, check-ins (points covered,
//! 打卡) and observations.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::names::Names;
use super::sql::{Reader, area_values, base, in_period, round};
use super::store::Col;
use super::{Column, Lang, Value, col};
use crate::ledger::filter::LedgerQuery;
use crate::query::sql::Builder;
use crate::query::{Bind, Dialect};
use crate::store::{ReadScope, StoreError};

/// The columns.
pub const COLUMNS: &[Column] = &[
    col("started_at", "开始时间", "Started at"),
    col("ended_at", "结束时间", "Ended at"),
    col("area", "区域编码", "Area code"),
    col("area_name", "区域名称", "Area"),
    col("worker", "巡查人", "Worker"),
    col("hours", "时长(小时)", "Hours"),
    col("km", "里程(公里)", "Distance (km)"),
    col("gps_points", "轨迹点数", "GPS fixes"),
    col("check_ins", "打卡点数", "Check-ins"),
    col("observations", "发现问题数", "Observations"),
    col("id", "记录编号", "Record id"),
];

/// How a page row is read.
pub(crate) const COLS: &[Col] = &[
    Col::Bytes,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Real,
    Col::Real,
    Col::Int,
    Col::Text,
];

/// What is counted from the patrol's record (its track is skipped, not built).
#[derive(Deserialize)]
struct Counts {
    #[serde(default)]
    checkins: Vec<IgnoredAny>,
    #[serde(default)]
    observations: Vec<IgnoredAny>,
}

pub(crate) fn select(dialect: Dialect, q: &LedgerQuery, scopes: &[ReadScope]) -> Builder {
    let mut b = base(
        dialect,
        "SELECT t.doc_id, t.area_key, t.started_at, t.ended_at, t.worker, t.duration_s,
                t.distance_m, t.points, r.record
         FROM rm_patrols t JOIN rm_records r ON r.doc_id = t.doc_id",
        q,
        scopes,
    );
    in_period(&mut b, "t.started_at", q.from, q.to);
    if let Some(w) = q.worker {
        let p = b.bind(Bind::Text(w.to_string()));
        b.push(&format!(" AND t.worker = {p}"));
    }
    b
}

pub(crate) fn row(r: &mut Reader, names: &Names, _lang: Lang) -> Result<Vec<Value>, StoreError> {
    let id = r.id()?;
    let [area, area_name] = area_values(r.area()?, names);
    let (started, ended) = (r.int()?, r.int()?);
    let worker = r.text()?;
    let (seconds, metres, points) = (r.real()?, r.real()?, r.int()?);
    let counts: Counts = r.json()?;
    let count = |v: &Vec<IgnoredAny>| Value::Int(i64::try_from(v.len()).unwrap_or(i64::MAX));
    Ok(vec![
        Value::time(started),
        Value::time(ended),
        area,
        area_name,
        Value::Text(names.user(&worker)),
        Value::Real(round(seconds.unwrap_or(0.0) / 3600.0, 2)),
        Value::Real(round(metres.unwrap_or(0.0) / 1000.0, 3)),
        Value::int(points),
        count(&counts.checkins),
        count(&counts.observations),
        Value::Text(id.to_string()),
    ])
}
