//! Residents (人): the people of a household — name, gender, birth year, relation to the head of
//! household and phone. Their graded personal data (ID-card number, health, key-population
//! category, relief status) is not here but in the resident's *sensitive* document
//! ([`crate::sensitive`]), so that devices not allowed to see it never receive it (DESIGN §3).

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::Residents;

use automerge::AutoCommit;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use decode::{Resident, ResidentSpec};

use crate::area::AreaPath;
use crate::code_enum;
use crate::doc;
use crate::error::{CoreError, Result};
use crate::validate;

code_enum! {
    /// A resident's gender as registered (性别).
    pub enum Gender ("gender") {
        /// 男.
        Male = "male",
        /// 女.
        Female = "female",
    }
}

code_enum! {
    /// How a resident is related to the head of household (与户主关系).
    pub enum Relation ("relation") {
        /// 户主: the head of household.
        Head = "head",
        /// 配偶: spouse.
        Spouse = "spouse",
        /// 子女: son or daughter.
        Child = "child",
        /// 父母: father or mother.
        Parent = "parent",
        /// 孙子女: grandchild.
        Grandchild = "grandchild",
        /// 兄弟姐妹: brother or sister.
        Sibling = "sibling",
        /// 其他: anyone else living in the household (relative, tenant, carer…).
        Other = "other",
    }
}

/// Earliest birth year accepted.
pub const BIRTH_YEAR_MIN: i32 = 1900;

/// Document field names of a resident.
pub(crate) mod field {
    pub const HOUSEHOLD: &str = "household_id";
    pub const NAME: &str = "name";
    pub const GENDER: &str = "gender";
    pub const BIRTH_YEAR: &str = "birth_year";
    pub const RELATION: &str = "relation";
    pub const PHONE: &str = "phone";
}

/// What a worker enters for a resident.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentInput {
    /// The household the resident lives in; the resident's area is the household's.
    pub household_id: Uuid,
    /// Full name (姓名), required, at most [`validate::NAME_MAX`] characters.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth, [`BIRTH_YEAR_MIN`] to the current year; `None` when not known yet.
    pub birth_year: Option<i32>,
    /// Relation to the head of household.
    pub relation: Relation,
    /// Contact phone (mainland mobile or fixed line), normalised on save.
    pub phone: Option<String>,
}

impl ResidentInput {
    /// Validates and normalises the input (the device's store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
        self.name =
            validate::max_len("name", validate::required("name", &self.name)?, validate::NAME_MAX)?
                .to_owned();
        if let Some(y) = self.birth_year {
            // The China date, whatever the phone's time zone (UTC+8, no daylight saving).
            let this_year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();
            if !(BIRTH_YEAR_MIN..=this_year).contains(&y) {
                return Err(CoreError::invalid(
                    "birth_year",
                    format!("{y} is not between {BIRTH_YEAR_MIN} and {this_year}"),
                ));
            }
        }
        self.phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(validate::phone(p)?),
        };
        Ok(self)
    }

    /// Writes the resident's fields into its document (a document builder).
    ///
    /// # Errors
    /// Document errors.
    pub fn write(&self, d: &mut AutoCommit, area: &AreaPath) -> Result<()> {
        doc::put(d, doc::common::AREA, area.as_str())?;
        doc::put(d, field::HOUSEHOLD, self.household_id.to_string())?;
        doc::put(d, field::NAME, self.name.as_str())?;
        doc::put(d, field::GENDER, self.gender.as_str())?;
        doc::put_opt(d, field::BIRTH_YEAR, self.birth_year.map(i64::from))?;
        doc::put(d, field::RELATION, self.relation.as_str())?;
        doc::put_opt(d, field::PHONE, self.phone.as_deref())?;
        Ok(())
    }
}
