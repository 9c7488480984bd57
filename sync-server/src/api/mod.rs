//! The HTTP API: routes, shared state, authentication helpers and the middleware that turns
//! every error answer into JSON.

pub mod actions;
pub mod admin;
pub mod admin_auth;
pub mod alerts;
pub mod areas;
pub mod attachments;
pub mod attachments_range;
pub mod attachments_refs;
pub mod caller;
pub mod console;
pub mod departments;
pub mod enrol;
pub mod guard;
pub mod health;
pub mod held;
pub mod hotline;
pub mod ingest;
pub mod ledgers;
pub mod openapi;
pub mod query;
pub mod reference;
pub mod staff;
pub mod staff_admin;
pub mod sync;
pub mod web;
pub mod workbench;
pub mod workbench_page;

use std::sync::Arc;

use std::pin::Pin;

use axum::Router;
use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use gridwork_core::protocol::CONTENT_TYPE;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, BearerProblem};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::store::{DeviceAuth, DynStore, ReadScope, User};

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
    /// The transport guards and limits (`guard`).
    pub guards: Arc<guard::Guards>,
    /// How far the read model has folded the log (actions on the server wait for their own).
    pub read_model: Arc<crate::read_model::progress::Progress>,
    /// Staff sessions' settings and the login throttle.
    pub staff: Arc<crate::staff::StaffState>,
}

/// What a person may read: their role grants' scopes, a department handler's narrowed to their
/// departments' work orders.
///
/// # Errors
/// Storage errors.
pub async fn read_scopes(st: &AppState, user: &User) -> ApiResult<Vec<ReadScope>> {
    let departments = person_departments(st, user).await?;
    Ok(crate::policy::read_scopes_with(&user.roles, &departments))
}

/// The departments a person belongs to (read only for department handlers: nobody else's
/// reading or writing depends on them).
///
/// # Errors
/// Storage errors.
pub async fn person_departments(st: &AppState, user: &User) -> ApiResult<Vec<String>> {
    if user.roles.iter().any(|g| crate::policy::is_departmental(g.role)) {
        Ok(st.store.departments().user_departments(user.id).await?)
    } else {
        Ok(Vec::new())
    }
}

/// Largest body of an action (`/api/v1/…` POSTs: a step, a task; JSON).
pub const ACTION_BODY_LIMIT: usize = 256 * 1024;

/// Largest body of a step on a work order (`POST /api/v1/work-orders/{id}/actions`): its
/// photos travel inside the JSON, each at most `uploads::MAX_UPLOAD_BYTES`.
pub const STEP_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Largest body of the unauthenticated `POST /v1/enrol` (a small JSON object).
pub const ENROL_BODY_LIMIT: usize = 64 * 1024;

/// Builds the router with its layers (outermost first): trace, JSON errors, the body deadline;
/// then per group of routes:
/// - device endpoints: device credential checked before the body is read, rate per
///   credential, requests in flight, declared oversize (→ 413 JSON), body read within the
///   memory budget (see [`guard`]);
/// - admin API: the same with the admin token;
/// - enrolment: throttled per source address, requests in flight, a small body limit;
/// - `/health`, `/metrics` and the console: no guard, so they answer while the rest is busy.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let metrics = state.metrics.clone();
    let body_timeout = state.guards.body_timeout;
    let oversize = |limit: usize| {
        from_fn(move |req: Request, next: Next| refuse_declared_oversize(limit, req, next))
    };
    let buffer = from_fn_with_state(
        state.clone(),
        move |State(st): State<AppState>, req: Request, next: Next| {
            guard::buffer_within_budget(st, body_limit, req, next)
        },
    );
    let in_flight = from_fn_with_state(state.clone(), guard::in_flight);
    let device = Router::new()
        .route("/v1/areas", get(areas::areas))
        .route("/v1/departments", get(departments::for_device))
        .route("/v1/sync", post(sync::sync))
        .route("/v1/digest", post(sync::digest))
        .route("/v1/fetch", post(sync::fetch))
        .route("/v1/held", post(held::report))
        .route("/v1/attachments/{hash}", put(attachments::put_chunk).get(attachments::download))
        .route("/v1/attachments/{hash}/status", get(attachments::status))
        .layer(buffer.clone())
        .layer(oversize(body_limit))
        .layer(in_flight.clone())
        .layer(from_fn_with_state(state.clone(), guard::device_first));
    let admin = Router::new()
        .nest("/admin/v1", admin::routes())
        .layer(buffer)
        .layer(oversize(body_limit))
        .layer(in_flight.clone())
        .layer(from_fn_with_state(state.clone(), guard::admin_first));
    // Actions people take through the server (server-authored changes).
    let actions = Router::new()
        .route("/api/v1/tasks", post(actions::issue_task))
        .route("/api/v1/reference", get(reference::get).put(reference::put))
        .layer(RequestBodyLimitLayer::new(ACTION_BODY_LIMIT.min(body_limit)))
        .layer(oversize(ACTION_BODY_LIMIT.min(body_limit)))
        .layer(in_flight.clone());
    // A step on a work order may carry photos (base64 inside the JSON).
    let steps = Router::new()
        .route("/api/v1/work-orders/{id}/actions", post(actions::act_on_work_order))
        .layer(RequestBodyLimitLayer::new(STEP_BODY_LIMIT.min(body_limit)))
        .layer(oversize(STEP_BODY_LIMIT.min(body_limit)))
        .layer(in_flight.clone());
    // The 12345 hotline platform's signed requests (`docs/12345-exchange.md`).
    let hotline = hotline::routes()
        .layer(RequestBodyLimitLayer::new(hotline::HOTLINE_BODY_LIMIT.min(body_limit)))
        .layer(oversize(hotline::HOTLINE_BODY_LIMIT.min(body_limit)))
        .layer(in_flight.clone());
    // The staff query API: the caller (device credential, admin token) is resolved by the
    // handlers' `Caller` extractor, which also checks a device's rate.
    let records = query::routes()
        .merge(workbench::routes())
        .merge(ledgers::routes())
        .layer(in_flight.clone());
    // Live alerts: long-lived streams, so they hold no request-in-flight permit.
    let live = Router::new().route("/api/v1/alerts/stream", get(alerts::stream));
    let enrolment = Router::new()
        .route("/v1/enrol", post(enrol::enrol))
        .layer(RequestBodyLimitLayer::new(ENROL_BODY_LIMIT.min(body_limit)))
        .layer(oversize(ENROL_BODY_LIMIT.min(body_limit)))
        .layer(in_flight)
        .layer(from_fn_with_state(state.clone(), guard::enrol_throttle));
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(health::metrics))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .merge(console::routes())
        .merge(workbench_page::routes())
        .merge(device)
        .merge(admin)
        .merge(actions)
        .merge(steps)
        .merge(hotline)
        .merge(records)
        .merge(live)
        .merge(enrolment)
        .merge(staff::routes(&state, body_limit))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyDeadlineLayer::new(body_timeout))
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

/// Checks who uses the admin API: the admin token, or a sync admin's session (whose CSRF token
/// the [`admin_auth::admin_first`] layer in front of every admin route checks).
///
/// # Errors
/// 401 `missing_credential` / `bad_credential` / `admin_token_disabled`; a session's refusals.
pub async fn admin_auth(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<admin_auth::AdminActor> {
    admin_auth::actor(state, headers).await
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

/// Most characters of a name (user, device, area).
pub const MAX_NAME_CHARS: usize = 100;

/// A name field checked and trimmed: 1 to [`MAX_NAME_CHARS`] characters, no control characters
/// (a NUL, a line break, an escape sequence — refused the same on both backends, where
/// PostgreSQL would otherwise fail on a NUL with a storage error).
///
/// # Errors
/// 400 `invalid_input` naming `field`.
pub fn valid_name<'a>(field: &str, raw: &'a str) -> ApiResult<&'a str> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(name)
}

/// Checks a push against the server's per-change size limit before anything is validated or
/// stored: one change larger than `max_change_bytes` refuses the push with 413
/// `change_too_large` naming it, a permanent refusal the device quarantines.
///
/// # Errors
/// 413 `change_too_large` with `change_index`.
pub fn check_change_sizes(
    push: &[gridwork_core::ChangeEnvelope],
    max_change_bytes: usize,
) -> ApiResult<()> {
    match push.iter().position(|c| c.bytes.len() > max_change_bytes) {
        None => Ok(()),
        Some(i) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "change_too_large",
            format!(
                "change {i} has {} bytes; the server accepts changes of at most {max_change_bytes} \
                 bytes (photos go as attachments)",
                push[i].bytes.len()
            ),
        )
        .at_change(Some(i))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_characters() {
        assert_eq!(valid_name("name", "  王芳 ").unwrap(), "王芳");
        for bad in ["a\0b", "a\nb", "\u{1b}[31m", "x\u{7f}", "", "   "] {
            let e = valid_name("device_name", bad).unwrap_err();
            assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "invalid_input"));
            assert!(e.message.contains("device_name"), "{}", e.message);
        }
        assert!(valid_name("name", &"长".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(valid_name("name", &"长".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn oversized_change_is_named() {
        let env = |n: usize| gridwork_core::ChangeEnvelope {
            doc_id: uuid::Uuid::nil(),
            kind: gridwork_core::RecordKind::Visit,
            area: gridwork_core::AreaPath::parse("320612").unwrap(),
            bytes: vec![0; n],
        };
        assert!(check_change_sizes(&[env(10), env(100)], 100).is_ok());
        let e = check_change_sizes(&[env(10), env(101)], 100).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.change_index),
            (StatusCode::PAYLOAD_TOO_LARGE, "change_too_large", Some(1))
        );
    }
}
