//! The reference document's one decoder ([`ReferenceSpec`]): document → [`ReferenceData`],
//! checked as the server checks an edit. Pure: the device's store and the server's read model
//! call it alike.

use serde::de::DeserializeOwned;

use super::{ReferenceData, field};
use crate::doc::Fields;
use crate::kind::RecordKind;
use crate::spec::{DecodeError, Header, RecordSpec, required};

/// The reference kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceSpec;

impl RecordSpec for ReferenceSpec {
    const KIND: RecordKind = RecordKind::Reference;
    /// Issued for the district's root area, it reaches every device of the district.
    const REACHES_SUB_AREAS: bool = true;
    type Record = ReferenceData;

    fn decode(_header: &Header, d: &Fields<'_>) -> Result<ReferenceData, DecodeError> {
        let data = ReferenceData {
            categories: section(d, field::CATEGORIES)?,
            deadline_policy: section(d, field::DEADLINE_POLICY)?,
            tag_intervals: section(d, field::TAG_INTERVALS)?,
            departments: section(d, field::DEPARTMENTS)?,
        };
        data.validated().map_err(|e| DecodeError::Invalid {
            field: match &e {
                crate::CoreError::Invalid { field, .. } => section_name(field),
                _ => "reference",
            },
            reason: e.to_string(),
        })
    }
}

/// One section, parsed from its JSON field.
fn section<T: DeserializeOwned>(d: &Fields<'_>, name: &'static str) -> Result<T, DecodeError> {
    let json = required(d.str(name), name)?;
    serde_json::from_str(&json)
        .map_err(|e| DecodeError::Invalid { field: name, reason: e.to_string() })
}

/// The static name of a section named in a validation error.
fn section_name(field: &str) -> &'static str {
    [field::CATEGORIES, field::DEADLINE_POLICY, field::TAG_INTERVALS, field::DEPARTMENTS]
        .into_iter()
        .find(|s| *s == field)
        .unwrap_or("reference")
}
