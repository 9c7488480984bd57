//! Signing in: the password checked against its argon2id hash, failures counted per login
//! (lockout) and per source address (throttle), and a new session stored.
//!
//! An unknown login, a wrong password, a locked and a disabled account all get the same answer,
//! 401 `login_failed`, after the same work (a dummy hash is verified when there is no real one
//! to verify, or when the account may not sign in anyway): the answer tells nobody which logins
//! exist or are locked. The lockout itself is told to the person by the message and by a sync
//! admin, who can unlock. An address past its allowance of failures gets 429
//! `login_throttled` with `Retry-After`, whatever the login.

use std::net::IpAddr;

use axum::response::{IntoResponse, Response};

use super::error::StaffError;
use super::password;
use super::session::StaffSession;
use crate::api::AppState;
use crate::auth::{hash_secret, random_hex};
use crate::error::ApiError;
use crate::store::staff::NewSession;
use crate::store::{AuditAction, StoreError, now_ms};

/// A new session: the token for the cookie (shown once) and the signed-in person.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session token (the cookie's value; only its hash is stored).
    pub token: String,
    /// The session.
    pub session: StaffSession,
}

/// Why signing in failed: a refusal (answered with its headers, such as `Retry-After`), or
/// another error.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The sign-in is refused.
    #[error(transparent)]
    Refused(#[from] StaffError),
    /// Storage or randomness failed.
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Failed(e.into())
    }
}

impl IntoResponse for SignInError {
    fn into_response(self) -> Response {
        match self {
            SignInError::Refused(e) => e.into_response(),
            SignInError::Failed(e) => e.into_response(),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

/// Signs `login` in with `password` from `ip` (when known).
///
/// # Errors
/// [`StaffError::Throttled`], [`StaffError::LoginFailed`]; storage failures.
pub async fn sign_in(
    st: &AppState,
    ip: Option<IpAddr>,
    login: &str,
    password: &str,
) -> Result<SignedIn, SignInError> {
    if let Some(wait) = ip.and_then(|ip| st.staff.throttled(ip)) {
        tracing::warn!(?ip, "login refused: address throttled");
        return Err(StaffError::Throttled(wait).into());
    }
    let now = now_ms();
    let account = match super::normalize_login(login) {
        Ok(login) => st.store.staff().staff_by_login(&login).await?,
        Err(_) => None,
    };
    let may_try = account.as_ref().filter(|a| !a.disabled && !a.locked_at(now));
    let phc = may_try.map(|a| a.password_hash.clone());
    let verified = password::verify_blocking(password.to_owned(), phc).await;
    let Some(account) = may_try.filter(|_| verified) else {
        if let Some(ip) = ip {
            st.staff.failed(ip);
        }
        if let Some(a) = may_try {
            let rule = st.staff.config.lock_rule();
            let s = st.store.staff().record_login_failure(a.user.id, now, rule).await?;
            if let Some(until) = s.locked_until {
                tracing::warn!(login = %a.login, until, "login locked after failed logins");
            }
        }
        tracing::info!(?ip, "failed login");
        return Err(StaffError::LoginFailed.into());
    };
    let token = random_hex().map_err(internal)?;
    let csrf_token = random_hex().map_err(internal)?;
    let token_hash = hash_secret(&token);
    let expires_at = now + st.staff.config.max_ms();
    st.store
        .staff()
        .start_session(&NewSession {
            token_hash,
            user_id: account.user.id,
            csrf_token: csrf_token.clone(),
            now,
            expires_at,
        })
        .await?;
    let session = StaffSession {
        user_id: account.user.id,
        name: account.user.name.clone(),
        login: account.login.clone(),
        grants: account.user.roles.clone(),
        must_change_password: account.must_change_password,
        expires_at,
        token_hash,
        csrf_token,
    };
    st.store.audit(&session.audit(AuditAction::Login, "signed in")).await?;
    Ok(SignedIn { token, session })
}
