//! The CLI's errors: each has a stable code, printed with its message; the process exits non-zero.

use thiserror::Error;

/// What can go wrong running a command.
#[derive(Debug, Error)]
pub enum CliError {
    /// The core refused (bad input, not found, storage…).
    #[error(transparent)]
    Core(#[from] gridwork_core::CoreError),
    /// Sync failed.
    #[error(transparent)]
    Sync(#[from] gridwork_core::sync::SyncError),
    /// The key file is unreadable or not 64 hex digits.
    #[error("key file: {0}")]
    KeyFile(String),
    /// The async runtime could not start.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// A file named on the command line cannot be read.
    #[error("{path}: {reason}")]
    File {
        /// The path as given.
        path: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Uploading photos failed as a whole (the server refused the device, the store failed).
    #[error(transparent)]
    Attachments(#[from] gridwork_core::sync::attachment_client::AttachmentSyncError),
}

impl CliError {
    /// A stable code for scripts.
    pub fn code(&self) -> &str {
        match self {
            CliError::Core(e) => e.code(),
            CliError::Sync(e) => e.code(),
            CliError::KeyFile(_) => "key_file",
            CliError::Runtime(_) => "runtime",
            CliError::File { .. } => "file_unreadable",
            CliError::Attachments(e) => {
                use gridwork_core::sync::attachment_client::AttachmentSyncError as A;
                match e {
                    A::Unauthorized { code, .. } => code,
                    A::Store(e) => e.code(),
                    A::Poisoned => "store_poisoned",
                    A::Client(_) => "http_client",
                }
            }
        }
    }
}
