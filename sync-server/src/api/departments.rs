//! Departments over HTTP: the registry for devices (`GET /v1/departments`: a dispatch names a
//! department of it) and for the sync admin (`/admin/v1/departments`), and a person's
//! departments (`PUT /admin/v1/users/{id}/departments`). Every admin change is audited.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use gridwork_core::AreaPath;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, admin_auth, device_auth, parse_json};
use crate::error::{ApiError, ApiResult};
use crate::store::departments::{Department, valid_code};
use crate::store::{AuditAction, AuditEntry, StoreError, now_ms};

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_input", format!("{field}: {message}"))
}

/// `GET /v1/departments` (device credential): the active departments. A revoked device gets
/// `{"revoked": true, "departments": []}`, as from `/v1/areas`.
///
/// # Errors
/// 401 for credentials; storage errors.
pub async fn for_device(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    if device_auth(&st, &headers).await?.device.revoked {
        return Ok(Json(json!({ "revoked": true, "departments": [] })));
    }
    let all = st.store.departments().list_departments().await?;
    let active: Vec<Department> = all.into_iter().filter(|d| d.active).collect();
    Ok(Json(json!({ "revoked": false, "departments": active })))
}

/// `GET /admin/v1/departments`: the whole registry, retired departments included.
///
/// # Errors
/// 401 for credentials; storage errors.
pub async fn list(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "departments": st.store.departments().list_departments().await? })))
}

/// `PUT /admin/v1/departments/{code}`: adds or replaces a department (body: the department, its
/// `code` equal to the path's).
///
/// # Errors
/// 400 `invalid_input` naming the bad field; 401; storage errors.
pub async fn put(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Department>> {
    let actor = admin_auth(&st, &headers).await?;
    let d: Department = parse_json(&body)?;
    if d.code != code {
        return Err(invalid("code", "differs from the code in the path"));
    }
    let district = match &d.area {
        Some(a) => AreaPath::parse(crate::reference::district_code(a)).ok(),
        None => crate::reference::districts(&st).await?.into_iter().next(),
    };
    let categories = match district {
        Some(district) => crate::reference::current(&st, &district).await?.categories,
        None => gridwork_core::work_order::CategoryList::default(),
    };
    d.validate_with(&categories).map_err(|(field, m)| invalid(field, m))?;
    st.store.departments().put_department(&d).await?;
    // Devices learn departments from the district's reference record.
    crate::reference::departments_changed(&st).await;
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: None,
            device_id: None,
            action: AuditAction::Departments,
            count: 1,
            areas: d.area.iter().map(|a| a.as_str().to_owned()).collect(),
            detail: format!(
                "department {} ({}){}",
                d.code,
                d.name_en,
                if d.active { "" } else { ", retired" }
            ),
            actor_id: actor.person_id(),
        })
        .await?;
    Ok(Json(d))
}

/// `PUT /admin/v1/users/{id}/departments` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Membership {
    departments: Vec<String>,
}

/// Most departments one person may belong to.
const MAX_MEMBERSHIPS: usize = 64;

/// `PUT /admin/v1/users/{id}/departments`: replaces the departments a person belongs to.
///
/// # Errors
/// 400 `invalid_input` for a malformed code or too many; 404 for an unknown person or
/// department; 401; storage errors.
pub async fn set_for_user(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    let id = Uuid::parse_str(&id).map_err(|_| invalid("id", "not a UUID"))?;
    let m: Membership = parse_json(&body)?;
    if m.departments.len() > MAX_MEMBERSHIPS {
        return Err(invalid("departments", format!("at most {MAX_MEMBERSHIPS}")));
    }
    if let Some(bad) = m.departments.iter().find(|c| !valid_code(c)) {
        return Err(invalid(
            "departments",
            format!("`{}` is not a department code", bad.chars().take(40).collect::<String>()),
        ));
    }
    match st.store.departments().set_user_departments(id, &m.departments).await {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user")),
        Err(StoreError::NotFound { what, id }) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such {what}: {id}"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: Some(id),
            device_id: None,
            action: AuditAction::Departments,
            count: m.departments.len() as u64,
            areas: vec![],
            detail: format!("member of: {}", m.departments.join(", ")),
            actor_id: actor.person_id(),
        })
        .await?;
    Ok(Json(json!({ "user_id": id, "departments": m.departments })))
}
