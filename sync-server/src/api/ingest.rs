//! The one write path into the log (DESIGN §8): a device's push and a change the server authors
//! for a person acting in the browser both come through [`ingest`] — the same validation, move
//! authorisation, department registry, storage, attachment references, metrics and audit.

use automerge::ActorId;
use axum::http::StatusCode;
use gridwork_core::{ChangeEnvelope, RecordKind};
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::store::departments::Registry;
use crate::store::{AuditAction, AuditEntry, PushOutcome, StoreError, User};
use crate::validate::{Rejection, ValidatedPush, Writer, authorise_moves, validate};

/// Who writes: the person, the device (or [`SERVER_DEVICE`]) and the bound Automerge actor.
#[derive(Debug, Clone)]
pub struct Pusher<'a> {
    /// The person, with their role grants.
    pub user: &'a User,
    /// The departments they belong to.
    pub departments: &'a [String],
    /// The device pushing; [`SERVER_DEVICE`] for a change the server authors.
    pub device_id: Uuid,
    /// The actor every pushed change must carry.
    pub actor: &'a ActorId,
}

/// The device id logged with changes the server authors (no device pushed them).
pub const SERVER_DEVICE: Uuid = Uuid::nil();

fn distinct<'a>(areas: impl Iterator<Item = &'a str>) -> Vec<String> {
    areas.map(str::to_owned).collect::<std::collections::BTreeSet<_>>().into_iter().collect()
}

/// Validates and stores `push` (all or nothing) as written by `pusher` at `now`, and audits it.
///
/// # Errors
/// 400 `corrupt_change`; 403 for a change the person may not write (out of scope, kind, event
/// role, department); 409 for a document pushed under another kind or a reused actor sequence
/// number; storage errors. Every refusal is audited.
pub async fn ingest(
    st: &AppState,
    pusher: &Pusher<'_>,
    push: Vec<ChangeEnvelope>,
    now: i64,
) -> ApiResult<PushOutcome> {
    let areas = distinct(push.iter().map(|e| e.area.as_str()));
    let pushed = push.len() as u64;
    let entry = |action, count| AuditEntry {
        id: 0,
        at: now,
        user_id: Some(pusher.user.id),
        device_id: (pusher.device_id != SERVER_DEVICE).then_some(pusher.device_id),
        action,
        count,
        areas: areas.clone(),
        detail: String::new(),
        actor_id: (pusher.device_id == SERVER_DEVICE).then_some(pusher.user.id),
    };
    let refuse = |code: &'static str, index: usize| AuditEntry {
        detail: format!("{code} at change {index}"),
        ..entry(AuditAction::Refused, pushed)
    };
    let registry = if push.iter().any(|e| e.kind == RecordKind::WorkOrder) {
        Registry::load(&st.store).await?
    } else {
        Registry::default()
    };
    let writer = Writer {
        actor: pusher.actor,
        grants: &pusher.user.roles,
        departments: pusher.departments,
        registry: &registry,
        server_authored: pusher.device_id == SERVER_DEVICE,
    };
    let validated = match validate(&writer, push) {
        Ok(v) => {
            let ids: Vec<Uuid> = v.changes.iter().map(|c| c.envelope.doc_id).collect();
            let stored = st.store.doc_areas(&ids).await?;
            let stored = stored.into_iter().map(|(id, _, area)| (id, area));
            match authorise_moves(&pusher.user.roles, &v.changes, stored) {
                Ok(()) => match detail_edit_refusal(st, pusher, &v).await? {
                    Some(r) => Err(r),
                    None => Ok(v),
                },
                Err(r) => Err(r),
            }
        }
        Err(r) => Err(r),
    };
    let v = match validated {
        Ok(v) => v,
        Err(r) => {
            st.store.audit(&refuse(r.code, r.index)).await?;
            let status = if r.code == "corrupt_change" {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::FORBIDDEN
            };
            return Err(ApiError::new(status, r.code, r.to_string()).at_change(Some(r.index)));
        }
    };
    let outcome = match st.store.push(pusher.device_id, now, &v.changes).await {
        Ok(o) => o,
        Err(e) => {
            match e {
                StoreError::KindMismatch { index, .. } => {
                    st.store.audit(&refuse("kind_mismatch", index)).await?;
                }
                StoreError::DuplicateSeq { index, .. } => {
                    st.store.audit(&refuse("duplicate_seq", index)).await?;
                }
                _ => {}
            }
            return Err(e.into());
        }
    };
    st.store.add_attachment_refs(&v.refs).await?;
    Metrics::add(&st.metrics.pushes, 1);
    Metrics::add(&st.metrics.changes_ingested, outcome.stored as u64);
    Metrics::add(&st.metrics.changes_duplicate, pushed - outcome.stored as u64);
    let e = AuditEntry {
        detail: format!("{pushed} pushed, {} new", outcome.stored),
        ..entry(
            if pusher.device_id == SERVER_DEVICE { AuditAction::Act } else { AuditAction::Push },
            outcome.stored as u64,
        )
    };
    st.store.audit(&e).await?;
    Ok(outcome)
}

/// The refusal of the first incident-details edit in `v` its author may not make in the order's
/// current state (`gridwork_core::work_order::check_details_edit`: the reporter while the order is
/// reported, the command roles while it is open, nobody once closed), if any. The state is the
/// log's, with the push's own earlier changes of the order (a report and its correction pushed
/// together).
///
/// # Errors
/// Storage errors; a logged change that does not load (500).
async fn detail_edit_refusal(
    st: &AppState,
    pusher: &Pusher<'_>,
    v: &ValidatedPush,
) -> ApiResult<Option<Rejection>> {
    use gridwork_core::work_order::{WorkOrderSpec, check_details_edit};
    for &index in &v.detail_edits {
        let e = &v.changes[index].envelope;
        let area = match st.store.doc_areas(&[e.doc_id]).await?.pop() {
            Some((_, _, area)) => area,
            None => e.area.clone(),
        };
        let scope = crate::store::ReadScope::new(area.clone(), vec![RecordKind::WorkOrder]);
        let logged = st.store.doc_changes(&[e.doc_id], &[scope]).await?;
        let mut received = std::collections::HashMap::new();
        let mut changes = Vec::new();
        for c in logged {
            let change = automerge::Change::from_bytes(c.change.bytes).map_err(|err| {
                StoreError::Corrupt(format!("a logged change of {}: {err}", e.doc_id))
            })?;
            if let Some(at) = c.received_at.and_then(chrono::DateTime::from_timestamp_millis) {
                received.insert(change.hash().0, at);
            }
            changes.push(change);
        }
        for earlier in v.changes[..index].iter().filter(|c| c.envelope.doc_id == e.doc_id) {
            if let Ok(change) = automerge::Change::from_bytes(earlier.envelope.bytes.clone()) {
                changes.push(change);
            }
        }
        let refuse = |code: &'static str, message: String| Some(Rejection { index, code, message });
        let mut doc = automerge::AutoCommit::new();
        if doc.apply_changes(changes).is_err() {
            return Ok(refuse("corrupt_change", "the work order it edits does not load".into()));
        }
        let Ok(order) = gridwork_core::spec::decode::<WorkOrderSpec>(e.doc_id, &doc) else {
            return Ok(refuse(
                "details_locked",
                format!("work order {} has no report to edit", e.doc_id),
            ));
        };
        let summary = order.record.summary(|h| received.get(h).copied(), chrono::Utc::now());
        let user_id = pusher.user.id.to_string();
        let mut first = None;
        let allowed =
            crate::policy::roles_over(&pusher.user.roles, &area).into_iter().any(|role| {
                match check_details_edit(&summary, &user_id, role) {
                    Ok(()) => true,
                    Err(err) => {
                        first.get_or_insert(err);
                        false
                    }
                }
            });
        if !allowed {
            return Ok(match first {
                Some(err) => refuse(err.code(), err.to_string()),
                None => refuse("out_of_scope", format!("no role of this user covers {area}")),
            });
        }
    }
    Ok(None)
}
