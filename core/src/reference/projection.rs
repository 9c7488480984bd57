//! The reference record on a device: the `reference_data` row it projects to, the tables derived
//! from it (`tag_interval`, and the deadlines of the `work_order` rows), and
//! [`Store::reference_data`], which the core reads instead of its defaults.
//!
//! A record that does not decode (a value no version writes) is refused: the row keeps the
//! reason, the derived tables go back to the defaults, and a warning is logged. Sync carries on.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{ReferenceData, ReferenceSpec};
use crate::error::Result;
use crate::household::HouseholdTag;
use crate::spec::{DecodeError, Decoded};
use crate::store::{Projector, Store, WriteTxn};
use crate::work_order::DeadlinePolicy;

/// Milliseconds per hour.
const HOUR_MS: i64 = 3_600_000;

impl Projector for ReferenceSpec {
    fn forget(tx: &WriteTxn<'_>, id: Uuid) -> Result<()> {
        let before = current(tx)?;
        tx.prepare_cached("DELETE FROM reference_data WHERE id = ?1")?.execute([id])?;
        derive_tables(tx, &before, &current(tx)?)
    }

    fn project(tx: &WriteTxn<'_>, rec: &Decoded<ReferenceData>) -> Result<()> {
        let before = current(tx)?;
        let json = serde_json::to_string(&rec.record).map_err(|e| {
            crate::CoreError::corrupt("reference record", format!("does not serialise: {e}"))
        })?;
        put_row(tx, rec.header.id, rec.header.area.as_str(), Some(&json), None)?;
        derive_tables(tx, &before, &rec.record)
    }

    fn refused(tx: &WriteTxn<'_>, id: Uuid, error: &DecodeError) -> Result<()> {
        let before = current(tx)?;
        let area: String = tx
            .prepare_cached("SELECT area FROM doc WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or_default();
        put_row(tx, id, &area, None, Some(&error.to_string()))?;
        derive_tables(tx, &before, &ReferenceData::default())
    }
}

fn put_row(
    tx: &Connection,
    id: Uuid,
    area: &str,
    data: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO reference_data(id, area, data, error, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, area, data, error, chrono::Utc::now().timestamp_millis()])?;
    Ok(())
}

/// The reference data in force on this device: the newest reference record it holds, or the
/// defaults while it holds none or the newest did not decode.
///
/// # Errors
/// Storage errors.
pub(crate) fn current(conn: &Connection) -> Result<ReferenceData> {
    let data: Option<Option<String>> = conn
        .prepare_cached("SELECT data FROM reference_data ORDER BY at DESC, id LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(match data.flatten() {
        Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored reference data unreadable; using the defaults");
            ReferenceData::default()
        }),
        None => ReferenceData::default(),
    })
}

/// The deadline policy in force on this device.
///
/// # Errors
/// Storage errors.
pub(crate) fn policy(conn: &Connection) -> Result<DeadlinePolicy> {
    current(conn).map(|r| r.deadline_policy)
}

/// Brings what derives from the reference data up to date when it changed from `before` to
/// `after`: the `tag_interval` rows and every household's due date; every work order's deadline.
fn derive_tables(tx: &WriteTxn<'_>, before: &ReferenceData, after: &ReferenceData) -> Result<()> {
    if before.tag_intervals != after.tag_intervals || !intervals_match(tx, after)? {
        tx.prepare_cached("DELETE FROM tag_interval")?.execute([])?;
        let mut ins = tx.prepare_cached("INSERT INTO tag_interval(tag, days) VALUES (?1, ?2)")?;
        for tag in HouseholdTag::ALL {
            ins.execute(params![tag.as_str(), after.interval_days(tag)])?;
        }
        let ids: Vec<Uuid> = tx
            .prepare_cached("SELECT id FROM household")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            crate::household::refresh_visit_dates(tx, id)?;
        }
    }
    if before.deadline_policy != after.deadline_policy {
        let p = &after.deadline_policy;
        tx.prepare_cached(
            "UPDATE work_order SET deadline_at = clock_started_at + ?4 * (extension_hours +
                CASE severity WHEN 'urgent' THEN ?1 WHEN 'important' THEN ?2 ELSE ?3 END)
             WHERE clock_started_at IS NOT NULL",
        )?
        .execute(params![p.urgent_hours, p.important_hours, p.ordinary_hours, HOUR_MS])?;
        tx.prepare_cached(
            "UPDATE work_order SET closed_on_time = (closed_at <= deadline_at)
             WHERE closed_on_time IS NOT NULL AND closed_at IS NOT NULL AND deadline_at IS NOT NULL",
        )?
        .execute([])?;
    }
    Ok(())
}

/// Whether the `tag_interval` rows hold exactly `data`'s intervals (false on a device whose
/// rows still hold the schema's seed while the record says otherwise).
fn intervals_match(conn: &Connection, data: &ReferenceData) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT days FROM tag_interval WHERE tag = ?1")?;
    for tag in HouseholdTag::ALL {
        let days: Option<i64> = stmt.query_row([tag.as_str()], |r| r.get(0)).optional()?;
        if days != Some(i64::from(data.interval_days(tag))) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Store {
    /// The district's reference data as this device knows it: categories, deadline policy, tag
    /// intervals and departments from the synced reference record, or the defaults until one
    /// arrives (or while the newest one received did not decode).
    ///
    /// # Errors
    /// Storage errors.
    pub fn reference_data(&self) -> Result<ReferenceData> {
        current(self.conn())
    }

    /// Why the newest reference record this device received was refused (it did not decode,
    /// and the defaults apply), if it was.
    ///
    /// # Errors
    /// Storage errors.
    pub fn reference_refusal(&self) -> Result<Option<String>> {
        let error: Option<Option<String>> = self
            .conn()
            .prepare_cached("SELECT error FROM reference_data ORDER BY at DESC, id LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(error.flatten())
    }
}
