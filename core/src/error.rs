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
    /// The SQLite layer failed.
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
            CoreError::Storage(_) => "storage",
            CoreError::Document(_) => "document",
        }
    }

    /// Shorthand for [`CoreError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Invalid { field: field.into(), reason: reason.into() }
    }
}
