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
}

impl CliError {
    /// A stable code for scripts.
    pub fn code(&self) -> &str {
        match self {
            CliError::Core(e) => e.code(),
            CliError::Sync(e) => e.code(),
            CliError::KeyFile(_) => "key_file",
            CliError::Runtime(_) => "runtime",
        }
    }
}
