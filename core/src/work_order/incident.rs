//! Reporting incidents and acting on work orders from this device. Every step is checked
//! against the derived state first (so the UI can refuse an illegal step), then appended to the
//! document's event log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::document::{append_event, field, read_events};
use super::{CategoryList, DeadlinePolicy, EventType, Severity, WorkOrderEvent, WorkOrderSummary};
use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::code_enum;
use crate::doc;
use crate::error::Result;
use crate::kind::RecordKind;
use crate::location::Location;
use crate::store::Store;
use crate::validate;

code_enum! {
    /// Where an incident came from (事件来源).
    pub enum IncidentSource ("source") {
        /// 网格上报: reported by a grid worker or liaison.
        GridReport = "grid_report",
        /// 巡查发现: an observation on patrol.
        Patrol = "patrol",
        /// 走访发现: raised during a household visit.
        Visit = "visit",
        /// 12345热线: the citizens' hotline.
        Hotline = "hotline_12345",
        /// 其他渠道.
        Other = "other",
    }
}

/// What a reporter enters for an incident.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentInput {
    /// Where it is (the smallest area unit).
    pub area: AreaPath,
    /// Category code from the category list (e.g. `safety_hazard`).
    pub category: String,
    /// Severity tier; sets the deadline.
    pub severity: Severity,
    /// Short title.
    pub title: String,
    /// What was seen.
    pub description: String,
    /// Where exactly.
    pub location: Option<Location>,
    /// Photos.
    pub photos: Vec<PhotoRef>,
    /// Where the report came from.
    pub source: IncidentSource,
    /// The household concerned, if any.
    pub household_id: Option<Uuid>,
    /// The patrol it was observed on, if any.
    pub patrol_id: Option<Uuid>,
    /// When it was reported (device clock).
    pub reported_at: DateTime<Utc>,
}

/// A step someone takes on a work order.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderAction {
    /// What is done.
    pub event_type: EventType,
    /// The department concerned (required for dispatch).
    pub department: Option<String>,
    /// A note: what was done, why it was returned, the resident's complaint…
    pub note: Option<String>,
    /// For an extension request: hours to add.
    pub extension_hours: Option<u32>,
    /// When (device clock).
    pub at: DateTime<Utc>,
}

impl IncidentInput {
    fn validate(&self, categories: &CategoryList) -> Result<()> {
        let location = self.location.as_ref();
        super::details::check(
            categories,
            &self.category,
            &self.title,
            &self.description,
            location,
        )?;
        crate::attachment::validate_photos(&self.photos, "incident")
    }
}

impl Store {
    /// Reports an incident: creates the work order with its `report` event by the signed-in
    /// user, and returns its id.
    ///
    /// # Errors
    /// [`crate::CoreError::Invalid`] naming the bad field (unknown category, empty title,
    /// oversized text, bad coordinates or photos); [`crate::CoreError::NotFound`] for an unknown
    /// area; [`crate::CoreError::OutOfScope`]; [`crate::CoreError::NotSignedIn`]; a work-order
    /// error if the user's role may not report. Nothing is written on error.
    pub fn report_incident(&mut self, input: IncidentInput) -> Result<Uuid> {
        input.validate(&CategoryList::default())?;
        let user = self.require_user()?.clone();
        let report =
            WorkOrderEvent::new(EventType::Report, &user.user_id, user.role, input.reported_at);
        super::check_event(&WorkOrderSummary::new(input.severity), &report)?;
        let id = Uuid::now_v7();
        self.write_doc(id, RecordKind::WorkOrder, Some(&input.area), "report_incident", |d, _| {
            doc::put(d, field::CATEGORY, input.category.as_str())?;
            doc::put(d, field::SEVERITY, input.severity.as_str())?;
            doc::put(d, field::TITLE, input.title.trim())?;
            if !input.description.is_empty() {
                doc::put(d, field::DESCRIPTION, input.description.as_str())?;
            }
            doc::put(d, field::SOURCE, input.source.as_str())?;
            if let Some(l) = input.location {
                doc::put(d, field::LAT, l.lat)?;
                doc::put(d, field::LON, l.lon)?;
            }
            doc::put_opt(d, field::HOUSEHOLD, input.household_id.map(|u| u.to_string()))?;
            doc::put_opt(d, field::PATROL, input.patrol_id.map(|u| u.to_string()))?;
            PhotoRef::append_all(d, field::PHOTOS, &input.photos)?;
            append_event(d, &report)
        })?;
        Ok(id)
    }

    /// Takes a step on a work order (accept, dispatch, handle, close, reopen…) as the signed-in
    /// user, after checking it is legal in the order's current state; returns the new summary.
    ///
    /// # Errors
    /// A work-order error ([`crate::CoreError::WorkOrder`]) naming the state and step when
    /// illegal or not allowed for the user's role; [`crate::CoreError::Invalid`] naming `note` or
    /// `department` for oversized text; [`crate::CoreError::NotFound`];
    /// [`crate::CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn act_on_work_order(
        &mut self,
        id: Uuid,
        action: WorkOrderAction,
    ) -> Result<WorkOrderSummary> {
        if let Some(n) = &action.note {
            validate::max_len("note", n, validate::NOTE_MAX)?;
        }
        if let Some(dep) = &action.department {
            validate::max_len("department", dep, validate::NAME_MAX)?;
        }
        let user = self.require_user()?.clone();
        let mut event = WorkOrderEvent::new(action.event_type, &user.user_id, user.role, action.at);
        event.department = action.department.filter(|d| !d.trim().is_empty());
        event.note = action.note.filter(|n| !n.trim().is_empty());
        event.extension_hours = action.extension_hours;
        let current = self.work_order_summary(id, Utc::now())?;
        super::check_event(&current, &event)?;
        self.write_doc(id, RecordKind::WorkOrder, None, event.event_type.as_str(), |d, _| {
            append_event(d, &event)
        })?;
        self.work_order_summary(id, Utc::now())
    }

    /// The derived state of a work order at `now` (overdue is relative to `now`).
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`]; storage errors.
    pub fn work_order_summary(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<WorkOrderSummary> {
        self.read_doc_conn(id, RecordKind::WorkOrder, |conn, d| summarize(conn, d, now))
    }
}

/// The severity recorded on a work order document.
pub(crate) fn severity_of(d: &automerge::AutoCommit) -> Severity {
    doc::get_str(d, field::SEVERITY)
        .and_then(|s| Severity::parse(&s).ok())
        .unwrap_or(Severity::Ordinary)
}

/// Folds a work order document's events into its summary at `now`.
pub(crate) fn summarize(
    conn: &rusqlite::Connection,
    d: &automerge::AutoCommit,
    now: DateTime<Utc>,
) -> Result<WorkOrderSummary> {
    let events = read_events(d, Some(conn))?;
    Ok(super::derive(&events, severity_of(d), &DeadlinePolicy::default(), now))
}
