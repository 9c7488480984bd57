//! The HTTP API: routes, shared state, authentication helpers and the middleware that turns
//! every error answer into JSON.

pub mod admin;
pub mod areas;
pub mod attachments;
pub mod attachments_range;
pub mod attachments_refs;
pub mod console;
pub mod enrol;
pub mod health;
pub mod sync;

use std::sync::Arc;

use std::pin::Pin;

use axum::Router;
use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use gridwork_core::sync::protocol::CONTENT_TYPE;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, BearerProblem};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::store::{DeviceAuth, DynStore};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The storage.
    pub store: DynStore,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The URL phones reach the server at, for enrolment QR codes.
    pub public_url: Option<String>,
    /// Default lifetime of enrolment codes, minutes.
    pub enrolment_ttl_minutes: u32,
}

/// Builds the router with its layers: trace, body limit (oversized → 413 JSON), JSON errors.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(health::metrics))
        .route("/v1/enrol", post(enrol::enrol))
        .route("/v1/areas", get(areas::areas))
        .route("/v1/sync", post(sync::sync))
        .route("/v1/digest", post(sync::digest))
        .route("/v1/fetch", post(sync::fetch))
        .route("/v1/attachments/{hash}", put(attachments::put_chunk).get(attachments::download))
        .route("/v1/attachments/{hash}/status", get(attachments::status))
        .nest("/admin/v1", admin::routes())
        .merge(console::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            refuse_declared_oversize(body_limit, req, next)
        }))
        .layer(axum::middleware::map_response(move |res: Response| {
            let metrics = metrics.clone();
            async move { json_errors(&metrics, res) }
        }))
        .layer(TraceLayer::new_for_http())
}

/// The most bytes of an oversized body read (and discarded) before answering 413.
const DRAIN_CAP: u64 = 64 * 1024 * 1024;

/// Answers a request whose `Content-Length` exceeds the body limit with 413 JSON — after
/// reading and discarding its body (up to [`DRAIN_CAP`]).
///
/// Answering at once (as the body limit layer does) and closing the connection while the client
/// is still sending makes the kernel reset the connection: the client, still writing, gets
/// "connection reset" instead of the 413 and its clear error. Draining first lets it read the
/// answer. Bodies without a `Content-Length` (chunked) are still cut off by the limit layer.
async fn refuse_declared_oversize(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(declared) = declared.filter(|n| *n > limit as u64) else {
        return next.run(req).await;
    };
    if declared <= DRAIN_CAP {
        let mut body = req.into_body();
        let mut read = 0u64;
        while read <= DRAIN_CAP {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                Some(Ok(frame)) => {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                }
                Some(Err(_)) | None => break,
            }
        }
    }
    let mut r = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body of {declared} bytes exceeds the server's limit of {limit} bytes"),
    )
    .into_response();
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Replaces any non-JSON error answer (from axum's extractors, the body limit, the router) with
/// the JSON error shape, and counts every error answer.
fn json_errors(metrics: &Metrics, res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    if let Some(ErrorCode(code)) = res.extensions().get::<ErrorCode>() {
        metrics.error(status.as_u16(), code);
        return res;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    metrics.error(status.as_u16(), code);
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "request body exceeds the server's limit".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    };
    ApiError::new(status, code, message).into_response()
}

fn unauthorized(p: BearerProblem, what: &str) -> ApiError {
    match p {
        BearerProblem::Missing => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_credential",
            format!("send `Authorization: Bearer <{what}>`"),
        ),
        BearerProblem::Malformed => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credential",
            format!("the Authorization header does not hold a {what}"),
        ),
    }
}

/// The device (and its user) a request's device credential names. Revoked devices are returned
/// too: the caller answers them "revoked".
///
/// # Errors
/// 401 `missing_credential` / `bad_credential`.
pub async fn device_auth(state: &AppState, headers: &HeaderMap) -> ApiResult<DeviceAuth> {
    let token = auth::bearer(headers, auth::DEVICE_PREFIX)
        .map_err(|p| unauthorized(p, "device credential"))?;
    state.store.device_by_credential(auth::hash_secret(token)).await?.ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, "bad_credential", "unknown device credential")
    })
}

/// Checks the admin token of a request.
///
/// # Errors
/// 401 `missing_credential` / `bad_credential`.
pub async fn admin_auth(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let token =
        auth::bearer(headers, auth::ADMIN_PREFIX).map_err(|p| unauthorized(p, "admin token"))?;
    if state.store.check_admin_token(auth::hash_secret(token)).await? {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credential", "unknown admin token"))
    }
}

/// Checks that a request body is a protocol message.
///
/// # Errors
/// 415 `unsupported_media_type`.
pub fn require_protocol_body(headers: &HeaderMap) -> ApiResult<()> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) == Some(CONTENT_TYPE) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the body as {CONTENT_TYPE}"),
        ))
    }
}

/// A protocol message answer.
pub fn protocol_response(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], bytes).into_response()
}

/// Parses a JSON body with a clear error.
///
/// # Errors
/// 400 `malformed_json`.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("invalid JSON body: {e}")))
}
