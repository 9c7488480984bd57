//! Automatic supervision (督办) on the server's clock (DESIGN §1, §8; issue 11 "Deadlines on the
//! server's clock"): an open work order past its deadline — derived from the server's receive
//! times, never a device clock — that nobody has put under supervision gets an `escalate` step
//! authored by the system person ([`crate::authoring::Author::system`]), through the one write
//! path, so every phone and list shows it supervised. Each order is escalated once: the step is
//! taken only if the order, read again from the log, is still open, overdue and unsupervised,
//! so several servers over one database, or a pass repeated after a crash, add no second step.

use std::time::Duration;

use chrono::Utc;
use gridwork_core::AreaPath;
use gridwork_core::work_order::{EventType, WorkOrderAction};

use crate::api::AppState;
use crate::authoring::{self, Author};
use crate::store::StoreError;

/// The note of an automatic supervision step (zh-CN; the event's type says it in any language).
pub const NOTE: &str = "超时自动督办";

/// Most orders one pass escalates.
pub const PASS_LIMIT: u32 = 200;

/// One pass at `now`: escalates the overdue, unsupervised open orders the read model lists.
/// Returns how many were escalated.
///
/// # Errors
/// Storage errors; an order the system may not act on is logged and skipped.
pub async fn pass(st: &AppState) -> Result<usize, StoreError> {
    let Some(rm) = st.store.read_model() else { return Ok(0) };
    let now = Utc::now();
    let mut done = 0;
    for id in rm.rm_overdue(now.timestamp_millis(), PASS_LIMIT).await? {
        let Some(district) = district_of(st, id).await? else { continue };
        let action = WorkOrderAction {
            event_type: EventType::Escalate,
            department: None,
            note: Some(NOTE.into()),
            extension_hours: None,
            satisfaction: None,
            at: now,
        };
        let still_due = |s: &gridwork_core::work_order::WorkOrderSummary| {
            s.is_open() && !s.escalated && s.deadline.is_some_and(|d| d < Utc::now())
        };
        match authoring::work_order::act_when(st, &Author::system(district), id, action, still_due)
            .await
        {
            Ok(Some(_)) => done += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(order = %id, error = %e, "automatic supervision refused"),
        }
    }
    Ok(done)
}

/// The district (first area level) a document lies in.
async fn district_of(st: &AppState, id: uuid::Uuid) -> Result<Option<AreaPath>, StoreError> {
    let Some((_, _, area)) = st.store.doc_areas(&[id]).await?.pop() else { return Ok(None) };
    let first = area.as_str().split('/').next().unwrap_or_default();
    Ok(AreaPath::parse(first).ok())
}

/// Runs a [`pass`] every `every` until the process ends; a failing pass is logged and retried.
pub async fn supervise(st: AppState, every: Duration) {
    loop {
        match pass(&st).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(escalated = n, "automatic supervision"),
            Err(e) => tracing::warn!(error = %e, "automatic supervision pass failed"),
        }
        tokio::time::sleep(every).await;
    }
}
