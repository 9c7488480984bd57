//! `GET /v1/areas` (device credential): the areas a device's user works in — every area inside
//! one of their role areas, and the ancestors of those — so a newly enrolled phone gets its
//! reference data. A revoked device gets `{"revoked": true, "areas": []}`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{AppState, device_auth};
use crate::error::ApiResult;
use crate::store::{AuditAction, AuditEntry, now_ms};

/// Lists the areas of the device user's scopes and their ancestors, parents before children.
///
/// # Errors
/// 401 `missing_credential` / `bad_credential`; storage errors.
pub async fn areas(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let auth = device_auth(&st, &headers).await?;
    if auth.device.revoked {
        st.store
            .audit(&AuditEntry {
                id: 0,
                at: now_ms(),
                user_id: Some(auth.user.id),
                device_id: Some(auth.device.id),
                action: AuditAction::RevokedContact,
                count: 0,
                areas: vec![],
                detail: String::new(),
                actor_id: None,
            })
            .await?;
        return Ok(Json(json!({ "revoked": true, "areas": [] })));
    }
    let mut areas: Vec<_> = st
        .store
        .list_areas()
        .await?
        .into_iter()
        .filter(|a| {
            auth.user.roles.iter().any(|g| g.area.contains(&a.path) || a.path.contains(&g.area))
        })
        .collect();
    areas.sort_by_key(|a| (a.path.level(), a.path.as_str().to_owned()));
    Ok(Json(json!({ "revoked": false, "areas": areas, "roles": auth.user.roles })))
}
