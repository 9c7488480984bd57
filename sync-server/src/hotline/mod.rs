//! The 12345 hotline exchange (issue 13, `docs/12345-exchange.md`): the citizens' hotline
//! platform sends its orders down (they become work orders, authored by the district's system
//! person with source `hotline_12345`), updates them (supplement, urge, withdraw) and asks their
//! state; every step Gridwork takes on such an order goes back up through a durable outbox.
//!
//! - [`auth`]: the platform's signed requests (HMAC-SHA256 over timestamp, method, path and
//!   body; a replay window; constant-time comparison).
//! - [`platform`]: a platform's configuration (secret, landing area, endpoint, mapping, delivery).
//! - [`mapping`]: hotline categories, urgencies and handling units → Gridwork's; an unmapped value
//!   holds the order for a person to map.
//! - [`inbound`]: the messages, idempotent by order number and message id; reordered updates
//!   wait for their create.
//! - [`outbox`]: queueing each step of a hotline order and delivering it, in order per order,
//!   with retries, exponential backoff and a dead-letter list; steps leased so that several
//!   server processes on one database deliver each once.
//! - [`uploads`]: attachments uploaded with an order, stored as the server's attachments.
//! - [`reconcile`]: the daily comparison of the platform's open orders with Gridwork's.

pub mod auth;
pub mod inbound;
pub mod mapping;
pub mod outbox;
pub mod platform;
pub mod reconcile;

use axum::http::StatusCode;
use thiserror::Error;

use crate::error::ApiError;
use crate::store::StoreError;

/// Errors of the hotline exchange, each with a stable code.
#[derive(Debug, Error)]
pub enum HotlineError {
    /// A required header is missing or unreadable.
    #[error("missing or unreadable header `{0}`")]
    MissingHeader(&'static str),
    /// No platform is registered under the id.
    #[error("unknown hotline platform `{0}`")]
    UnknownPlatform(String),
    /// The platform is disabled.
    #[error("hotline platform `{0}` is disabled")]
    PlatformDisabled(String),
    /// The timestamp is outside the replay window.
    #[error("timestamp outside the replay window of {window_secs} s (server time {now_ms} ms)")]
    TimestampExpired {
        /// The window, seconds either side.
        window_secs: i64,
        /// The server's time.
        now_ms: i64,
    },
    /// The signature does not match the request.
    #[error("the signature does not match the request")]
    BadSignature,
    /// The same signed request was seen within the replay window.
    #[error("this signed request was already received (replay)")]
    Replayed,
    /// A field of the message is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An attachment is larger than allowed.
    #[error("attachment {index} declares {size} bytes; at most {limit} are accepted")]
    AttachmentTooLarge {
        /// Its position.
        index: usize,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// No such hotline order.
    #[error("no hotline order `{0}`")]
    UnknownOrder(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HotlineError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            HotlineError::MissingHeader(_) => "missing_credential",
            HotlineError::UnknownPlatform(_) => "unknown_platform",
            HotlineError::PlatformDisabled(_) => "platform_disabled",
            HotlineError::TimestampExpired { .. } => "timestamp_expired",
            HotlineError::BadSignature => "bad_signature",
            HotlineError::Replayed => "replayed",
            HotlineError::Invalid { .. } => "invalid_input",
            HotlineError::AttachmentTooLarge { .. } => "attachment_too_large",
            HotlineError::UnknownOrder(_) => "not_found",
            HotlineError::Store(_) => "storage",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            HotlineError::MissingHeader(_)
            | HotlineError::UnknownPlatform(_)
            | HotlineError::TimestampExpired { .. }
            | HotlineError::BadSignature
            | HotlineError::Replayed => StatusCode::UNAUTHORIZED,
            HotlineError::PlatformDisabled(_) => StatusCode::FORBIDDEN,
            HotlineError::Invalid { .. } => StatusCode::BAD_REQUEST,
            HotlineError::AttachmentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            HotlineError::UnknownOrder(_) => StatusCode::NOT_FOUND,
            HotlineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An invalid `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> HotlineError {
        HotlineError::Invalid { field, message: message.into() }
    }
}

impl From<HotlineError> for ApiError {
    fn from(e: HotlineError) -> ApiError {
        match e {
            HotlineError::Store(s) => ApiError::from(s),
            e => ApiError::new(e.status(), e.code(), e.to_string()),
        }
    }
}

impl From<crate::uploads::UploadError> for HotlineError {
    fn from(e: crate::uploads::UploadError) -> Self {
        use crate::uploads::UploadError as U;
        match e {
            U::TooLarge { index, size, limit } => {
                HotlineError::AttachmentTooLarge { index, size, limit }
            }
            U::Invalid { index, reason } => {
                HotlineError::invalid("attachments", format!("attachment {index}: {reason}"))
            }
            U::Store(e) => HotlineError::Store(e),
        }
    }
}
