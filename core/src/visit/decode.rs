//! The visit document: its one decoder ([`VisitSpec`]) and the record it decodes to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PhotoRef, VisitKind, VisitOutcome, field};
use crate::doc::Fields;
use crate::kind::RecordKind;
use crate::location::Location;
use crate::spec::{DecodeError, Header, RecordSpec, required};
use crate::time::{ms_to_time, opt_ms_to_time};

/// A visit as the visit form and ledger show it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// Record id.
    pub id: Uuid,
    /// The household visited.
    pub household_id: Uuid,
    /// User id of the visitor.
    pub visitor: String,
    /// When.
    pub visited_at: DateTime<Utc>,
    /// Why.
    pub kind: VisitKind,
    /// What happened.
    pub outcome: VisitOutcome,
    /// Situation found.
    pub situation: String,
    /// Needs raised.
    pub needs: String,
    /// Satisfaction 1–5.
    pub satisfaction: Option<u8>,
    /// Whether the resident knows their grid worker.
    pub knows_worker: Option<bool>,
    /// Follow-up due date.
    pub follow_up_due: Option<DateTime<Utc>>,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// Where it was recorded.
    pub location: Option<Location>,
    /// Linked incident.
    pub incident_id: Option<Uuid>,
    /// Linked task.
    pub task_id: Option<Uuid>,
}

/// The visit kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct VisitSpec;

impl RecordSpec for VisitSpec {
    const KIND: RecordKind = RecordKind::Visit;
    const CARRIES_PHOTOS: bool = true;
    type Record = Visit;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<Visit, DecodeError> {
        Ok(Visit {
            id: header.id,
            household_id: required(d.uuid(field::HOUSEHOLD), field::HOUSEHOLD)?,
            visitor: d.str(field::VISITOR).unwrap_or_default(),
            visited_at: ms_to_time(required(d.i64(field::VISITED_AT), field::VISITED_AT)?),
            kind: d
                .str(field::KIND)
                .and_then(|k| VisitKind::parse(&k).ok())
                .unwrap_or(VisitKind::Routine),
            outcome: VisitOutcome::parse(&required(d.str(field::OUTCOME), field::OUTCOME)?)
                .unwrap_or(VisitOutcome::Met),
            situation: d.str(field::SITUATION).unwrap_or_default(),
            needs: d.str(field::NEEDS).unwrap_or_default(),
            satisfaction: d.i64(field::SATISFACTION).and_then(|s| u8::try_from(s).ok()),
            knows_worker: d.bool(field::KNOWS_WORKER),
            follow_up_due: opt_ms_to_time(d.i64(field::FOLLOW_UP_DUE)),
            photos: PhotoRef::read_all(d.doc(), field::PHOTOS),
            location: Location::read(d.doc()),
            incident_id: d.uuid(field::INCIDENT),
            task_id: d.uuid(field::TASK),
        })
    }

    fn photos(record: &Visit) -> Vec<PhotoRef> {
        record.photos.clone()
    }
}
