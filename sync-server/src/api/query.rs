//! The staff query API (issue 10, item 2): `GET /api/v1/{households,residents,visits,patrols,
//! work-orders,tasks}` list the read model's records with filters and cursor pagination,
//! `GET /api/v1/{kind}/{id}` answers one record, `GET /api/v1/residents/{id}/sensitive` a
//! resident's sensitive data — each scoped by the caller's role grants exactly like a pull
//! ([`crate::query::scope`]), answered in JSON with the record as the core decodes it. Filters
//! are checked before any SQL is made ([`crate::query::filter`]); see `docs/server-query-api.md`.
//! The OpenAPI description of these routes is generated from the annotations here
//! ([`super::openapi`]).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::{Found, ListQuery, Listed, QueryError, QueryStore, cursor, scope, sql};
use crate::store::{AuditAction, AuditEntry, now_ms};

/// One page of records.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    /// The records, by id.
    pub items: Vec<Item>,
    /// The cursor of the next page (pass it as `cursor`), or `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    /// Record id (UUIDv7).
    pub id: Uuid,
    /// Its area path (`320612/004/017/03/02`).
    #[schema(example = "320612/004/017/03/02")]
    pub area: String,
    /// Deleted (only a lookup by id shows a deleted record).
    pub deleted: bool,
    /// The record as the core decodes it (the same fields a phone shows).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

impl From<Found> for Item {
    fn from(f: Found) -> Item {
        Item { id: f.id, area: f.area, deleted: f.deleted, record: f.record }
    }
}

/// The JSON error answer (`{"error": {"code", "message"}}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code (`unknown_filter`, `invalid_area`, `out_of_scope`, …).
    pub code: String,
    /// An English explanation.
    pub message: String,
}

/// Filters every list takes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string for OpenAPI; parsed by `ListQuery::parse`
pub struct PageParams {
    /// Only records within this area (any level); must lie within the caller's scope (else 403
    /// `out_of_scope`).
    #[param(example = "320612/004")]
    area: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Records per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `asc` (default): oldest first; `desc`: newest first (by record id, a UUIDv7).
    order: Option<String>,
}

/// Household filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct HouseholdParams {
    /// Search text (≤ 64 characters) over the head's and residents' names and the address:
    /// Chinese characters (`王芳`, `张`), pinyin (`wangfang`, `wf`), digits.
    #[param(example = "王芳")]
    q: Option<String>,
    /// Households with this tag code (`elderly_alone`, `rental`, …).
    tag: Option<String>,
}

/// Resident filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ResidentParams {
    /// Search text (≤ 64 characters) over the resident's name.
    q: Option<String>,
    /// Residents of this household.
    household: Option<Uuid>,
}

/// Visit and patrol filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TimeParams {
    /// At or after this time (RFC 3339, or ms since the epoch): visited / started.
    from: Option<String>,
    /// Before this time.
    to: Option<String>,
    /// By this user (visitor / patrolling worker).
    worker: Option<Uuid>,
    /// Visits only: to this household.
    household: Option<Uuid>,
}

/// Work-order filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct WorkOrderParams {
    /// State code (`reported`, `accepted`, `dispatched`, …).
    state: Option<String>,
    /// Severity code (`urgent`, `important`, `ordinary`).
    severity: Option<String>,
    /// Category code.
    category: Option<String>,
    /// `true`: open orders; `false`: closed ones.
    open: Option<bool>,
    /// `true`: open orders past their deadline; `false`: all others.
    overdue: Option<bool>,
    /// A work queue: `to_accept`, `to_dispatch`, `returned`, `to_sign`, `to_handle` (judged by
    /// the `department` asked, else the caller's own departments, else any), `to_verify`,
    /// `to_close`, `extensions`, `conflicts`, `supervised`.
    queue: Option<String>,
    /// A department code: orders dispatched to it that it still works.
    department: Option<String>,
    /// Search text over the title and the start of the description.
    q: Option<String>,
}

/// Task filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TaskParams {
    /// `true`: tasks not completed; `false`: completed ones.
    open: Option<bool>,
}

/// The backend's query store, or 503 when it keeps no read model.
fn store(st: &AppState) -> ApiResult<&dyn QueryStore> {
    st.store.query().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_read_model",
            "this server keeps no read model",
        )
    })
}

/// Lists one page of `listed` for `caller`.
async fn list(
    caller: &Caller,
    st: &AppState,
    listed: Listed,
    pairs: &[(String, String)],
) -> ApiResult<Json<Page>> {
    let mut q = ListQuery::parse(listed, pairs)?;
    q.own_departments = caller.departments().to_vec();
    let scopes = scope::check(
        caller.grants(),
        caller.departments(),
        listed.kind(),
        listed.segment(),
        q.area.as_ref(),
    )?;
    let qs = store(st)?;
    let mut found = qs.find(&sql::list(qs.dialect(), &q, &scopes, now_ms())).await?;
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|f| cursor::encode(f.id, q.newest_first))
    } else {
        None
    };
    Ok(Json(Page { items: found.into_iter().map(Item::from).collect(), next_cursor }))
}

fn record_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request("invalid_id", "the record id is not a UUID"))
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what} within your scope"))
}

/// One record of `listed` for `caller`: 404 when it does not exist or lies outside their scope
/// (the two are not told apart).
async fn one(caller: &Caller, st: &AppState, listed: Listed, id: &str) -> ApiResult<Json<Item>> {
    let id = record_id(id)?;
    let scopes =
        scope::check(caller.grants(), caller.departments(), listed.kind(), listed.segment(), None)?;
    let qs = store(st)?;
    let found = qs.find(&sql::one(qs.dialect(), listed, id, &scopes)).await?;
    found.into_iter().next().map(|f| Json(Item::from(f))).ok_or_else(|| not_found("record"))
}

/// A resident's sensitive data (ID card, health, key population, relief), only for roles that
/// may read it: 403 `no_record_access` for others, 404 when the resident is not within the
/// caller's scope or has no sensitive record.
#[utoipa::path(
    get, path = "/api/v1/residents/{id}/sensitive", tag = "records",
    params(("id" = Uuid, Path, description = "The resident's id")),
    responses(
        (status = 200, description = "The resident's sensitive record", body = Item),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No or unknown credential", body = ErrorBody),
        (status = 403, description = "The caller's roles may not read sensitive data", body = ErrorBody),
        (status = 404, description = "No such resident, or no sensitive record, within scope", body = ErrorBody),
    ),
    security(("device" = []))
)]
pub async fn sensitive(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Item>> {
    let resident = one(&caller, &st, Listed::Residents, &id).await?.0;
    let kind = gridwork_core::RecordKind::Sensitive;
    let scopes = scope::check(caller.grants(), caller.departments(), kind, "sensitive data", None)?;
    let qs = store(&st)?;
    let found = qs.find(&sql::sensitive_of(qs.dialect(), resident.id, &scopes)).await?;
    let item =
        found.into_iter().next().map(Item::from).ok_or_else(|| not_found("sensitive record"))?;
    // Who read whose sensitive data is kept (数据安全: 履职留痕).
    let (user_id, device_id, actor_id) = match &caller {
        Caller::Device(d, _) => (Some(d.user.id), Some(d.device.id), None),
        Caller::Staff(s, _) => (Some(s.user_id), None, Some(s.user_id)),
        Caller::AdminToken => (None, None, None),
    };
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id,
            device_id,
            action: AuditAction::ReadSensitive,
            count: 1,
            areas: vec![item.area.clone()],
            detail: format!("resident {}", resident.id),
            actor_id,
        })
        .await?;
    Ok(Json(item))
}

/// The list and lookup handlers of one kind, with their OpenAPI descriptions.
macro_rules! kind_routes {
    ($list:ident, $one:ident, $listed:expr, $path:literal, $id_path:literal, $params:ty, $what:literal) => {
        #[doc = concat!("Lists ", $what, " within the caller's scope, one page at a time.")]
        #[utoipa::path(
            get, path = $path, tag = "records",
            params(PageParams, $params),
            responses(
                (status = 200, description = concat!("A page of ", $what), body = Page),
                (status = 400, description = "Unknown filter, bad value, area, cursor, limit or `q`", body = ErrorBody),
                (status = 401, description = "No or unknown credential", body = ErrorBody),
                (status = 403, description = "Area outside the caller's scope, or roles that read none of these", body = ErrorBody),
            ),
            security(("device" = []))
        )]
        pub async fn $list(
            caller: Caller,
            State(st): State<AppState>,
            Query(pairs): Query<Vec<(String, String)>>,
        ) -> ApiResult<Json<Page>> {
            list(&caller, &st, $listed, &pairs).await
        }

        #[doc = concat!("One of the ", $what, " by id, within the caller's scope.")]
        #[utoipa::path(
            get, path = $id_path, tag = "records",
            params(("id" = Uuid, Path, description = "Record id")),
            responses(
                (status = 200, description = "The record", body = Item),
                (status = 400, description = "Bad id", body = ErrorBody),
                (status = 401, description = "No or unknown credential", body = ErrorBody),
                (status = 403, description = "Roles that read none of these", body = ErrorBody),
                (status = 404, description = "No such record within the caller's scope", body = ErrorBody),
            ),
            security(("device" = []))
        )]
        pub async fn $one(
            caller: Caller,
            State(st): State<AppState>,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Item>> {
            one(&caller, &st, $listed, &id).await
        }
    };
}

kind_routes!(
    list_households,
    get_household,
    Listed::Households,
    "/api/v1/households",
    "/api/v1/households/{id}",
    HouseholdParams,
    "households"
);
kind_routes!(
    list_residents,
    get_resident,
    Listed::Residents,
    "/api/v1/residents",
    "/api/v1/residents/{id}",
    ResidentParams,
    "residents"
);
kind_routes!(
    list_visits,
    get_visit,
    Listed::Visits,
    "/api/v1/visits",
    "/api/v1/visits/{id}",
    TimeParams,
    "visits"
);
kind_routes!(
    list_patrols,
    get_patrol,
    Listed::Patrols,
    "/api/v1/patrols",
    "/api/v1/patrols/{id}",
    TimeParams,
    "patrols"
);
kind_routes!(
    list_work_orders,
    get_work_order,
    Listed::WorkOrders,
    "/api/v1/work-orders",
    "/api/v1/work-orders/{id}",
    WorkOrderParams,
    "work orders"
);
kind_routes!(
    list_tasks,
    get_task,
    Listed::Tasks,
    "/api/v1/tasks",
    "/api/v1/tasks/{id}",
    TaskParams,
    "tasks"
);

/// The query routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/households", get(list_households))
        .route("/api/v1/households/{id}", get(get_household))
        .route("/api/v1/residents", get(list_residents))
        .route("/api/v1/residents/{id}", get(get_resident))
        .route("/api/v1/residents/{id}/sensitive", get(sensitive))
        .route("/api/v1/visits", get(list_visits))
        .route("/api/v1/visits/{id}", get(get_visit))
        .route("/api/v1/patrols", get(list_patrols))
        .route("/api/v1/patrols/{id}", get(get_patrol))
        .route("/api/v1/work-orders", get(list_work_orders))
        .route("/api/v1/work-orders/{id}", get(get_work_order))
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/tasks/{id}", get(get_task))
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        let (status, code) = match e {
            QueryError::UnknownFilter { .. } => (StatusCode::BAD_REQUEST, "unknown_filter"),
            QueryError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_filter"),
            QueryError::Area(_) => (StatusCode::BAD_REQUEST, "invalid_area"),
            QueryError::Cursor => (StatusCode::BAD_REQUEST, "invalid_cursor"),
            QueryError::Limit => (StatusCode::BAD_REQUEST, "invalid_limit"),
            QueryError::QueryTooLong => (StatusCode::BAD_REQUEST, "query_too_long"),
            QueryError::OutOfScope { .. } => (StatusCode::FORBIDDEN, "out_of_scope"),
            QueryError::NoAccess { .. } => (StatusCode::FORBIDDEN, "no_record_access"),
        };
        ApiError::new(status, code, e.to_string())
    }
}
