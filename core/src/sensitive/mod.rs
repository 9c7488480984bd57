//! A resident's sensitive data (敏感信息): ID-card number, health, key-population category and
//! relief status. Graded personal data lives in its own document, one per resident, so the
//! server can keep it from devices whose role may not see it and a liaison's phone never holds
//! it (DESIGN §3). On the device, only a signed-in role that
//! [`may_read_sensitive`](crate::Role::may_read_sensitive) may read or write it.
//!
//! The document's id is derived from the resident's id, so two workers who record a resident's
//! sensitive data on two phones offline write to the *same* document and their edits merge,
//! instead of leaving two competing records.

mod projection;
mod query;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub(crate) use projection::{project, refresh_liveness};
pub use query::{KeyPerson, SensitiveRecord};

use crate::code_enum;
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::household::HouseholdTag;
use crate::kind::RecordKind;
use crate::store::{SignedInUser, Store};
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
/// [`Store::set_sensitive`] sets all four fields (an empty or `None` value clears one).
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
    fn validated(mut self) -> Result<Self> {
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

impl Store {
    /// The signed-in user, if their role may read and write sensitive data.
    ///
    /// # Errors
    /// [`CoreError::NotSignedIn`]; [`CoreError::Forbidden`] naming `action` for any other role.
    pub(crate) fn require_sensitive_access(&self, action: &str) -> Result<&SignedInUser> {
        let user = self.require_user()?;
        if !user.role.may_read_sensitive() {
            return Err(CoreError::Forbidden { action: format!("{action} as {}", user.role) });
        }
        Ok(user)
    }

    /// Creates or updates the sensitive record of a resident and returns its id (always
    /// [`sensitive_id`] of the resident). Setting it again after
    /// [`Store::delete_sensitive`] brings it back. The household's visit interval follows the
    /// key-population category at once.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a role that may not handle sensitive data (e.g. a liaison);
    /// [`CoreError::NotSignedIn`]; [`CoreError::Invalid`] naming `id_card` or `health`;
    /// [`CoreError::NotFound`] for an unknown or deleted resident (or household);
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn set_sensitive(&mut self, resident_id: Uuid, input: SensitiveInput) -> Result<Uuid> {
        self.require_sensitive_access("write sensitive data")?;
        let input = input.validated()?;
        let resident = self.resident(resident_id)?.ok_or_else(|| CoreError::NotFound {
            kind: "resident".into(),
            id: resident_id.to_string(),
        })?;
        let area = self.live_household_area(resident.household_id)?;
        let id = sensitive_id(resident_id);
        let exists = self.record_kind(id)?.is_some();
        let create = (!exists).then_some(&area);
        self.write_doc(id, RecordKind::Sensitive, create, "set_sensitive", |d, _| {
            doc::put(d, common::AREA, area.as_str())?;
            if doc::get_bool(d, common::DELETED) == Some(true) {
                doc::put(d, common::DELETED, false)?;
            }
            doc::put(d, field::RESIDENT, resident_id.to_string())?;
            doc::put(d, field::HOUSEHOLD, resident.household_id.to_string())?;
            doc::put_opt(d, field::ID_CARD, input.id_card.as_deref())?;
            doc::put_opt(
                d,
                field::HEALTH,
                (!input.health.is_empty()).then_some(input.health.as_str()),
            )?;
            doc::put_opt(
                d,
                field::KEY_POPULATION,
                input.key_population.map(KeyPopulation::as_str),
            )?;
            doc::put_opt(d, field::RELIEF_STATUS, input.relief_status.map(ReliefStatus::as_str))?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Deletes a resident's sensitive record (tombstone, DESIGN §2): e.g. a person who is no
    /// longer in a key population and whose data must not be kept.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a role that may not handle sensitive data;
    /// [`CoreError::NotSignedIn`]; [`CoreError::NotFound`] when the resident has no sensitive
    /// record on this device; storage errors.
    pub fn delete_sensitive(&mut self, resident_id: Uuid) -> Result<()> {
        self.require_sensitive_access("delete sensitive data")?;
        self.delete_record(RecordKind::Sensitive, sensitive_id(resident_id))
    }
}

impl Store {
    /// Refuses `action` on a record of `kind` when the kind is sensitive and the signed-in role
    /// may not handle sensitive data; the generic record operations (delete, history,
    /// conflicts) call it so they cannot be used to get round the rule.
    ///
    /// # Errors
    /// As [`Store::require_sensitive_access`], for sensitive kinds only.
    pub(crate) fn check_kind_access(&self, kind: RecordKind, action: &str) -> Result<()> {
        if kind.is_sensitive() {
            self.require_sensitive_access(&format!("{action} sensitive data"))?;
        }
        Ok(())
    }
}
