//! What the command-centre workbench reads beside the records (issue 11): the "Today" figures
//! (`GET /api/v1/work-orders/stats`), and the directory its pages name things with — areas
//! (`GET /api/v1/areas`), departments (`GET /api/v1/departments`) and people
//! (`GET /api/v1/people`) — so a page shows 金沙街道 and 王芳, never a code or a UUID. Every
//! answer is scoped by the caller's role grants like the record endpoints ([`Caller`]).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use gridwork_core::{AreaPath, RecordKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::stats::{self, WorkOrderStats};
use crate::query::{QueryError, QueryStore, scope};
use crate::store::now_ms;

/// The workbench's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/work-orders/stats", get(work_order_stats))
        .route("/api/v1/areas", get(areas))
        .route("/api/v1/departments", get(departments))
        .route("/api/v1/people", get(people))
        .route("/api/v1/work-orders/{id}/allowed", get(allowed_actions))
        .route("/api/v1/attachments/{hash}", get(super::attachments::download_for_caller))
}

/// `GET /api/v1/work-orders/stats` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Count only within this area (any level; within the caller's scope).
    area: Option<String>,
    /// `reported_since` counts orders reported at or after this time (ms since the epoch);
    /// default: 24 hours ago.
    since: Option<i64>,
}

/// Open work orders by severity, category, town × state, overdue, reported since, per queue,
/// and tasks falling due — within the caller's scope.
#[utoipa::path(
    get, path = "/api/v1/work-orders/stats", tag = "workbench",
    params(StatsParams),
    responses(
        (status = 200, description = "The figures", body = WorkOrderStats),
        (status = 400, description = "Bad area or filter", body = crate::api::query::ErrorBody),
        (status = 401, description = "No or unknown credential", body = crate::api::query::ErrorBody),
        (status = 403, description = "Area outside the caller's scope, or roles that read no work orders", body = crate::api::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn work_order_stats(
    caller: Caller,
    State(st): State<AppState>,
    Query(p): Query<StatsParams>,
) -> ApiResult<Json<WorkOrderStats>> {
    let area = p
        .area
        .as_deref()
        .map(AreaPath::parse)
        .transpose()
        .map_err(|e| ApiError::from(QueryError::Area(e.to_string())))?;
    let grants = caller.grants();
    let deps = caller.departments();
    let orders = scope::check(grants, deps, RecordKind::WorkOrder, "work orders", area.as_ref())?;
    // Tasks are counted where the caller reads them; someone who reads none counts none.
    let tasks =
        scope::check(grants, deps, RecordKind::Task, "tasks", area.as_ref()).unwrap_or_default();
    let qs: &dyn QueryStore = st.store.query().ok_or_else(no_read_model)?;
    let now = now_ms();
    let since = p.since.unwrap_or(now - 24 * 3600 * 1000);
    let statements = stats::statements(
        qs.dialect(),
        &orders,
        &tasks,
        area.as_ref().map(AreaPath::as_str),
        deps,
        since,
        now,
    );
    let mut answers: [Vec<stats::CountRow>; stats::STATEMENTS] = Default::default();
    for (slot, s) in answers.iter_mut().zip(&statements) {
        // An empty scope list for tasks still runs: its predicate is false.
        *slot = qs.run_counts(s).await?;
    }
    Ok(Json(WorkOrderStats::fold(now, answers)))
}

fn no_read_model() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "no_read_model",
        "this server keeps no read model",
    )
}

/// An area the caller may name.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaEntry {
    /// Code path (`320612/004/017`).
    pub path: String,
    /// Name (`金沙街道`).
    pub name: String,
    /// Within the caller's scope (they may list records there and issue tasks to it, if their
    /// role issues tasks); `false` for the areas above it, listed for their names.
    pub in_scope: bool,
}

/// The caller's areas: every area within one of their grants, and the areas above them.
#[utoipa::path(
    get, path = "/api/v1/areas", tag = "workbench",
    responses(
        (status = 200, description = "Areas by path", body = [AreaEntry]),
        (status = 401, description = "No or unknown credential", body = crate::api::query::ErrorBody),
        (status = 403, description = "No role grants", body = crate::api::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn areas(caller: Caller, State(st): State<AppState>) -> ApiResult<Json<Vec<AreaEntry>>> {
    let grants = granted(&caller)?;
    let out = st
        .store
        .list_areas()
        .await?
        .into_iter()
        .filter_map(|a| {
            let in_scope = grants.iter().any(|g| g.contains(&a.path));
            let above = grants.iter().any(|g| a.path.contains(g));
            (in_scope || above).then(|| AreaEntry {
                path: a.path.as_str().to_owned(),
                name: a.name,
                in_scope,
            })
        })
        .collect();
    Ok(Json(out))
}

/// The areas of the caller's grants, or 403 when they hold none (the admin token).
fn granted(caller: &Caller) -> ApiResult<Vec<AreaPath>> {
    let areas: Vec<AreaPath> = caller.grants().iter().map(|g| g.area.clone()).collect();
    if areas.is_empty() {
        return Err(QueryError::NoAccess { what: "the directory" }.into());
    }
    Ok(areas)
}

/// The active departments of the registry (code, names, categories, area).
#[utoipa::path(
    get, path = "/api/v1/departments", tag = "workbench",
    responses(
        (status = 200, description = "Active departments"),
        (status = 401, description = "No or unknown credential", body = crate::api::query::ErrorBody),
        (status = 403, description = "No role grants", body = crate::api::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn departments(
    caller: Caller,
    State(st): State<AppState>,
) -> ApiResult<Json<serde_json::Value>> {
    granted(&caller)?;
    let all = st.store.departments().list_departments().await?;
    let active: Vec<_> = all.into_iter().filter(|d| d.active).collect();
    Ok(Json(serde_json::json!({ "departments": active, "mine": caller.departments() })))
}

/// The people whose work the caller sees: everyone holding a role in, above or below one of
/// the caller's areas — id to display name, for timelines and ledgers.
#[utoipa::path(
    get, path = "/api/v1/people", tag = "workbench",
    responses(
        (status = 200, description = "Display names by user id"),
        (status = 401, description = "No or unknown credential", body = crate::api::query::ErrorBody),
        (status = 403, description = "No role grants", body = crate::api::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn people(
    caller: Caller,
    State(st): State<AppState>,
) -> ApiResult<Json<BTreeMap<Uuid, String>>> {
    let areas = granted(&caller)?;
    let related = |a: &AreaPath| areas.iter().any(|g| g.contains(a) || a.contains(g));
    let mut out: BTreeMap<Uuid, String> = st
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.roles.iter().any(|r| related(&r.area)))
        .map(|u| (u.id, u.name))
        .collect();
    out.insert(crate::authoring::SYSTEM_USER, "system".to_owned());
    Ok(Json(out))
}

/// A step the caller may take on a work order now.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowedAction {
    /// The step (`accept`, `dispatch`, `sign`…).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The departments it may address: for a department's step, the caller's departments
    /// that can take it; for a dispatch, the active departments serving the order's area not
    /// yet dispatched; for an extension decision, the departments waiting; empty otherwise.
    pub departments: Vec<String>,
}

/// The steps the caller may take on work order `id` in its current state: the core's own rule
/// (`check_transition`) for each of the caller's roles over the order's area — so the page
/// offers exactly what the server would accept (it still checks again when the step is sent).
#[utoipa::path(
    get, path = "/api/v1/work-orders/{id}/allowed", tag = "workbench",
    params(("id" = Uuid, Path, description = "The work order's id")),
    responses(
        (status = 200, description = "The steps allowed now", body = [AllowedAction]),
        (status = 404, description = "No such work order within the caller's scope", body = crate::api::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn allowed_actions(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AllowedAction>>> {
    use gridwork_core::work_order::{
        EventType, Transition, WorkOrder, check_transition, department_transition,
    };
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::bad_request("invalid_id", "the record id is not a UUID"))?;
    let listed = crate::query::Listed::WorkOrders;
    let scopes =
        scope::check(caller.grants(), caller.departments(), listed.kind(), "work orders", None)?;
    let qs: &dyn QueryStore = st.store.query().ok_or_else(no_read_model)?;
    let found = qs.find(&crate::query::sql::one(qs.dialect(), listed, id, &scopes)).await?;
    let Some(found) = found.into_iter().next().filter(|f| !f.deleted) else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "no such work order within your scope",
        ));
    };
    let order: WorkOrder = serde_json::from_value(found.record)
        .map_err(|e| crate::store::StoreError::Corrupt(format!("read model work order: {e}")))?;
    let s = &order.summary;
    let roles: Vec<_> =
        caller.grants().iter().filter(|g| g.area.contains(&order.area)).map(|g| g.role).collect();
    let registry = st.store.departments().list_departments().await?;
    let mut out = Vec::new();
    for t in EventType::ALL {
        if t == EventType::Report || !roles.iter().any(|r| check_transition(s, t, *r).is_ok()) {
            continue;
        }
        let departments: Vec<String> = if t.is_departmental() {
            caller
                .departments()
                .iter()
                .filter(|d| {
                    s.departments
                        .get(*d)
                        .is_some_and(|p| department_transition(*p, t) != Transition::Illegal)
                })
                .cloned()
                .collect()
        } else {
            match t {
                EventType::Dispatch => registry
                    .iter()
                    .filter(|d| d.active && !s.departments.contains_key(&d.code))
                    .filter(|d| d.serves(&order.area))
                    .map(|d| d.code.clone())
                    .collect(),
                EventType::ApproveExtension | EventType::DeclineExtension => {
                    s.pending_extensions.iter().map(|p| p.department.clone()).collect()
                }
                _ => Vec::new(),
            }
        };
        let needs_department = t.is_departmental() || t == EventType::Dispatch;
        if needs_department && departments.is_empty() {
            continue;
        }
        out.push(AllowedAction { event_type: t.as_str().to_owned(), departments });
    }
    Ok(Json(out))
}
