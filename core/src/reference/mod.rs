//! The district's reference data (DOMAIN.md: "configurable defaults, shipped as reference data,
//! never hard-coded logic"; DESIGN §8): incident categories, severity deadlines and escalation
//! thresholds, household tags' visit intervals, and departments.
//!
//! It is one record of kind `reference` per district, with a well-known id derived from the
//! district's code ([`reference_id`]), lying at the district's root area: a kind that reaches
//! sub-areas, so every device of the district receives it whatever its own scope. Only the
//! server writes it (a device's push is refused), seeding it from [`ReferenceData::default`] and
//! its department registry, and re-authoring it when the district edits it. The device and the
//! server both read it through the one pure decoder ([`ReferenceSpec`]); the defaults here
//! apply only while no (valid) record is known.
//!
//! Each section is one root field holding the section as JSON, so an edit of one section
//! (a department added) rewrites only that field.

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
pub(crate) use projection::policy;

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use decode::ReferenceSpec;

use crate::area::AreaPath;
use crate::doc;
use crate::error::{CoreError, Result};
use crate::household::HouseholdTag;
use crate::work_order::{CategoryList, DeadlinePolicy};

/// Document field names of a reference record.
pub mod field {
    /// The district's code.
    pub const DISTRICT: &str = "district";
    /// Incident categories (JSON list).
    pub const CATEGORIES: &str = "categories";
    /// Severity deadlines and escalation thresholds (JSON object).
    pub const DEADLINE_POLICY: &str = "deadline_policy";
    /// Visit interval per household tag (JSON list).
    pub const TAG_INTERVALS: &str = "tag_intervals";
    /// Departments (JSON list).
    pub const DEPARTMENTS: &str = "departments";
    /// Who last edited it (a staff member's id, or the system person).
    pub const UPDATED_BY: &str = "updated_by";
}

/// Longest visit interval, in days: every household is visited at least yearly (全覆盖走访).
pub const MAX_INTERVAL_DAYS: u32 = 365;

/// Most departments one district may list.
pub const MAX_DEPARTMENTS: usize = 500;

/// Most incident categories one district may list.
pub const MAX_CATEGORIES: usize = 200;

/// The default visit intervals of DOMAIN.md, in days.
const DEFAULT_INTERVALS: [(HouseholdTag, u32); 11] = [
    (HouseholdTag::ElderlyAlone, 7),
    (HouseholdTag::Difficulty, 30),
    (HouseholdTag::Relief, 30),
    (HouseholdTag::Disability, 30),
    (HouseholdTag::CommunityCorrection, 30),
    (HouseholdTag::ReleasedPrisoner, 30),
    (HouseholdTag::DrugRehab, 30),
    (HouseholdTag::MentalDisorder, 30),
    (HouseholdTag::Rental, 90),
    (HouseholdTag::GroupRental, 30),
    (HouseholdTag::Ordinary, 365),
];

/// How often households of one tag must be visited (走访频次).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagInterval {
    /// The tag.
    pub tag: HouseholdTag,
    /// Days between visits, 1–[`MAX_INTERVAL_DAYS`].
    pub days: u32,
}

/// A department of the district (the registry the server keeps, as devices see it): the units
/// work orders are dispatched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Department {
    /// Stable code written into dispatch events (1–32 lowercase ASCII letters, digits or `_`).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Incident category codes it usually handles (a dispatch suggestion).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The area it serves; `None`: the whole district.
    #[serde(default)]
    pub area: Option<AreaPath>,
    /// Whether new dispatches may name it.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Longest department code.
pub const MAX_DEPARTMENT_CODE: usize = 32;

/// Whether `code` is a well-formed department code.
pub fn valid_department_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_DEPARTMENT_CODE
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A district's reference data, decoded from its reference record (or the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceData {
    /// Incident categories (retired ones kept for display).
    pub categories: CategoryList,
    /// Severity deadlines and escalation threshold.
    pub deadline_policy: DeadlinePolicy,
    /// Visit interval of every household tag, in [`HouseholdTag::ALL`] order.
    pub tag_intervals: Vec<TagInterval>,
    /// Departments, by code.
    pub departments: Vec<Department>,
}

impl Default for ReferenceData {
    /// DOMAIN.md's defaults, no departments (the server adds its registry's).
    fn default() -> Self {
        ReferenceData {
            categories: CategoryList::default(),
            deadline_policy: DeadlinePolicy::default(),
            tag_intervals: DEFAULT_INTERVALS
                .iter()
                .map(|&(tag, days)| TagInterval { tag, days })
                .collect(),
            departments: Vec::new(),
        }
    }
}

impl ReferenceData {
    /// The visit interval of `tag`, in days (the default when the list lacks it).
    pub fn interval_days(&self, tag: HouseholdTag) -> u32 {
        self.tag_intervals.iter().find(|t| t.tag == tag).map_or_else(
            || DEFAULT_INTERVALS.iter().find(|(t, _)| *t == tag).map_or(MAX_INTERVAL_DAYS, |d| d.1),
            |t| t.days,
        )
    }

    /// The department with this code, if listed.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// Checks and normalises the data (the server checks an edit with it; the decoder checks a
    /// record with it): at least one active category; a valid deadline policy; each tag at most
    /// once with 1–[`MAX_INTERVAL_DAYS`] days (tags left out get their default); departments with
    /// well-formed, unique codes, names, and categories from the list. Tag intervals end up in
    /// [`HouseholdTag::ALL`] order and departments by code.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the section (`categories`, `deadline_policy`,
    /// `tag_intervals`, `departments`) and what is wrong.
    pub fn validated(mut self) -> Result<Self> {
        if self.categories.active().next().is_none() {
            return Err(CoreError::invalid("categories", "at least one category must be active"));
        }
        if self.categories.len() > MAX_CATEGORIES {
            return Err(CoreError::invalid(
                "categories",
                format!("at most {MAX_CATEGORIES} categories"),
            ));
        }
        self.deadline_policy.validate()?;
        let mut intervals = Vec::with_capacity(HouseholdTag::ALL.len());
        for tag in HouseholdTag::ALL {
            let mut given = self.tag_intervals.iter().filter(|t| t.tag == tag);
            let days = match (given.next(), given.next()) {
                (Some(_), Some(_)) => {
                    return Err(CoreError::invalid(
                        "tag_intervals",
                        format!("household tag `{}` is listed twice", tag.as_str()),
                    ));
                }
                (Some(t), None) => t.days,
                (None, _) => self.interval_days(tag),
            };
            if days == 0 || days > MAX_INTERVAL_DAYS {
                return Err(CoreError::invalid(
                    "tag_intervals",
                    format!(
                        "the interval of `{}` must be 1–{MAX_INTERVAL_DAYS} days, not {days}",
                        tag.as_str()
                    ),
                ));
            }
            intervals.push(TagInterval { tag, days });
        }
        self.tag_intervals = intervals;
        if self.departments.len() > MAX_DEPARTMENTS {
            return Err(CoreError::invalid(
                "departments",
                format!("at most {MAX_DEPARTMENTS} departments"),
            ));
        }
        self.departments.sort_by(|a, b| a.code.cmp(&b.code));
        for pair in self.departments.windows(2) {
            if pair[0].code == pair[1].code {
                return Err(CoreError::invalid(
                    "departments",
                    format!("duplicate department code `{}`", pair[0].code),
                ));
            }
        }
        for d in &self.departments {
            check_department(d, &self.categories)?;
        }
        Ok(self)
    }
}

fn check_department(d: &Department, categories: &CategoryList) -> Result<()> {
    let bad = |reason: String| Err(CoreError::invalid("departments", reason));
    if !valid_department_code(&d.code) {
        return bad(format!(
            "department code `{}` must be 1–{MAX_DEPARTMENT_CODE} lowercase ASCII letters, digits or `_`",
            d.code.chars().take(40).collect::<String>()
        ));
    }
    if d.name_zh.trim().is_empty() || d.name_en.trim().is_empty() {
        return bad(format!("department `{}` needs a Chinese and an English name", d.code));
    }
    if let Some(c) = d.categories.iter().find(|c| categories.get(c).is_none()) {
        return bad(format!("department `{}` names unknown category `{c}`", d.code));
    }
    Ok(())
}

/// The well-known id of district `district`'s reference record: a UUID (version 8) made from
/// SHA-256 of a fixed label and the district's code, so every server instance and every device
/// names the same document without asking.
pub fn reference_id(district: &AreaPath) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"gridwork reference\0")
        .chain_update(district.as_str())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Writes `data` into a reference document for `district`, each section only if it changed
/// (a document builder: the server authors reference records with it; devices never do).
///
/// # Errors
/// Document errors.
pub fn write(
    d: &mut AutoCommit,
    district: &AreaPath,
    data: &ReferenceData,
    updated_by: &str,
) -> Result<()> {
    let json = |v: serde_json::Result<String>| {
        v.map_err(|e| CoreError::invalid("reference", format!("does not serialise: {e}")))
    };
    doc::put(d, field::DISTRICT, district.as_str())?;
    let mut changed = false;
    changed |= doc::put(d, field::CATEGORIES, json(serde_json::to_string(&data.categories))?)?;
    changed |=
        doc::put(d, field::DEADLINE_POLICY, json(serde_json::to_string(&data.deadline_policy))?)?;
    changed |=
        doc::put(d, field::TAG_INTERVALS, json(serde_json::to_string(&data.tag_intervals))?)?;
    changed |= doc::put(d, field::DEPARTMENTS, json(serde_json::to_string(&data.departments))?)?;
    if changed {
        doc::put(d, field::UPDATED_BY, updated_by)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
