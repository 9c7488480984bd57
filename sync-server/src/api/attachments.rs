//! The attachment endpoints (DESIGN §5): photos content-addressed by SHA-256, uploaded in
//! chunks and resumable in both directions, on their own path so they never block record sync.
//!
//! - `PUT /v1/attachments/{sha256}?offset=N&size=TOTAL` with `Content-Type: image/…` and a
//!   chunk body of at most 1 MiB appends at `offset` (which must equal the bytes received so
//!   far); the chunk that completes the blob triggers the SHA-256 check.
//! - `GET`/`HEAD /v1/attachments/{sha256}/status` answers how much arrived.
//! - `GET /v1/attachments/{sha256}` downloads a complete blob, with `Range` support.
//!
//! All need a device credential. See `docs/sync-protocol.md`, "Attachments".

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::attachment::MAX_ATTACHMENT_BYTES;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::attachments_range::{RangeRequest, parse_range};
use super::attachments_refs::parse_hash;
use super::{AppState, device_auth};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::store::{AttachmentChunk, AttachmentInfo, DeviceAuth, now_ms};

/// Largest chunk one `PUT` may carry (1 MiB).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Longest accepted MIME type.
const MAX_MIME_LEN: usize = 64;

/// The JSON answer of an upload or a status query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentStatus {
    /// SHA-256, lowercase hex.
    pub hash: String,
    /// Declared total size (absent when the server holds nothing).
    pub size: Option<u64>,
    /// Declared MIME type (absent when the server holds nothing).
    pub mime: Option<String>,
    /// Bytes received so far: the offset of the next chunk.
    pub received: u64,
    /// Whether the blob is whole and verified.
    pub complete: bool,
}

impl AttachmentStatus {
    fn of(hash: [u8; 32], info: Option<&AttachmentInfo>) -> Self {
        AttachmentStatus {
            hash: hex::encode(hash),
            size: info.map(|i| i.size),
            mime: info.map(|i| i.mime.clone()),
            received: info.map_or(0, |i| i.received),
            complete: info.is_some_and(|i| i.complete),
        }
    }

    fn into_response(self) -> Response {
        let mut r = Json(&self).into_response();
        let h = r.headers_mut();
        h.insert("x-attachment-received", HeaderValue::from(self.received));
        h.insert(
            "x-attachment-complete",
            HeaderValue::from_static(if self.complete { "true" } else { "false" }),
        );
        r
    }
}

/// Authenticates a device; revoked devices are refused (403 `device_revoked`).
async fn active_device(st: &AppState, headers: &HeaderMap) -> ApiResult<DeviceAuth> {
    let auth = device_auth(st, headers).await?;
    if auth.device.revoked {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "device_revoked",
            "this device was revoked: wipe local data and re-enrol",
        ));
    }
    Ok(auth)
}

fn hash_of(s: &str) -> ApiResult<[u8; 32]> {
    parse_hash(s).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_hash",
            "the attachment id must be a SHA-256 as 64 hex digits",
        )
    })
}

/// `offset` and `size` of an upload's query string.
fn upload_query(raw: Option<&str>) -> ApiResult<(u64, u64)> {
    let (mut offset, mut size) = (None, None);
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let n = v.parse::<u64>().map_err(|_| {
            ApiError::bad_request("invalid_input", format!("`{k}` must be a whole number"))
        });
        match k {
            "offset" => offset = Some(n?),
            "size" => size = Some(n?),
            _ => {}
        }
    }
    match (offset, size) {
        (Some(o), Some(s)) => Ok((o, s)),
        _ => Err(ApiError::bad_request(
            "invalid_input",
            "send `?offset=N&size=TOTAL` (the chunk's start and the blob's total size)",
        )),
    }
}

/// The declared MIME type of an upload (`Content-Type`, an `image/…` type).
fn upload_mime(headers: &HeaderMap) -> ApiResult<String> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime.starts_with("image/") && mime.len() > "image/".len() && mime.len() <= MAX_MIME_LEN {
        Ok(mime)
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the chunk with the attachment's Content-Type, an image/* type",
        ))
    }
}

/// `PUT /v1/attachments/{sha256}?offset=N&size=TOTAL`: appends one chunk. When the chunk
/// completes the blob, its SHA-256 is checked: on a match the attachment is complete, else
/// every byte of it is discarded and the answer is 400 `hash_mismatch`. Putting a chunk of a
/// complete attachment answers its status (uploads are idempotent).
///
/// # Errors
/// 401 credentials; 403 `device_revoked`; 400 `invalid_hash`, `invalid_input`, `empty_chunk`,
/// `chunk_out_of_range`, `hash_mismatch`; 409 `offset_mismatch` (resume from the status),
/// `attachment_conflict`; 413 `attachment_too_large`, `chunk_too_large`; 415 for a MIME type
/// that is not `image/*`.
pub async fn put_chunk(
    State(st): State<AppState>,
    Path(hash_hex): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let auth = active_device(&st, &headers).await?;
    let hash = hash_of(&hash_hex)?;
    let (offset, size) = upload_query(query.as_deref())?;
    let mime = upload_mime(&headers)?;
    Metrics::add(&st.metrics.bytes_in, body.len() as u64);
    if size == 0 || size > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
            format!("an attachment is 1 to {MAX_ATTACHMENT_BYTES} bytes"),
        ));
    }
    if body.len() > MAX_CHUNK_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunk_too_large",
            format!("a chunk is at most {MAX_CHUNK_BYTES} bytes"),
        ));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("empty_chunk", "a chunk carries at least one byte"));
    }
    if offset.saturating_add(body.len() as u64) > size {
        return Err(ApiError::bad_request(
            "chunk_out_of_range",
            format!("the chunk ends past the declared size {size}"),
        ));
    }
    let chunk = AttachmentChunk {
        hash,
        size,
        mime,
        offset,
        bytes: body.to_vec(),
        device_id: auth.device.id,
        now: now_ms(),
    };
    let info = st.store.append_attachment(&chunk).await?;
    if info.complete || info.received < info.size {
        return Ok(AttachmentStatus::of(hash, Some(&info)).into_response());
    }
    let whole = st.store.read_attachment(hash, 0, info.size).await?;
    let actual: [u8; 32] = Sha256::digest(&whole).into();
    if actual != hash || whole.len() as u64 != info.size {
        st.store.discard_attachment(hash).await?;
        return Err(ApiError::bad_request(
            "hash_mismatch",
            format!(
                "the {} bytes received hash to {}, not {}; the upload was discarded",
                whole.len(),
                hex::encode(actual),
                hex::encode(hash)
            ),
        ));
    }
    st.store.complete_attachment(hash, now_ms()).await?;
    let done = AttachmentInfo { complete: true, ..info };
    Ok(AttachmentStatus::of(hash, Some(&done)).into_response())
}

/// `GET` / `HEAD /v1/attachments/{sha256}/status`: the bytes received so far and whether the
/// blob is complete (`received` 0 when the server holds nothing of it); also in the headers
/// `X-Attachment-Received` and `X-Attachment-Complete`.
///
/// # Errors
/// 401 credentials; 403 `device_revoked`; 400 `invalid_hash`.
pub async fn status(
    State(st): State<AppState>,
    Path(hash_hex): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    active_device(&st, &headers).await?;
    let hash = hash_of(&hash_hex)?;
    let info = st.store.attachment(hash).await?;
    Ok(AttachmentStatus::of(hash, info.as_ref()).into_response())
}

/// `GET /v1/attachments/{sha256}`: a complete blob, or with `Range: bytes=…` a part of it
/// (206). A device may download an attachment that it uploaded or that a record within its
/// read scope refers to.
///
/// # Errors
/// 401 credentials; 403 `device_revoked`, `out_of_scope`; 400 `invalid_hash`; 404
/// `attachment_not_found` (unknown or incomplete); 416 `range_not_satisfiable`.
pub async fn download(
    State(st): State<AppState>,
    Path(hash_hex): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let auth = active_device(&st, &headers).await?;
    let hash = hash_of(&hash_hex)?;
    let info = complete_attachment(&st, hash).await?;
    if info.uploaded_by != auth.device.id
        && !st
            .store
            .attachment_referenced(hash, &super::read_scopes(&st, &auth.user).await?)
            .await?
    {
        return Err(out_of_scope());
    }
    send(&st, hash, &info, &headers).await
}

/// `GET /api/v1/attachments/{hash}`: a photo for a person in a browser (the workbench's
/// thumbnails), when a record within their read scope refers to it.
///
/// # Errors
/// 401/403 for the caller; 404 `attachment_not_found`; 403 `out_of_scope`.
pub async fn download_for_caller(
    caller: super::caller::Caller,
    State(st): State<AppState>,
    Path(hash_hex): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let hash = hash_of(&hash_hex)?;
    let scopes = crate::policy::read_scopes_with(caller.grants(), caller.departments());
    if scopes.is_empty() {
        return Err(out_of_scope());
    }
    let info = complete_attachment(&st, hash).await?;
    if !st.store.attachment_referenced(hash, &scopes).await? {
        return Err(out_of_scope());
    }
    send(&st, hash, &info, &headers).await
}

/// Sends the complete attachment `hash_hex` (or the range asked for) to a caller its route has
/// already authorised for it — the 12345 platform, for its own orders' photos.
///
/// # Errors
/// 400 for a malformed hash; 404 `attachment_not_found`; storage errors.
pub async fn send_authorised(
    st: &AppState,
    hash_hex: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let hash = hash_of(hash_hex)?;
    let info = complete_attachment(st, hash).await?;
    send(st, hash, &info, headers).await
}

fn out_of_scope() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        "no record within your scope refers to this attachment",
    )
}

/// The attachment `hash` when the server holds all of it, else 404.
async fn complete_attachment(st: &AppState, hash: [u8; 32]) -> ApiResult<AttachmentInfo> {
    match st.store.attachment(hash).await? {
        Some(i) if i.complete => Ok(i),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "attachment_not_found",
            "the server holds no complete attachment with this hash",
        )),
    }
}

/// Sends the attachment (or the range asked for). Its bytes are what a phone uploaded: they
/// never run as a page of this origin (sandboxed, no sniffing), and only images show inline.
async fn send(
    st: &AppState,
    hash: [u8; 32],
    info: &AttachmentInfo,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let range = parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), info.size);
    let (status, start, end) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, info.size),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the attachment has {} bytes", info.size),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", info.size)) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let bytes = st.store.read_attachment(hash, start, end).await?;
    Metrics::add(&st.metrics.bytes_out, bytes.len() as u64);
    let mut r = (status, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&info.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    let disposition = if info.mime.starts_with("image/") { "inline" } else { "attachment" };
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", hex::encode(hash))) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{}",
            start,
            end.saturating_sub(1),
            info.size
        ))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(r)
}
