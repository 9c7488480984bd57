//! The platform's messages: create an order, update it (supplement, urge, withdraw), ask its
//! state.
//!
//! - **Create** makes a work order as a server-authored change by the district's system person
//!   ([`Author::system`]), source `hotline_12345`, the hotline's order number, request, address,
//!   deadline, suggested unit and attachment links written into its description (the core's
//!   documents are unchanged). Idempotent by order number: the hotline order row is written
//!   first with the work order's id, so a repeat — with any message id, concurrent or after a
//!   crash — finds it and makes no second order.
//! - **Updates** are idempotent by message id: a repeat answers what the first did. An update
//!   whose create has not arrived (or is held for mapping) waits and is applied, in arrival
//!   order, right after the create.
//!   - `supplement` appends the text to the order's description (an incident-details edit by
//!     the district centre, allowed while the order is open);
//!   - `urge` (督办) takes an `escalate` step with the text as its note;
//!   - `withdraw` marks the hotline order withdrawn and appends the reason to the description;
//!     the centre closes the order by its own steps (Gridwork's rules close an order only after
//!     feedback), and that close goes back up like any step.

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use gridwork_core::spec::{Decoded, decode};
use gridwork_core::work_order::{
    EventType, IncidentDetails, IncidentInput, IncidentSource, WorkOrderAction, WorkOrderDoc,
    WorkOrderEvent, WorkOrderSpec, WorkOrderSummary, check_event,
};
use gridwork_core::{AreaPath, PhotoRef, RecordKind, RecordSpec, Role, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::HotlineError;
use super::mapping::{self, Mapped, Unmapped};
use super::platform::Platform;
use crate::api::AppState;
use crate::authoring::{self, Author, MAX_ATTEMPTS, commit_and_ingest, core_error, lost_race};
use crate::error::{ApiError, ApiResult};
use crate::store::hotline::{
    APPLIED, HELD, HotlineOrder, InboundMessage, NewMessage, REFUSED, Recorded, WAITING,
};
use crate::store::{StoreError, now_ms};
use crate::uploads;

/// How long a lease on a hotline order lasts (ms): the messages of one order are handled by one
/// holder at a time — across server processes sharing the database — and a holder that died
/// (a crash) is outlasted after this long.
pub const ORDER_LEASE_MS: i64 = 10_000;
/// How long a message waits for its order's lease before the platform is told to retry (503).
pub const ORDER_LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(12);

/// Most attachments of one order.
pub const MAX_ATTACHMENTS: usize = 9;
/// Largest attachment accepted (declared size, bytes).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Longest order number or message id.
pub const MAX_ID_LEN: usize = 64;

/// An attachment: a link (`url` and its declared `size`) or uploaded bytes (`content_base64`
/// and `mime`, an image). An upload is stored as the server's attachment when the message
/// arrives; the message is recorded with its `sha256` and `size` instead of the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Where the platform serves it (`http(s)://`), for a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its file name.
    #[serde(default)]
    pub name: String,
    /// Its size in bytes: declared for a link; the decoded size of an upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its MIME type (`image/…`), for an upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// The uploaded bytes, base64 (standard alphabet, padded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// SHA-256 of an upload (hex): optional from the platform (checked when given), set by the
    /// server once the bytes are stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Attachment {
    /// The stored upload's reference, once [`store_uploads`] ran.
    fn photo(&self) -> Option<PhotoRef> {
        Some(PhotoRef { hash: self.sha256.clone()?, size: self.size?, mime: self.mime.clone()? })
            .filter(|_| self.url.is_none())
    }
}

/// `POST /hotline/v1/orders`: a new hotline order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// The platform's message id.
    pub message_id: String,
    /// The hotline's order number.
    pub order_number: String,
    /// When the hotline received the call.
    pub received_at: DateTime<Utc>,
    /// A short title; the request's start when absent.
    #[serde(default)]
    pub title: Option<String>,
    /// The caller's request (诉求).
    pub request: String,
    /// The address concerned.
    #[serde(default)]
    pub address: String,
    /// The Gridwork area, when the platform knows it; the platform's area otherwise.
    #[serde(default)]
    pub area: Option<String>,
    /// The hotline's category.
    pub category: String,
    /// The hotline's urgency.
    pub urgency: String,
    /// The deadline the hotline imposes.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    /// The handling unit the hotline names.
    #[serde(default)]
    pub handling_unit: Option<String>,
    /// Attachments by URL.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// What an update does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// 补充: more information from the caller.
    Supplement,
    /// 督办: the hotline urges the order.
    Urge,
    /// 撤单: the caller withdrew the request.
    Withdraw,
}

impl UpdateKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Supplement => "supplement",
            UpdateKind::Urge => "urge",
            UpdateKind::Withdraw => "withdraw",
        }
    }
}

/// `POST /hotline/v1/orders/{number}/updates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrder {
    /// The platform's message id.
    pub message_id: String,
    /// What it does.
    pub kind: UpdateKind,
    /// The text: the supplement, the urging note, the withdrawal's reason.
    #[serde(default)]
    pub text: String,
}

/// What a message did: an HTTP status and a JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// 201 created, 200 applied or repeated, 202 waiting or held.
    pub status: u16,
    /// The answer.
    pub body: Value,
}

/// Checks attachment `index`: a link with its declared size, or an image upload.
fn check_attachment(index: usize, a: &Attachment) -> Result<(), HotlineError> {
    let bad =
        |why: &str| HotlineError::invalid("attachments", format!("attachment {index}: {why}"));
    check_text("attachments", &a.name, validate::NAME_MAX)?;
    match (&a.url, &a.content_base64) {
        (Some(url), None) => {
            let size = a.size.ok_or_else(|| bad("a link declares its `size`"))?;
            if size > MAX_ATTACHMENT_BYTES {
                return Err(HotlineError::AttachmentTooLarge {
                    index,
                    size,
                    limit: MAX_ATTACHMENT_BYTES,
                });
            }
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(bad("a URL must be http(s)"));
            }
            check_text("attachments", url, validate::ADDRESS_MAX * 2)
        }
        (None, Some(b64)) => {
            let size = uploads::decoded_len(b64);
            if size > uploads::MAX_UPLOAD_BYTES {
                return Err(HotlineError::AttachmentTooLarge {
                    index,
                    size,
                    limit: uploads::MAX_UPLOAD_BYTES,
                });
            }
            match a.mime.as_deref() {
                Some(m) if uploads::is_image_mime(m) => Ok(()),
                _ => {
                    Err(bad("an upload is an image: `mime` must be image/… (other files by link)"))
                }
            }
        }
        (Some(_), Some(_)) => Err(bad("either `url` or `content_base64`, not both")),
        (None, None) => Err(bad("needs `url` or `content_base64`")),
    }
}

/// Decodes and stores the uploads of `msg` as the server's attachments, replacing each upload's
/// bytes by its `sha256` and `size` (the message is recorded without the bytes).
///
/// # Errors
/// 413/400 for an upload (too large, not base64, a `sha256` that does not match); storage.
async fn store_uploads(st: &AppState, msg: &mut CreateOrder) -> Result<(), HotlineError> {
    // Every upload decoded and checked first: a bad one stores none of them.
    let mut decoded = Vec::new();
    for (index, a) in msg.attachments.iter().enumerate() {
        let Some(b64) = &a.content_base64 else { continue };
        let bytes = uploads::decode(index, b64)?;
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if let Some(given) = &a.sha256
            && !given.eq_ignore_ascii_case(&hash)
        {
            return Err(HotlineError::invalid(
                "attachments",
                format!("attachment {index}: the bytes hash to {hash}, not {given}"),
            ));
        }
        decoded.push((index, bytes));
    }
    for (index, bytes) in decoded {
        let Some(a) = msg.attachments.get_mut(index) else { continue };
        let (photo, _) =
            uploads::store(&st.store, &bytes, a.mime.as_deref().unwrap_or_default()).await?;
        a.content_base64 = None;
        a.sha256 = Some(photo.hash);
        a.size = Some(photo.size);
    }
    Ok(())
}

fn check_id(field: &'static str, v: &str) -> Result<(), HotlineError> {
    if v.is_empty()
        || v.len() > MAX_ID_LEN
        || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(HotlineError::invalid(
            field,
            format!("must be 1–{MAX_ID_LEN} ASCII letters, digits, `-`, `_` or `.`"),
        ));
    }
    Ok(())
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<(), HotlineError> {
    if v.chars().count() > max {
        return Err(HotlineError::invalid(field, format!("longer than {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(HotlineError::invalid(field, "contains control characters"));
    }
    Ok(())
}

impl CreateOrder {
    /// Checks the message, naming the first bad field.
    ///
    /// # Errors
    /// [`HotlineError::Invalid`]; [`HotlineError::AttachmentTooLarge`].
    pub fn validate(&self) -> Result<(), HotlineError> {
        check_id("message_id", &self.message_id)?;
        check_id("order_number", &self.order_number)?;
        if self.request.trim().is_empty() {
            return Err(HotlineError::invalid("request", "is empty"));
        }
        check_text("request", &self.request, validate::NOTE_MAX / 2)?;
        check_text("address", &self.address, validate::ADDRESS_MAX)?;
        if let Some(t) = &self.title {
            check_text("title", t, validate::TITLE_MAX)?;
        }
        check_text("category", &self.category, validate::NAME_MAX)?;
        check_text("urgency", &self.urgency, validate::NAME_MAX)?;
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(HotlineError::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        for (index, a) in self.attachments.iter().enumerate() {
            check_attachment(index, a)?;
        }
        Ok(())
    }

    fn area(&self, platform: &Platform) -> Result<AreaPath, HotlineError> {
        match &self.area {
            Some(a) => {
                let area =
                    AreaPath::parse(a).map_err(|e| HotlineError::invalid("area", e.to_string()))?;
                if !platform.district().contains(&area) {
                    return Err(HotlineError::invalid("area", "outside the platform's district"));
                }
                Ok(area)
            }
            None => Ok(platform.area.clone()),
        }
    }

    /// The work order's title and description.
    fn texts(&self, mapped: &Mapped) -> (String, String) {
        let title = match self.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.to_owned(),
            None => self.request.trim().chars().take(30).collect(),
        };
        let mut d = format!(
            "【12345工单 {}】\n诉求：{}\n来电时间：{}",
            self.order_number,
            self.request.trim(),
            self.received_at.to_rfc3339()
        );
        if !self.address.trim().is_empty() {
            d.push_str(&format!("\n地址：{}", self.address.trim()));
        }
        if let Some(at) = self.deadline {
            d.push_str(&format!("\n热线办理时限：{}", at.to_rfc3339()));
        }
        if let Some(dep) = &mapped.department {
            d.push_str(&format!("\n热线建议承办单位：{dep}"));
        }
        for a in &self.attachments {
            match &a.url {
                Some(url) => d.push_str(&format!("\n附件：{} {url}", a.name)),
                None => d.push_str(&format!("\n附件（照片）：{}", a.name)),
            }
        }
        (title, d)
    }
}

impl UpdateOrder {
    /// Checks the message.
    ///
    /// # Errors
    /// [`HotlineError::Invalid`].
    pub fn validate(&self) -> Result<(), HotlineError> {
        check_id("message_id", &self.message_id)?;
        check_text("text", &self.text, validate::NOTE_MAX / 4)?;
        if self.kind == UpdateKind::Supplement && self.text.trim().is_empty() {
            return Err(HotlineError::invalid("text", "a supplement needs its text"));
        }
        Ok(())
    }
}

/// Runs `work` holding the lease of order `number` (`hotline_claims`): a waiting update is
/// applied once and an order made once even when messages of one order reach several server
/// processes at the same time. Waits up to [`ORDER_LEASE_WAIT`] for another holder.
///
/// # Errors
/// 503 `order_busy` when the lease could not be had in time; storage errors; `work`'s errors.
async fn under_lease<T>(
    st: &AppState,
    platform: &str,
    number: &str,
    work: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let holder = Uuid::now_v7().to_string();
    let hotline = st.store.hotline();
    let give_up = tokio::time::Instant::now() + ORDER_LEASE_WAIT;
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        let now = now_ms();
        if hotline.claim_order(platform, number, &holder, now, now + ORDER_LEASE_MS).await? {
            break;
        }
        if tokio::time::Instant::now() >= give_up {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "order_busy",
                format!("hotline order {number} is being handled; send the message again"),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
    let out = work.await;
    if let Err(e) = hotline.release_order(platform, number, &holder).await {
        tracing::warn!(order = number, error = %e, "hotline order lease not released; it expires");
    }
    out
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::from(StoreError::Corrupt(e.to_string()))
}

/// A hotline work order as the system person reads it: its decoded document and its summary
/// (folded with the server's receive times).
pub struct OrderView {
    /// The document (the system's actor set), for a further edit.
    pub doc: AutoCommit,
    /// The decoded order.
    pub order: Decoded<WorkOrderDoc>,
    /// Its state.
    pub summary: WorkOrderSummary,
}

/// Loads work order `id` as `author` reads it.
///
/// # Errors
/// 404 when the log holds no such order; 500 for a document that does not decode.
pub async fn load_order(st: &AppState, author: &Author, id: Uuid) -> ApiResult<OrderView> {
    let loaded = authoring::load(st, author, RecordKind::WorkOrder, id).await?;
    let order = decode::<WorkOrderSpec>(id, &loaded.doc).map_err(storage)?;
    let received = loaded.received;
    let summary = order.record.summary(
        |h| received.get(h).and_then(|at| DateTime::from_timestamp_millis(*at)),
        Utc::now(),
    );
    Ok(OrderView { doc: loaded.doc, order, summary })
}

/// Checks that `hash` is one of the photos of the platform's order `number` (what a platform
/// may download: its own orders' photos, nothing else on the server).
///
/// # Errors
/// 404 `unknown_order`; 404 `attachment_not_found` for a hash the order does not show.
pub async fn check_order_photo(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    number: &str,
    hash: &str,
) -> ApiResult<()> {
    check_id("order_number", number)?;
    let row = st
        .store
        .hotline()
        .order(platform_id, number)
        .await?
        .ok_or_else(|| HotlineError::UnknownOrder(number.to_owned()))?;
    let view = load_order(st, &Author::system(platform.district()), row.doc_id).await?;
    // The incident's photos and every step's own.
    let shown = <WorkOrderSpec as RecordSpec>::photos(&view.order.record);
    if shown.iter().any(|p| p.hash == hash) {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "attachment_not_found",
        format!("order {number} has no photo {hash}"),
    ))
}

/// Handles a create message.
///
/// # Errors
/// 400/413 for a bad message (nothing recorded); the work order's refusals; storage errors.
pub async fn create(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    msg: &CreateOrder,
) -> ApiResult<Outcome> {
    msg.validate()?;
    let area = msg.area(platform)?;
    let mut msg = msg.clone();
    store_uploads(st, &mut msg).await?;
    let msg = &msg;
    under_lease(
        st,
        platform_id,
        &msg.order_number,
        create_leased(st, platform_id, platform, msg, area),
    )
    .await
}

async fn create_leased(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    msg: &CreateOrder,
    area: AreaPath,
) -> ApiResult<Outcome> {
    if let Some(existing) = st.store.hotline().order(platform_id, &msg.order_number).await?
        && !st.store.doc_areas(&[existing.doc_id]).await?.is_empty()
    {
        let _ = record(st, platform_id, &msg.order_number, &msg.message_id, "create", msg, APPLIED)
            .await?;
        return Ok(Outcome { status: 200, body: created_body(&existing, true) });
    }
    let id = match record(st, platform_id, &msg.order_number, &msg.message_id, "create", msg, HELD)
        .await?
    {
        Recorded::New(id) => id,
        // Held, or recorded before a failure or crash left the order unmade: try again (the
        // mapping may have changed; an order row already written is reused).
        Recorded::Duplicate(m) => m.id,
    };
    apply_create(st, platform_id, platform, msg, area, id).await
}

/// Tries a recorded create (new, or held and retried after a mapping change).
async fn apply_create(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    msg: &CreateOrder,
    area: AreaPath,
    message: i64,
) -> ApiResult<Outcome> {
    let departments = st.store.departments().list_departments().await?;
    let mapped = match mapping::map(
        &platform.mapping,
        &departments,
        &msg.category,
        &msg.urgency,
        msg.handling_unit.as_deref(),
    ) {
        Ok(m) => m,
        Err(unmapped) => {
            let detail = serde_json::to_string(&unmapped).map_err(storage)?;
            st.store.hotline().set_message_status(message, HELD, &detail).await?;
            return Ok(held_outcome(&msg.order_number, &detail));
        }
    };
    let row = HotlineOrder {
        platform: platform_id.to_owned(),
        order_number: msg.order_number.clone(),
        doc_id: Uuid::now_v7(),
        created_at: now_ms(),
        withdrawn: false,
    };
    // The row first: a concurrent or repeated create finds it and makes no second order.
    let row = if st.store.hotline().add_order(&row).await? {
        row
    } else {
        match st.store.hotline().order(platform_id, &msg.order_number).await? {
            Some(existing) => existing,
            None => return Err(storage("a hotline order row vanished")),
        }
    };
    let author = Author::system(platform.district());
    if st.store.doc_areas(&[row.doc_id]).await?.is_empty() {
        write_order(st, &author, row.doc_id, msg, &mapped, area).await?;
    }
    st.store.hotline().set_message_status(message, APPLIED, "").await?;
    apply_waiting(st, platform_id, platform, &row).await?;
    Ok(Outcome { status: 201, body: created_body(&row, false) })
}

async fn write_order(
    st: &AppState,
    author: &Author,
    id: Uuid,
    msg: &CreateOrder,
    mapped: &Mapped,
    area: AreaPath,
) -> ApiResult<()> {
    let (title, description) = msg.texts(mapped);
    let input = IncidentInput {
        area: area.clone(),
        category: mapped.category.clone(),
        severity: mapped.severity,
        title,
        description,
        location: None,
        photos: msg.attachments.iter().filter_map(Attachment::photo).collect(),
        source: IncidentSource::Hotline,
        household_id: None,
        patrol_id: None,
        reported_at: msg.received_at,
    };
    input
        .validate(&gridwork_core::work_order::CategoryList::default())
        .map_err(|e| core_error(&e))?;
    let user_id = author.user.id.to_string();
    let report =
        WorkOrderEvent::new(EventType::Report, &user_id, Role::DistrictCentre, msg.received_at);
    check_event(&WorkOrderSummary::new(input.severity), &report)
        .map_err(|e| core_error(&e.into()))?;
    let mut doc = gridwork_core::author::new_document(
        RecordKind::WorkOrder,
        &area,
        &user_id,
        &author.actor(),
        now_ms(),
    )
    .map_err(|e| core_error(&e))?;
    input.write_report(&mut doc, &report).map_err(|e| core_error(&e))?;
    commit_and_ingest(st, author, &mut doc, (id, RecordKind::WorkOrder, area), "report_incident")
        .await?;
    Ok(())
}

fn created_body(row: &HotlineOrder, repeated: bool) -> Value {
    json!({
        "status": "created",
        "order_number": row.order_number,
        "work_order_id": row.doc_id,
        "repeated": repeated,
    })
}

fn held_outcome(number: &str, detail: &str) -> Outcome {
    let unmapped: Vec<Unmapped> = serde_json::from_str(detail).unwrap_or_default();
    Outcome {
        status: 202,
        body: json!({ "status": "held_for_mapping", "order_number": number, "unmapped": unmapped }),
    }
}

async fn record<T: Serialize>(
    st: &AppState,
    platform: &str,
    number: &str,
    message_id: &str,
    kind: &str,
    msg: &T,
    status: &str,
) -> ApiResult<Recorded> {
    let body = serde_json::to_string(msg).map_err(storage)?;
    Ok(st
        .store
        .hotline()
        .record_message(&NewMessage {
            platform,
            order_number: number,
            message_id,
            kind,
            body: &body,
            status,
            received_at: now_ms(),
        })
        .await?)
}

/// Handles an update message.
///
/// # Errors
/// 400 for a bad message (nothing recorded); storage errors. A step the order's rules refuse
/// is recorded as refused and answered 409 (the same on a repeat).
pub async fn update(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    number: &str,
    msg: &UpdateOrder,
) -> ApiResult<Outcome> {
    check_id("order_number", number)?;
    msg.validate()?;
    under_lease(st, platform_id, number, update_leased(st, platform_id, platform, number, msg))
        .await
}

async fn update_leased(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    number: &str,
    msg: &UpdateOrder,
) -> ApiResult<Outcome> {
    let kind = msg.kind.as_str();
    let id = match record(st, platform_id, number, &msg.message_id, kind, msg, WAITING).await? {
        Recorded::New(id) => id,
        Recorded::Duplicate(m) => return Ok(repeated(&m)),
    };
    let Some(row) = st.store.hotline().order(platform_id, number).await? else {
        return Ok(waiting_outcome(number, kind));
    };
    let done = apply_waiting(st, platform_id, platform, &row).await?;
    Ok(match done.into_iter().find(|m| m.id == id) {
        Some(m) => repeated_fresh(&m),
        None => waiting_outcome(number, kind),
    })
}

fn waiting_outcome(number: &str, kind: &str) -> Outcome {
    Outcome {
        status: 202,
        body: json!({ "status": "waiting_for_create", "order_number": number, "kind": kind }),
    }
}

fn repeated(m: &InboundMessage) -> Outcome {
    let mut o = repeated_fresh(m);
    if let Some(b) = o.body.as_object_mut() {
        b.insert("repeated".into(), Value::Bool(true));
    }
    o
}

fn repeated_fresh(m: &InboundMessage) -> Outcome {
    match m.status.as_str() {
        APPLIED => Outcome {
            status: 200,
            body: json!({ "status": "applied", "order_number": m.order_number, "kind": m.kind }),
        },
        REFUSED => Outcome {
            status: 409,
            body: json!({ "error": { "code": "step_refused", "message": m.detail } }),
        },
        HELD => held_outcome(&m.order_number, &m.detail),
        _ => waiting_outcome(&m.order_number, &m.kind),
    }
}

/// Applies the updates of `row`'s order that wait, in arrival order; returns them with their
/// new status.
async fn apply_waiting(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    row: &HotlineOrder,
) -> ApiResult<Vec<InboundMessage>> {
    let waiting =
        st.store.hotline().messages(Some(platform_id), Some(&row.order_number), WAITING).await?;
    let author = Author::system(platform.district());
    let mut done = Vec::with_capacity(waiting.len());
    for mut m in waiting {
        let outcome = match serde_json::from_str::<UpdateOrder>(&m.body) {
            Ok(msg) => apply_update(st, &author, row, &msg).await,
            Err(e) => Err(ApiError::bad_request("invalid_input", format!("stored body: {e}"))),
        };
        (m.status, m.detail) = match outcome {
            Ok(()) => (APPLIED.to_owned(), String::new()),
            Err(e) if e.status.is_client_error() => {
                (REFUSED.to_owned(), format!("{}: {}", e.code, e.message))
            }
            Err(e) => return Err(e),
        };
        st.store.hotline().set_message_status(m.id, &m.status, &m.detail).await?;
        done.push(m);
    }
    Ok(done)
}

async fn apply_update(
    st: &AppState,
    author: &Author,
    row: &HotlineOrder,
    msg: &UpdateOrder,
) -> ApiResult<()> {
    let stamp = Utc::now().format("%Y-%m-%d %H:%M");
    match msg.kind {
        UpdateKind::Urge => {
            let action = WorkOrderAction {
                event_type: EventType::Escalate,
                department: None,
                note: Some(format!("12345督办：{}", msg.text.trim())),
                extension_hours: None,
                satisfaction: None,
                photos: Vec::new(),
                at: Utc::now(),
            };
            authoring::work_order::act(st, author, row.doc_id, action).await?;
            Ok(())
        }
        UpdateKind::Supplement => {
            append_description(
                st,
                author,
                row.doc_id,
                &format!("【12345补充 {stamp}】{}", msg.text.trim()),
            )
            .await
        }
        UpdateKind::Withdraw => {
            st.store.hotline().set_withdrawn(&row.platform, &row.order_number).await?;
            append_description(
                st,
                author,
                row.doc_id,
                &format!("【12345撤单 {stamp}】{}", msg.text.trim()),
            )
            .await
        }
    }
}

/// Appends a paragraph to a work order's description (an incident-details edit by the district
/// centre, retried when a concurrent server action took the sequence number).
async fn append_description(st: &AppState, author: &Author, id: Uuid, text: &str) -> ApiResult<()> {
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        let mut view = load_order(st, author, id).await?;
        let order =
            gridwork_core::work_order::WorkOrder::new(view.order.clone(), view.summary.clone());
        let mut details = IncidentDetails::from(&order);
        details.description = format!("{}\n{text}", details.description);
        details
            .validate(&gridwork_core::work_order::CategoryList::default())
            .map_err(|e| core_error(&e))?;
        gridwork_core::work_order::check_details_edit(
            &view.summary,
            &author.user.id.to_string(),
            Role::DistrictCentre,
        )
        .map_err(|e| core_error(&e.into()))?;
        details.write(&mut view.doc).map_err(|e| core_error(&e))?;
        let envelope = (id, RecordKind::WorkOrder, view.order.header.area.clone());
        match commit_and_ingest(st, author, &mut view.doc, envelope, "update_incident").await {
            Err(e) if lost_race(&e) => last = Some(e),
            other => return other.map(|_| ()),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::bad_request("duplicate_seq", "retries exhausted")))
}

/// Retries the creates of `platform_id` held for mapping (after its mapping or the department
/// registry changed); returns how many were made.
///
/// # Errors
/// Storage errors; the work order's refusals.
pub async fn retry_held(st: &AppState, platform_id: &str, platform: &Platform) -> ApiResult<usize> {
    let mut made = 0;
    for m in st.store.hotline().messages(Some(platform_id), None, HELD).await? {
        let Ok(msg) = serde_json::from_str::<CreateOrder>(&m.body) else { continue };
        let area = msg.area(platform)?;
        let retried = under_lease(st, platform_id, &m.order_number, async {
            // Another process may have made it meanwhile: only a message still held is tried.
            let still_held = st
                .store
                .hotline()
                .messages(Some(platform_id), Some(&m.order_number), HELD)
                .await?
                .iter()
                .any(|h| h.id == m.id);
            if !still_held {
                return Ok::<_, ApiError>(None);
            }
            apply_create(st, platform_id, platform, &msg, area, m.id).await.map(Some)
        })
        .await?;
        if retried.is_some_and(|o| o.status == 201) {
            made += 1;
        }
    }
    Ok(made)
}

/// The state of hotline order `number` as the platform sees it.
///
/// # Errors
/// 404 [`HotlineError::UnknownOrder`]; storage errors.
pub async fn state(
    st: &AppState,
    platform_id: &str,
    platform: &Platform,
    number: &str,
) -> ApiResult<Value> {
    check_id("order_number", number)?;
    let Some(row) = st.store.hotline().order(platform_id, number).await? else {
        let held = st.store.hotline().messages(Some(platform_id), Some(number), HELD).await?;
        if let Some(m) = held.first() {
            return Ok(held_outcome(number, &m.detail).body);
        }
        let waiting = st.store.hotline().messages(Some(platform_id), Some(number), WAITING).await?;
        if !waiting.is_empty() {
            return Ok(json!({ "status": "waiting_for_create", "order_number": number,
                               "updates_waiting": waiting.len() }));
        }
        return Err(HotlineError::UnknownOrder(number.to_owned()).into());
    };
    let view = load_order(st, &Author::system(platform.district()), row.doc_id).await?;
    let s = &view.summary;
    Ok(json!({
        "status": "created",
        "order_number": number,
        "work_order_id": row.doc_id,
        "withdrawn": row.withdrawn,
        "state": s.state,
        "departments": s.departments,
        "deadline": s.deadline,
        "overdue": s.overdue,
        "escalated": s.escalated,
        "closed_at": s.closed_at,
        "satisfaction": s.satisfaction,
        "steps": s.events.iter().filter(|e| super::outbox::goes_up(e.event_type)).count(),
    }))
}
