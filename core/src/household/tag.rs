//! Household category tags (人房分类). Each implies how often the household must be visited
//! (走访频次); the smallest interval of a household's tags applies. Intervals are reference data in
//! the `tag_interval` table, with DOMAIN.md's defaults.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A category tag of a household.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdTag {
    /// 独居老人 — default every 7 days.
    ElderlyAlone,
    /// 困难家庭 — 30 days.
    Difficulty,
    /// 低保、救助对象 — 30 days.
    Relief,
    /// 残疾人 — 30 days.
    Disability,
    /// 社区矫正人员 — 30 days.
    CommunityCorrection,
    /// 刑满释放人员 — 30 days.
    ReleasedPrisoner,
    /// 社区戒毒康复人员 — 30 days.
    DrugRehab,
    /// 严重精神障碍患者 — 30 days.
    MentalDisorder,
    /// 出租房 — 90 days.
    Rental,
    /// 群租房 — 30 days.
    GroupRental,
    /// 一般户 — 365 days: every household is visited at least yearly (全覆盖走访).
    Ordinary,
}

impl HouseholdTag {
    /// Every tag.
    pub const ALL: [HouseholdTag; 11] = [
        HouseholdTag::ElderlyAlone,
        HouseholdTag::Difficulty,
        HouseholdTag::Relief,
        HouseholdTag::Disability,
        HouseholdTag::CommunityCorrection,
        HouseholdTag::ReleasedPrisoner,
        HouseholdTag::DrugRehab,
        HouseholdTag::MentalDisorder,
        HouseholdTag::Rental,
        HouseholdTag::GroupRental,
        HouseholdTag::Ordinary,
    ];

    /// Stable code stored in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            HouseholdTag::ElderlyAlone => "elderly_alone",
            HouseholdTag::Difficulty => "difficulty",
            HouseholdTag::Relief => "relief",
            HouseholdTag::Disability => "disability",
            HouseholdTag::CommunityCorrection => "community_correction",
            HouseholdTag::ReleasedPrisoner => "released_prisoner",
            HouseholdTag::DrugRehab => "drug_rehab",
            HouseholdTag::MentalDisorder => "mental_disorder",
            HouseholdTag::Rental => "rental",
            HouseholdTag::GroupRental => "group_rental",
            HouseholdTag::Ordinary => "ordinary",
        }
    }

    /// The Chinese name shown in the apps.
    pub fn name_zh(self) -> &'static str {
        match self {
            HouseholdTag::ElderlyAlone => "独居老人",
            HouseholdTag::Difficulty => "困难家庭",
            HouseholdTag::Relief => "低保、救助对象",
            HouseholdTag::Disability => "残疾人",
            HouseholdTag::CommunityCorrection => "社区矫正人员",
            HouseholdTag::ReleasedPrisoner => "刑满释放人员",
            HouseholdTag::DrugRehab => "社区戒毒康复人员",
            HouseholdTag::MentalDisorder => "严重精神障碍患者",
            HouseholdTag::Rental => "出租房",
            HouseholdTag::GroupRental => "群租房",
            HouseholdTag::Ordinary => "一般户",
        }
    }

    /// Whether the tag reveals a key-population category (重点人员), which is graded sensitive:
    /// such tags are kept in the resident's sensitive document, never on the household.
    pub fn is_key_population(self) -> bool {
        matches!(
            self,
            HouseholdTag::CommunityCorrection
                | HouseholdTag::ReleasedPrisoner
                | HouseholdTag::DrugRehab
                | HouseholdTag::MentalDisorder
        )
    }

    /// The tag with this code.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `tags`.
    pub fn parse(code: &str) -> Result<Self, CoreError> {
        HouseholdTag::ALL
            .into_iter()
            .find(|t| t.as_str() == code)
            .ok_or_else(|| CoreError::invalid("tags", format!("unknown household tag `{code}`")))
    }
}
