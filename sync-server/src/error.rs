//! The API's error answer: every error is JSON `{"error": {"code", "message"}}` (plus
//! `change_index` when a pushed change is at fault) with a 4xx/5xx status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridwork_core::protocol::ProtocolError;
use serde_json::json;

use crate::store::{EnrolmentProblem, StoreError};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// An English explanation.
    pub message: String,
    /// The index of the pushed change at fault, if any.
    pub change_index: Option<usize>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), change_index: None }
    }

    /// A 400 error.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Names the pushed change at fault.
    pub fn at_change(mut self, index: Option<usize>) -> Self {
        self.change_index = index;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut err = json!({ "code": self.code, "message": self.message });
        if let Some(i) = self.change_index {
            err["change_index"] = json!(i);
        }
        let mut r = (self.status, Json(json!({ "error": err }))).into_response();
        r.extensions_mut().insert(ErrorCode(self.code));
        r
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        let status = match e {
            ProtocolError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), e.to_string()).at_change(e.change_index())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            StoreError::Conflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            StoreError::Enrolment(p) => {
                let status = if p == EnrolmentProblem::ActorTaken {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::FORBIDDEN
                };
                ApiError::new(status, p.code(), e.to_string())
            }
            StoreError::KindMismatch { index, .. } => {
                ApiError::new(StatusCode::CONFLICT, "kind_mismatch", e.to_string())
                    .at_change(Some(index))
            }
            StoreError::DuplicateSeq { index, .. } => {
                ApiError::new(StatusCode::CONFLICT, "duplicate_seq", e.to_string())
                    .at_change(Some(index))
            }
            StoreError::Chunk(ref p) => {
                let code = match p {
                    crate::store::ChunkProblem::Offset { .. } => "offset_mismatch",
                    crate::store::ChunkProblem::Declared { .. } => "attachment_conflict",
                };
                ApiError::new(StatusCode::CONFLICT, code, e.to_string())
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage",
                    "storage failure; see server log",
                )
            }
        }
    }
}

/// The error code an answer carries, read by the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

/// Result alias of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
