//! Households (户): address, head, members, phone and category tags. The visit interval and the
//! next due date are derived from the tags and from recorded visits, never typed in.

mod projection;
mod query;
mod tag;

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use projection::{project, refresh_visit_dates, reindex};
pub(crate) use query::area_clause;
pub use query::{DueVisit, Household};
pub use tag::HouseholdTag;

use crate::area::AreaPath;
use crate::doc;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::store::Store;
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
    /// Validates and normalises the input.
    fn validated(mut self) -> Result<Self> {
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

    /// Writes the household's fields into its document.
    fn write(&self, d: &mut AutoCommit) -> Result<()> {
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

impl Store {
    /// Records a new household and returns its id.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field; [`CoreError::NotFound`] for an unknown area;
    /// [`CoreError::OutOfScope`]; [`CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn add_household(&mut self, input: HouseholdInput) -> Result<Uuid> {
        let input = input.validated()?;
        let id = Uuid::now_v7();
        let area = input.area.clone();
        self.write_doc(id, RecordKind::Household, Some(&area), "add_household", |d, _| {
            input.write(d)
        })?;
        Ok(id)
    }

    /// Edits a household: only the fields that differ are written, so concurrent edits of
    /// different fields merge cleanly.
    ///
    /// # Errors
    /// As [`Store::add_household`], and [`CoreError::NotFound`] for an unknown household.
    ///
    /// A household moved to another area takes its residents, their sensitive records and its
    /// visits along, in the same all-or-nothing write: records move as wholes, so a phone that
    /// receives the household also receives what its due dates and ledgers are derived from.
    pub fn update_household(&mut self, id: Uuid, input: HouseholdInput) -> Result<()> {
        let input = input.validated()?;
        let before = self.household(id)?.map(|h| h.area);
        if before.is_none_or(|a| a == input.area) {
            self.write_doc(id, RecordKind::Household, None, "update_household", |d, _| {
                input.write(d)
            })?;
            return Ok(());
        }
        let dependents = self.household_dependents(id)?;
        self.all_or_nothing(|s| {
            s.write_doc(id, RecordKind::Household, None, "update_household", |d, _| {
                input.write(d)
            })?;
            for (kind, dep) in &dependents {
                s.write_doc(*dep, *kind, None, "move_with_household", |d, _| {
                    crate::doc::put(d, crate::doc::common::AREA, input.area.as_str()).map(|_| ())
                })?;
            }
            Ok(())
        })
    }

    /// The residents, sensitive records and visits of household `id` on this device.
    fn household_dependents(&self, id: Uuid) -> Result<Vec<(RecordKind, Uuid)>> {
        let mut out = Vec::new();
        for (kind, table) in [
            (RecordKind::Resident, "resident"),
            (RecordKind::Sensitive, "sensitive"),
            (RecordKind::Visit, "visit"),
        ] {
            // Table names come from the list above, never from input.
            let sql = format!("SELECT id FROM {table} WHERE household_id = ?1 ORDER BY id");
            let mut stmt = self.conn().prepare_cached(&sql)?;
            let ids = stmt.query_map([id.as_bytes()], |r| r.get::<_, Uuid>(0))?;
            for dep in ids {
                out.push((kind, dep?));
            }
        }
        Ok(out)
    }
}
