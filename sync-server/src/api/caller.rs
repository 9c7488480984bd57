//! Who is asking the staff query API, and with which role grants. Every record endpoint takes a
//! [`Caller`] and scopes its answer by [`Caller::grants`] alone, so a new kind of caller is one
//! variant here, one arm in [`Caller::grants`] and one line in `from_request_parts`.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::{AppState, admin_auth, device_auth, guard};
use crate::auth;
use crate::error::ApiError;
use crate::store::{DeviceAuth, RoleGrant};

/// The authenticated caller of a record endpoint.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A phone's device credential (`Authorization: Bearer gwd_…`): its user's grants.
    Device(Box<DeviceAuth>),
    /// The shared admin token (automation): sync admins handle no records, so it has no grants
    /// and every record endpoint refuses it (403 `no_record_access`).
    AdminToken,
    // STAFF SESSION (issue 10, item 3) plugs in here:
    //     Staff(super::staff::StaffSession),
    // with `Caller::Staff(s) => &s.grants` in `grants()` and, first in `from_request_parts`,
    //     if let Ok(s) = super::staff::StaffSession::from_request_parts(parts, st).await {
    //         return Ok(Caller::Staff(s));
    //     }
}

impl Caller {
    /// The role grants the caller's answers are scoped by.
    pub fn grants(&self) -> &[RoleGrant] {
        match self {
            Caller::Device(d) => &d.user.roles,
            Caller::AdminToken => &[],
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    /// Authenticates the request: the admin token when it bears one, else a device credential
    /// (a revoked device is refused; a device's requests count against its rate).
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Caller, Response> {
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
        Ok(Caller::Device(Box::new(device)))
    }
}
