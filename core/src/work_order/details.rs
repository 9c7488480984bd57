//! Editing an incident's details — title, description, category, severity, location — as
//! ordinary field edits of the work order's document. The event log (the order's state) is not
//! touched: details are plain fields, and only those whose value changed are written, so two
//! people correcting different fields merge with both kept; one field set differently on two
//! phones is a conflict, surfaced by [`Store::conflicts`]. The record's history shows every
//! edit, by whom and which fields (履职留痕).
//!
//! **Who may edit** ([`check_details_edit`]), following the flow report 上报 → accept 受理 → …:
//! - the **reporter**, on their own report while it is still `reported` (not yet accepted):
//!   they correct what they typed before anyone acts on it;
//! - the **command roles** — grid head, town operator, district centre, the roles that accept
//!   and dispatch — in any open state: classifying and grading a report is part of accepting it
//!   (受理), and a case can turn out more or less severe while it is handled;
//! - nobody on a **closed** order (reopen it first), and never a department handler (a wrong
//!   department returns the order instead), a sync admin, or a worker or liaison on someone
//!   else's report.
//!
//! **Severity and the deadline**: the deadline is derived, never stored in the document — the
//! clock start (first accept or dispatch) plus the severity's time plus granted extensions — so
//! a severity change moves the deadline every list and summary shows, on this phone and on every
//! phone the edit reaches (an ordinary order made urgent after 1 h is due 2 h after acceptance).
//!
//! The rule is checked where the edit is made and again by the sync server at ingest, against
//! the order's state in the log ([`DETAIL_FIELDS`] are the document keys it watches).

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

use super::document::field;
use super::incident::IncidentInput;
use super::{CategoryList, Severity, WorkOrder, WorkOrderError, WorkOrderState, WorkOrderSummary};
use crate::doc;
use crate::error::Result;
use crate::location::Location;
use crate::role::Role;
use crate::validate;

/// The work-order document's root keys an incident-details edit writes: a change that puts any
/// of them (other than the report creating the order) is a details edit, which the sync server
/// checks with [`check_details_edit`].
pub const DETAIL_FIELDS: [&str; 6] = [
    field::TITLE,
    field::DESCRIPTION,
    field::CATEGORY,
    field::SEVERITY,
    crate::location::LAT,
    crate::location::LON,
];

/// An incident's details: what was reported and how the command centre classified it. The
/// fields an edit may change (the area, source, photos, household and patrol stay as reported).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetails {
    /// Short title (required).
    pub title: String,
    /// What was seen (may be empty).
    pub description: String,
    /// Category code from the category list (e.g. `safety_hazard`).
    pub category: String,
    /// Severity tier; the deadline follows it.
    pub severity: Severity,
    /// Where exactly; `None` removes it.
    pub location: Option<Location>,
}

impl From<&IncidentInput> for IncidentDetails {
    /// The details part of a report.
    fn from(input: &IncidentInput) -> Self {
        IncidentDetails {
            title: input.title.clone(),
            description: input.description.clone(),
            category: input.category.clone(),
            severity: input.severity,
            location: input.location,
        }
    }
}

impl From<&WorkOrder> for IncidentDetails {
    /// The current details of a work order: what an edit form starts from.
    fn from(order: &WorkOrder) -> Self {
        IncidentDetails {
            title: order.title.clone(),
            description: order.description.clone(),
            category: order.category.clone(),
            severity: order.summary.severity,
            location: order.location,
        }
    }
}

impl IncidentDetails {
    /// Checks the details against the category list and the field limits (the device's store
    /// and the server check them alike).
    ///
    /// # Errors
    /// [`crate::CoreError::Invalid`] naming the bad field.
    pub fn validate(&self, categories: &CategoryList) -> Result<()> {
        check(categories, &self.category, &self.title, &self.description, self.location.as_ref())
    }
}

/// Checks an incident's details, when reported and when edited: a known category, a title of
/// 1 to [`validate::TITLE_MAX`] characters, a description of at most [`validate::NOTE_MAX`],
/// valid coordinates.
pub(super) fn check(
    categories: &CategoryList,
    category: &str,
    title: &str,
    description: &str,
    location: Option<&Location>,
) -> Result<()> {
    categories.lookup(category)?;
    validate::required_text("title", title, validate::TITLE_MAX)?;
    validate::max_len("description", description, validate::NOTE_MAX)?;
    location.map_or(Ok(()), Location::validate)
}

/// Whether user `user_id`, acting in `role`, may edit the details of the work order `summary`
/// describes (see the module notes): its reporter while it is `reported`; a grid head, town
/// operator or district centre while it is open; nobody once it is closed.
///
/// # Errors
/// [`WorkOrderError::DetailsLocked`] when the order is closed (or has no valid report), or a
/// reporter's order was accepted already; [`WorkOrderError::DetailsNotAllowed`] when the role
/// may not edit this order's details at all.
pub fn check_details_edit(
    summary: &WorkOrderSummary,
    user_id: &str,
    role: Role,
) -> Result<(), WorkOrderError> {
    let locked = || WorkOrderError::DetailsLocked { role, state: summary.state };
    if !summary.is_open() {
        return Err(locked());
    }
    if matches!(role, Role::GridHead | Role::TownOperator | Role::DistrictCentre) {
        return Ok(());
    }
    let reporter = role != Role::SyncAdmin && summary.reporter.as_deref() == Some(user_id);
    match (reporter, summary.state) {
        (true, Some(WorkOrderState::Reported)) => Ok(()),
        (true, _) => Err(locked()),
        (false, _) => Err(WorkOrderError::DetailsNotAllowed { role }),
    }
}

impl IncidentDetails {
    /// Writes the details into the work order document, each field only if it differs (a
    /// document builder: the device's store and the server edit incidents with it).
    ///
    /// # Errors
    /// Document errors.
    pub fn write(&self, d: &mut AutoCommit) -> Result<()> {
        write_details(d, self)
    }
}

fn write_details(d: &mut AutoCommit, details: &IncidentDetails) -> Result<()> {
    doc::put(d, field::TITLE, details.title.trim())?;
    // An empty description is an absent field, as reporting stores it.
    doc::put_opt(
        d,
        field::DESCRIPTION,
        (!details.description.is_empty()).then_some(&*details.description),
    )?;
    doc::put(d, field::CATEGORY, details.category.as_str())?;
    doc::put(d, field::SEVERITY, details.severity.as_str())?;
    doc::put_opt(d, crate::location::LAT, details.location.map(|l| l.lat))?;
    doc::put_opt(d, crate::location::LON, details.location.map(|l| l.lon))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{closed, dispatched, ev, fed_back, fold};
    use super::super::{EventType, WorkOrderEvent};
    use super::*;

    /// The code of the refusal, or `ok`.
    fn rule(events: &[WorkOrderEvent], user: &str, role: Role) -> &'static str {
        match check_details_edit(&fold(events, 0), user, role) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn who_may_edit_an_incident_in_which_state() {
        // The report in `test_support` is by `user-grid_worker`.
        let reporter = "user-grid_worker";
        let reported = vec![ev("r", EventType::Report, Role::GridWorker, 0)];
        let accepted = {
            let mut e = reported.clone();
            e.push(ev("a", EventType::Accept, Role::GridHead, 5));
            e
        };
        let command = [Role::GridHead, Role::TownOperator, Role::DistrictCentre];
        for events in [&reported, &accepted, &dispatched(), &fed_back()] {
            for role in command {
                assert_eq!(rule(events, "someone", role), "ok", "{role}");
            }
            for role in [Role::DepartmentHandler, Role::SyncAdmin, Role::Liaison, Role::GridWorker]
            {
                assert_eq!(rule(events, "someone", role), "role_not_allowed", "{role}");
            }
        }
        // The reporter: only before acceptance.
        assert_eq!(rule(&reported, reporter, Role::GridWorker), "ok");
        assert_eq!(rule(&reported, reporter, Role::Liaison), "ok");
        assert_eq!(rule(&accepted, reporter, Role::GridWorker), "details_locked");
        assert_eq!(rule(&dispatched(), reporter, Role::GridWorker), "details_locked");
        // A sync admin is never the reporter, whatever its user id.
        assert_eq!(rule(&reported, reporter, Role::SyncAdmin), "role_not_allowed");
        // Closed, or nothing reported: nobody.
        for role in Role::ALL {
            assert_eq!(rule(&closed(), reporter, role), "details_locked", "{role}");
            assert_eq!(rule(&[], reporter, role), "details_locked", "{role}");
        }
        let e = check_details_edit(&fold(&closed(), 0), "u", Role::DistrictCentre).unwrap_err();
        assert_eq!(
            e.to_string(),
            "role district_centre may not edit the details of a work order in state closed"
        );
    }
}
