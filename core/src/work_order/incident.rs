//! What people enter for an incident and for a step on its work order, and how each is written
//! into the work order's document.

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::document::{append_event, field};
use super::{CategoryList, EventType, Severity, WorkOrderEvent};
use crate::area::AreaPath;
use crate::attachment::PhotoRef;
use crate::code_enum;
use crate::doc;
use crate::error::Result;
use crate::location::Location;
use crate::role::Role;
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
    /// For a verify: the resident's satisfaction, 1–5.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub satisfaction: Option<u8>,
    /// The step's own photos (taken with [`crate::Store::add_attachment`] first): the finished
    /// work with a feedback, what was found on a verify. At most
    /// [`MAX_PHOTOS`](crate::attachment::MAX_PHOTOS).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub photos: Vec<PhotoRef>,
    /// When (device clock).
    pub at: DateTime<Utc>,
}

impl IncidentInput {
    /// Checks the report against the category list and the field limits.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validate(&self, categories: &CategoryList) -> Result<()> {
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

    /// Writes the reported incident and its `report` event into a new work-order document (a
    /// document builder: the phone's store and the server both make work orders with it).
    ///
    /// # Errors
    /// Document errors.
    pub fn write_report(&self, d: &mut AutoCommit, report: &WorkOrderEvent) -> Result<()> {
        doc::put(d, field::CATEGORY, self.category.as_str())?;
        doc::put(d, field::SEVERITY, self.severity.as_str())?;
        doc::put(d, field::TITLE, self.title.trim())?;
        if !self.description.is_empty() {
            doc::put(d, field::DESCRIPTION, self.description.as_str())?;
        }
        doc::put(d, field::SOURCE, self.source.as_str())?;
        if let Some(l) = self.location {
            l.put_in(d, &automerge::ROOT)?;
        }
        doc::put_opt(d, field::HOUSEHOLD, self.household_id.map(|u| u.to_string()))?;
        doc::put_opt(d, field::PATROL, self.patrol_id.map(|u| u.to_string()))?;
        PhotoRef::append_all(d, field::PHOTOS, &self.photos)?;
        append_event(d, report)
    }
}

impl WorkOrderAction {
    /// The event this action logs when `by`, acting as `role`, takes it; blank notes and
    /// departments are left out.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `note` or `department` when over their length limits.
    pub fn event(self, by: &str, role: Role) -> Result<WorkOrderEvent> {
        if let Some(n) = &self.note {
            validate::max_len("note", n, validate::NOTE_MAX)?;
        }
        if let Some(dep) = &self.department {
            validate::max_len("department", dep, validate::NAME_MAX)?;
        }
        crate::attachment::validate_photos(&self.photos, "step")?;
        let mut event = WorkOrderEvent::new(self.event_type, by, role, self.at);
        event.department = self.department.filter(|d| !d.trim().is_empty());
        event.note = self.note.filter(|n| !n.trim().is_empty());
        event.extension_hours = self.extension_hours;
        event.satisfaction = self.satisfaction;
        event.photos = self.photos;
        Ok(event)
    }
}
