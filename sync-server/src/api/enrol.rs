//! `POST /v1/enrol`: a phone exchanges a one-time enrolment code and its Automerge actor id for
//! a device id and a per-device credential.
//!
//! Enrolment is retry-safe: a phone that enrolled but never finished (its answer was lost, or its
//! `GET /v1/areas` failed) enrols again with the same code or a fresh one of the same user and
//! gets a new credential for the device already bound to its actor; the old credential stops
//! working (see [`crate::store::Store::redeem_enrolment_code`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, parse_json, valid_name};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::store::{AuditAction, AuditEntry, NewDevice, RoleGrant, now_ms};

/// What the audit detail of a completed-again enrolment says after the device name.
pub const RENEWED: &str = "enrolment completed again, credential renewed";

/// The enrolment request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The one-time code (dashes, spaces and case do not matter).
    pub code: String,
    /// The device's Automerge actor id, hex (1–64 bytes).
    pub actor_id: String,
    /// A name for the device, 1–100 characters.
    pub device_name: String,
}

/// The enrolment answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The new device's id.
    pub device_id: Uuid,
    /// The device's secret credential: send it as `Authorization: Bearer <credential>`. The
    /// server keeps only its hash; it cannot be shown again.
    pub credential: String,
    /// The user the device acts for.
    pub user_id: Uuid,
    /// The user's name.
    pub user_name: String,
    /// The user's roles and their areas.
    pub roles: Vec<RoleGrant>,
}

/// Exchanges an enrolment code for a device credential: a new device, or — for an actor whose
/// device is already enrolled for the code's user — that device with a new credential
/// (audited as `enrol` with the detail saying the credential was renewed).
///
/// # Errors
/// 400 `malformed_json`/`invalid_input`, 403 `enrolment_code_unknown`/`_used`/`_expired`,
/// 403 `device_revoked` (the actor's device was revoked), 409 `actor_taken` (the actor's device
/// belongs to another user).
pub async fn enrol(
    State(st): State<AppState>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<EnrolResponse>)> {
    let req: EnrolRequest = parse_json(&body)?;
    let actor = hex::decode(req.actor_id.trim())
        .map_err(|_| ApiError::bad_request("invalid_input", "actor_id must be hexadecimal"))?;
    if actor.is_empty() || actor.len() > 64 {
        return Err(ApiError::bad_request("invalid_input", "actor_id must be 1 to 64 bytes"));
    }
    let name = valid_name("device_name", &req.device_name)?;
    let credential = auth::new_device_credential()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let redeemed = st
        .store
        .redeem_enrolment_code(
            auth::hash_code(&req.code),
            &NewDevice {
                id: Uuid::now_v7(),
                name: name.to_owned(),
                actor_hex: hex::encode(&actor),
                credential_hash: auth::hash_secret(&credential),
                now: now_ms(),
            },
        )
        .await?;
    let device = redeemed.device;
    let user = st.store.get_user(device.user_id).await?.ok_or_else(|| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "enrolled user vanished")
    })?;
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: Some(user.id),
            device_id: Some(device.id),
            action: AuditAction::Enrol,
            count: 0,
            areas: user.roles.iter().map(|g| g.area.to_string()).collect(),
            detail: if redeemed.renewed {
                format!("{} ({RENEWED})", device.name)
            } else {
                device.name.clone()
            },
            actor_id: None,
        })
        .await?;
    Metrics::add(&st.metrics.enrolments, 1);
    Ok((
        StatusCode::CREATED,
        Json(EnrolResponse {
            device_id: device.id,
            credential,
            user_id: user.id,
            user_name: user.name,
            roles: user.roles,
        }),
    ))
}
