//! Changes devices set aside (issue 8, item 1): `POST /v1/held` (a device reports them) and the
//! admin's view and actions, `GET /admin/v1/held`, `POST /admin/v1/held/{hash}/withhold` and
//! `POST /admin/v1/held/{hash}/restore` (see `crate::store::held`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, admin_auth, device_auth, parse_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{AuditAction, AuditEntry, HeldReport, Withholding, now_ms};

/// Most changes one report may name.
pub const MAX_REPORTS: usize = 1000;
/// Most characters of a reason.
pub const MAX_REASON_CHARS: usize = 64;
/// Most characters of a detail.
pub const MAX_DETAIL_CHARS: usize = 1000;

/// `POST /v1/held` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reports {
    changes: Vec<RawReport>,
}

/// One reported change as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    hash: String,
    doc_id: String,
    reason: String,
    #[serde(default)]
    detail: String,
}

fn invalid(index: usize, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_input", format!("changes[{index}]: {message}"))
}

/// Checks one reported change.
fn check(index: usize, r: RawReport) -> ApiResult<HeldReport> {
    let hash = hex::decode(&r.hash)
        .ok()
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or_else(|| invalid(index, "hash must be 64 hexadecimal characters"))?;
    let doc_id = Uuid::parse_str(&r.doc_id).map_err(|_| invalid(index, "doc_id must be a UUID"))?;
    let reason_ok = !r.reason.is_empty()
        && r.reason.chars().count() <= MAX_REASON_CHARS
        && r.reason.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !reason_ok {
        return Err(invalid(
            index,
            format!("reason must be 1 to {MAX_REASON_CHARS} characters of a-z, 0-9 and _"),
        ));
    }
    if r.detail.chars().count() > MAX_DETAIL_CHARS {
        return Err(invalid(
            index,
            format!("detail must be at most {MAX_DETAIL_CHARS} characters"),
        ));
    }
    if r.detail.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(invalid(index, "detail must not contain control characters"));
    }
    Ok(HeldReport { hash, doc_id, reason: r.reason, detail: r.detail })
}

/// `POST /v1/held`: a device reports changes it could not apply and set aside. Reports of
/// changes the log does not hold under the named document are ignored (counted as `unknown`).
///
/// # Errors
/// 401 for credentials; 403 `device_revoked`; 400 `malformed_json`, `too_many_changes` (more
/// than [`MAX_REPORTS`]) or `invalid_input` naming the entry.
pub async fn report(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let auth = device_auth(&st, &headers).await?;
    if auth.device.revoked {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "device_revoked",
            "this device is revoked",
        ));
    }
    let req: Reports = parse_json(&body)?;
    if req.changes.len() > MAX_REPORTS {
        return Err(ApiError::bad_request(
            "too_many_changes",
            format!("at most {MAX_REPORTS} changes per report"),
        ));
    }
    let reports = req
        .changes
        .into_iter()
        .enumerate()
        .map(|(i, r)| check(i, r))
        .collect::<ApiResult<Vec<_>>>()?;
    let outcome = st.store.report_held(auth.device.id, now_ms(), &reports).await?;
    if outcome.recorded > 0 {
        tracing::warn!(
            device = %auth.device.id,
            recorded = outcome.recorded,
            "a device reports changes it could not apply"
        );
    }
    Ok(Json(json!({ "recorded": outcome.recorded, "unknown": outcome.unknown })))
}

/// `GET /admin/v1/held`: every reported change with its reports.
pub async fn list(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "changes": st.store.held_changes().await? })))
}

/// `POST /admin/v1/held/{hash}/withhold`.
pub async fn withhold(
    st: State<AppState>,
    headers: HeaderMap,
    hash: Path<String>,
) -> ApiResult<Json<Value>> {
    set(st, headers, hash, true).await
}

/// `POST /admin/v1/held/{hash}/restore`.
pub async fn restore(
    st: State<AppState>,
    headers: HeaderMap,
    hash: Path<String>,
) -> ApiResult<Json<Value>> {
    set(st, headers, hash, false).await
}

async fn set(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    withheld: bool,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let hash =
        hex::decode(&raw).ok().and_then(|h| <[u8; 32]>::try_from(h).ok()).ok_or_else(|| {
            ApiError::bad_request("invalid_input", "the hash must be 64 hexadecimal characters")
        })?;
    let changed = match st.store.set_withheld(hash, withheld).await? {
        Withholding::NotFound => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such change"));
        }
        Withholding::Unchanged => false,
        Withholding::Changed => true,
    };
    let (action, word) = if withheld {
        (AuditAction::Withhold, "withhold")
    } else {
        (AuditAction::Restore, "restore")
    };
    let hex = hex::encode(hash);
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: None,
            device_id: None,
            action,
            count: 1,
            areas: vec![],
            detail: if changed {
                format!("{word} change {hex}")
            } else {
                format!("{word} change {hex} (no change: already so)")
            },
            actor_id: actor.person_id(),
        })
        .await?;
    Ok(Json(json!({ "hash": hex, "withheld": withheld, "changed": changed })))
}
