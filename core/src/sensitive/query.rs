//! Reading sensitive records — only for roles allowed to (see the module docs).

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SensitiveRecords;

use super::{KeyPopulation, ReliefStatus, SensitiveRecord, sensitive_id};
use crate::area::AreaPath;
use crate::error::Result;
use crate::household::area_clause;

/// One line of the key-population ledger (重点人员台账).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPerson {
    /// The resident.
    pub resident_id: Uuid,
    /// Their name.
    pub name: String,
    /// Their household.
    pub household_id: Uuid,
    /// The household's address.
    pub address: String,
    /// The category.
    pub category: KeyPopulation,
    /// The household's latest visit in which it was met, if any.
    pub last_visit_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<SensitiveRecord> {
    let kp: Option<String> = r.get(5)?;
    let relief: Option<String> = r.get(6)?;
    Ok(SensitiveRecord {
        id: r.get(0)?,
        resident_id: r.get(1)?,
        household_id: r.get(2)?,
        id_card: r.get(3)?,
        health: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        key_population: kp.and_then(|k| KeyPopulation::parse(&k).ok()),
        relief_status: relief.and_then(|k| ReliefStatus::parse(&k).ok()),
    })
}

impl SensitiveRecords<'_> {
    /// The sensitive data of a resident, if recorded on this device (and neither it nor the
    /// resident is deleted).
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a role that may not read sensitive data (e.g. a
    /// liaison); [`crate::CoreError::NotSignedIn`]; storage errors.
    pub fn of_resident(&self, resident_id: Uuid) -> Result<Option<SensitiveRecord>> {
        self.store.require_sensitive_access("read sensitive data")?;
        self.store
            .conn()
            .prepare_cached(
                "SELECT id, resident_id, household_id, id_card, health, key_population,
                    relief_status FROM sensitive WHERE id = ?1 AND deleted = 0",
            )?
            .query_row([sensitive_id(resident_id)], from_row)
            .optional()
            .map_err(Into::into)
    }

    /// The key-population ledger of `area` (重点人员台账), derived from what was recorded:
    /// every live resident with a key-population category, by category then address.
    ///
    /// # Errors
    /// [`crate::CoreError::Forbidden`] for a role that may not read sensitive data;
    /// [`crate::CoreError::NotSignedIn`]; storage errors.
    pub fn key_population_ledger(&self, area: &AreaPath) -> Result<Vec<KeyPerson>> {
        self.store.require_sensitive_access("read the key-population ledger")?;
        let sql = format!(
            "SELECT r.id, r.name, h.id, h.address, s.key_population, h.last_visit_at
             FROM sensitive s JOIN resident r ON r.id = s.resident_id
                  JOIN household h ON h.id = r.household_id
             WHERE s.deleted = 0 AND r.deleted = 0 AND h.deleted = 0
               AND s.key_population IS NOT NULL AND {}
             ORDER BY s.key_population, h.address, r.name, r.id",
            area_clause("h.area", 1)
        );
        let mut stmt = self.store.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![area.as_str()], |r| {
            let category: String = r.get(4)?;
            Ok((
                KeyPerson {
                    resident_id: r.get(0)?,
                    name: r.get(1)?,
                    household_id: r.get(2)?,
                    address: r.get(3)?,
                    category: KeyPopulation::CommunityCorrection,
                    last_visit_at: crate::time::opt_ms_to_time(r.get(5)?),
                },
                category,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut person, category) = row?;
            let Ok(c) = KeyPopulation::parse(&category) else { continue };
            person.category = c;
            out.push(person);
        }
        Ok(out)
    }
}
