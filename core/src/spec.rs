//! What each record kind declares about itself, independent of where records are stored
//! (DESIGN §9): its [`RecordKind`], one pure decoder from its Automerge document to a typed
//! record, and the photos the record references. The phone's store projects decoded records
//! into SQLite; the server decodes the same documents with the same code, so a record reads the
//! same everywhere.
//!
//! Adding a kind is one folder implementing [`RecordSpec`] and one line in `kinds.rs`.

use automerge::AutoCommit;
use thiserror::Error;
use uuid::Uuid;

use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::doc::{Fields, common};
use crate::kind::RecordKind;

/// Why a document could not be decoded into its record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The document lacks a field its creating change writes: that change has not arrived yet
    /// (or the document is of another kind). Not an error of the data: the record is simply not
    /// visible yet.
    #[error("the record is not complete yet: no `{field}`")]
    Incomplete {
        /// The missing field.
        field: &'static str,
    },
    /// A field holds a value no version of Gridwork writes.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The fields every record document has, decoded once for all kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The record id.
    pub id: Uuid,
    /// The kind named in the document.
    pub kind: RecordKind,
    /// The record's area (the winner of concurrent moves, as every replica shows it).
    pub area: AreaPath,
    /// Deleted (tombstone, DESIGN §2).
    pub deleted: bool,
    /// When it was created, ms since the Unix epoch (the creating device's clock).
    pub created_at: i64,
    /// User id of the creator (empty when the document names none).
    pub created_by: String,
}

impl Header {
    /// Decodes the common fields of document `id`.
    ///
    /// # Errors
    /// [`DecodeError::Incomplete`] when the kind or area is missing (the creating change has
    /// not arrived); [`DecodeError::Invalid`] for an unknown kind or a malformed area.
    pub fn decode(id: Uuid, d: &AutoCommit) -> Result<Header, DecodeError> {
        Header::read(id, &Fields::read(d))
    }

    /// [`Header::decode`] from root fields already read.
    ///
    /// # Errors
    /// As [`Header::decode`].
    pub fn read(id: Uuid, d: &Fields<'_>) -> Result<Header, DecodeError> {
        let kind = d.str(common::KIND).ok_or(DecodeError::Incomplete { field: common::KIND })?;
        let kind = RecordKind::parse(&kind)
            .map_err(|e| DecodeError::Invalid { field: common::KIND, reason: e.to_string() })?;
        let area = d.str(common::AREA).ok_or(DecodeError::Incomplete { field: common::AREA })?;
        let area = AreaPath::parse(&area)
            .map_err(|e| DecodeError::Invalid { field: common::AREA, reason: e.to_string() })?;
        Ok(Header {
            id,
            kind,
            area,
            deleted: d.bool(common::DELETED).unwrap_or(false),
            created_at: d.i64(common::CREATED_AT).unwrap_or(0),
            created_by: d.str(common::CREATED_BY).unwrap_or_default(),
        })
    }
}

/// A record kind: its code, its decoder and what its records reference. Implemented once per
/// kind, in the kind's folder, by a unit type (e.g. `VisitSpec`).
pub trait RecordSpec {
    /// The kind this spec decodes.
    const KIND: RecordKind;
    /// The typed record a document of this kind decodes to.
    type Record;
    /// Whether records of this kind can reference photos (the server indexes their
    /// references; devices download them).
    const CARRIES_PHOTOS: bool = false;
    /// Whether a record issued for an area also concerns — and reaches the devices of — its
    /// sub-areas (a town-wide task concerns every grid of the town; DESIGN §8).
    const REACHES_SUB_AREAS: bool = false;
    /// Whether the kind's rules read the server's receive time of each change (a work order's
    /// deadlines and fold order, DESIGN §1). A device keeps those times only for such kinds:
    /// for the others they would cost a row per change and decide nothing.
    const READS_RECEIVE_TIMES: bool = false;

    /// Decodes the kind-specific fields of a document whose common fields are `header`, from its
    /// root fields `d` (read once for the header and the record; nested objects through
    /// [`Fields::doc`]). Pure:
    /// no SQL, no I/O, no clock. A value no version writes falls back to the kind's default
    /// here, and only here.
    ///
    /// # Errors
    /// [`DecodeError::Incomplete`] naming a field the creating change writes when it is
    /// missing.
    fn decode(header: &Header, d: &Fields<'_>) -> Result<Self::Record, DecodeError>;

    /// The photos the record references (what a device downloads and the server indexes).
    fn photos(_record: &Self::Record) -> Vec<PhotoRef> {
        Vec::new()
    }
}

/// A decoded record with its common fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<R> {
    /// The common fields.
    pub header: Header,
    /// The kind's fields.
    pub record: R,
}

/// Decodes document `id` as a record of `S`'s kind.
///
/// # Errors
/// [`DecodeError::Incomplete`] when the document is not complete yet or of another kind;
/// [`DecodeError::Invalid`] for malformed common fields.
pub fn decode<S: RecordSpec>(id: Uuid, d: &AutoCommit) -> Result<Decoded<S::Record>, DecodeError> {
    let fields = Fields::read(d);
    let header = Header::read(id, &fields)?;
    if header.kind != S::KIND {
        return Err(DecodeError::Incomplete { field: common::KIND });
    }
    let record = S::decode(&header, &fields)?;
    Ok(Decoded { header, record })
}

/// A field the creating change writes, or [`DecodeError::Incomplete`] naming it.
pub(crate) fn required<T>(value: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    value.ok_or(DecodeError::Incomplete { field })
}
