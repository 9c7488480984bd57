//! The work-order document's one decoder ([`WorkOrderSpec`]): the incident as reported and its
//! event log, and the whole [`WorkOrder`] a store or the server builds from it with the fold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::document::{LoggedEvent, field, read_events};
use super::incident::IncidentSource;
use super::{DeadlinePolicy, Severity, WorkOrderEvent, WorkOrderSummary};
use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::doc::Fields;
use crate::kind::RecordKind;
use crate::location::Location;
use crate::spec::{DecodeError, Decoded, Header, RecordSpec, required};

/// A work order's document as decoded: the incident's fields and its event log.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrderDoc {
    /// Category code.
    pub category: String,
    /// Severity as reported (or as last edited).
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Source.
    pub source: IncidentSource,
    /// Location.
    pub location: Option<Location>,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// Household concerned.
    pub household_id: Option<Uuid>,
    /// Patrol it was observed on.
    pub patrol_id: Option<Uuid>,
    /// The event log, in log order, each with the change that logged it.
    pub events: Vec<LoggedEvent>,
}

impl WorkOrderDoc {
    /// Folds the event log into the order's summary at `now` (overdue is relative to `now`)
    /// under the district's deadline `policy` (from its reference record). `received` gives the
    /// time the server received a change, where the caller knows it: deadlines count on the
    /// server's clock (DESIGN §1), the device's clock standing in only until it is known.
    pub fn summary_with(
        &self,
        policy: &DeadlinePolicy,
        received: impl Fn(&[u8; 32]) -> Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> WorkOrderSummary {
        let events: Vec<WorkOrderEvent> = self
            .events
            .iter()
            .map(|l| {
                let mut e = l.event.clone();
                e.received_at = l.change.as_ref().and_then(&received);
                e
            })
            .collect();
        super::derive(&events, self.severity, policy, now)
    }

    /// [`WorkOrderDoc::summary_with`] under the default deadline policy: for checks that do not
    /// depend on deadlines (who may take which step). Whatever shows or acts on a deadline uses
    /// the district's policy.
    pub fn summary(
        &self,
        received: impl Fn(&[u8; 32]) -> Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> WorkOrderSummary {
        self.summary_with(&DeadlinePolicy::default(), received, now)
    }
}

/// A whole work order: the incident as reported and its derived state.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    /// Record id.
    pub id: Uuid,
    /// Area code path.
    pub area: AreaPath,
    /// Category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Source.
    pub source: IncidentSource,
    /// Location.
    pub location: Option<Location>,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// Household concerned.
    pub household_id: Option<Uuid>,
    /// Patrol it was observed on.
    pub patrol_id: Option<Uuid>,
    /// State, deadline, departments, events and conflicts, derived from the event log.
    pub summary: WorkOrderSummary,
}

impl WorkOrder {
    /// The whole order from its decoded document and the summary folded from it.
    pub fn new(rec: Decoded<WorkOrderDoc>, summary: WorkOrderSummary) -> WorkOrder {
        let Decoded { header, record: r } = rec;
        WorkOrder {
            id: header.id,
            area: header.area,
            category: r.category,
            title: r.title,
            description: r.description,
            source: r.source,
            location: r.location,
            photos: r.photos,
            household_id: r.household_id,
            patrol_id: r.patrol_id,
            summary,
        }
    }
}

/// The work-order kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct WorkOrderSpec;

impl RecordSpec for WorkOrderSpec {
    const KIND: RecordKind = RecordKind::WorkOrder;
    const CARRIES_PHOTOS: bool = true;
    const READS_RECEIVE_TIMES: bool = true;
    type Record = WorkOrderDoc;

    fn decode(_header: &Header, d: &Fields<'_>) -> Result<WorkOrderDoc, DecodeError> {
        Ok(WorkOrderDoc {
            category: required(d.str(field::CATEGORY), field::CATEGORY)?,
            severity: d
                .str(field::SEVERITY)
                .and_then(|s| Severity::parse(&s).ok())
                .unwrap_or(Severity::Ordinary),
            title: required(d.str(field::TITLE), field::TITLE)?,
            description: d.str(field::DESCRIPTION).unwrap_or_default(),
            source: d
                .str(field::SOURCE)
                .and_then(|s| IncidentSource::parse(&s).ok())
                .unwrap_or(IncidentSource::Other),
            location: Location::read(d.doc()),
            photos: PhotoRef::read_all(d.doc(), field::PHOTOS),
            household_id: d.uuid(field::HOUSEHOLD),
            patrol_id: d.uuid(field::PATROL),
            events: read_events(d.doc()),
        })
    }

    /// The incident's photos, then each step's own, each hash once.
    fn photos(record: &WorkOrderDoc) -> Vec<PhotoRef> {
        let mut seen = std::collections::HashSet::new();
        record
            .photos
            .iter()
            .chain(record.events.iter().flat_map(|e| &e.event.photos))
            .filter(|p| seen.insert(p.hash.as_str()))
            .cloned()
            .collect()
    }
}
