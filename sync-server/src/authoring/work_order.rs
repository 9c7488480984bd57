//! A person's step on a work order, taken on the server: accept, dispatch (to departments of the
//! registry), sign, handle, feed back, return, extend, supervise, verify, close, reopen. The
//! same check and event log a phone uses (`gridwork_core::work_order`), folded with the
//! server's receive times, in the first of the person's roles over the order that may take it.

use chrono::{DateTime, Utc};
use gridwork_core::spec::decode;
use gridwork_core::work_order::{
    WorkOrderAction, WorkOrderSpec, WorkOrderSummary, append_event, check_event,
};
use gridwork_core::{AreaPath, RecordKind};
use uuid::Uuid;

use super::{Author, Authored, MAX_ATTEMPTS, commit_and_ingest, core_error, load, lost_race};
use crate::api::AppState;
use crate::error::{ApiError, ApiResult};

/// What a step did: the change and the order's state after it.
#[derive(Debug, Clone)]
pub struct Acted {
    /// The change written.
    pub change: Authored,
    /// The order's derived state, including the new step.
    pub summary: WorkOrderSummary,
}

fn ms(at: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at)
}

/// Takes `action` on work order `id` as `author`.
///
/// # Errors
/// 404 for an order outside the author's scope; the core's refusal of the step (409 with its
/// code, e.g. `illegal_transition`; 403 `role_not_allowed` when none of the author's roles over
/// the order may take it; 400 `invalid_input` for an oversized note); the ingest's refusals
/// (403 `unknown_department` for a department not in the registry…).
pub async fn act(
    st: &AppState,
    author: &Author,
    id: Uuid,
    action: WorkOrderAction,
) -> ApiResult<Acted> {
    act_when(st, author, id, action, |_| true)
        .await?
        .ok_or_else(|| ApiError::bad_request("nothing_to_do", "the step was not taken"))
}

/// As [`act`], but only when `wanted` holds for the order's current state (read from the log
/// on every attempt); `None` when it does not — an automatic step another server already took.
///
/// # Errors
/// As [`act`].
pub async fn act_when(
    st: &AppState,
    author: &Author,
    id: Uuid,
    action: WorkOrderAction,
    wanted: impl Fn(&WorkOrderSummary) -> bool,
) -> ApiResult<Option<Acted>> {
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        match act_once(st, author, id, action.clone(), &wanted).await {
            Err(e) if lost_race(&e) => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| ApiError::bad_request("duplicate_seq", "retries exhausted")))
}

async fn act_once(
    st: &AppState,
    author: &Author,
    id: Uuid,
    action: WorkOrderAction,
    wanted: &impl Fn(&WorkOrderSummary) -> bool,
) -> ApiResult<Option<Acted>> {
    let mut loaded = load(st, author, RecordKind::WorkOrder, id).await?;
    let rec = decode::<WorkOrderSpec>(id, &loaded.doc).map_err(|e| {
        ApiError::from(crate::store::StoreError::Corrupt(format!("work order {id}: {e}")))
    })?;
    if rec.header.deleted {
        return Err(core_error(&gridwork_core::CoreError::NotFound {
            kind: "work_order".into(),
            id: id.to_string(),
        }));
    }
    let received = loaded.received.clone();
    let now = Utc::now();
    // Deadlines under the district's policy (its reference record).
    let district = AreaPath::parse(crate::reference::district_code(&rec.header.area))
        .map_err(|e| core_error(&e))?;
    let policy = crate::reference::policy(st, &district).await?;
    let current = rec.record.summary_with(&policy, |h| received.get(h).and_then(|at| ms(*at)), now);
    if !wanted(&current) {
        return Ok(None);
    }
    let user_id = author.user.id.to_string();
    let mut first_refusal = None;
    let mut chosen = None;
    for role in author.roles_over(&rec.header.area) {
        let event = action.clone().event(&user_id, role).map_err(|e| core_error(&e))?;
        match check_event(&current, &event) {
            Ok(()) => {
                chosen = Some(event);
                break;
            }
            Err(e) => {
                first_refusal.get_or_insert(e);
            }
        }
    }
    let Some(event) = chosen else {
        return Err(match first_refusal {
            Some(e) => core_error(&gridwork_core::CoreError::WorkOrder(e)),
            None => core_error(&gridwork_core::CoreError::OutOfScope {
                area: rec.header.area.to_string(),
                scope: author
                    .user
                    .roles
                    .iter()
                    .map(|g| g.area.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        });
    };
    append_event(&mut loaded.doc, &event).map_err(|e| core_error(&e))?;
    let op = event.event_type.as_str();
    let change = commit_and_ingest(
        st,
        author,
        &mut loaded.doc,
        (id, RecordKind::WorkOrder, rec.header.area.clone()),
        op,
    )
    .await?;
    let after = decode::<WorkOrderSpec>(id, &loaded.doc).map_err(|e| {
        ApiError::from(crate::store::StoreError::Corrupt(format!("work order {id}: {e}")))
    })?;
    let mut received = loaded.received;
    received.insert(change.hash, change.received_at);
    let summary =
        after.record.summary_with(&policy, |h| received.get(h).and_then(|at| ms(*at)), Utc::now());
    Ok(Some(Acted { change, summary }))
}
