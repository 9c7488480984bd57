//! The district's reference data for the workbench (issue 11; docs/reference-data.md):
//! `GET /api/v1/reference` for anyone signed in (staff session, device credential or the admin
//! token), `PUT /api/v1/reference` for the district's command centre (staff session with its
//! CSRF token) or a sync admin (session or admin token). An edit is validated whole and
//! re-authors the district's reference record through the one write path
//! ([`crate::reference::update`]); devices receive it by pull.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use gridwork_core::reference::{ReferenceData, reference_id};
use gridwork_core::{AreaPath, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::caller::Caller;
use super::{AppState, parse_json};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::reference::{self as refdata, ReferenceEdit};
use crate::staff::session::{has_session_cookie, staff_session};

/// Which district (optional while the server serves one).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistrictQuery {
    /// The district's code, e.g. `320612`; may be left out when the server serves one district.
    pub district: Option<String>,
}

/// The reference data of a district as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceBody {
    /// The district's code.
    pub district: String,
    /// The reference record's well-known id.
    pub id: Uuid,
    /// Whether the record exists in the log yet (before it does, the answer is the defaults
    /// and the department registry, which is what the server creates it from).
    pub stored: bool,
    /// After an edit: the change's position in the log (`null` when the edit changed nothing,
    /// and on reads).
    pub seq: Option<u64>,
    /// Categories, deadline policy, tag intervals and departments.
    #[schema(value_type = Object)]
    pub data: ReferenceData,
}

/// The district a request names, or the server's only one.
async fn district_of(st: &AppState, q: &DistrictQuery) -> ApiResult<AreaPath> {
    let served = refdata::districts(st).await?;
    match &q.district {
        Some(code) => {
            let d = AreaPath::parse(code)
                .map_err(|e| ApiError::bad_request("invalid_input", format!("district: {e}")))?;
            if served.contains(&d) {
                Ok(d)
            } else {
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("this server serves no district {code}"),
                ))
            }
        }
        None => match served.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "this server serves no district yet (no areas are registered)",
            )),
            _ => Err(ApiError::bad_request(
                "invalid_input",
                "district: this server serves several districts; name one",
            )),
        },
    }
}

/// `GET /api/v1/reference`: the district's reference data.
#[utoipa::path(
    get, path = "/api/v1/reference", tag = "reference",
    params(DistrictQuery),
    responses(
        (status = 200, description = "The district's reference data", body = ReferenceBody),
        (status = 401, description = "No or unknown credential or session", body = super::query::ErrorBody),
        (status = 404, description = "No such district", body = super::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
/// # Errors
/// 401; 404 for a district the server does not serve; storage errors.
pub async fn get(
    State(st): State<AppState>,
    _caller: Caller,
    Query(q): Query<DistrictQuery>,
) -> ApiResult<Json<ReferenceBody>> {
    let district = district_of(&st, &q).await?;
    let stored = refdata::load(&st, &district).await?;
    let body = ReferenceBody {
        district: district.as_str().to_owned(),
        id: reference_id(&district),
        stored: stored.is_some(),
        seq: None,
        data: match stored {
            Some(d) => d,
            None => refdata::current(&st, &district).await?,
        },
    };
    Ok(Json(body))
}

/// Who may edit `district`'s reference data: the admin token, a sync admin, or the district's
/// command centre (a `district_centre` grant over the whole district). Returns the name the
/// record records as its editor.
async fn editor(st: &AppState, headers: &HeaderMap, district: &AreaPath) -> ApiResult<String> {
    if auth::bearer(headers, auth::ADMIN_PREFIX).is_ok() {
        let actor = super::admin_auth(st, headers).await?;
        return Ok(actor.person_id().map_or_else(|| "admin".to_owned(), |p| p.to_string()));
    }
    if headers.contains_key(header::AUTHORIZATION) || !has_session_cookie(headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "reference data is edited by the district's command centre or a sync admin, signed \
             in to the workbench",
        ));
    }
    let s = staff_session(st, headers, &Method::PUT).await?;
    let allowed = s.grants.iter().any(|g| {
        (g.role == Role::DistrictCentre && g.area.contains(district)) || g.role == Role::SyncAdmin
    });
    if !allowed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "only the command centre of district {district} or a sync admin may edit its \
                 reference data"
            ),
        ));
    }
    Ok(s.user_id.to_string())
}

/// `PUT /api/v1/reference`: replaces the district's categories, deadline policy and tag
/// intervals (and departments, when given). Categories left out are kept as retired.
#[utoipa::path(
    put, path = "/api/v1/reference", tag = "reference",
    params(DistrictQuery),
    request_body = ReferenceEdit,
    responses(
        (status = 200, description = "The reference data after the edit", body = ReferenceBody),
        (status = 400, description = "Malformed body or invalid data (`invalid_input` naming the section)", body = super::query::ErrorBody),
        (status = 401, description = "No or unknown credential or session", body = super::query::ErrorBody),
        (status = 403, description = "Not the district's command centre or a sync admin; CSRF refusal", body = super::query::ErrorBody),
        (status = 404, description = "No such district", body = super::query::ErrorBody),
    ),
    security(("admin" = []), ("session" = []))
)]
/// # Errors
/// 400 `malformed_json` / `invalid_input`; 401; 403 `forbidden` / CSRF refusals; 404; the
/// ingest's refusals; storage errors. Nothing is written on error.
pub async fn put(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DistrictQuery>,
    body: Bytes,
) -> ApiResult<Json<ReferenceBody>> {
    let district = district_of(&st, &q).await?;
    let by = editor(&st, &headers, &district).await?;
    let edit: ReferenceEdit = parse_json(&body)?;
    let (data, change) = refdata::update(&st, &district, edit, &by).await?;
    Ok(Json(ReferenceBody {
        district: district.as_str().to_owned(),
        id: reference_id(&district),
        stored: true,
        seq: change.map(|c| c.seq),
        data,
    }))
}
