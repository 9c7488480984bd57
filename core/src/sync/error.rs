//! The sync client's error type: every failure of enrolment and sync, each with a stable code.

use thiserror::Error;

use crate::error::CoreError;
use crate::protocol::ProtocolError;

/// Everything that can go wrong while enrolling or syncing.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The device has not been enrolled with a server yet.
    #[error("this device is not enrolled with a sync server")]
    NotEnrolled,
    /// The server revoked this device; the local store has been wiped.
    #[error("this device was revoked by the server; its local data has been wiped")]
    Revoked,
    /// The sync was cancelled between two steps; everything applied so far is kept.
    #[error("sync cancelled")]
    Cancelled,
    /// The server URL is not an `http://` or `https://` URL.
    #[error("invalid server URL {url}: {reason}")]
    InvalidServerUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached, the connection dropped, or a request timed out, and
    /// retrying did not help.
    #[error("network error after {attempts} attempt(s): {message}")]
    Transport {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        message: String,
        /// Whether the last failure was a timeout.
        timeout: bool,
    },
    /// The server answered with an error (4xx, or 5xx after the retries).
    #[error("server refused ({status} {code}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's error code, e.g. `out_of_scope`.
        code: String,
        /// The server's message.
        message: String,
        /// For a refused push: the index of the offending change in the request.
        change_index: Option<usize>,
    },
    /// The server's answer could not be decoded or broke the protocol's rules.
    #[error("bad answer from the server: {0}")]
    Protocol(String),
    /// The local store failed.
    #[error("{0}")]
    Store(#[from] CoreError),
}

impl SyncError {
    /// A stable, language-independent code for the error; apps map it to localized text.
    pub fn code(&self) -> &str {
        match self {
            SyncError::NotEnrolled => "not_enrolled",
            SyncError::Revoked => "revoked",
            SyncError::Cancelled => "cancelled",
            SyncError::InvalidServerUrl { .. } => "invalid_server_url",
            SyncError::Transport { timeout: true, .. } => "timeout",
            SyncError::Transport { .. } => "network",
            SyncError::Server { code, .. } => code,
            SyncError::Protocol(_) => "protocol",
            SyncError::Store(e) => e.code(),
        }
    }

    /// Whether trying again later may succeed without anyone changing anything (network
    /// trouble, server trouble), as opposed to a refusal that will repeat.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Transport { .. } | SyncError::Cancelled => true,
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

impl From<ProtocolError> for SyncError {
    fn from(e: ProtocolError) -> Self {
        SyncError::Protocol(e.to_string())
    }
}

/// Result alias of the sync client.
pub type SyncResult<T> = Result<T, SyncError>;
