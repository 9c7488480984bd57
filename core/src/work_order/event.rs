//! The transition events a work order's document holds, and which role may perform each.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attachment::PhotoRef;
use crate::error::CoreError;
use crate::role::Role;

/// What a [`WorkOrderEvent`] does to its work order. The names are stored in documents: never
/// rename them.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// 上报: an incident is reported; creates the work order.
    Report,
    /// 受理: a command centre or grid head accepts the report for handling.
    Accept,
    /// 派单: dispatched to one department (one event per department).
    Dispatch,
    /// 签收: a department signs for the order.
    Sign,
    /// 处置: a department is handling it (may repeat as progress notes).
    Handle,
    /// 反馈: a department reports back that it has finished.
    Feedback,
    /// 核查、回访: the result is checked on site or with the resident.
    Verify,
    /// 办结: the order is closed.
    Close,
    /// 退单: a department returns it (wrong department).
    Return,
    /// 延期申请: a department asks for `extension_hours` more; the deadline moves only once the
    /// centre approves.
    RequestExtension,
    /// 督办: the order is put under supervision; does not change its state.
    Escalate,
    /// 重办: reopened because the resident is dissatisfied.
    Reopen,
    /// 延期批准: the centre grants a department's waiting extension request; the deadline moves.
    ApproveExtension,
    /// 延期驳回: the centre refuses a department's waiting extension request.
    DeclineExtension,
    /// 冲突复核: the centre has reviewed the conflicting steps it saw (the second of two
    /// concurrent closes…); they leave the conflicts queue. Does not change the order.
    ReviewConflicts,
}

impl EventType {
    /// Every event type, in flow order.
    pub const ALL: [EventType; 15] = [
        EventType::Report,
        EventType::Accept,
        EventType::Dispatch,
        EventType::Sign,
        EventType::Handle,
        EventType::Feedback,
        EventType::Verify,
        EventType::Close,
        EventType::Return,
        EventType::RequestExtension,
        EventType::Escalate,
        EventType::Reopen,
        EventType::ApproveExtension,
        EventType::DeclineExtension,
        EventType::ReviewConflicts,
    ];

    /// The stable snake_case name (`report`, `request_extension`…).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Report => "report",
            EventType::Accept => "accept",
            EventType::Dispatch => "dispatch",
            EventType::Sign => "sign",
            EventType::Handle => "handle",
            EventType::Feedback => "feedback",
            EventType::Verify => "verify",
            EventType::Close => "close",
            EventType::Return => "return",
            EventType::RequestExtension => "request_extension",
            EventType::Escalate => "escalate",
            EventType::Reopen => "reopen",
            EventType::ApproveExtension => "approve_extension",
            EventType::DeclineExtension => "decline_extension",
            EventType::ReviewConflicts => "review_conflicts",
        }
    }

    /// The event type with this stable name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `event_type` when the name is unknown.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name).ok_or_else(|| {
            CoreError::invalid("event_type", format!("unknown work order event `{name}`"))
        })
    }

    /// Whether this event is done by (and addressed to) a department: sign, handle, feedback,
    /// return and extension requests are judged against that department's own progress.
    pub fn is_departmental(self) -> bool {
        matches!(
            self,
            EventType::Sign
                | EventType::Handle
                | EventType::Feedback
                | EventType::Return
                | EventType::RequestExtension
        )
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a user acting in `role` may perform `event_type` at all (the state decides the rest):
///
/// - report: anyone in scope except the sync admin;
/// - accept, dispatch, escalate, approve/decline an extension, review conflicts: grid head, town
///   operator, district centre;
/// - sign, handle, feedback, return, request_extension: department handler;
/// - verify, close, reopen: grid worker, grid head, town operator, district centre;
/// - the sync admin: nothing (it runs devices, not cases).
pub fn role_may_perform(role: Role, event_type: EventType) -> bool {
    use EventType as E;
    match event_type {
        E::Report => !matches!(role, Role::SyncAdmin),
        E::Accept
        | E::Dispatch
        | E::Escalate
        | E::ApproveExtension
        | E::DeclineExtension
        | E::ReviewConflicts => {
            matches!(role, Role::GridHead | Role::TownOperator | Role::DistrictCentre)
        }
        E::Sign | E::Handle | E::Feedback | E::Return | E::RequestExtension => {
            matches!(role, Role::DepartmentHandler)
        }
        E::Verify | E::Close | E::Reopen => matches!(
            role,
            Role::GridWorker | Role::GridHead | Role::TownOperator | Role::DistrictCentre
        ),
    }
}

/// One entry of a work order's append-only event log. Written once, never edited; the work
/// order's state is derived from all of them by [`derive`](fn@super::derive).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkOrderEvent {
    /// Unique id (a UUID, v7 when made by [`WorkOrderEvent::new`]); copies of one event merged
    /// from several devices count once.
    pub id: String,
    /// What the event does.
    pub event_type: EventType,
    /// The acting user's id.
    pub by: String,
    /// The role the user acted in.
    pub role: Role,
    /// When it happened, by the device's clock (may be wrong).
    pub at: DateTime<Utc>,
    /// When the server first received it; trusted over `at` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    /// The department concerned: required for dispatch; for department events, the handler's
    /// department (when absent, the event addresses every dispatched department it can apply to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Free text: what was seen or done, why it was returned, the resident's complaint…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `request_extension`: how many hours to add to the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_hours: Option<u32>,
    /// For `verify`: the resident's satisfaction at the call-back, 1 (very dissatisfied) to 5
    /// (very satisfied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<u8>,
    /// The step's own photos: the finished work with a handler's feedback, what the checker saw
    /// on a verify… (the incident's photos stay on the order). At most
    /// [`MAX_PHOTOS`](crate::attachment::MAX_PHOTOS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub photos: Vec<PhotoRef>,
}

impl WorkOrderEvent {
    /// A new event with a fresh UUID v7 id and no optional fields.
    pub fn new(
        event_type: EventType,
        by: impl Into<String>,
        role: Role,
        at: DateTime<Utc>,
    ) -> Self {
        WorkOrderEvent {
            id: Uuid::now_v7().to_string(),
            event_type,
            by: by.into(),
            role,
            at,
            received_at: None,
            department: None,
            note: None,
            extension_hours: None,
            satisfaction: None,
            photos: Vec::new(),
        }
    }

    /// This event naming `department`.
    pub fn with_department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// This event with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// This event asking for `hours` more.
    pub fn with_extension_hours(mut self, hours: u32) -> Self {
        self.extension_hours = Some(hours);
        self
    }

    /// This event with the resident's satisfaction (a verify).
    pub fn with_satisfaction(mut self, score: u8) -> Self {
        self.satisfaction = Some(score);
        self
    }

    /// This event with its own photos.
    pub fn with_photos(mut self, photos: Vec<PhotoRef>) -> Self {
        self.photos = photos;
        self
    }

    /// This event as stamped by the server on receipt.
    pub fn with_received_at(mut self, received_at: DateTime<Utc>) -> Self {
        self.received_at = Some(received_at);
        self
    }

    /// The time the fold orders by: the server's receive time when known, else the device time.
    pub fn effective_at(&self) -> DateTime<Utc> {
        self.received_at.unwrap_or(self.at)
    }

    /// The department named, trimmed; `None` when absent or blank.
    pub fn department_name(&self) -> Option<&str> {
        self.department.as_deref().map(str::trim).filter(|d| !d.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()).unwrap(), t);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
        }
        assert!(EventType::parse("approve").is_err());
    }

    #[test]
    fn role_table() {
        use EventType as E;
        for t in E::ALL {
            assert!(!role_may_perform(Role::SyncAdmin, t), "sync admin may not {t}");
        }
        for r in Role::ALL {
            assert_eq!(role_may_perform(r, E::Report), r != Role::SyncAdmin);
        }
        assert!(role_may_perform(Role::Liaison, E::Report));
        assert!(!role_may_perform(Role::Liaison, E::Dispatch));
        assert!(!role_may_perform(Role::Liaison, E::Close));
        assert!(!role_may_perform(Role::GridWorker, E::Accept));
        assert!(role_may_perform(Role::GridHead, E::Dispatch));
        assert!(role_may_perform(Role::TownOperator, E::Escalate));
        assert!(role_may_perform(Role::DistrictCentre, E::Accept));
        for t in [E::Sign, E::Handle, E::Feedback, E::Return, E::RequestExtension] {
            assert!(role_may_perform(Role::DepartmentHandler, t));
            assert!(!role_may_perform(Role::DistrictCentre, t));
        }
        for t in [E::Verify, E::Close, E::Reopen] {
            assert!(role_may_perform(Role::GridWorker, t));
            assert!(!role_may_perform(Role::DepartmentHandler, t));
        }
        assert!(!role_may_perform(Role::DepartmentHandler, E::Dispatch));
    }

    #[test]
    fn builder_and_effective_time() {
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap();
        let rx = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
        let e = WorkOrderEvent::new(EventType::Dispatch, "u1", Role::DistrictCentre, at)
            .with_department("  sanitation ")
            .with_note("垃圾堆放");
        assert!(Uuid::parse_str(&e.id).is_ok());
        assert_eq!(e.effective_at(), at);
        assert_eq!(e.department_name(), Some("sanitation"));
        let e = e.with_received_at(rx).with_extension_hours(4);
        assert_eq!(e.effective_at(), rx);
        assert_eq!(e.extension_hours, Some(4));
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"event_type\":\"dispatch\"") && json.contains("district_centre"));
        assert_eq!(serde_json::from_str::<WorkOrderEvent>(&json).unwrap(), e);
        let blank = WorkOrderEvent::new(EventType::Sign, "u", Role::DepartmentHandler, at)
            .with_department("  ");
        assert_eq!(blank.department_name(), None);
    }
}
