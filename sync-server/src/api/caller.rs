//! Who is asking the staff query API, and with which role grants and departments. Every record
//! endpoint takes a [`Caller`] and scopes its answer by [`Caller::grants`] and
//! [`Caller::departments`] alone, so a new kind of caller is one variant here, one arm in
//! [`Caller::grants`] and one line in `from_request_parts`.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::{AppState, admin_auth, device_auth, guard};
use crate::auth;
use crate::error::ApiError;
use crate::staff::session::{StaffSession, has_session_cookie};
use crate::store::{DeviceAuth, RoleGrant};

/// The authenticated caller of a record endpoint.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A phone's device credential (`Authorization: Bearer gwd_…`): its user's grants, and the
    /// departments they belong to.
    Device(Box<DeviceAuth>, Vec<String>),
    /// A person signed in in a browser (staff session cookie): their grants and departments.
    Staff(Box<StaffSession>, Vec<String>),
    /// The shared admin token (automation): sync admins handle no records, so it has no grants
    /// and every record endpoint refuses it (403 `no_record_access`).
    AdminToken,
}

impl Caller {
    /// The role grants the caller's answers are scoped by.
    pub fn grants(&self) -> &[RoleGrant] {
        match self {
            Caller::Device(d, _) => &d.user.roles,
            Caller::Staff(s, _) => &s.grants,
            Caller::AdminToken => &[],
        }
    }

    /// The departments the caller belongs to (a department handler reads only their work
    /// orders).
    pub fn departments(&self) -> &[String] {
        match self {
            Caller::Device(_, d) | Caller::Staff(_, d) => d,
            Caller::AdminToken => &[],
        }
    }
}

/// The departments of a person holding `grants` (read only for department handlers).
async fn departments_of(
    st: &AppState,
    user: uuid::Uuid,
    grants: &[RoleGrant],
) -> Result<Vec<String>, Response> {
    if !grants.iter().any(|g| crate::policy::is_departmental(g.role)) {
        return Ok(Vec::new());
    }
    st.store
        .departments()
        .user_departments(user)
        .await
        .map_err(|e| ApiError::from(e).into_response())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    /// Authenticates the request: the admin token when it bears one, else a device credential
    /// (a revoked device is refused; a device's requests count against its rate).
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Caller, Response> {
        if !parts.headers.contains_key(axum::http::header::AUTHORIZATION)
            && has_session_cookie(&parts.headers)
        {
            let s = StaffSession::from_request_parts(parts, st)
                .await
                .map_err(IntoResponse::into_response)?;
            let departments = departments_of(st, s.user_id, &s.grants).await?;
            return Ok(Caller::Staff(Box::new(s), departments));
        }
        if auth::bearer(&parts.headers, auth::ADMIN_PREFIX).is_ok() {
            admin_auth(st, &parts.headers).await.map_err(IntoResponse::into_response)?;
            return Ok(Caller::AdminToken);
        }
        let device = device_auth(st, &parts.headers).await.map_err(IntoResponse::into_response)?;
        if device.device.revoked {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "device_revoked",
                "this device was revoked",
            )
            .into_response());
        }
        if let Some(limited) = guard::check_rate(&st.guards, device.device.id.to_string()) {
            return Err(limited);
        }
        let departments = departments_of(st, device.user.id, &device.user.roles).await?;
        Ok(Caller::Device(Box::new(device), departments))
    }
}
