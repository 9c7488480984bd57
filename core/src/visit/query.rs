//! Reading visits: one whole (from its document) and a household's visit list.

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::projection::uuid_field;
use super::{PhotoRef, VisitKind, VisitOutcome, field};
use crate::doc;
use crate::error::Result;
use crate::kind::RecordKind;
use crate::location::Location;
use crate::store::Store;
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

fn read(id: Uuid, d: &AutoCommit) -> Visit {
    let location = match (doc::get_f64(d, field::LAT), doc::get_f64(d, field::LON)) {
        (Some(lat), Some(lon)) => Some(Location { lat, lon }),
        _ => None,
    };
    Visit {
        id,
        household_id: uuid_field(d, field::HOUSEHOLD).unwrap_or_default(),
        visitor: doc::get_str(d, field::VISITOR).unwrap_or_default(),
        visited_at: ms_to_time(doc::get_i64(d, field::VISITED_AT).unwrap_or_default()),
        kind: doc::get_str(d, field::KIND)
            .and_then(|k| VisitKind::parse(&k).ok())
            .unwrap_or(VisitKind::Routine),
        outcome: doc::get_str(d, field::OUTCOME)
            .and_then(|k| VisitOutcome::parse(&k).ok())
            .unwrap_or(VisitOutcome::Met),
        situation: doc::get_str(d, field::SITUATION).unwrap_or_default(),
        needs: doc::get_str(d, field::NEEDS).unwrap_or_default(),
        satisfaction: doc::get_i64(d, field::SATISFACTION).and_then(|s| u8::try_from(s).ok()),
        knows_worker: doc::get_bool(d, field::KNOWS_WORKER),
        follow_up_due: opt_ms_to_time(doc::get_i64(d, field::FOLLOW_UP_DUE)),
        photos: PhotoRef::read_all(d, field::PHOTOS),
        location,
        incident_id: uuid_field(d, field::INCIDENT),
        task_id: uuid_field(d, field::TASK),
    }
}

impl Store {
    /// The whole visit with this id.
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`] when unknown; storage errors.
    pub fn visit(&mut self, id: Uuid) -> Result<Visit> {
        self.read_doc(id, RecordKind::Visit, |d| read(id, d))
    }

    /// Ids of a household's visits, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn visits_of_household(&self, household_id: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id FROM visit WHERE household_id = ?1 AND deleted = 0 ORDER BY visited_at DESC, id",
        )?;
        let rows = stmt.query_map([household_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
