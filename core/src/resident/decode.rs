//! The resident document's one decoder ([`ResidentSpec`]) and the record it decodes to.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Gender, Relation, field};
use crate::area::AreaPath;
use crate::doc::Fields;
use crate::kind::RecordKind;
use crate::spec::{DecodeError, Header, RecordSpec, required};

/// A resident as household pages and forms show it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// Record id.
    pub id: Uuid,
    /// The household the resident lives in.
    pub household_id: Uuid,
    /// Area code path (the household's).
    pub area: AreaPath,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth, if known.
    pub birth_year: Option<i32>,
    /// Relation to the head of household.
    pub relation: Relation,
    /// Contact phone.
    pub phone: Option<String>,
}

/// The resident kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct ResidentSpec;

impl RecordSpec for ResidentSpec {
    const KIND: RecordKind = RecordKind::Resident;
    type Record = Resident;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<Resident, DecodeError> {
        Ok(Resident {
            id: header.id,
            household_id: required(d.uuid(field::HOUSEHOLD), field::HOUSEHOLD)?,
            area: header.area.clone(),
            name: required(d.str(field::NAME), field::NAME)?,
            gender: d
                .str(field::GENDER)
                .and_then(|g| Gender::parse(&g).ok())
                .unwrap_or(Gender::Male),
            birth_year: d.i64(field::BIRTH_YEAR).and_then(|y| i32::try_from(y).ok()),
            relation: d
                .str(field::RELATION)
                .and_then(|r| Relation::parse(&r).ok())
                .unwrap_or(Relation::Other),
            phone: d.str(field::PHONE),
        })
    }
}
