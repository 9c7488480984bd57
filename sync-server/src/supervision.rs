//! Automatic supervision (督办) and escalation on the server's clock (DESIGN §1, §8; issue 11
//! "Deadlines on the server's clock"). Deadlines are derived from the server's receive times,
//! never a device clock, under the district's deadline policy (its reference record,
//! [`crate::reference`]): the order's clock starts at its first acceptance or dispatch, each
//! department's at its own signing. Two steps, each an `escalate` event authored by the system
//! person ([`crate::authoring::Author::system`]) through the one write path, so every phone and
//! list shows them:
//!
//! 1. **Supervise** an open order past its deadline that nobody has put under supervision
//!    ([`NOTE`]).
//! 2. **Escalate to the district** an open order still overdue
//!    [`DeadlinePolicy::escalate_after_hours`](gridwork_core::work_order::DeadlinePolicy) past
//!    its deadline, with fewer than two escalation steps ([`ESCALATE_NOTE`]).
//!
//! Each step is taken only if the order, read again from the log, still wants it, so several
//! servers over one database, or a pass repeated after a crash, add no second step.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gridwork_core::AreaPath;
use gridwork_core::work_order::{DeadlinePolicy, EventType, WorkOrderAction, WorkOrderSummary};

use crate::api::AppState;
use crate::authoring::{self, Author};
use crate::store::StoreError;

/// The note of an automatic supervision step (zh-CN; the event's type says it in any language).
pub const NOTE: &str = "超时自动督办";

/// The note of an automatic escalation to the district command centre.
pub const ESCALATE_NOTE: &str = "超时未办结，升级至区指挥中心督办";

/// Most orders one pass supervises, and at most as many it escalates.
pub const PASS_LIMIT: u32 = 200;

/// Which automatic step an order is due for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Overdue and never supervised: supervise.
    Supervise,
    /// Overdue past the escalation threshold, escalated fewer than twice: escalate to the
    /// district.
    Escalate,
}

impl Stage {
    /// Whether an order as `s` describes (folded under `policy`) is due for this step at
    /// `now`.
    pub fn due(self, s: &WorkOrderSummary, policy: &DeadlinePolicy, now: DateTime<Utc>) -> bool {
        let Some(deadline) = s.deadline.filter(|_| s.is_open()) else { return false };
        match self {
            Stage::Supervise => !s.escalated && deadline < now,
            Stage::Escalate => {
                s.escalated
                    && s.escalations < 2
                    && deadline.checked_add_signed(policy.escalate_after()).is_some_and(|t| t < now)
            }
        }
    }

    fn note(self) -> &'static str {
        match self {
            Stage::Supervise => NOTE,
            Stage::Escalate => ESCALATE_NOTE,
        }
    }
}

/// One pass at the server's current time ([`pass_at`]).
///
/// # Errors
/// As [`pass_at`].
pub async fn pass(st: &AppState) -> Result<usize, StoreError> {
    pass_at(st, Utc::now()).await
}

/// One pass at `now` (the server's clock; tests pass a later one): supervises the overdue,
/// unsupervised open orders the read model lists, and escalates to the district those overdue
/// past their district's threshold. Returns how many steps were taken.
///
/// # Errors
/// Storage errors; an order the system may not act on is logged and skipped.
pub async fn pass_at(st: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let Some(rm) = st.store.read_model() else { return Ok(0) };
    let mut policies: BTreeMap<AreaPath, DeadlinePolicy> = BTreeMap::new();
    for district in crate::reference::districts(st).await? {
        let policy = match crate::reference::policy(st, &district).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%district, error = %e, "reference data unreadable; defaults");
                DeadlinePolicy::default()
            }
        };
        policies.insert(district, policy);
    }
    let mut done = 0;
    let supervise = rm.rm_overdue(now.timestamp_millis(), PASS_LIMIT).await?;
    // Candidates for escalation: past the smallest threshold of any district; each is checked
    // against its own district's.
    let least = policies
        .values()
        .map(DeadlinePolicy::escalate_after)
        .min()
        .unwrap_or_else(|| DeadlinePolicy::default().escalate_after());
    let before = now.checked_sub_signed(least).unwrap_or(now);
    let escalate = rm.rm_supervised_overdue(before.timestamp_millis(), PASS_LIMIT).await?;
    let steps = supervise
        .into_iter()
        .map(|id| (id, Stage::Supervise))
        .chain(escalate.into_iter().map(|id| (id, Stage::Escalate)));
    for (id, stage) in steps {
        let Some(district) = district_of(st, id).await? else { continue };
        let policy = policies.get(&district).copied().unwrap_or_default();
        let action = WorkOrderAction {
            event_type: EventType::Escalate,
            department: None,
            note: Some(stage.note().into()),
            extension_hours: None,
            satisfaction: None,
            photos: Vec::new(),
            at: now,
        };
        let still_due = |s: &WorkOrderSummary| stage.due(s, &policy, now);
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
    Ok(AreaPath::parse(crate::reference::district_code(&area)).ok())
}

/// Runs a pass every `every` (at the server's clock plus `clock_offset`, zero but in drills and
/// tests) until the process ends, first making sure every district has
/// its reference record ([`crate::reference::ensure_all`]); a failing pass is logged and
/// retried.
pub async fn supervise(st: AppState, every: Duration, clock_offset: chrono::TimeDelta) {
    loop {
        crate::reference::ensure_all(&st).await;
        match pass_at(&st, Utc::now() + clock_offset).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(steps = n, "automatic supervision"),
            Err(e) => tracing::warn!(error = %e, "automatic supervision pass failed"),
        }
        tokio::time::sleep(every).await;
    }
}
