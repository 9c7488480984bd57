//! Reporting incidents and acting on work orders on the device. Every step is checked against
//! the derived state first (so the UI can refuse an illegal step), then appended to the
//! document's event log.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::document::append_event;
use super::{
    EventType, IncidentDetails, IncidentInput, WorkOrderAction, WorkOrderEvent, WorkOrderSpec,
    WorkOrderSummary, check_details_edit,
};
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::store::Store;

/// The device store's operations on incidents and their work orders: report, act, read, lists. Made by [`Store::work_orders`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct WorkOrders<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on incidents and their work orders: report, act, read, lists.
    pub fn work_orders(&mut self) -> WorkOrders<'_> {
        WorkOrders { store: self }
    }
}

impl WorkOrders<'_> {
    /// Reports an incident: creates the work order with its `report` event by the signed-in
    /// user, and returns its id.
    ///
    /// # Errors
    /// [`crate::CoreError::Invalid`] naming the bad field (unknown category, empty title,
    /// oversized text, bad coordinates or photos); [`crate::CoreError::NotFound`] for an unknown
    /// area; [`crate::CoreError::OutOfScope`]; [`crate::CoreError::NotSignedIn`]; a work-order
    /// error if the user's role may not report. Nothing is written on error.
    pub fn report(&mut self, input: IncidentInput) -> Result<Uuid> {
        input.validate(&self.store.reference_data()?.categories)?;
        let user = self.store.require_user()?.clone();
        let report =
            WorkOrderEvent::new(EventType::Report, &user.user_id, user.role, input.reported_at);
        super::check_event(&WorkOrderSummary::new(input.severity), &report)?;
        let id = Uuid::now_v7();
        self.store.write_doc(
            id,
            RecordKind::WorkOrder,
            Some(&input.area),
            "report_incident",
            |d, _| input.write_report(d, &report),
        )?;
        Ok(id)
    }

    /// Takes a step on a work order (accept, dispatch, handle, close, reopen…) as the signed-in
    /// user, after checking it is legal in the order's current state; returns the new summary.
    ///
    /// # Errors
    /// A work-order error ([`crate::CoreError::WorkOrder`]) naming the state and step when
    /// illegal or not allowed for the user's role; [`crate::CoreError::Invalid`] naming `note`
    /// or `department` for oversized text; [`crate::CoreError::NotFound`];
    /// [`crate::CoreError::NotSignedIn`]. Nothing is written on error.
    pub fn act(&mut self, id: Uuid, action: WorkOrderAction) -> Result<WorkOrderSummary> {
        let user = self.store.require_user()?.clone();
        let event = action.event(&user.user_id, user.role)?;
        let current = self.summary(id, Utc::now())?;
        super::check_event(&current, &event)?;
        self.store.write_doc(
            id,
            RecordKind::WorkOrder,
            None,
            event.event_type.as_str(),
            |d, _| append_event(d, &event),
        )?;
        self.summary(id, Utc::now())
    }

    /// The derived state of a work order at `now` (overdue is relative to `now`).
    ///
    /// # Errors
    /// [`crate::CoreError::NotFound`]; storage errors.
    pub fn summary(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<WorkOrderSummary> {
        self.store.read_doc_conn(id, RecordKind::WorkOrder, |conn, d| {
            let rec = crate::store::decoded::<WorkOrderSpec>(id, d)?;
            super::projection::summarize(conn, &rec.record, now)
        })
    }
}

impl WorkOrders<'_> {
    /// Edits an incident's details (title, description, category, severity, location) as the
    /// signed-in user and returns the order's summary after the edit — its deadline follows a
    /// changed severity. Only the fields that differ are written; the event log is untouched.
    ///
    /// Who may edit: the reporter while the order is still reported (not yet accepted); a grid
    /// head, town operator or district centre while it is open (see [`check_details_edit`]);
    /// within the user's scope, as for every write.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field (unknown `category`, empty or oversized
    /// `title`, oversized `description`, `lat`/`lon` out of range); a work-order error
    /// ([`CoreError::WorkOrder`]): `details_locked` for a closed order or a reporter's accepted
    /// one, `role_not_allowed` for a role that may not edit it; [`CoreError::NotFound`] for an
    /// unknown or deleted work order; [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`];
    /// storage errors. Nothing is written on error.
    pub fn update_incident(
        &mut self,
        id: Uuid,
        details: IncidentDetails,
    ) -> Result<WorkOrderSummary> {
        let mut categories = self.store.reference_data()?.categories;
        let user = self.store.require_user()?.clone();
        let (current, category) =
            self.store.read_doc_conn(id, RecordKind::WorkOrder, |conn, d| {
                let rec = crate::store::decoded::<WorkOrderSpec>(id, d)?;
                if rec.header.deleted {
                    return Err(CoreError::NotFound {
                        kind: "work_order".into(),
                        id: id.to_string(),
                    });
                }
                let summary = super::projection::summarize(conn, &rec.record, Utc::now())?;
                Ok((summary, rec.record.category))
            })?;
        // An order keeps the category it was filed under even after the district retired it.
        categories.keep_in_use(&category);
        details.validate(&categories)?;
        check_details_edit(&current, &user.user_id, user.role)?;
        self.store.write_doc(id, RecordKind::WorkOrder, None, "update_incident", |d, _| {
            details.write(d)
        })?;
        self.summary(id, Utc::now())
    }
}
