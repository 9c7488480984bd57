//! The daily reconciliation of the hotline's and Gridwork's states (`docs/12345-exchange.md`,
//! "Reconciliation"): Gridwork asks the platform for its open orders (a signed `GET` of the
//! platform's `reconcile.endpoint`, answered `{"orders": [{"order_number", "state"}]}`, `state`
//! the last `state` the platform received in a step, `null` before any) and compares them with
//! its own hotline orders. Mismatches are stored with the run (`hotline_reconciliations`,
//! `hotline_mismatches`) for the sync admin (`GET /admin/v1/hotline/reconciliation`, the metric
//! `gridwork_hotline_reconciliation_mismatches`).
//!
//! - `missing_in_gridwork`: the platform has an open order Gridwork never made (held for
//!   mapping, or never received);
//! - `not_open_on_platform`: Gridwork's order is open, the platform does not list it (closed or
//!   withdrawn there, or lost);
//! - `state_differs`: both have it, the states differ and no step of it waits for delivery
//!   (steps in flight explain a difference and are not reported).
//!
//! Runs are scheduled every `reconcile.every_secs` (default a day) and on demand
//! (`POST /admin/v1/hotline/reconciliation/run`). A scheduled run takes its slot (platform,
//! period number) with a unique key, so of several server processes one runs it.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use gridwork_core::work_order::WorkOrderState;
use serde::{Deserialize, Serialize};

use super::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use super::inbound::load_order;
use super::platform::Platform;
use crate::api::AppState;
use crate::authoring::Author;
use crate::store::hotline::{DONE, FAILED, HELD, Mismatch, ReconciliationRun, RunOutcome};
use crate::store::now_ms;

/// Default seconds between scheduled runs: daily.
pub const DEFAULT_EVERY_SECS: u64 = 24 * 60 * 60;
/// Shortest period accepted (drills and tests).
pub const MIN_EVERY_SECS: u64 = 10;
/// The longest the scheduler sleeps between looks at the schedule.
pub const TICK_MAX: Duration = Duration::from_secs(10);
/// Most orders accepted in a platform's list.
pub const MAX_LISTED: usize = 200_000;

/// A platform's reconciliation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reconcile {
    /// Where the platform lists its open orders (`GET`, signed like deliveries).
    pub endpoint: String,
    /// Seconds between scheduled runs (at least [`MIN_EVERY_SECS`]).
    #[serde(default = "default_every")]
    pub every_secs: u64,
}

fn default_every() -> u64 {
    DEFAULT_EVERY_SECS
}

/// One order in the platform's list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    /// The hotline's order number.
    pub order_number: String,
    /// The last state the platform received (`null`: no step yet, i.e. `reported`).
    #[serde(default)]
    pub state: Option<WorkOrderState>,
}

/// The platform's answer.
#[derive(Debug, Clone, Deserialize)]
struct Listing {
    orders: Vec<Listed>,
}

fn state_name(s: WorkOrderState) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Compares the platform's open orders with Gridwork's hotline orders of that platform (each
/// with its state, `None` for one Gridwork cannot read, and whether the platform withdrew it);
/// orders with steps waiting for delivery are left out. Pure: the decisions, testable alone.
pub fn compare(
    listed: &[Listed],
    ours: &BTreeMap<String, (Option<WorkOrderState>, bool)>,
    in_flight: &HashSet<String>,
    held: &HashSet<String>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let theirs: BTreeMap<&str, Option<WorkOrderState>> =
        listed.iter().map(|l| (l.order_number.as_str(), l.state)).collect();
    for (number, their) in &theirs {
        let their_state = Some(state_name(their.unwrap_or(WorkOrderState::Reported)));
        match ours.get(*number) {
            None => out.push(Mismatch {
                order_number: (*number).to_owned(),
                kind: "missing_in_gridwork".into(),
                gridwork_state: None,
                platform_state: their_state,
                detail: if held.contains(*number) {
                    "held for mapping in Gridwork: map its values".into()
                } else {
                    "Gridwork never received this order: send it again".into()
                },
            }),
            Some((ours, _)) if in_flight.contains(*number) || ours.is_none() => {}
            Some((Some(ours), _)) => {
                let mine = state_name(*ours);
                if Some(&mine) != their_state.as_ref() {
                    out.push(Mismatch {
                        order_number: (*number).to_owned(),
                        kind: "state_differs".into(),
                        gridwork_state: Some(mine.clone()),
                        platform_state: their_state,
                        detail: format!("Gridwork: {mine}; every step was delivered"),
                    });
                }
            }
            Some((None, _)) => {}
        }
    }
    for (number, (state, withdrawn)) in ours {
        let Some(state) = state else { continue };
        if *state == WorkOrderState::Closed || theirs.contains_key(number.as_str()) {
            continue;
        }
        out.push(Mismatch {
            order_number: number.clone(),
            kind: "not_open_on_platform".into(),
            gridwork_state: Some(state_name(*state)),
            platform_state: None,
            detail: if *withdrawn {
                "withdrawn by the platform and still open in Gridwork: close it".into()
            } else {
                "open in Gridwork, not listed open by the platform".into()
            },
        });
    }
    out
}

async fn fetch_listing(
    http: &reqwest::Client,
    p: &Platform,
    r: &Reconcile,
) -> Result<Vec<Listed>, String> {
    let url = reqwest::Url::parse(&r.endpoint).map_err(|e| format!("endpoint: {e}"))?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let ts = now_ms();
    let res = http
        .get(url)
        .timeout(Duration::from_millis(p.delivery.timeout_ms.max(5_000)))
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, sign(p.secret.as_bytes(), ts, "GET", &path, b""))
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { e.to_string() })?;
    if !res.status().is_success() {
        return Err(format!("answered {}", res.status().as_u16()));
    }
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    let listing: Listing =
        serde_json::from_slice(&body).map_err(|e| format!("unreadable list: {e}"))?;
    if listing.orders.len() > MAX_LISTED {
        return Err(format!("more than {MAX_LISTED} orders listed"));
    }
    Ok(listing.orders)
}

/// Runs reconciliation `run_id` of platform `id`: asks the platform, compares, stores the
/// outcome. Returns the run as finished.
///
/// # Errors
/// Storage errors (a platform that cannot be asked makes a `failed` run, not an error).
pub async fn run_one(
    st: &AppState,
    http: &reqwest::Client,
    id: &str,
    p: &Platform,
    run_id: i64,
) -> Result<(), super::HotlineError> {
    let hotline = st.store.hotline();
    let Some(r) = &p.reconcile else {
        let error = "no reconcile endpoint";
        let outcome = RunOutcome { status: FAILED, error, compared: 0, mismatches: &[] };
        hotline.reconciliation_finish(run_id, id, now_ms(), &outcome).await?;
        return Ok(());
    };
    let listed = match fetch_listing(http, p, r).await {
        Ok(l) => l,
        Err(why) => {
            tracing::warn!(platform = id, error = %why, "hotline reconciliation failed");
            let outcome = RunOutcome { status: FAILED, error: &why, compared: 0, mismatches: &[] };
            hotline.reconciliation_finish(run_id, id, now_ms(), &outcome).await?;
            return Ok(());
        }
    };
    let author = Author::system(p.district());
    let mut ours = BTreeMap::new();
    for row in hotline.orders().await?.into_iter().filter(|o| o.platform == id) {
        let state = match load_order(st, &author, row.doc_id).await {
            Ok(view) => view.summary.state,
            Err(e) => {
                tracing::warn!(order = %row.order_number, error = %e.message, "not compared");
                None
            }
        };
        ours.insert(row.order_number, (state, row.withdrawn));
    }
    let in_flight: HashSet<String> = hotline.outbox_pending_orders(id).await?.into_iter().collect();
    let held: HashSet<String> =
        hotline.messages(Some(id), None, HELD).await?.into_iter().map(|m| m.order_number).collect();
    let mismatches = compare(&listed, &ours, &in_flight, &held);
    let compared: HashSet<&str> = listed
        .iter()
        .map(|l| l.order_number.as_str())
        .chain(
            ours.iter()
                .filter(|(_, (s, _))| *s != Some(WorkOrderState::Closed))
                .map(|(n, _)| n.as_str()),
        )
        .collect();
    let compared = i64::try_from(compared.len()).unwrap_or(i64::MAX);
    let outcome = RunOutcome { status: DONE, error: "", compared, mismatches: &mismatches };
    hotline.reconciliation_finish(run_id, id, now_ms(), &outcome).await?;
    Ok(())
}

/// The latest finished run of each platform.
///
/// # Errors
/// Storage errors.
pub async fn latest(st: &AppState) -> Result<Vec<ReconciliationRun>, super::HotlineError> {
    let mut out = Vec::new();
    for (id, _) in st.store.hotline().platforms().await? {
        let runs = st.store.hotline().reconciliations(Some(&id), 20).await?;
        if let Some(r) = runs.into_iter().find(|r| r.finished_at.is_some()) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Refreshes the mismatch gauge from the database (every process shows the same figure).
async fn refresh_gauge(st: &AppState) {
    match latest(st).await {
        Ok(runs) => {
            let n: i64 = runs.iter().filter(|r| r.status == DONE).map(|r| r.mismatches).sum();
            st.metrics.hotline_mismatches.store(u64::try_from(n).unwrap_or(0), Ordering::Relaxed);
        }
        Err(e) => tracing::warn!(error = %e, "hotline reconciliation gauge not refreshed"),
    }
}

/// Runs the scheduled reconciliations for ever: each platform with a `reconcile` setting once
/// per period of `every_secs` (the period's number is the run's slot), whichever process takes
/// the slot first.
pub async fn run(st: AppState) {
    let http = match super::outbox::http_client() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hotline reconciliation: no HTTP client; stopped");
            return;
        }
    };
    loop {
        let mut tick = TICK_MAX;
        match st.store.hotline().platforms().await {
            Ok(list) => {
                for (id, raw) in list {
                    let Ok(p) = serde_json::from_str::<Platform>(&raw) else { continue };
                    let Some(r) = p.reconcile.clone().filter(|_| p.enabled) else { continue };
                    let every = r.every_secs.max(MIN_EVERY_SECS);
                    tick = tick.min(Duration::from_secs(every) / 4);
                    let period = u64::try_from(now_ms() / 1000).unwrap_or(0) / every;
                    let slot = format!("every-{every}s-{period}");
                    match st
                        .store
                        .hotline()
                        .reconciliation_start(&id, &slot, "schedule", now_ms())
                        .await
                    {
                        Ok(Some(run_id)) => {
                            if let Err(e) = run_one(&st, &http, &id, &p, run_id).await {
                                tracing::warn!(platform = %id, error = %e, "hotline reconciliation failed");
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(platform = %id, error = %e, "hotline reconciliation not started")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "hotline reconciliation: platforms unreadable"),
        }
        refresh_gauge(&st).await;
        tokio::time::sleep(tick).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WorkOrderState as S;

    fn listed(n: &str, s: Option<S>) -> Listed {
        Listed { order_number: n.into(), state: s }
    }

    #[test]
    fn each_kind_of_mismatch() {
        let ours: BTreeMap<String, (Option<S>, bool)> = [
            ("same".to_owned(), (Some(S::Dispatched), false)),
            ("differs".to_owned(), (Some(S::Handling), false)),
            ("flying".to_owned(), (Some(S::Handling), false)),
            ("gone".to_owned(), (Some(S::Signed), false)),
            ("withdrawn".to_owned(), (Some(S::Accepted), true)),
            ("closed".to_owned(), (Some(S::Closed), false)),
            ("fresh".to_owned(), (Some(S::Reported), false)),
        ]
        .into_iter()
        .collect();
        let theirs = vec![
            listed("same", Some(S::Dispatched)),
            listed("differs", Some(S::Dispatched)),
            listed("flying", Some(S::Dispatched)),
            listed("fresh", None),
            listed("unknown", None),
            listed("held", Some(S::Reported)),
        ];
        let flying: HashSet<String> = ["flying".to_owned()].into_iter().collect();
        let held: HashSet<String> = ["held".to_owned()].into_iter().collect();
        let got: Vec<(String, String)> = compare(&theirs, &ours, &flying, &held)
            .into_iter()
            .map(|m| (m.order_number, m.kind))
            .collect();
        let want: Vec<(String, String)> = [
            ("differs", "state_differs"),
            ("held", "missing_in_gridwork"),
            ("unknown", "missing_in_gridwork"),
            ("gone", "not_open_on_platform"),
            ("withdrawn", "not_open_on_platform"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        assert_eq!(got, want);
    }
}
