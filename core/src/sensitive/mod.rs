//! A resident's sensitive data (敏感信息): ID-card number, health, key-population category and
//! relief status. Graded personal data lives in its own document, one per resident, so the
//! server can keep it from devices whose role may not see it and a liaison's phone never holds
//! it (DESIGN §3). On the device, only a signed-in role that
//! [`may_read_sensitive`](crate::Role::may_read_sensitive) may read or write it.
//!
//! The document's id is derived from the resident's id, so two workers who record a resident's
//! sensitive data on two phones offline write to the *same* document and their edits merge,
//! instead of leaving two competing records.

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::SensitiveRecords;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use decode::{SensitiveRecord, SensitiveSpec};
#[cfg(feature = "store")]
pub(crate) use projection::refresh_liveness;
#[cfg(feature = "store")]
pub use query::KeyPerson;

use crate::code_enum;
use crate::error::Result;
use crate::household::HouseholdTag;
use crate::validate;

code_enum! {
    /// Key-population category (重点人员类别). The codes are those of the key-population
    /// [`HouseholdTag`]s, whose visit intervals (`tag_interval`) then apply to the household.
    pub enum KeyPopulation ("key_population") {
        /// 社区矫正人员.
        CommunityCorrection = "community_correction",
        /// 刑满释放人员.
        ReleasedPrisoner = "released_prisoner",
        /// 社区戒毒康复人员.
        DrugRehab = "drug_rehab",
        /// 严重精神障碍患者.
        MentalDisorder = "mental_disorder",
    }
}

impl KeyPopulation {
    /// The household tag with the same code (and visit interval).
    pub fn tag(self) -> HouseholdTag {
        match self {
            KeyPopulation::CommunityCorrection => HouseholdTag::CommunityCorrection,
            KeyPopulation::ReleasedPrisoner => HouseholdTag::ReleasedPrisoner,
            KeyPopulation::DrugRehab => HouseholdTag::DrugRehab,
            KeyPopulation::MentalDisorder => HouseholdTag::MentalDisorder,
        }
    }
}

code_enum! {
    /// Social-assistance status (救助状态).
    pub enum ReliefStatus ("relief_status") {
        /// 低保: minimum subsistence allowance.
        Subsistence = "subsistence",
        /// 特困: extreme-poverty support.
        ExtremePoverty = "extreme_poverty",
        /// 临时救助: temporary relief.
        TemporaryRelief = "temporary_relief",
    }
}

/// Document field names of a sensitive record.
pub(crate) mod field {
    pub const RESIDENT: &str = "resident_id";
    pub const HOUSEHOLD: &str = "household_id";
    pub const ID_CARD: &str = "id_card";
    pub const HEALTH: &str = "health";
    pub const KEY_POPULATION: &str = "key_population";
    pub const RELIEF_STATUS: &str = "relief_status";
}

/// What an authorised worker enters as a resident's sensitive data. Each call of
/// [`SensitiveRecords::set`](crate::sensitive::SensitiveRecords::set) sets all four fields (an empty or `None` value clears one).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SensitiveInput {
    /// Resident ID-card number (居民身份证号码): 18 characters with a valid GB 11643 check
    /// digit; stored normalised (upper-case `X`).
    pub id_card: Option<String>,
    /// Health conditions (健康状况), free text of at most [`validate::NOTE_MAX`] characters.
    pub health: String,
    /// Key-population category, if the resident is in one.
    pub key_population: Option<KeyPopulation>,
    /// Relief status, if the resident receives social assistance.
    pub relief_status: Option<ReliefStatus>,
}

impl SensitiveInput {
    /// Validates and normalises the input (the device's store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
        self.id_card = match self.id_card.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(validate::id_card(n)?),
        };
        self.health =
            validate::max_len("health", self.health.trim(), validate::NOTE_MAX)?.to_owned();
        Ok(self)
    }
}

/// The id of the sensitive document of resident `resident_id`: derived, not random, so every
/// device that records it writes the same document (see the module docs).
pub fn sensitive_id(resident_id: Uuid) -> Uuid {
    let mut h = Sha256::new();
    h.update(b"gridwork/sensitive/v1/");
    h.update(resident_id.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
