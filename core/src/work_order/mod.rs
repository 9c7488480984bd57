//! Incidents and the work orders they become (事件/工单, DESIGN §4): pure domain logic.
//!
//! A work order's state is never stored as a last-writer-wins field. Its document holds an
//! append-only list of [`WorkOrderEvent`]s (report, accept, dispatch, sign, handle, feedback,
//! verify, close, return, extension request, escalate, reopen) and [`derive`](fn@derive) folds
//! them, in a stable order, into a [`WorkOrderSummary`]. Events that were illegal at their place in that order are kept as
//! [`Conflict`]s for review rather than dropped, so concurrent edits from several phones (two people
//! closing, one closing while another reopens) merge deterministically and visibly.
//!
//! Before writing an event locally, apps call [`check_transition`] / [`check_event`] so the UI can
//! refuse an illegal step with a [`WorkOrderError`] instead of creating a conflict.
//!
//! Reference data (severity deadlines, incident categories) is data, not logic: see
//! [`DeadlinePolicy`] and [`CategoryList`].
//!
//! The pure logic (events, states, fold, checks) knows nothing of storage; `document`,
//! `incident`, `projection` and `query` keep work orders in the store.

mod category;
mod check;
mod decode;
mod details;
mod document;
mod error;
mod event;
mod fold;
mod incident;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
mod severity;
mod state;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::WorkOrders;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use category::{Category, CategoryList};
pub use check::{MAX_EXTENSION_HOURS, check_event, check_transition};
pub use decode::{WorkOrder, WorkOrderDoc, WorkOrderSpec};
pub use details::{DETAIL_FIELDS, IncidentDetails, check_details_edit};
pub use document::{LoggedEvent, append_event};
pub use error::WorkOrderError;
pub use event::{EventType, WorkOrderEvent, role_may_perform};
pub use fold::{Conflict, DepartmentDeadline, PendingExtension, WorkOrderSummary, derive};
pub use incident::{IncidentInput, IncidentSource, WorkOrderAction};
#[cfg(feature = "store")]
pub use query::WorkOrderRow;
pub use severity::{DeadlinePolicy, Severity};
pub use state::{Transition, WorkOrderState, department_transition, order_transition};
