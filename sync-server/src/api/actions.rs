//! Actions people take on records through the server (DESIGN §8): a step on a work order
//! (`POST /api/v1/work-orders/{id}/actions`) and issuing a task (`POST /api/v1/tasks`). Each is a
//! server-authored change ([`crate::authoring`]) made in the acting person's name, through the
//! one write path; the answer reads the person's own write. Refusals are the core's errors
//! (`illegal_transition`, `role_not_allowed`, `invalid_input`…) or the ingest's, as JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use chrono::{DateTime, Utc};
use gridwork_core::attachment::MAX_PHOTOS;
use gridwork_core::work_order::{EventType, WorkOrderAction, WorkOrderSummary};
use gridwork_core::{AreaPath, PhotoRef, TaskInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, parse_json, person_departments};
use crate::authoring::{self, Author, Authored};
use crate::error::{ApiError, ApiResult};
use crate::staff::StaffError;
use crate::staff::session::{has_session_cookie, staff_session};
use crate::uploads::{self, UploadError};

/// Who acts: resolved from the request's credential — a staff member's session cookie (with
/// its CSRF token: every action is a `POST`), or a device credential (the device's person acting
/// through the server).
///
/// # Errors
/// 401 for a missing or unknown credential; 403 `device_revoked`; a session's refusals
/// (`crate::staff::StaffError`); storage errors.
pub async fn acting_person(st: &AppState, headers: &HeaderMap) -> ApiResult<Author> {
    if !headers.contains_key(header::AUTHORIZATION) && has_session_cookie(headers) {
        let s = staff_session(st, headers, &Method::POST).await?;
        let user = st.store.get_user(s.user_id).await?.ok_or(StaffError::BadSession)?;
        let departments = person_departments(st, &user).await?;
        return Ok(Author::new(user, departments));
    }
    let auth = super::device_auth(st, headers).await?;
    if auth.device.revoked {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "device_revoked",
            "this device is revoked",
        ));
    }
    let departments = person_departments(st, &auth.user).await?;
    Ok(Author::new(auth.user, departments))
}

/// `POST /api/v1/work-orders/{id}/actions` body: the step, without a time (the server's clock
/// dates it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// `accept`, `dispatch`, `sign`, `handle`, `feedback`, `return`, `request_extension`,
    /// `escalate`, `verify`, `close`, `reopen`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The department (a code of the registry) a dispatch goes to, or a department step is for.
    #[serde(default)]
    pub department: Option<String>,
    /// What was done, why, the resident's words.
    #[serde(default)]
    pub note: Option<String>,
    /// Hours asked for by an extension request.
    #[serde(default)]
    pub extension_hours: Option<u32>,
    /// The resident's satisfaction (1–5) given at a verify's call-back.
    #[serde(default)]
    pub satisfaction: Option<u8>,
    /// The step's own photos (the finished work with a feedback…), at most 20.
    #[serde(default)]
    pub photos: Vec<PhotoUpload>,
}

/// A photo sent with a step: its bytes base64-encoded inside the JSON body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoUpload {
    /// Its type: `image/jpeg`, `image/png`…
    pub mime: String,
    /// The bytes, base64 (standard alphabet, padded); at most 5 MiB decoded.
    pub content_base64: String,
}

/// The photos a step stored: the references it carries, and the hashes the server did not hold
/// before (taken back if the step is refused).
struct StoredPhotos {
    refs: Vec<PhotoRef>,
    new: Vec<[u8; 32]>,
}

/// Decodes and stores the photos of a step as the server's attachments, all checked before any
/// is stored (the step is checked after: see [`StoredPhotos`]).
///
/// # Errors
/// 400 `invalid_input` naming `photos` (too many, not an image type, not base64, empty); 413
/// `attachment_too_large`; storage errors.
async fn store_photos(st: &AppState, photos: &[PhotoUpload]) -> ApiResult<StoredPhotos> {
    if photos.len() > MAX_PHOTOS {
        return Err(invalid("photos", format!("at most {MAX_PHOTOS} photos per step")));
    }
    let refused = |e: UploadError| match e {
        UploadError::TooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large", e.to_string())
        }
        UploadError::Invalid { .. } => invalid("photos", e),
        UploadError::Store(e) => e.into(),
    };
    let mut decoded = Vec::new();
    for (index, p) in photos.iter().enumerate() {
        if !uploads::is_image_mime(&p.mime) {
            return Err(invalid("photos", format!("photo {index}: `mime` must be image/…")));
        }
        decoded.push((uploads::decode(index, &p.content_base64).map_err(refused)?, &p.mime));
    }
    let mut stored = StoredPhotos { refs: Vec::new(), new: Vec::new() };
    for (bytes, mime) in decoded {
        let (photo, new) = uploads::store(&st.store, &bytes, mime).await.map_err(refused)?;
        if new {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&photo.hash, &mut hash).map_err(|e| {
                ApiError::from(crate::store::StoreError::Corrupt(format!("photo hash: {e}")))
            })?;
            stored.new.push(hash);
        }
        stored.refs.push(photo);
    }
    Ok(stored)
}

/// Takes back the photos a refused step brought that the server did not hold before: nothing
/// refers to them (a phone that later uploads the same bytes stores them again).
async fn discard_photos(st: &AppState, stored: &StoredPhotos) {
    for hash in &stored.new {
        if let Err(e) = st.store.discard_attachment(*hash).await {
            tracing::warn!(hash = %hex::encode(hash), error = %e, "a refused step's photo stays");
        }
    }
}

/// What an action answers: the change and the record after it.
#[derive(Debug, Serialize)]
pub struct Done<T> {
    /// The change's position in the log.
    pub seq: u64,
    /// When the server received it (ms since the epoch).
    pub received_at: i64,
    /// Whether the read model had folded it when answering (lists show it already).
    pub read_model_caught_up: bool,
    /// The record (or its state) after the action.
    pub record: T,
}

impl<T> Done<T> {
    fn of(change: &Authored, record: T) -> Self {
        Done {
            seq: change.seq,
            received_at: change.received_at,
            read_model_caught_up: change.read_model_caught_up,
            record,
        }
    }
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_input", format!("{field}: {message}"))
}

/// `POST /api/v1/work-orders/{id}/actions`: takes a step on a work order.
///
/// The answer: `{seq, received_at, read_model_caught_up, record}`, the record being the order's
/// summary after the step (state, departments, deadline, events, conflicts).
#[utoipa::path(
    post, path = "/api/v1/work-orders/{id}/actions", tag = "actions",
    params(("id" = Uuid, Path, description = "The work order's id")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The step was logged; the order after it", content_type = "application/json"),
        (status = 400, description = "Malformed body, unknown step type, oversized note, a photo that is not an image or not base64", body = super::query::ErrorBody),
        (status = 401, description = "No or unknown credential or session", body = super::query::ErrorBody),
        (status = 403, description = "Role, department or CSRF refusal", body = super::query::ErrorBody),
        (status = 404, description = "No such order within the person's scope", body = super::query::ErrorBody),
        (status = 409, description = "The order's state refuses the step (the core's code)", body = super::query::ErrorBody),
        (status = 413, description = "A photo over 5 MiB (`attachment_too_large`) or a body over 16 MiB", body = super::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
/// # Errors
/// 400 `malformed_json` / `invalid_input`; 413 `attachment_too_large`; 401; 404 for an order outside the person's scope;
/// 409 with the core's code for a step the order's state refuses; 403 `role_not_allowed`,
/// `unknown_department`…
pub async fn act_on_work_order(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Done<WorkOrderSummary>>> {
    let author = acting_person(&st, &headers).await?;
    let id = Uuid::parse_str(&id).map_err(|_| invalid("id", "not a UUID"))?;
    let b: ActionBody = parse_json(&body)?;
    let event_type = EventType::parse(&b.event_type).map_err(|e| invalid("type", e))?;
    if event_type == EventType::Report {
        return Err(invalid("type", "a report creates an order; it is not a step on one"));
    }
    let photos = store_photos(&st, &b.photos).await?;
    let action = WorkOrderAction {
        event_type,
        department: b.department,
        note: b.note,
        extension_hours: b.extension_hours,
        satisfaction: b.satisfaction,
        photos: photos.refs.clone(),
        at: Utc::now(),
    };
    match authoring::work_order::act(&st, &author, id, action).await {
        Ok(done) => Ok(Json(Done::of(&done.change, done.summary))),
        Err(e) => {
            discard_photos(&st, &photos).await;
            Err(e)
        }
    }
}

/// `POST /api/v1/tasks` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    /// The area the task is issued to (it reaches every grid inside it).
    pub area: String,
    /// Title.
    pub title: String,
    /// Instructions.
    #[serde(default)]
    pub instructions: String,
    /// Target households (inside the area); none: all of the area.
    #[serde(default)]
    pub households: Vec<Uuid>,
    /// Due date (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<Utc>>,
    /// The person to carry it out.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// The id of an issued task.
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The task's id.
    pub id: Uuid,
}

/// `POST /api/v1/tasks`: issues a task.
///
/// The answer: `{seq, received_at, read_model_caught_up, record: {id}}`.
#[utoipa::path(
    post, path = "/api/v1/tasks", tag = "actions",
    request_body = TaskBody,
    responses(
        (status = 201, description = "The task was issued", content_type = "application/json"),
        (status = 400, description = "Malformed body or a bad field (named)", body = super::query::ErrorBody),
        (status = 401, description = "No or unknown credential or session", body = super::query::ErrorBody),
        (status = 403, description = "The person may not issue tasks there, or CSRF refusal", body = super::query::ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
/// # Errors
/// 400 `malformed_json` / `invalid_input` naming the field; 401; 403 `forbidden` for a role
/// that may not issue tasks there.
pub async fn issue_task(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Done<Issued>>)> {
    let author = acting_person(&st, &headers).await?;
    let b: TaskBody = parse_json(&body)?;
    let area = AreaPath::parse(&b.area).map_err(|e| invalid("area", e))?;
    let input = TaskInput {
        area,
        title: b.title,
        instructions: b.instructions,
        households: b.households,
        due_at: b.due_at,
        assignee: b.assignee,
    };
    let (id, change) = authoring::task::issue(&st, &author, input).await?;
    Ok((StatusCode::CREATED, Json(Done::of(&change, Issued { id }))))
}
