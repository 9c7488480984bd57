//! The sensitive document's one decoder ([`SensitiveSpec`]) and the record it decodes to.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{KeyPopulation, ReliefStatus, field};
use crate::doc::Fields;
use crate::kind::RecordKind;
use crate::spec::{DecodeError, Header, RecordSpec, required};

/// A resident's sensitive data.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveRecord {
    /// Record id (derived from the resident's id).
    pub id: Uuid,
    /// The resident it belongs to.
    pub resident_id: Uuid,
    /// The resident's household.
    pub household_id: Uuid,
    /// Normalised ID-card number.
    pub id_card: Option<String>,
    /// Health conditions (empty if none recorded).
    pub health: String,
    /// Key-population category.
    pub key_population: Option<KeyPopulation>,
    /// Relief status.
    pub relief_status: Option<ReliefStatus>,
}

/// The sensitive kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct SensitiveSpec;

impl RecordSpec for SensitiveSpec {
    const KIND: RecordKind = RecordKind::Sensitive;
    type Record = SensitiveRecord;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<SensitiveRecord, DecodeError> {
        Ok(SensitiveRecord {
            id: header.id,
            resident_id: required(d.uuid(field::RESIDENT), field::RESIDENT)?,
            household_id: required(d.uuid(field::HOUSEHOLD), field::HOUSEHOLD)?,
            id_card: d.str(field::ID_CARD),
            health: d.str(field::HEALTH).unwrap_or_default(),
            key_population: d
                .str(field::KEY_POPULATION)
                .and_then(|k| KeyPopulation::parse(&k).ok()),
            relief_status: d.str(field::RELIEF_STATUS).and_then(|k| ReliefStatus::parse(&k).ok()),
        })
    }
}
