//! The refusals of staff logins and sessions, typed, and the JSON error each answers
//! (`docs/server-admin-api.md`, "Staff accounts", lists the codes).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::password::PasswordRule;
use crate::error::ApiError;

/// Why a staff request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    /// 401 `login_failed`: an unknown login, a wrong password, a locked or disabled account —
    /// one answer for all, so that it tells nobody which logins exist.
    #[error(
        "login refused: unknown login or wrong password, or the account is locked after too many \
         failed logins or disabled; wait, or ask a sync admin"
    )]
    LoginFailed,
    /// 429 `login_throttled`: too many failed logins from this address.
    #[error("too many failed logins from this address; retry later")]
    Throttled(Duration),
    /// 401 `session_missing`: no session cookie.
    #[error("sign in first: no session cookie")]
    NoSession,
    /// 401 `session_invalid`: the cookie names no session (forged, or ended by logout, a
    /// password change or an admin).
    #[error("the session is unknown or has ended; sign in again")]
    BadSession,
    /// 401 `session_expired`: the session passed its idle or absolute timeout.
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// 403 `account_disabled`: the session's person was disabled.
    #[error("this person's login is disabled")]
    AccountDisabled,
    /// 403 `csrf_missing`: a state-changing request without `X-CSRF-Token`.
    #[error("send the session's CSRF token in the X-CSRF-Token header")]
    CsrfMissing,
    /// 403 `csrf_invalid`: `X-CSRF-Token` is not the session's.
    #[error("the X-CSRF-Token header does not match the session")]
    CsrfInvalid,
    /// 403 `password_change_required`: the password was set by an admin; change it first.
    #[error("change the password an admin set before anything else (POST /api/v1/me/password)")]
    PasswordChangeRequired,
    /// 403 `forbidden`: the person lacks the role the request needs.
    #[error("this person does not hold the {0} role")]
    MissingRole(&'static str),
    /// 403 `wrong_password`: the current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// 400 `weak_password`: the new password breaks a rule.
    #[error("{0}")]
    WeakPassword(PasswordRule),
    /// 400 `invalid_input`: a malformed login name.
    #[error(
        "a login is 3 to 64 characters: lower-case letters a-z, digits, '.', '_' and '-', \
         starting with a letter or digit"
    )]
    BadLoginName,
    /// 401 `admin_token_disabled`: the shared admin token is turned off on this server.
    #[error("the shared admin token is turned off on this server; sign in as a sync admin")]
    AdminTokenDisabled,
}

impl StaffError {
    /// The HTTP status and stable code.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        use StaffError as E;
        match self {
            E::LoginFailed => (StatusCode::UNAUTHORIZED, "login_failed"),
            E::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "login_throttled"),
            E::NoSession => (StatusCode::UNAUTHORIZED, "session_missing"),
            E::BadSession => (StatusCode::UNAUTHORIZED, "session_invalid"),
            E::SessionExpired => (StatusCode::UNAUTHORIZED, "session_expired"),
            E::AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled"),
            E::CsrfMissing => (StatusCode::FORBIDDEN, "csrf_missing"),
            E::CsrfInvalid => (StatusCode::FORBIDDEN, "csrf_invalid"),
            E::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            E::MissingRole(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
            E::WeakPassword(_) => (StatusCode::BAD_REQUEST, "weak_password"),
            E::BadLoginName => (StatusCode::BAD_REQUEST, "invalid_input"),
            E::AdminTokenDisabled => (StatusCode::UNAUTHORIZED, "admin_token_disabled"),
        }
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        let (status, code) = e.status_code();
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for StaffError {
    fn into_response(self) -> Response {
        let wait = match &self {
            StaffError::Throttled(w) => Some(*w),
            _ => None,
        };
        let mut r = ApiError::from(self).into_response();
        if let Some(w) = wait {
            let secs = (w.as_secs() + u64::from(w.subsec_nanos() > 0)).max(1);
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}
