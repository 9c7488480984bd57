//! The core's error type: one enum, each variant naming what was wrong, with a stable code that
//! apps translate (zh-CN / English) and an English message for logs and scripts.

use thiserror::Error;

/// Result alias used throughout the core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the core. Input errors name the field and the reason; storage
/// errors wrap the underlying cause.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A field failed validation (empty, too long, malformed, out of range…).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field (or argument) that was wrong, e.g. `id_card`.
        field: String,
        /// What was wrong with it, in English.
        reason: String,
    },
    /// The record (or area, task…) referred to does not exist on this device.
    #[error("{kind} not found: {id}")]
    NotFound {
        /// What was looked for, e.g. `household`.
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
        /// The record's area.
        area: String,
        /// The user's scope.
        scope: String,
    },
    /// The signed-in user's role may not do this (e.g. a liaison reading a resident's sensitive
    /// data, or a grid worker issuing a task).
    #[error("not allowed: {action}")]
    Forbidden {
        /// What was refused, e.g. `read sensitive data as liaison`.
        action: String,
    },
    /// A change or document does not fit the record it is addressed to.
    #[error("change for document {doc_id} rejected: {reason}")]
    BadChange {
        /// The document the change was addressed to.
        doc_id: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Data stored on this device (a setting, a track chunk, a document field) could not be read:
    /// damage or a newer app's format, never the user's input.
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt {
        /// What could not be read, e.g. `track chunk`, `sync setting cursor`.
        what: String,
        /// Why, in English.
        reason: String,
    },
    /// Something that cannot fail did (a bug): encoding a value the core itself built.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed, in English.
        reason: String,
    },
    /// A work-order step that is not allowed now (wrong state, role, department…).
    #[error("{0}")]
    WorkOrder(#[from] crate::work_order::WorkOrderError),
    /// The SQLite layer failed.
    #[cfg(feature = "store")]
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    /// Automerge refused an operation or could not decode a document.
    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),
}

impl CoreError {
    /// A stable, language-independent code for the error; apps map it to localized text.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid { .. } => "invalid_input",
            CoreError::NotFound { .. } => "not_found",
            CoreError::Locked => "locked",
            CoreError::NotSignedIn => "not_signed_in",
            CoreError::OutOfScope { .. } => "out_of_scope",
            CoreError::Forbidden { .. } => "forbidden",
            CoreError::BadChange { .. } => "bad_change",
            CoreError::Corrupt { .. } => "corrupt_data",
            CoreError::Internal { .. } => "internal",
            CoreError::WorkOrder(e) => e.code(),
            #[cfg(feature = "store")]
            CoreError::Storage(_) => "storage",
            CoreError::Document(_) => "document",
        }
    }

    /// Shorthand for [`CoreError::Corrupt`].
    pub fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Corrupt { what: what.into(), reason: reason.into() }
    }

    /// Shorthand for [`CoreError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Invalid { field: field.into(), reason: reason.into() }
    }
}
