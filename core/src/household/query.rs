//! Reading households: one by id, lists, due visits and search. All read the projection.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Households;

use super::HouseholdTag;
use crate::area::AreaPath;
use crate::error::{CoreError, Result};
use crate::store::Store;
use crate::time::{ms_to_time, opt_ms_to_time};

/// A household as lists and forms show it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    /// Record id.
    pub id: Uuid,
    /// Area code path.
    pub area: AreaPath,
    /// Full address.
    pub address: String,
    /// Building (幢).
    pub building: Option<String>,
    /// Unit (单元).
    pub unit: Option<String>,
    /// Room (室).
    pub room: Option<String>,
    /// Head of household.
    pub head_name: String,
    /// Number of members.
    pub member_count: u32,
    /// Contact phone.
    pub phone: Option<String>,
    /// Category tags.
    pub tags: Vec<HouseholdTag>,
    /// Days between required visits (smallest of the tags' intervals).
    pub interval_days: u32,
    /// Latest visit in which the household was met.
    pub last_visit_at: Option<DateTime<Utc>>,
    /// When the next visit is due.
    pub next_due_at: DateTime<Utc>,
}

/// A household whose visit is due, with how overdue it is.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueVisit {
    /// The household.
    pub household: Household,
    /// Whole days past the due date (0 = due today).
    pub days_overdue: i64,
}

const COLUMNS: &str = "id, area, address, building, unit, room, head_name, member_count, phone, \
                       tags, interval_days, last_visit_at, next_due_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Household> {
    let tags: String = r.get(9)?;
    Ok(Household {
        id: r.get(0)?,
        area: r.get(1)?,
        address: r.get(2)?,
        building: r.get(3)?,
        unit: r.get(4)?,
        room: r.get(5)?,
        head_name: r.get(6)?,
        member_count: r.get(7)?,
        phone: r.get(8)?,
        tags: tags.split(',').filter_map(|t| HouseholdTag::parse(t).ok()).collect(),
        interval_days: r.get(10)?,
        last_visit_at: opt_ms_to_time(r.get(11)?),
        next_due_at: ms_to_time(r.get(12)?),
    })
}

/// SQL condition: `area` column within the area bound to parameter `?N`.
pub(crate) fn area_clause(col: &str, n: usize) -> String {
    // A range over the path (`'/' + 1 = '0'`), which an index on the column can serve.
    format!("({col} = ?{n} OR ({col} > ?{n} || '/' AND {col} < ?{n} || '0'))")
}

impl Households<'_> {
    /// The household with this id (also when deleted: `None` only when unknown).
    ///
    /// # Errors
    /// Storage errors.
    pub fn get(&self, id: Uuid) -> Result<Option<Household>> {
        self.store
            .conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM household WHERE id = ?1"))?
            .query_row([id.as_bytes()], from_row)
            .optional()
            .map_err(Into::into)
    }

    /// Households within `area`, by address.
    ///
    /// # Errors
    /// Storage errors.
    pub fn in_area(&self, area: &AreaPath, limit: u32) -> Result<Vec<Household>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM household WHERE deleted = 0 AND {} ORDER BY address, id LIMIT ?2",
            area_clause("area", 1)
        );
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str(), limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Households within `area` whose visit is due at `now`, most overdue first (走访提醒).
    ///
    /// # Errors
    /// Storage errors.
    pub fn due(&self, area: &AreaPath, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueVisit>> {
        // District- and town-wide lists walk the due-date index; smaller areas (a few hundred
        // households among 100,000) are found by area first, then sorted.
        let index = if area.level() <= crate::area::AreaLevel::Town {
            "household_due"
        } else {
            "household_area_due"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM household INDEXED BY {index}
             WHERE deleted = 0 AND next_due_at <= ?2 AND {}
             ORDER BY next_due_at, id LIMIT ?3",
            area_clause("area", 1)
        );
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows =
            stmt.query_map(params![area.as_str(), now.timestamp_millis(), limit], from_row)?;
        rows.map(|r| {
            let h = r?;
            let days_overdue = (now - h.next_due_at).num_days();
            Ok(DueVisit { household: h, days_overdue })
        })
        .collect()
    }

    /// Households matching what a user typed — Chinese name or address fragments of any length,
    /// pinyin (`wf`, `wangfang`) or phone digits — within `area`, best matches first.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `query` when it is too long; storage errors.
    pub fn search(&self, area: &AreaPath, query: &str, limit: u32) -> Result<Vec<Household>> {
        let Some(mut expr) = crate::search::match_query(query)? else { return Ok(Vec::new()) };
        if area.level() > crate::area::AreaLevel::District {
            expr = format!("({expr}) AND {}", crate::search::area_token(area.as_str()));
        }
        // No ranking: the index answers the area and the terms together and the first `limit`
        // matches are taken without scoring every match (DESIGN §1: no scans).
        let sql = format!(
            "SELECT {COLUMNS} FROM household_fts f JOIN household h ON h.rowid = f.rowid
             WHERE household_fts MATCH ?2 AND h.deleted = 0 AND {}
             LIMIT ?3",
            area_clause("h.area", 1)
        );
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str(), expr, limit], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// The area of household `id`, which must exist on this device and not be deleted: residents
    /// (and their sensitive data, and task targets) belong to a live household.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] naming `household`; storage errors.
    pub(crate) fn live_household_area(&self, id: Uuid) -> Result<AreaPath> {
        let row: Option<(String, bool)> = self
            .conn()
            .prepare_cached("SELECT area, deleted FROM household WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            Some((area, false)) => AreaPath::parse(&area),
            _ => Err(CoreError::NotFound { kind: "household".into(), id: id.to_string() }),
        }
    }
}
