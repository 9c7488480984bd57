//! The staff API under `/api/v1` (JSON, session cookie): sign in and out, who am I, change my
//! password. `docs/server-admin-api.md`, "Staff accounts", documents it; the admin side (giving
//! a person a login, resets, unlock, disable) is [`super::staff_admin`].
//!
//! Routes that act for a signed-in person take the [`StaffSession`] extractor
//! (`crate::staff::session`), which other modules' routes use the same way.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;

use super::{AppState, ENROL_BODY_LIMIT, guard, parse_json};
use crate::error::{ApiError, ApiResult};
use crate::staff::login::sign_in;
use crate::staff::password::{self, check_rules};
use crate::staff::session::SESSION_COOKIE;
use crate::staff::{PendingSession, StaffError, StaffSession};
use crate::store::AuditAction;
use crate::store::staff::PasswordWrite;

/// The staff routes with their layers: requests in flight, a small body limit (these bodies
/// are small JSON objects).
pub fn routes(state: &AppState, body_limit: usize) -> Router<AppState> {
    let limit = ENROL_BODY_LIMIT.min(body_limit);
    Router::new()
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(from_fn(move |req: Request, next: Next| {
            super::refuse_declared_oversize(limit, req, next)
        }))
        .layer(from_fn_with_state(state.clone(), guard::in_flight))
}

/// The `Set-Cookie` value of a session (`token`, lasting `max_age_secs`; 0 clears it).
pub fn session_cookie(token: &str, max_age_secs: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
        max_age_secs.max(0)
    )
}

/// An answer never cached (it holds the CSRF token).
fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn with_cookie(mut r: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    no_store(r)
}

/// The person and session as answered by login and `GET /api/v1/me`.
fn session_json(s: &StaffSession) -> Value {
    json!({
        "csrf_token": s.csrf_token(),
        "expires_at": s.expires_at,
        "must_change_password": s.must_change_password,
        "person": {
            "id": s.user_id,
            "name": s.name,
            "login": s.login,
            "roles": s.grants,
        },
    })
}

/// `POST /api/v1/session` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    login: String,
    password: String,
}

/// Refuses a body not declared `application/json`: an HTML form on another site can post
/// `text/plain` or form data here without the browser asking first, but not JSON — so no page
/// elsewhere can sign a visitor in to an account of its choosing (login CSRF).
///
/// # Errors
/// 415 `unsupported_media_type`.
fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) == Some("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

async fn login(
    State(st): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let c: Credentials = parse_json(&body)?;
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    let signed = match sign_in(&st, ip, &c.login, &c.password).await {
        Ok(s) => s,
        Err(e) => return Ok(e.into_response()),
    };
    let max_age = (signed.session.expires_at - crate::store::now_ms()) / 1000;
    let r = Json(session_json(&signed.session)).into_response();
    Ok(with_cookie(r, &session_cookie(&signed.token, max_age)))
}

async fn logout(
    State(st): State<AppState>,
    PendingSession(s): PendingSession,
) -> ApiResult<Response> {
    st.store.staff().end_session(s.token_hash).await?;
    st.store.audit(&s.audit(AuditAction::Logout, "signed out")).await?;
    let r = Json(json!({ "signed_out": true })).into_response();
    Ok(with_cookie(r, &session_cookie("", 0)))
}

async fn me(PendingSession(s): PendingSession) -> Response {
    no_store(Json(session_json(&s)).into_response())
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the signed-in person's password: the current one must be given; every other
/// session of theirs ends, this one stays.
async fn change_password(
    State(st): State<AppState>,
    PendingSession(s): PendingSession,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let c: PasswordChange = parse_json(&body)?;
    check_rules(&s.login, &c.new_password).map_err(StaffError::WeakPassword)?;
    let account = st.store.staff().staff_by_id(s.user_id).await?.ok_or(StaffError::BadSession)?;
    if !password::verify_blocking(c.current_password, Some(account.password_hash)).await {
        return Err(StaffError::WrongPassword.into());
    }
    let password_hash = password::hash_blocking(c.new_password)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let write = PasswordWrite {
        user_id: s.user_id,
        password_hash,
        must_change: false,
        keep_session: Some(s.token_hash),
    };
    if !st.store.staff().set_password(&write).await? {
        return Err(StaffError::BadSession.into());
    }
    st.store.audit(&s.audit(AuditAction::Account, "changed own password")).await?;
    Ok(Json(json!({ "changed": true, "must_change_password": false })))
}
