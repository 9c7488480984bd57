//! Who may use the admin API (`/admin/v1`): the shared admin token (automation; can be turned
//! off with `[admin] token_enabled = false` or `--no-admin-token`), or the session of a person
//! holding the `sync_admin` role — with the session's CSRF token on every state-changing
//! request. Every successful change made through a person's session is audited with their id.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gridwork_core::Role;
use uuid::Uuid;

use super::AppState;
use crate::auth::{self, BearerProblem};
use crate::error::{ApiError, ApiResult};
use crate::staff::session::{authenticate, has_session_cookie, is_mutation};
use crate::staff::{StaffError, StaffSession};
use crate::store::AuditAction;

/// Who is using the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminActor {
    /// The shared admin token (automation).
    Token,
    /// A sync admin signed in to the web.
    Person(StaffSession),
}

impl AdminActor {
    /// The acting person's id, for the audit log (`None` for the admin token).
    pub fn person_id(&self) -> Option<Uuid> {
        match self {
            AdminActor::Token => None,
            AdminActor::Person(s) => Some(s.user_id),
        }
    }
}

/// Authenticates an admin API request: a bearer admin token when the request has an
/// `Authorization` header, a sync admin's session cookie otherwise. `csrf_for` is the method
/// whose CSRF requirement applies to a session (`None`: checked by the caller — the
/// [`admin_first`] layer every admin route passes checks it).
///
/// # Errors
/// 401 `missing_credential` / `bad_credential` / `admin_token_disabled`; a session's refusals
/// ([`StaffError`]); 403 `forbidden` for a person without the `sync_admin` role.
pub async fn check(
    st: &AppState,
    headers: &HeaderMap,
    csrf_for: Option<&Method>,
) -> ApiResult<AdminActor> {
    if headers.contains_key(header::AUTHORIZATION) || !has_session_cookie(headers) {
        let token = auth::bearer(headers, auth::ADMIN_PREFIX).map_err(|p| match p {
            BearerProblem::Missing => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credential",
                "send `Authorization: Bearer <admin token>`, or sign in as a sync admin",
            ),
            BearerProblem::Malformed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credential",
                "the Authorization header does not hold an admin token",
            ),
        })?;
        if !st.staff.admin_token_enabled {
            return Err(StaffError::AdminTokenDisabled.into());
        }
        return if st.store.check_admin_token(auth::hash_secret(token)).await? {
            Ok(AdminActor::Token)
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credential", "unknown admin token"))
        };
    }
    let s = authenticate(st, headers, csrf_for).await?;
    if s.must_change_password {
        return Err(StaffError::PasswordChangeRequired.into());
    }
    if !s.holds(Role::SyncAdmin) {
        return Err(StaffError::MissingRole("sync_admin").into());
    }
    Ok(AdminActor::Person(s))
}

/// The admin routes' outer layer: authenticates before the body is read (CSRF included), and
/// audits every successful state-changing request made by a person (action `admin`, the method
/// and path in `detail`, the person in `actor_id`). The admin token is not rate-limited: there
/// is one, held by the sync admins' automation, and it cannot be guessed (256 bits); the
/// in-flight and memory limits still apply.
pub async fn admin_first(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let actor = match check(&st, req.headers(), Some(req.method())).await {
        Ok(a) => a,
        Err(e) => return super::guard::unread(req.headers(), e.into_response()),
    };
    let AdminActor::Person(person) = actor else { return next.run(req).await };
    if !is_mutation(req.method()) {
        return next.run(req).await;
    }
    let what = format!("{} {}", req.method(), req.uri().path());
    let res = next.run(req).await;
    if res.status().is_success() {
        let entry = person.audit(AuditAction::Admin, format!("{what} → {}", res.status().as_u16()));
        if let Err(e) = st.store.audit(&entry).await {
            tracing::error!(error = %e, "cannot audit an admin action");
        }
    }
    res
}

/// [`check`] without the CSRF check, for handlers behind [`admin_first`].
///
/// # Errors
/// As [`check`].
pub async fn actor(st: &AppState, headers: &HeaderMap) -> ApiResult<AdminActor> {
    check(st, headers, None).await
}
