//! The household document's one decoder ([`HouseholdSpec`]): it decodes to the
//! [`HouseholdInput`] that would write the document as it is. The derived fields a
//! [`super::Household`] shows (interval, last visit, next due date) come from the store.

use super::{HouseholdInput, HouseholdTag, field};
use crate::doc::{self, Fields};
use crate::kind::RecordKind;
use crate::spec::{DecodeError, Header, RecordSpec, required};

/// The household kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct HouseholdSpec;

impl RecordSpec for HouseholdSpec {
    const KIND: RecordKind = RecordKind::Household;
    type Record = HouseholdInput;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<HouseholdInput, DecodeError> {
        let mut tags: Vec<HouseholdTag> = doc::set_members(d.doc(), field::TAGS)
            .iter()
            .filter_map(|t| HouseholdTag::parse(t).ok())
            .collect();
        tags.sort();
        tags.dedup();
        Ok(HouseholdInput {
            area: header.area.clone(),
            address: required(d.str(field::ADDRESS), field::ADDRESS)?,
            building: d.str(field::BUILDING),
            unit: d.str(field::UNIT),
            room: d.str(field::ROOM),
            head_name: required(d.str(field::HEAD_NAME), field::HEAD_NAME)?,
            member_count: d
                .i64(field::MEMBER_COUNT)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
            phone: d.str(field::PHONE),
            tags,
        })
    }
}
