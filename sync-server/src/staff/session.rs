//! The signed-in person of a browser request: [`StaffSession`], an axum extractor.
//!
//! A handler that takes a `StaffSession` runs only for a valid session of a person who may act:
//! the `gw_session` cookie names a stored session (by the SHA-256 of its token), the session is
//! within its idle and absolute timeouts, the person is not disabled and has no admin-set
//! password left to change, and — for every method but `GET`, `HEAD` and `OPTIONS` — the
//! request carries the session's CSRF token in `X-CSRF-Token` (compared in constant time).
//! Anything else is refused with a JSON error ([`StaffError`]) before the handler runs, and
//! nothing is written.
//!
//! ```text
//! async fn open_work_orders(who: StaffSession, State(st): State<AppState>) -> ApiResult<…> {
//!     let scopes = policy::read_scopes(&who.grants); // the person's role grants
//!     …
//!     st.store.audit(&who.audit(AuditAction::…, "…")).await?; // audited with who.user_id
//! }
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use gridwork_core::Role;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::error::StaffError;
use crate::api::AppState;
use crate::auth::hash_secret;
use crate::error::ApiError;
use crate::store::{AuditAction, AuditEntry, RoleGrant, now_ms};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gw_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's `last_seen` is written at most this often, ms.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A signed-in staff member, from a valid session (see the module's documentation for what is
/// checked). Use it as a handler argument; reject with the person's roles as any device's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The person (`users.id`, the same id as their devices' user).
    pub user_id: Uuid,
    /// Their display name.
    pub name: String,
    /// Their login name.
    pub login: String,
    /// The roles they hold, each with its area (read at every request: a change of roles
    /// applies at once).
    pub grants: Vec<RoleGrant>,
    /// Whether they must still change an admin-set password (only [`PendingSession`] lets
    /// such a session through).
    pub must_change_password: bool,
    /// The session's absolute expiry, ms since the epoch.
    pub expires_at: i64,
    /// SHA-256 of the session token.
    pub(crate) token_hash: [u8; 32],
    /// The session's CSRF token.
    pub(crate) csrf_token: String,
}

impl StaffSession {
    /// Whether the person holds `role` (in any area).
    pub fn holds(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// An audit entry of an action by this person (`actor_id` and `user_id` are theirs; set
    /// `user_id` to the person concerned when it is someone else).
    pub fn audit(&self, action: AuditAction, detail: impl Into<String>) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: Some(self.user_id),
            device_id: None,
            action,
            count: 0,
            areas: vec![],
            detail: detail.into(),
            actor_id: Some(self.user_id),
        }
    }

    /// The session's CSRF token (handed to the browser at login and by `GET /api/v1/me`).
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A valid session whose person may still have to change an admin-set password: what the
/// routes that let them do so (`/api/v1/me`, `/api/v1/me/password`, logout) take. Everything
/// else takes [`StaffSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSession(pub StaffSession);

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether a request carries a session cookie (so is meant to be authenticated by it).
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
}

/// Whether a method changes state (and so needs the CSRF token).
pub fn is_mutation(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Authenticates a request by its session cookie (see the module's documentation);
/// `csrf_for` is the method whose CSRF requirement applies, `None` to skip that check (the
/// caller checks it itself). A session with an admin-set password still to change is
/// returned too: the caller decides.
///
/// # Errors
/// The [`StaffError`] refusing the request, or a storage failure.
pub async fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
    csrf_for: Option<&Method>,
) -> Result<StaffSession, ApiError> {
    let token = cookie(headers, SESSION_COOKIE).ok_or(StaffError::NoSession)?;
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StaffError::BadSession.into());
    }
    let token_hash = hash_secret(token);
    let stored = st.store.staff().session(token_hash).await?.ok_or(StaffError::BadSession)?;
    let now = now_ms();
    if now >= stored.expires_at || now - stored.last_seen >= st.staff.config.idle_ms() {
        return Err(StaffError::SessionExpired.into());
    }
    if stored.account.disabled {
        return Err(StaffError::AccountDisabled.into());
    }
    if csrf_for.is_some_and(is_mutation) {
        check_csrf(headers, &stored.csrf_token)?;
    }
    if now - stored.last_seen >= TOUCH_EVERY_MS {
        st.store.staff().touch_session(token_hash, now).await?;
    }
    let a = stored.account;
    Ok(StaffSession {
        user_id: a.user.id,
        name: a.user.name,
        login: a.login,
        grants: a.user.roles,
        must_change_password: a.must_change_password,
        expires_at: stored.expires_at,
        token_hash,
        csrf_token: stored.csrf_token,
    })
}

/// Checks the request's `X-CSRF-Token` against the session's, in constant time.
///
/// # Errors
/// [`StaffError::CsrfMissing`], [`StaffError::CsrfInvalid`].
pub fn check_csrf(headers: &HeaderMap, expected: &str) -> Result<(), StaffError> {
    let sent = headers.get(CSRF_HEADER).ok_or(StaffError::CsrfMissing)?;
    let same = hash_secret(expected).ct_eq(&hash_secret(sent.to_str().unwrap_or_default()));
    if bool::from(same) { Ok(()) } else { Err(StaffError::CsrfInvalid) }
}

/// The checks of the [`StaffSession`] extractor, for code that has only the headers and the
/// method (a function shared by routes that also take other credentials).
///
/// # Errors
/// As the extractor: the [`StaffError`] refusing the request, or a storage failure.
pub async fn staff_session(
    st: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<StaffSession, ApiError> {
    let s = authenticate(st, headers, Some(method)).await?;
    if s.must_change_password {
        return Err(StaffError::PasswordChangeRequired.into());
    }
    Ok(s)
}

impl FromRequestParts<AppState> for PendingSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        if let Some(s) = parts.extensions.get::<PendingSession>() {
            return Ok(s.clone());
        }
        let s = PendingSession(authenticate(st, &parts.headers, Some(&parts.method)).await?);
        parts.extensions.insert(s.clone());
        Ok(s)
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let PendingSession(s) = PendingSession::from_request_parts(parts, st).await?;
        if s.must_change_password {
            return Err(StaffError::PasswordChangeRequired.into());
        }
        Ok(s)
    }
}
