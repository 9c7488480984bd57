//! Households (户): address, head, members, phone and category tags. The visit interval and the
//! next due date are derived from the tags and from recorded visits, never typed in.

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
mod tag;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::Households;

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

pub use decode::HouseholdSpec;
#[cfg(feature = "store")]
pub(crate) use projection::{refresh_visit_dates, reindex};
#[cfg(feature = "store")]
pub(crate) use query::area_clause;
#[cfg(feature = "store")]
pub use query::{DueVisit, Household};
pub use tag::HouseholdTag;

use crate::area::AreaPath;
use crate::doc;
use crate::error::{CoreError, Result};
use crate::validate;

/// Document field names of a household.
pub(crate) mod field {
    pub const ADDRESS: &str = "address";
    pub const BUILDING: &str = "building";
    pub const UNIT: &str = "unit";
    pub const ROOM: &str = "room";
    pub const HEAD_NAME: &str = "head_name";
    pub const MEMBER_COUNT: &str = "member_count";
    pub const PHONE: &str = "phone";
    pub const TAGS: &str = "tags";
}

/// What a worker enters for a household.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdInput {
    /// The smallest area unit the household belongs to (usually a micro-grid).
    pub area: AreaPath,
    /// Full address, e.g. `幸福小区3幢2单元301室`.
    pub address: String,
    /// Building (幢), if the address has one.
    pub building: Option<String>,
    /// Unit (单元).
    pub unit: Option<String>,
    /// Room (室).
    pub room: Option<String>,
    /// Name of the head of household (户主).
    pub head_name: String,
    /// Number of members (1–99).
    pub member_count: u32,
    /// Contact phone: mainland mobile or fixed line.
    pub phone: Option<String>,
    /// Category tags; key-population tags are refused here (they are sensitive and belong in
    /// the resident's sensitive record).
    pub tags: Vec<HouseholdTag>,
}

impl HouseholdInput {
    /// Validates and normalises the input (the device's store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
        self.address = validate::max_len(
            "address",
            validate::required("address", &self.address)?,
            validate::ADDRESS_MAX,
        )?
        .to_owned();
        self.head_name = validate::max_len(
            "head_name",
            validate::required("head_name", &self.head_name)?,
            validate::NAME_MAX,
        )?
        .to_owned();
        for (name, v) in
            [("building", &mut self.building), ("unit", &mut self.unit), ("room", &mut self.room)]
        {
            if let Some(s) = v {
                let t = validate::max_len(name, s.trim(), 16)?.to_owned();
                *v = (!t.is_empty()).then_some(t);
            }
        }
        if !(1..=99).contains(&self.member_count) {
            return Err(CoreError::invalid("member_count", "must be between 1 and 99"));
        }
        if let Some(p) = &self.phone {
            self.phone = Some(validate::phone(p)?);
        }
        if let Some(t) = self.tags.iter().find(|t| t.is_key_population()) {
            return Err(CoreError::invalid(
                "tags",
                format!(
                    "`{}` is a key-population category: record it in the resident's sensitive data",
                    t.as_str()
                ),
            ));
        }
        self.tags.sort();
        self.tags.dedup();
        Ok(self)
    }

    /// Writes the household's fields into its document (a document builder: the phone's
    /// store and the server's demo both make households with it). Unchanged fields are not
    /// written again.
    ///
    /// # Errors
    /// Document errors.
    pub fn write(&self, d: &mut AutoCommit) -> Result<()> {
        doc::put(d, crate::doc::common::AREA, self.area.as_str())?;
        doc::put(d, field::ADDRESS, self.address.as_str())?;
        doc::put_opt(d, field::BUILDING, self.building.as_deref())?;
        doc::put_opt(d, field::UNIT, self.unit.as_deref())?;
        doc::put_opt(d, field::ROOM, self.room.as_deref())?;
        doc::put(d, field::HEAD_NAME, self.head_name.as_str())?;
        doc::put(d, field::MEMBER_COUNT, i64::from(self.member_count))?;
        doc::put_opt(d, field::PHONE, self.phone.as_deref())?;
        let tags: Vec<String> = self.tags.iter().map(|t| t.as_str().to_owned()).collect();
        doc::set_set(d, field::TAGS, &tags)
    }
}
