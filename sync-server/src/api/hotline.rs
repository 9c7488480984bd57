//! The 12345 hotline exchange over HTTP (`docs/12345-exchange.md`): the platform's signed
//! endpoints under `/hotline/v1` and the sync admin's under `/admin/v1/hotline`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, admin_auth, parse_json};
use crate::error::{ApiError, ApiResult};
use crate::hotline::inbound::{self, CreateOrder, Outcome, UpdateOrder};
use crate::hotline::outbox::{self, Step};
use crate::hotline::platform::{Platform, valid_id};
use crate::hotline::reconcile;
use crate::hotline::{HotlineError, auth};
use crate::store::hotline::{HELD, OutboxItem};
use crate::store::{AuditAction, AuditEntry, now_ms};

/// Largest body of a hotline request (uploaded attachments included, base64); larger: 413
/// `payload_too_large`. Each upload is limited on its own (`uploads::MAX_UPLOAD_BYTES`).
pub const HOTLINE_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Most items of one page of events or dead letters.
pub const MAX_PAGE: u32 = 500;

/// The platform's routes (`/hotline/v1/…`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hotline/v1/orders", post(create_order))
        .route("/hotline/v1/orders/{number}", get(order_state))
        .route("/hotline/v1/orders/{number}/updates", post(update_order))
        .route("/hotline/v1/orders/{number}/photos/{hash}", get(order_photo))
        .route("/hotline/v1/events", get(events))
}

/// The sync admin's routes (mounted under `/admin/v1`).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/hotline/platforms", get(list_platforms))
        .route("/hotline/platforms/{id}", put(put_platform))
        .route("/hotline/held", get(held))
        .route("/hotline/dead-letters", get(dead_letters))
        .route("/hotline/dead-letters/{id}/retry", post(retry_dead_letter))
        .route("/hotline/reconciliation", get(reconciliation))
        .route("/hotline/reconciliation/run", post(run_reconciliation))
}

/// Runs an inbound message's handling in its own task: a platform that hangs up mid-request
/// does not cut the handling (and its order lease) short.
async fn detached(
    work: impl std::future::Future<Output = ApiResult<Outcome>> + Send + 'static,
) -> ApiResult<Response> {
    match tokio::spawn(work).await {
        Ok(outcome) => Ok(answer(outcome?)),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the message's handling failed: {e}"),
        )),
    }
}

fn path_of(uri: &Uri) -> &str {
    uri.path_and_query().map_or(uri.path(), |p| p.as_str())
}

async fn signed(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(String, Platform)> {
    Ok(auth::authenticate(&st.store, headers, method.as_str(), path_of(uri), body).await?)
}

fn answer(o: Outcome) -> Response {
    let status = StatusCode::from_u16(o.status).unwrap_or(StatusCode::OK);
    (status, Json(o.body)).into_response()
}

#[utoipa::path(
    post, path = "/hotline/v1/orders", tag = "hotline",
    request_body(content_type = "application/json", description = "The hotline order (docs/12345-exchange.md, \"Create\"); attachments by link `{url, name, size}` or uploaded `{content_base64, mime: image/…, name}` (at most 5 MiB decoded each; the body at most 16 MiB)"),
    responses(
        (status = 201, description = "A work order was made", content_type = "application/json"),
        (status = 200, description = "The order number was received before: the same work order", content_type = "application/json"),
        (status = 202, description = "Held: a value no mapping knows (`unmapped` lists them)", content_type = "application/json"),
        (status = 400, description = "Malformed body or a bad field (named)", body = super::query::ErrorBody),
        (status = 401, description = "Unknown platform, bad signature, expired timestamp, replay", body = super::query::ErrorBody),
        (status = 413, description = "An attachment (`attachment_too_large`, naming which) or the body (`payload_too_large`) is too large", body = super::query::ErrorBody),
        (status = 503, description = "The order is being handled by another request (`order_busy`): send again", body = super::query::ErrorBody),
    )
)]
/// `POST /hotline/v1/orders`: a new hotline order.
///
/// # Errors
/// 401 for the signature; 400/413 for the message; the work order's refusals.
pub async fn create_order(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (id, platform) = signed(&st, &method, &uri, &headers, &body).await?;
    let msg: CreateOrder = parse_json(&body)?;
    drop(body);
    detached(async move { inbound::create(&st, &id, &platform, &msg).await }).await
}

#[utoipa::path(
    post, path = "/hotline/v1/orders/{number}/updates", tag = "hotline",
    params(("number" = String, Path, description = "The hotline's order number")),
    request_body(content_type = "application/json", description = "`{message_id, kind: supplement|urge|withdraw, text}`"),
    responses(
        (status = 200, description = "Applied (or a repeat of an applied message)", content_type = "application/json"),
        (status = 202, description = "Waiting: its order's create has not arrived or is held", content_type = "application/json"),
        (status = 400, description = "Malformed body or a bad field (named)", body = super::query::ErrorBody),
        (status = 401, description = "Unknown platform, bad signature, expired timestamp, replay", body = super::query::ErrorBody),
        (status = 409, description = "The order's state refuses the step (`step_refused`)", body = super::query::ErrorBody),
    )
)]
/// `POST /hotline/v1/orders/{number}/updates`: supplement, urge or withdraw.
///
/// # Errors
/// 401 for the signature; 400 for the message.
pub async fn update_order(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let (id, platform) = signed(&st, &method, &uri, &headers, &body).await?;
    let msg: UpdateOrder = parse_json(&body)?;
    detached(async move { inbound::update(&st, &id, &platform, &number, &msg).await }).await
}

#[utoipa::path(
    get, path = "/hotline/v1/orders/{number}", tag = "hotline",
    params(("number" = String, Path, description = "The hotline's order number")),
    responses(
        (status = 200, description = "The order's state in Gridwork", content_type = "application/json"),
        (status = 401, description = "Unknown platform, bad signature, expired timestamp, replay", body = super::query::ErrorBody),
        (status = 404, description = "No such hotline order", body = super::query::ErrorBody),
    )
)]
/// `GET /hotline/v1/orders/{number}`: the order's state.
///
/// # Errors
/// 401 for the signature; 404 for an unknown order.
pub async fn order_state(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> ApiResult<Json<Value>> {
    let (id, platform) = signed(&st, &method, &uri, &headers, &[]).await?;
    Ok(Json(inbound::state(&st, &id, &platform, &number).await?))
}

#[utoipa::path(
    get, path = "/hotline/v1/orders/{number}/photos/{hash}", tag = "hotline",
    params(
        ("number" = String, Path, description = "The hotline's order number"),
        ("hash" = String, Path, description = "The photo's SHA-256 (64 hex digits), as a step lists it"),
    ),
    responses(
        (status = 200, description = "The photo's bytes (a `Range` request gets 206)", content_type = "application/octet-stream"),
        (status = 401, description = "Unknown platform, bad signature, expired timestamp, replay", body = super::query::ErrorBody),
        (status = 404, description = "No such hotline order (`unknown_order`), or the order has no such photo (`attachment_not_found`)", body = super::query::ErrorBody),
    )
)]
/// `GET /hotline/v1/orders/{number}/photos/{hash}`: a photo of the platform's own order (the
/// ones its steps list), for the call-back to the citizen.
///
/// # Errors
/// 401 for the signature; 404 for an unknown order or a photo it does not have.
pub async fn order_photo(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path((number, hash)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (id, platform) = signed(&st, &method, &uri, &headers, &[]).await?;
    inbound::check_order_photo(&st, &id, &platform, &number, &hash).await?;
    super::attachments::send_authorised(&st, &hash, &headers).await
}

/// `GET /hotline/v1/events` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The last queue position received (0: from the start).
    #[serde(default)]
    pub cursor: i64,
    /// Most events (default and maximum [`MAX_PAGE`]).
    pub limit: Option<u32>,
}

fn step_of(item: &OutboxItem) -> Value {
    let step: Value = serde_json::from_str::<Step>(&item.body)
        .ok()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null);
    json!({ "cursor": item.id, "step": step })
}

#[utoipa::path(
    get, path = "/hotline/v1/events", tag = "hotline",
    params(
        ("cursor" = Option<i64>, Query, description = "The last cursor received (0: from the start)"),
        ("limit" = Option<u32>, Query, description = "Most events (at most 500)"),
    ),
    responses(
        (status = 200, description = "`{events: [{cursor, step}], next_cursor}`, oldest first", content_type = "application/json"),
        (status = 401, description = "Unknown platform, bad signature, expired timestamp, replay", body = super::query::ErrorBody),
    )
)]
/// `GET /hotline/v1/events?cursor=`: the platform's steps after `cursor`, whatever their
/// delivery status (a platform that polls instead of, or besides, receiving deliveries).
///
/// # Errors
/// 401 for the signature; 400 for a bad query.
pub async fn events(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let (id, _) = signed(&st, &method, &uri, &headers, &[]).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_input", e.body_text()))?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let items = st.store.hotline().outbox_after(&id, q.cursor.max(0), limit).await?;
    let next = items.last().map_or(q.cursor.max(0), |i| i.id);
    Ok(Json(
        json!({ "events": items.iter().map(step_of).collect::<Vec<_>>(), "next_cursor": next }),
    ))
}

/// `GET /admin/v1/hotline/platforms`: every platform (secrets left out).
///
/// # Errors
/// 401; storage errors.
pub async fn list_platforms(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let mut out = Vec::new();
    for (id, raw) in st.store.hotline().platforms().await? {
        let shown =
            serde_json::from_str::<Platform>(&raw).map(|p| p.redacted()).unwrap_or(Value::Null);
        out.push(json!({ "id": id, "platform": shown }));
    }
    Ok(Json(json!({ "platforms": out })))
}

/// `PUT /admin/v1/hotline/platforms/{id}`: adds or replaces a platform; the orders it holds for
/// mapping are tried again with the new mapping.
///
/// # Errors
/// 400 `invalid_input` naming the field; 401; storage errors.
pub async fn put_platform(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = admin_auth(&st, &headers).await?;
    if !valid_id(&id) {
        return Err(HotlineError::invalid(
            "id",
            "1–32 lowercase ASCII letters, digits, `_` or `-`",
        )
        .into());
    }
    let p: Platform = parse_json(&body)?;
    p.validate()?;
    let raw = serde_json::to_string(&p)
        .map_err(|e| ApiError::from(crate::store::StoreError::Corrupt(e.to_string())))?;
    st.store.hotline().put_platform(&id, &raw, now_ms()).await?;
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: None,
            device_id: None,
            action: AuditAction::Admin,
            count: 1,
            areas: vec![p.area.as_str().to_owned()],
            detail: format!("hotline platform {id} ({})", p.name),
            actor_id: actor.person_id(),
        })
        .await?;
    let made = inbound::retry_held(&st, &id, &p).await?;
    Ok(Json(json!({ "id": id, "platform": p.redacted(), "held_orders_made": made })))
}

/// `GET /admin/v1/hotline/held`: the orders held for a person to map, with the values missing.
///
/// # Errors
/// 401; storage errors.
pub async fn held(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let held = st.store.hotline().messages(None, None, HELD).await?;
    let items: Vec<Value> = held
        .iter()
        .map(|m| {
            let unmapped: Value = serde_json::from_str(&m.detail).unwrap_or(Value::Null);
            json!({ "platform": m.platform, "order_number": m.order_number,
                    "message_id": m.message_id, "received_at": m.received_at,
                    "unmapped": unmapped })
        })
        .collect();
    Ok(Json(json!({ "held": items })))
}

/// `GET /admin/v1/hotline/dead-letters`: the steps whose delivery gave up.
///
/// # Errors
/// 401; storage errors.
pub async fn dead_letters(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    Ok(Json(json!({ "dead_letters": st.store.hotline().outbox_dead(MAX_PAGE).await? })))
}

/// `POST /admin/v1/hotline/dead-letters/{id}/retry`: puts a dead letter back in the queue.
///
/// # Errors
/// 401; 404 when `id` is not a dead letter.
pub async fn retry_dead_letter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    if !st.store.hotline().outbox_retry(id, now_ms()).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no dead letter {id}"),
        ));
    }
    Ok(Json(json!({ "id": id, "status": "pending" })))
}

/// `GET /admin/v1/hotline/reconciliation` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// One platform only.
    pub platform: Option<String>,
}

#[utoipa::path(
    get, path = "/admin/v1/hotline/reconciliation", tag = "hotline",
    params(("platform" = Option<String>, Query, description = "One platform only")),
    responses(
        (status = 200, description = "`{latest: [{run, mismatches: [{order_number, kind, gridwork_state, platform_state, detail}]}], runs: [...]}`", content_type = "application/json"),
        (status = 401, description = "Not a sync admin", body = super::query::ErrorBody),
    )
)]
/// `GET /admin/v1/hotline/reconciliation`: the latest finished run of each platform with its
/// mismatches, and the recent runs.
///
/// # Errors
/// 401; storage errors.
pub async fn reconciliation(
    State(st): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_input", e.body_text()))?;
    let mut latest = Vec::new();
    for run in reconcile::latest(&st).await? {
        if q.platform.as_ref().is_some_and(|p| *p != run.platform) {
            continue;
        }
        let mismatches = st.store.hotline().mismatches(run.id).await?;
        latest.push(json!({ "run": run, "mismatches": mismatches }));
    }
    let runs = st.store.hotline().reconciliations(q.platform.as_deref(), 50).await?;
    Ok(Json(json!({ "latest": latest, "runs": runs })))
}

/// `POST /admin/v1/hotline/reconciliation/run` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The platform to reconcile now.
    pub platform: String,
}

#[utoipa::path(
    post, path = "/admin/v1/hotline/reconciliation/run", tag = "hotline",
    request_body(content_type = "application/json", description = "`{platform}`"),
    responses(
        (status = 200, description = "The finished run and its mismatches", content_type = "application/json"),
        (status = 400, description = "The platform has no `reconcile` setting (`invalid_input`)", body = super::query::ErrorBody),
        (status = 401, description = "Not a sync admin", body = super::query::ErrorBody),
        (status = 404, description = "No such platform", body = super::query::ErrorBody),
    )
)]
/// `POST /admin/v1/hotline/reconciliation/run`: reconciles one platform now and answers the
/// run (`failed` with the reason when the platform could not be asked).
///
/// # Errors
/// 400 without a `reconcile` setting; 401; 404 for an unknown platform; storage errors.
pub async fn run_reconciliation(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    admin_auth(&st, &headers).await?;
    let b: RunBody = parse_json(&body)?;
    let p = match Platform::load(&st.store, &b.platform).await {
        Err(HotlineError::UnknownPlatform(id)) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no hotline platform `{id}`"),
            ));
        }
        other => other?,
    };
    if p.reconcile.is_none() {
        return Err(HotlineError::invalid("platform", "has no `reconcile` setting").into());
    }
    let slot = format!("admin-{}", uuid::Uuid::now_v7());
    let run_id = st
        .store
        .hotline()
        .reconciliation_start(&b.platform, &slot, "admin", now_ms())
        .await?
        .ok_or_else(|| {
            ApiError::from(crate::store::StoreError::Corrupt("run slot taken".into()))
        })?;
    let http = outbox::http_client()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    reconcile::run_one(&st, &http, &b.platform, &p, run_id).await?;
    let run = st
        .store
        .hotline()
        .reconciliations(Some(&b.platform), 20)
        .await?
        .into_iter()
        .find(|r| r.id == run_id);
    let mismatches = st.store.hotline().mismatches(run_id).await?;
    Ok(Json(json!({ "run": run, "mismatches": mismatches })))
}
