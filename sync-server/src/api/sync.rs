//! The device endpoints of the sync protocol: `POST /v1/sync` (push + pull), `POST /v1/digest`
//! and `POST /v1/fetch` (repair). Bodies are protocol messages (`docs/sync-protocol.md`).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use automerge::ActorId;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gridwork_core::protocol::{
    Acked, DigestRequest, DigestResponse, FetchRequest, FetchResponse, SyncRequest, SyncResponse,
    SyncStatus, WireMessage, clamp_page_bytes, peek_header,
};
use uuid::Uuid;

use super::ingest::{Pusher, ingest};
use super::{AppState, check_change_sizes, device_auth, protocol_response, require_protocol_body};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::policy;
use crate::store::{AuditAction, AuditEntry, DeviceAuth, PullQuery, now_ms};

/// Most documents one fetch may name.
const MAX_FETCH_DOCS: usize = 1000;

fn entry(auth: &DeviceAuth, action: AuditAction, count: u64, areas: Vec<String>) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        user_id: Some(auth.user.id),
        device_id: Some(auth.device.id),
        action,
        count,
        areas,
        detail: String::new(),
        actor_id: None,
    }
}

fn revoked_sync() -> SyncResponse {
    SyncResponse {
        status: SyncStatus::Revoked,
        acks: vec![],
        changes: vec![],
        next_cursor: 0,
        more: false,
        head_seq: 0,
        epoch: None,
    }
}

/// Authenticates and, for a revoked device, records the contact.
async fn authed(st: &AppState, headers: &HeaderMap) -> ApiResult<DeviceAuth> {
    let auth = device_auth(st, headers).await?;
    if auth.device.revoked {
        st.store.audit(&entry(&auth, AuditAction::RevokedContact, 0, vec![])).await?;
    }
    Ok(auth)
}

fn distinct<'a>(areas: impl Iterator<Item = &'a str>) -> Vec<String> {
    areas.map(str::to_owned).collect::<BTreeSet<_>>().into_iter().collect()
}

fn bound_actor(auth: &DeviceAuth) -> ApiResult<ActorId> {
    hex::decode(&auth.device.actor_hex).map(ActorId::from).map_err(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", "stored actor id is corrupt")
    })
}

/// `POST /v1/sync`: stores the pushed changes (all or nothing), then answers one page of the
/// log after the cursor. A revoked device gets status `revoked` (HTTP 200); a cursor ahead of
/// the log gets `bootstrap_required`.
///
/// # Errors
/// 401 for credentials, 415 for the content type, 400 for a malformed message or change, 403
/// for a change the device may not push, 409 for a document pushed under another kind.
pub async fn sync(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let started = Instant::now();
    let auth = authed(&st, &headers).await?;
    require_protocol_body(&headers)?;
    Metrics::add(&st.metrics.bytes_in, body.len() as u64);
    if auth.device.revoked {
        return Ok(protocol_response(revoked_sync().encode()));
    }
    let req = SyncRequest::decode(&body)?;
    check_change_sizes(&req.push, st.guards.max_change_bytes)?;
    // Answer in the version asked: a phone not yet updated keeps syncing.
    let version = peek_header(&body)?.version;
    let head = st.store.head_seq().await?;
    if req.cursor > head {
        let resp = SyncResponse {
            status: SyncStatus::BootstrapRequired,
            head_seq: head,
            epoch: Some(st.store.epoch().await?),
            ..revoked_sync()
        };
        return Ok(protocol_response(resp.encode_version(version)));
    }
    let now = now_ms();
    let mut acks = Vec::new();
    let departments = super::person_departments(&st, &auth.user).await?;
    if !req.push.is_empty() {
        let actor = bound_actor(&auth)?;
        let pusher = Pusher {
            user: &auth.user,
            departments: &departments,
            device_id: auth.device.id,
            actor: &actor,
        };
        let outcome = ingest(&st, &pusher, req.push, now).await?;
        acks = outcome
            .seqs
            .iter()
            .zip(&outcome.received_at)
            .map(|(seq, at)| Acked { seq: *seq, received_at: Some(*at) })
            .collect();
    }
    let page = st
        .store
        .pull(&PullQuery {
            cursor: req.cursor,
            scopes: policy::read_scopes_with(&auth.user.roles, &departments),
            exclude_device: (!req.include_own).then_some(auth.device.id),
            max_bytes: clamp_page_bytes(req.max_page_bytes),
        })
        .await?;
    if !page.changes.is_empty() {
        let areas = distinct(page.changes.iter().map(|c| c.change.area.as_str()));
        st.store.audit(&entry(&auth, AuditAction::Pull, page.changes.len() as u64, areas)).await?;
    }
    st.store.touch_device(auth.device.id, req.cursor, now).await?;
    Metrics::add(&st.metrics.pulls, 1);
    Metrics::add(&st.metrics.changes_served, page.changes.len() as u64);
    let bytes = SyncResponse {
        status: SyncStatus::Ok,
        acks,
        changes: page.changes,
        next_cursor: page.next_cursor,
        more: page.more,
        head_seq: page.head_seq,
        epoch: Some(st.store.epoch().await?),
    }
    .encode_version(version);
    Metrics::add(&st.metrics.bytes_out, bytes.len() as u64);
    st.metrics.sync_latency.observe(started.elapsed());
    Ok(protocol_response(bytes))
}

/// `POST /v1/digest`: compares the device's per-document digests of an area with the log.
///
/// # Errors
/// As [`sync`] for credentials and bodies.
pub async fn digest(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let auth = authed(&st, &headers).await?;
    require_protocol_body(&headers)?;
    if auth.device.revoked {
        let r = DigestResponse {
            status: SyncStatus::Revoked,
            divergent: vec![],
            unknown_to_server: vec![],
        };
        return Ok(protocol_response(r.encode()));
    }
    let req = DigestRequest::decode(&body)?;
    let scopes = super::read_scopes(&st, &auth.user).await?;
    let server = st.store.digests(&req.area, &scopes).await?;
    let mine: HashMap<Uuid, _> = req.docs.iter().map(|d| (d.doc_id, d)).collect();
    let theirs: HashMap<Uuid, _> = server.iter().map(|d| (d.doc_id, d)).collect();
    let divergent = server
        .iter()
        .filter(|s| mine.get(&s.doc_id).is_none_or(|m| *m != *s))
        .map(|s| s.doc_id)
        .collect();
    let unknown_to_server =
        req.docs.iter().filter(|d| !theirs.contains_key(&d.doc_id)).map(|d| d.doc_id).collect();
    let r = DigestResponse { status: SyncStatus::Ok, divergent, unknown_to_server };
    Ok(protocol_response(r.encode()))
}

/// `POST /v1/fetch`: every change of the named documents within the device's scope, whole
/// documents up to the page size.
///
/// # Errors
/// As [`sync`] for credentials and bodies; 400 `too_many_documents` above 1000 ids.
pub async fn fetch(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let auth = authed(&st, &headers).await?;
    require_protocol_body(&headers)?;
    if auth.device.revoked {
        let r = FetchResponse { status: SyncStatus::Revoked, changes: vec![], remaining: vec![] };
        return Ok(protocol_response(r.encode()));
    }
    let req = FetchRequest::decode(&body)?;
    let version = peek_header(&body)?.version;
    if req.doc_ids.len() > MAX_FETCH_DOCS {
        return Err(ApiError::bad_request(
            "too_many_documents",
            format!("at most {MAX_FETCH_DOCS} documents per fetch"),
        ));
    }
    let scopes = super::read_scopes(&st, &auth.user).await?;
    let all = st.store.doc_changes(&req.doc_ids, &scopes).await?;
    let limit = u64::from(clamp_page_bytes(req.max_page_bytes));
    let mut changes = Vec::new();
    let mut remaining = Vec::new();
    let mut bytes = 0u64;
    let mut by_doc: HashMap<Uuid, Vec<_>> = HashMap::new();
    for c in all {
        by_doc.entry(c.change.doc_id).or_default().push(c);
    }
    for id in &req.doc_ids {
        let Some(doc) = by_doc.remove(id) else { continue };
        let size: u64 = doc.iter().map(|c| c.change.bytes.len() as u64).sum();
        if !changes.is_empty() && bytes + size > limit {
            remaining.push(*id);
            continue;
        }
        bytes += size;
        changes.extend(doc);
    }
    if !changes.is_empty() {
        let areas = distinct(changes.iter().map(|c| c.change.area.as_str()));
        st.store.audit(&entry(&auth, AuditAction::Pull, changes.len() as u64, areas)).await?;
    }
    let r = FetchResponse { status: SyncStatus::Ok, changes, remaining };
    Ok(protocol_response(r.encode_version(version)))
}
