//! The public error of the FFI: one small enum with named fields, mapped from the core's errors.
//! Apps switch on the variant (or on [`GridworkError::code`], the same stable codes the core
//! uses) to show a localized message; the fields say which input was wrong.

use gridwork_core::CoreError;
use gridwork_core::sync::SyncError;
use gridwork_core::sync::attachment_client::AttachmentSyncError;

/// Result alias of every fallible exported function.
pub type Result<T, E = GridworkError> = std::result::Result<T, E>;

/// Everything that can go wrong in a Gridwork call. Kotlin sees `GridworkException` with one
/// subclass per variant, Swift `GridworkError`, Python `GridworkError.<Variant>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum GridworkError {
    /// A field or argument failed validation: show `reason` next to `field` in the form.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field or argument that was wrong, e.g. `member_count`, `area`, `query`.
        field: String,
        /// What was wrong with it, in English (for logs; apps localize by `field` and variant).
        reason: String,
    },
    /// The record, area or other item referred to does not exist on this device.
    #[error("{kind} not found: {id}")]
    NotFound {
        /// What was looked for, e.g. `household`, `area`.
        kind: String,
        /// The identifier that was not found.
        id: String,
    },
    /// The store file is encrypted and the key is missing or wrong, or it is not a Gridwork store.
    #[error("the store is encrypted and the key is missing or wrong, or the file is not a store")]
    Locked,
    /// A write was attempted with nobody signed in on the device.
    #[error("no user is signed in on this device")]
    NotSignedIn,
    /// The record lies outside the signed-in user's area.
    #[error("area {area} is outside the signed-in user's scope {scope}")]
    OutOfScope {
        /// The record's area code path.
        area: String,
        /// The signed-in user's scope.
        scope: String,
    },
    /// The signed-in user's role may not do this (e.g. a liaison reading sensitive data).
    #[error("not allowed: {action}")]
    Forbidden {
        /// What was refused, in English.
        action: String,
    },
    /// A work-order step that is not allowed now (wrong state, role or department): the UI
    /// refuses it instead of creating a conflict.
    #[error("{detail}")]
    WorkOrderRefused {
        /// The stable reason code, e.g. `illegal_transition`, `role_not_allowed`.
        code: String,
        /// What was refused, in English.
        detail: String,
    },
    /// A change received from a peer or the server does not fit its record; nothing was stored.
    #[error("change for document {doc_id} rejected: {reason}")]
    BadChange {
        /// The record the change was addressed to.
        doc_id: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The database failed (disk full, I/O error…).
    #[error("storage error: {detail}")]
    Storage {
        /// The underlying error, in English.
        detail: String,
    },
    /// The device is not enrolled with a sync server: enrol it first.
    #[error("this device is not enrolled with a sync server")]
    NotEnrolled,
    /// The server revoked this device: its local data has been wiped; enrol it again.
    #[error("this device was revoked by the server; its local data has been wiped")]
    Revoked,
    /// The sync run was cancelled; what it applied so far is kept.
    #[error("sync cancelled")]
    Cancelled,
    /// A sync or attachment run of this sync object is already in progress.
    #[error("a sync run is already in progress")]
    SyncRunning,
    /// The server could not be reached, the connection dropped or a request timed out, and
    /// retrying did not help: try again later.
    #[error("network error: {detail}")]
    Network {
        /// The last failure, in English.
        detail: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The server refused the request (a used enrolment code, a push out of scope…).
    #[error("server refused ({status} {code}): {detail}")]
    ServerRefused {
        /// The HTTP status.
        status: u16,
        /// The server's stable error code, e.g. `enrolment_code_used`, `out_of_scope`.
        code: String,
        /// The server's message, in English.
        detail: String,
    },
    /// The server's answer could not be read or broke the protocol.
    #[error("bad answer from the server: {detail}")]
    Protocol {
        /// What was wrong, in English.
        detail: String,
    },
    /// Something that should not happen: a corrupt document, a store left unusable by an earlier
    /// failure, or an observer that threw. Report it; `code` is the core's error code.
    #[error("internal error ({code}): {detail}")]
    Internal {
        /// The stable error code, e.g. `document`, `poisoned`, `observer`.
        code: String,
        /// What happened, in English.
        detail: String,
    },
}

#[uniffi::export]
impl GridworkError {
    /// The stable, language-independent code of this error — the same codes as the core's
    /// (`invalid_input`, `not_found`, `locked`, `not_signed_in`, `out_of_scope`, `forbidden`,
    /// `bad_change`, `storage`, or the `code` of a [`GridworkError::WorkOrderRefused`] or
    /// [`GridworkError::Internal`]) and the sync client's (`not_enrolled`, `revoked`,
    /// `cancelled`, `sync_running`, `network`, `timeout`, `protocol`, or the server's `code` of a
    /// [`GridworkError::ServerRefused`]). Apps map it to localized text.
    pub fn code(&self) -> String {
        match self {
            GridworkError::InvalidInput { .. } => "invalid_input".into(),
            GridworkError::NotFound { .. } => "not_found".into(),
            GridworkError::Locked => "locked".into(),
            GridworkError::NotSignedIn => "not_signed_in".into(),
            GridworkError::OutOfScope { .. } => "out_of_scope".into(),
            GridworkError::Forbidden { .. } => "forbidden".into(),
            GridworkError::WorkOrderRefused { code, .. } => code.clone(),
            GridworkError::BadChange { .. } => "bad_change".into(),
            GridworkError::Storage { .. } => "storage".into(),
            GridworkError::NotEnrolled => "not_enrolled".into(),
            GridworkError::Revoked => "revoked".into(),
            GridworkError::Cancelled => "cancelled".into(),
            GridworkError::SyncRunning => "sync_running".into(),
            GridworkError::Network { timeout: true, .. } => "timeout".into(),
            GridworkError::Network { .. } => "network".into(),
            GridworkError::ServerRefused { code, .. } => code.clone(),
            GridworkError::Protocol { .. } => "protocol".into(),
            GridworkError::Internal { code, .. } => code.clone(),
        }
    }
}

impl GridworkError {
    /// An input error naming `field`.
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        GridworkError::InvalidInput { field: field.to_owned(), reason: reason.into() }
    }

    /// An internal error with `code`.
    pub(crate) fn internal(code: &str, detail: impl Into<String>) -> Self {
        GridworkError::Internal { code: code.to_owned(), detail: detail.into() }
    }
}

impl From<CoreError> for GridworkError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { field, reason } => GridworkError::InvalidInput { field, reason },
            CoreError::NotFound { kind, id } => GridworkError::NotFound { kind, id },
            CoreError::Locked => GridworkError::Locked,
            CoreError::NotSignedIn => GridworkError::NotSignedIn,
            CoreError::OutOfScope { area, scope } => GridworkError::OutOfScope { area, scope },
            CoreError::Forbidden { action } => GridworkError::Forbidden { action },
            CoreError::BadChange { doc_id, reason } => GridworkError::BadChange { doc_id, reason },
            CoreError::WorkOrder(e) => {
                GridworkError::WorkOrderRefused { code: e.code().to_owned(), detail: e.to_string() }
            }
            CoreError::Storage(e) => GridworkError::Storage { detail: e.to_string() },
            other => GridworkError::internal(other.code(), other.to_string()),
        }
    }
}

impl From<SyncError> for GridworkError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotEnrolled => GridworkError::NotEnrolled,
            SyncError::Revoked => GridworkError::Revoked,
            SyncError::Cancelled => GridworkError::Cancelled,
            SyncError::InvalidServerUrl { reason, .. } => {
                GridworkError::invalid("server_url", reason)
            }
            SyncError::Transport { message, timeout, .. } => {
                GridworkError::Network { detail: message, timeout }
            }
            SyncError::Server { status, code, message, .. } => {
                GridworkError::ServerRefused { status, code, detail: message }
            }
            SyncError::Protocol(detail) => GridworkError::Protocol { detail },
            SyncError::Store(e) => e.into(),
            other => GridworkError::internal(other.code(), other.to_string()),
        }
    }
}

impl From<AttachmentSyncError> for GridworkError {
    fn from(e: AttachmentSyncError) -> Self {
        match e {
            AttachmentSyncError::Unauthorized { code, message } => {
                let status = if code == "device_revoked" { 403 } else { 401 };
                GridworkError::ServerRefused { status, code, detail: message }
            }
            AttachmentSyncError::Store(e) => e.into(),
            AttachmentSyncError::Poisoned => {
                GridworkError::internal("poisoned", "the store's lock is poisoned")
            }
            AttachmentSyncError::Client(detail) => {
                GridworkError::Network { detail, timeout: false }
            }
        }
    }
}

/// A foreign observer threw instead of returning: the exception becomes this error, which the
/// library logs and otherwise ignores (an observer never fails the write that triggered it).
impl From<uniffi::UnexpectedUniFFICallbackError> for GridworkError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        GridworkError::internal("observer", e.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_codes() {
        let cases = [
            CoreError::invalid("phone", "bad"),
            CoreError::NotFound { kind: "household".into(), id: "x".into() },
            CoreError::Locked,
            CoreError::NotSignedIn,
            CoreError::OutOfScope { area: "320612/001".into(), scope: "320612/002".into() },
            CoreError::Forbidden { action: "read sensitive data as liaison".into() },
            CoreError::BadChange { doc_id: "d".into(), reason: "r".into() },
            CoreError::WorkOrder(gridwork_core::work_order::WorkOrderError::AlreadyDispatched {
                department: "城管".into(),
            }),
            storage_error(),
        ];
        for c in cases {
            let code = c.code();
            let message = c.to_string();
            let e = GridworkError::from(c);
            assert_eq!(e.code(), code);
            assert_eq!(e.to_string(), message);
        }
    }

    /// A storage error as the core produces it, without depending on rusqlite here.
    fn storage_error() -> CoreError {
        let e = gridwork_core::Store::open("/nonexistent-dir/x/y.db", None).unwrap_err();
        assert_eq!(e.code(), "storage");
        e
    }
}
