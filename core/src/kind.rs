//! The kinds of record Gridwork stores. Each record is one Automerge document of one kind; the kind
//! decides its projection table, who may write it and whether it is sensitive.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The kind of a record document. The numeric code is part of the sync wire format and of the
/// on-disk schema: never renumber.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A household (address, head, tags, visit interval).
    Household = 1,
    /// A resident's ordinary data (name, gender, birth year, relation, phone).
    Resident = 2,
    /// A resident's sensitive data (ID-card number, health, key-population category, relief
    /// status), kept apart so that devices not allowed to see it never receive it.
    Sensitive = 3,
    /// A household visit.
    Visit = 4,
    /// A patrol of a grid (track, check-ins, observations).
    Patrol = 5,
    /// An incident and the work order it becomes (event log).
    WorkOrder = 6,
    /// A task from a command centre.
    Task = 7,
    /// The district's reference data (categories, severity deadlines, tag intervals,
    /// departments): one document per district, written only by the server, read by all.
    Reference = 8,
}

impl RecordKind {
    /// Every kind, in code order.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Household,
        RecordKind::Resident,
        RecordKind::Sensitive,
        RecordKind::Visit,
        RecordKind::Patrol,
        RecordKind::WorkOrder,
        RecordKind::Task,
        RecordKind::Reference,
    ];

    /// The stable numeric code used on the wire and on disk.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind with this numeric code.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `kind` when the code is unknown.
    pub fn from_code(code: u8) -> Result<Self, CoreError> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| CoreError::invalid("kind", format!("unknown document kind code {code}")))
    }

    /// The stable lowercase name (`household`, `work_order`…).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Household => "household",
            RecordKind::Resident => "resident",
            RecordKind::Sensitive => "sensitive",
            RecordKind::Visit => "visit",
            RecordKind::Patrol => "patrol",
            RecordKind::WorkOrder => "work_order",
            RecordKind::Task => "task",
            RecordKind::Reference => "reference",
        }
    }

    /// The kind with this name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `kind` when the name is unknown.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| CoreError::invalid("kind", format!("unknown document kind `{name}`")))
    }

    /// Whether records of this kind hold graded (sensitive) personal data.
    pub fn is_sensitive(self) -> bool {
        matches!(self, RecordKind::Sensitive)
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::from_code(k.code()).ok(), Some(k));
            assert_eq!(RecordKind::parse(k.as_str()).ok(), Some(k));
        }
        assert!(RecordKind::from_code(0).is_err());
        assert!(RecordKind::from_code(99).is_err());
        assert!(RecordKind::parse("building").is_err());
    }
}
