//! The admin API under `/admin/v1` (bearer admin token, JSON): areas, users with roles,
//! enrolment codes (with QR codes), devices, revocation, the audit log, sync health and the
//! changes devices set aside (`held`).
//! `docs/server-admin-api.md` documents it.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use gridwork_core::{AreaPath, Role};
use qrcode::QrCode;
use qrcode::render::{svg, unicode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, admin_auth, parse_json, valid_name};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::store::{AuditAction, AuditEntry, NewEnrolmentCode, RoleGrant, User, now_ms};

/// The admin routes (mounted under `/admin/v1`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/areas", get(list_areas).post(create_area))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/roles", put(set_roles))
        .route("/users/{id}/departments", put(super::departments::set_for_user))
        .route("/departments", get(super::departments::list))
        .route("/departments/{code}", put(super::departments::put))
        .route("/enrolment-codes", post(create_enrolment_code))
        .route("/devices", get(list_devices))
        .route("/devices/{id}/revoke", post(revoke_device))
        .route("/audit", get(audit))
        .route("/sync-health", get(sync_health))
        .route("/held", get(super::held::list))
        .route("/held/{hash}/withhold", post(super::held::withhold))
        .route("/held/{hash}/restore", post(super::held::restore))
        .merge(super::staff_admin::routes())
        .merge(super::hotline::admin_routes())
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_input", message)
}

/// `POST /areas` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewArea {
    path: String,
    name: String,
}

async fn create_area(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    admin_auth(&st, &headers).await?;
    let a: NewArea = parse_json(&body)?;
    let path = AreaPath::parse(&a.path).map_err(|e| invalid(e.to_string()))?;
    let name = valid_name("name", &a.name)?;
    st.store.put_area(&path, name).await?;
    if path.parent().is_none() {
        // A new district gets its reference record at once (devices enrolled next receive it).
        crate::reference::ensure(&st, &path).await?;
    }
    Ok((StatusCode::CREATED, Json(json!({ "path": path, "name": name }))))
}

async fn list_areas(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "areas": st.store.list_areas().await? })))
}

/// `POST /users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    roles: Vec<NewGrant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    role: String,
    area: String,
}

async fn create_user(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<User>)> {
    admin_auth(&st, &headers).await?;
    let u: NewUser = parse_json(&body)?;
    let name = valid_name("name", &u.name)?;
    let roles = parse_grants(&u.roles)?;
    let user = User { id: Uuid::now_v7(), name: name.to_owned(), roles, created_at: now_ms() };
    st.store.create_user(&user).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Validates role grants: at least one, known roles, valid area paths.
fn parse_grants(grants: &[NewGrant]) -> ApiResult<Vec<RoleGrant>> {
    if grants.is_empty() {
        return Err(invalid("a user needs at least one role"));
    }
    grants
        .iter()
        .map(|g| {
            Ok(RoleGrant {
                role: Role::parse(&g.role).map_err(|e| invalid(e.to_string()))?,
                area: AreaPath::parse(&g.area).map_err(|e| invalid(e.to_string()))?,
            })
        })
        .collect()
}

/// `PUT /users/{id}/roles` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRoles {
    roles: Vec<NewGrant>,
}

/// Replaces a user's roles (a worker moves to another grid). The server's checks use the new
/// roles at once; the user's devices learn them at their next contact (`/v1/areas`).
async fn set_roles(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<User>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = Uuid::parse_str(&id).map_err(|_| invalid("the user id is not a UUID"))?;
    let r: NewRoles = parse_json(&body)?;
    let roles = parse_grants(&r.roles)?;
    if !st.store.set_user_roles(id, &roles).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user"));
    }
    let detail = roles
        .iter()
        .map(|g| format!("{}@{}", g.role.as_str(), g.area.as_str()))
        .collect::<Vec<_>>();
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: Some(id),
            device_id: None,
            action: AuditAction::Assign,
            count: roles.len() as u64,
            areas: roles.iter().map(|g| g.area.as_str().to_owned()).collect(),
            detail: detail.join(", "),
            actor_id: actor.person_id(),
        })
        .await?;
    let user = st
        .store
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user"))?;
    Ok(Json(user))
}

async fn list_users(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "users": st.store.list_users().await? })))
}

/// `POST /enrolment-codes` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCode {
    user_id: Uuid,
    ttl_minutes: Option<u32>,
}

/// A created enrolment code.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolmentCodeResponse {
    /// The one-time code, `XXXX-XXXX-XXXX`. Shown once; the server keeps only its hash.
    pub code: String,
    /// The user a device enrolled with it will act for.
    pub user_id: Uuid,
    /// Expiry, ms since the epoch.
    pub expires_at: i64,
    /// What the QR code holds: `gridwork://enrol?code=…[&server=…]`.
    pub enrol_uri: String,
    /// The QR code for a terminal (Unicode half blocks).
    pub qr_terminal: String,
    /// The QR code as an SVG image.
    pub qr_svg: String,
}

/// Renders an enrolment URI as terminal text and SVG.
///
/// # Errors
/// An English message when the data does not fit a QR code.
pub fn render_qr(data: &str) -> Result<(String, String), String> {
    let qr = QrCode::new(data.as_bytes()).map_err(|e| e.to_string())?;
    let terminal = qr
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build();
    let svg = qr.render::<svg::Color<'_>>().min_dimensions(240, 240).build();
    Ok((terminal, svg))
}

async fn create_enrolment_code(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<EnrolmentCodeResponse>)> {
    admin_auth(&st, &headers).await?;
    let req: NewCode = parse_json(&body)?;
    if st.store.get_user(req.user_id).await?.is_none() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user"));
    }
    let ttl = req.ttl_minutes.unwrap_or(st.enrolment_ttl_minutes);
    if ttl == 0 || ttl > 30 * 24 * 60 {
        return Err(invalid("ttl_minutes must be 1 to 43200 (30 days)"));
    }
    let code = auth::new_enrolment_code()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let now = now_ms();
    let expires_at = now + i64::from(ttl) * 60_000;
    st.store
        .create_enrolment_code(&NewEnrolmentCode {
            code_hash: auth::hash_code(&code),
            user_id: req.user_id,
            expires_at,
            created_at: now,
        })
        .await?;
    let enrol_uri = match &st.public_url {
        Some(u) => format!("gridwork://enrol?code={code}&server={u}"),
        None => format!("gridwork://enrol?code={code}"),
    };
    let (qr_terminal, qr_svg) = render_qr(&enrol_uri)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentCodeResponse {
            code,
            user_id: req.user_id,
            expires_at,
            enrol_uri,
            qr_terminal,
            qr_svg,
        }),
    ))
}

async fn list_devices(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "devices": st.store.list_devices().await? })))
}

async fn revoke_device(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = Uuid::parse_str(&id).map_err(|_| invalid("device id must be a UUID"))?;
    if !st.store.revoke_device(id).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such device"));
    }
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: None,
            device_id: Some(id),
            action: AuditAction::Revoke,
            count: 0,
            areas: vec![],
            detail: "revoked by admin".into(),
            actor_id: actor.person_id(),
        })
        .await?;
    Ok(Json(json!({ "device_id": id, "revoked": true })))
}

/// `GET /audit` query.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    limit: Option<u32>,
    device: Option<Uuid>,
}

async fn audit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(json!({ "entries": st.store.list_audit(limit, q.device).await? })))
}

async fn sync_health(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let head = st.store.head_seq().await?;
    let changes = st.store.change_count().await?;
    Ok(Json(json!({
        "head_seq": head,
        "changes": changes,
        "now": now_ms(),
        "devices": st.store.sync_health().await?,
    })))
}
