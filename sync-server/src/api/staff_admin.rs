//! The admin side of staff accounts, under `/admin/v1/users/{id}/…` (admin token or a sync
//! admin's session): give a person a login, reset their password, unlock, disable and enable.
//! A password an admin sets is one-time: the person must change it before anything else.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::admin_auth::AdminActor;
use super::{AppState, admin_auth, parse_json};
use crate::error::{ApiError, ApiResult};
use crate::staff::password::{self, check_rules};
use crate::staff::{StaffError, normalize_login};
use crate::store::staff::PasswordWrite;
use crate::store::{AuditAction, AuditEntry, now_ms};

/// The routes (mounted under `/admin/v1` with the other admin routes).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/login", post(grant_login))
        .route("/users/{id}/password-reset", post(reset_password))
        .route("/users/{id}/unlock", post(unlock))
        .route("/users/{id}/disable", post(disable))
        .route("/users/{id}/enable", post(enable))
}

fn user_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request("invalid_input", "the user id is not a UUID"))
}

fn no_login() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such person with a login")
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

/// Audits an account change made to `user` by `actor`.
async fn audit(st: &AppState, actor: &AdminActor, user: Uuid, detail: String) -> ApiResult<()> {
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: Some(user),
            device_id: None,
            action: AuditAction::Account,
            count: 0,
            areas: vec![],
            detail,
            actor_id: actor.person_id(),
        })
        .await?;
    Ok(())
}

/// A password given by the admin (checked against the rules) or a new one-time password;
/// returns the password and whether it was generated (then shown in the answer).
async fn initial_password(login: &str, given: Option<String>) -> ApiResult<(String, String, bool)> {
    let (password, generated) = match given {
        Some(p) => {
            check_rules(login, &p).map_err(StaffError::WeakPassword)?;
            (p, false)
        }
        None => (password::one_time_password().map_err(internal)?, true),
    };
    let hash = password::hash_blocking(password.clone()).await.map_err(internal)?;
    Ok((password, hash, generated))
}

/// `POST /users/{id}/login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantLogin {
    login: String,
    password: Option<String>,
}

/// Gives a person a login name and an initial password (the given one, or a generated
/// one-time password shown once), which they must change at their first sign-in. A person who
/// had a login gets the new one; their sessions end.
async fn grant_login(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = admin_auth(&st, &headers).await?;
    let id = user_id(&id)?;
    let g: GrantLogin = parse_json(&body)?;
    let login = normalize_login(&g.login)?;
    let (password, password_hash, generated) = initial_password(&login, g.password).await?;
    let write = PasswordWrite { user_id: id, password_hash, must_change: true, keep_session: None };
    if !st.store.staff().set_login(&login, &write).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user"));
    }
    audit(&st, &actor, id, format!("login {login} granted")).await?;
    let mut answer = json!({ "user_id": id, "login": login, "must_change_password": true });
    if generated {
        answer["one_time_password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Resets a person's password to a new one-time password (shown once), which they must change
/// at their next sign-in; their sessions end and their lockout is cleared.
async fn reset_password(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = user_id(&id)?;
    let account = st.store.staff().staff_by_id(id).await?.ok_or_else(no_login)?;
    let (password, password_hash, _) = initial_password(&account.login, None).await?;
    let write = PasswordWrite { user_id: id, password_hash, must_change: true, keep_session: None };
    if !st.store.staff().set_password(&write).await? {
        return Err(no_login());
    }
    audit(&st, &actor, id, "password reset".into()).await?;
    Ok(Json(json!({
        "user_id": id,
        "login": account.login,
        "one_time_password": password,
        "must_change_password": true,
    })))
}

async fn unlock(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = user_id(&id)?;
    if !st.store.staff().unlock(id).await? {
        return Err(no_login());
    }
    audit(&st, &actor, id, "unlocked".into()).await?;
    Ok(Json(json!({ "user_id": id, "locked": false })))
}

async fn set_disabled(
    st: AppState,
    headers: HeaderMap,
    id: String,
    disabled: bool,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = user_id(&id)?;
    if !st.store.staff().set_disabled(id, disabled).await? {
        return Err(no_login());
    }
    let word = if disabled { "disabled (sessions ended)" } else { "enabled" };
    audit(&st, &actor, id, word.into()).await?;
    Ok(Json(json!({ "user_id": id, "disabled": disabled })))
}

/// Disables a person's login and ends their sessions (their devices are revoked separately).
async fn disable(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(st, headers, id, true).await
}

/// Enables a disabled login again.
async fn enable(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(st, headers, id, false).await
}
