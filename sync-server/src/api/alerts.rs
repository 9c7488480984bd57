//! `GET /api/v1/alerts/stream`: the signed-in person's live alerts as server-sent events (the
//! workbench shows them as they come). Each work order the projector folds is checked against
//! the caller's read scope (as a pull would) and turned into an alert when its latest step is
//! news for them ([`crate::alerts::alert_for`]). A staff session's stream ends when the session
//! expires; the browser reconnects and is refused then, so a signed-out page hears nothing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use gridwork_core::RecordKind;
use gridwork_core::work_order::WorkOrder;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::caller::Caller;
use crate::alerts::alert_for;
use crate::error::ApiResult;
use crate::query::scope;
use crate::read_model::rows::RecordRow;
use crate::store::{ReadScope, now_ms};

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The caller's alerts as server-sent events (`event: alert`, data: the alert's JSON).
///
/// # Errors
/// 401/403 as the record endpoints (the caller must read work orders).
pub async fn stream(
    caller: Caller,
    State(st): State<AppState>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let scopes = scope::check(
        caller.grants(),
        caller.departments(),
        RecordKind::WorkOrder,
        "work orders",
        None,
    )?;
    let ends_at = match &caller {
        Caller::Staff(s, _) => Some(s.expires_at),
        Caller::Device(..) | Caller::AdminToken => None,
    };
    let listener = Listener { caller, scopes, rx: st.read_model.subscribe_orders(), ends_at };
    let events = futures_util::stream::unfold(listener, |mut l| async move {
        let event = l.next().await?;
        Some((Ok(event), l))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One caller's listening state.
struct Listener {
    caller: Caller,
    scopes: Vec<ReadScope>,
    rx: tokio::sync::broadcast::Receiver<Arc<RecordRow>>,
    ends_at: Option<i64>,
}

impl Listener {
    /// The next alert for the caller; `None` ends the stream (session over, server stopping).
    async fn next(&mut self) -> Option<Event> {
        loop {
            let row = match self.ends_at {
                Some(end) => {
                    let left = u64::try_from(end - now_ms()).ok()?;
                    tokio::time::timeout(Duration::from_millis(left), self.rx.recv()).await.ok()?
                }
                None => self.rx.recv().await,
            };
            let row = match row {
                Ok(row) => row,
                // Missed some while slow: go on with the newest.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            };
            if let Some(event) = self.event_for(&row) {
                return Some(event);
            }
        }
    }

    fn event_for(&self, row: &RecordRow) -> Option<Event> {
        let order: WorkOrder = serde_json::from_str(&row.json).ok()?;
        let visible = self.scopes.iter().any(|s| {
            s.area.contains(&row.area)
                && s.departments.as_ref().is_none_or(|mine| {
                    order.summary.departments.keys().any(|d| mine.contains(d))
                        || order.summary.events.iter().any(|e| {
                            e.department_name().is_some_and(|d| mine.iter().any(|m| m == d))
                        })
                })
        });
        if !visible {
            return None;
        }
        let roles: Vec<_> = self
            .caller
            .grants()
            .iter()
            .filter(|g| g.area.contains(&row.area))
            .map(|g| g.role)
            .collect();
        let alert = alert_for(&order, &roles, self.caller.departments())?;
        Event::default().event("alert").id(alert.id.clone()).json_data(&alert).ok()
    }
}
