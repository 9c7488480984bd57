//! "My alerts" (我的提醒): what the signed-in person should look at, computed on the device from
//! the records it holds — no server round trip, so the list works offline like everything else.
//!
//! An alert points at one record and has a **stable id** made of its kind and what raised it (the
//! event, or the deadline), so that marking it seen ([`Alerts::ack`]) hides exactly that alert:
//! a second supervision, a later step, a deadline that passes again after an extension each
//! raise a new one. Seen marks are local state of this device (the `alert_seen` table), not a
//! synced record.
//!
//! Kinds ([`AlertKind`]):
//! - an open work order in the user's scope put under supervision (督办), returned by every
//!   department (退单), or past its deadline — the deadline measured on the server's receive time
//!   where the device knows it (DESIGN §1);
//! - a step someone else took on a work order the user reported (the reporter follows their
//!   report to its closure);
//! - an open task for the user's areas due within [`TASK_DUE_SOON_HOURS`] hours, or overdue.
//!
//! Each alert carries its kind's stable code and an English text; apps translate by the code.

mod seen;
mod tasks;
#[cfg(test)]
mod tests;
mod work_orders;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::code_enum;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::role::Role;
use crate::store::Store;

/// How many hours before its due date a task raises a [`AlertKind::TaskDueSoon`] alert.
pub const TASK_DUE_SOON_HOURS: i64 = 24;

/// Most work orders one alert list looks at (the newest reports first), so the list stays fast
/// on a centre's device holding a whole town.
pub const MAX_WORK_ORDERS: u32 = 500;

code_enum! {
    /// What an alert is about. The codes are stable: apps translate by them.
    pub enum AlertKind ("alert_kind") {
        /// 督办: an open work order in the user's scope was put under supervision.
        WorkOrderSupervised = "work_order_supervised",
        /// 退单: every department returned an open work order in the user's scope.
        WorkOrderReturned = "work_order_returned",
        /// 超期: an open work order in the user's scope is past its deadline.
        WorkOrderOverdue = "work_order_overdue",
        /// Someone else took a step on a work order the user reported.
        WorkOrderChanged = "work_order_changed",
        /// An open task for the user's areas is due within [`TASK_DUE_SOON_HOURS`] hours.
        TaskDueSoon = "task_due_soon",
        /// An open task for the user's areas is past its due date.
        TaskOverdue = "task_overdue",
    }
}

/// One alert of the signed-in user.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id: the kind's code and what raised it (`work_order_supervised:<event id>`,
    /// `task_due_soon:<task id>:<due ms>`…). [`Alerts::ack`] takes it.
    pub id: String,
    /// What it is about; its code is the key for translated text.
    pub kind: AlertKind,
    /// The kind of record it points to.
    pub record_kind: RecordKind,
    /// The record it points to.
    pub record_id: Uuid,
    /// The record's title.
    pub title: String,
    /// When it happened: the step's time (server receive time when known), or the deadline.
    pub at: DateTime<Utc>,
    /// English text, e.g. `Work order "楼道堆物" is past its deadline`.
    pub text: String,
    /// Whether the user marked it seen on this device.
    pub seen: bool,
}

impl Alert {
    fn new(
        kind: AlertKind,
        key: &str,
        record_kind: RecordKind,
        record_id: Uuid,
        title: &str,
        at: DateTime<Utc>,
        text: String,
    ) -> Alert {
        Alert {
            id: format!("{}:{key}", kind.as_str()),
            kind,
            record_kind,
            record_id,
            title: title.to_owned(),
            at,
            text,
            seen: false,
        }
    }
}

/// The device store's operations on the signed-in user's alerts: list, mark seen. Made by
/// [`Store::alerts`]; borrows the store for as long as it lives.
#[derive(Debug)]
pub struct Alerts<'s> {
    store: &'s mut Store,
}

impl Store {
    /// The signed-in user's alerts: list, mark seen.
    pub fn alerts(&mut self) -> Alerts<'_> {
        Alerts { store: self }
    }
}

impl Alerts<'_> {
    /// The user's alerts at `now`, newest first; those marked seen only with `include_seen`.
    ///
    /// # Errors
    /// [`CoreError::NotSignedIn`]; storage errors.
    pub fn list(&mut self, now: DateTime<Utc>, include_seen: bool) -> Result<Vec<Alert>> {
        let user = self.store.require_user()?.clone();
        let mut alerts = work_orders::alerts(self.store, &user, now)?;
        if !matches!(user.role, Role::SyncAdmin | Role::DepartmentHandler) {
            alerts.extend(tasks::alerts(self.store, &user, now)?);
        }
        let seen = seen::seen_among(self.store, alerts.iter().map(|a| a.id.as_str()))?;
        for a in &mut alerts {
            a.seen = seen.contains(&a.id);
        }
        if !include_seen {
            alerts.retain(|a| !a.seen);
        }
        alerts.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
        Ok(alerts)
    }

    /// How many alerts are not marked seen at `now` (a badge).
    ///
    /// # Errors
    /// As [`Alerts::list`].
    pub fn unseen_count(&mut self, now: DateTime<Utc>) -> Result<u32> {
        Ok(u32::try_from(self.list(now, false)?.len()).unwrap_or(u32::MAX))
    }

    /// Marks the alert `id` seen on this device, so the list leaves it out from now on (also
    /// after the store is reopened). Marking it again does nothing.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] naming `alert` when the user has no such alert at `now`;
    /// [`CoreError::NotSignedIn`]; storage errors. Nothing is written on error.
    pub fn ack(&mut self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let id = id.trim();
        if !self.list(now, true)?.iter().any(|a| a.id == id) {
            return Err(CoreError::NotFound { kind: "alert".into(), id: id.to_owned() });
        }
        seen::mark(self.store, id, now)
    }
}
