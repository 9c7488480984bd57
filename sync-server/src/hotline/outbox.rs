//! Steps going back up to the hotline platform: a durable outbox in the database.
//!
//! - **Queueing.** Every step (work-order event other than the report) of an order that came
//!   from the hotline is queued once, keyed by the event's id (`UNIQUE (platform, step_id)`):
//!   the queue is derived from the log, so queueing again after a restart or a missed
//!   notification adds nothing twice. The read model's projector announces each work order it
//!   folds ([`crate::read_model::progress::Progress::subscribe_orders`]); a hotline order among
//!   them is queued at once, and every order is re-scanned at start and every [`SCAN_EVERY`]
//!   (what a lagging or restarted listener missed).
//! - **Delivery.** The oldest pending step of each order is `POST`ed to the platform's endpoint,
//!   signed like the platform's own requests ([`super::auth`]), with the step's id in
//!   [`STEP_HEADER`] and the body. A 2xx answer marks it delivered; anything else (an error
//!   status, a timeout, a refused connection) schedules a retry after an exponential backoff
//!   ([`super::platform::Delivery`]); after `max_attempts` the step goes to the dead-letter list
//!   (`GET /admin/v1/hotline/dead-letters`) and the order's later steps go on. A later step of
//!   an order is never sent before an earlier one is delivered or dead: in order per order. A
//!   step delivered but not acknowledged (the answer lost) is sent again: the platform dedupes
//!   on the step id, which makes each step count once on its side.
//! - **Several processes.** A step is leased before it is sent (`outbox_claim`: an atomic
//!   update of the due heads not leased by anyone, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so
//!   two server processes on one database never send the same step; a lease held by a process
//!   that died runs out after the longest delivery timeout plus [`LEASE_MARGIN_MS`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gridwork_core::PhotoRef;
use gridwork_core::work_order::{EventType, WorkOrderState};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::HotlineError;
use super::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use super::inbound::load_order;
use super::platform::Platform;
use crate::api::AppState;
use crate::authoring::Author;
use crate::error::ApiResult;
use crate::store::hotline::{HotlineOrder, OutboxItem};
use crate::store::now_ms;

/// How often every hotline order is re-scanned for steps to queue.
pub const SCAN_EVERY: Duration = Duration::from_secs(30);
/// How often due deliveries are looked for when nothing wakes the deliverer.
pub const DELIVER_EVERY: Duration = Duration::from_millis(250);
/// Most steps taken from the queue per round.
pub const BATCH: u32 = 64;
/// When a step of a platform without an endpoint is looked at again (ms).
pub const POLL_ONLY_RECHECK_MS: i64 = 60 * 60 * 1000;
/// The header carrying the step's id on a delivery.
pub const STEP_HEADER: &str = "x-gridwork-step-id";

/// One step as delivered to the platform (and listed by `GET /hotline/v1/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The step's id: the platform dedupes on it.
    pub step_id: String,
    /// The hotline's order number.
    pub order_number: String,
    /// The work order.
    pub work_order_id: Uuid,
    /// What was done: `accept`, `dispatch`, `sign`, `handle`, `feedback`, `return`, `verify`,
    /// `close`, `escalate`, `reopen`…
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When (the server's receive time, the device's clock when unknown).
    pub at: DateTime<Utc>,
    /// The department concerned.
    pub department: Option<String>,
    /// The step's text.
    pub note: Option<String>,
    /// The resident's satisfaction on a verify, 1–5.
    pub satisfaction: Option<u8>,
    /// The order's photos when the step was queued — the reporter's and the platform's uploads —
    /// each downloadable by the platform at its `path` (the platform keeps each hash once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<StepPhoto>,
    /// The step's own photos: the finished work with a department's feedback, what the checker
    /// saw on a verify… Downloadable the same way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_photos: Vec<StepPhoto>,
    /// The order's state when the step was queued.
    pub state: Option<WorkOrderState>,
}

/// A photo of the order, as a step carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPhoto {
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    pub hash: String,
    /// MIME type (`image/jpeg`…).
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the platform downloads it (a signed `GET`): `/hotline/v1/orders/{number}/photos/{hash}`.
    pub path: String,
}

/// Whether a step of this type goes back up to the platform: all but the report (the platform's
/// own order) and a conflict review (the centre's internal bookkeeping, nothing the citizen is
/// told about).
pub fn goes_up(t: EventType) -> bool {
    !matches!(t, EventType::Report | EventType::ReviewConflicts)
}

/// Queues the steps of hotline order `row` not queued yet; returns how many were new.
///
/// # Errors
/// The order's load; storage errors.
pub async fn queue_order(
    st: &AppState,
    platform: &Platform,
    row: &HotlineOrder,
) -> ApiResult<usize> {
    let view = load_order(st, &Author::system(platform.district()), row.doc_id).await?;
    let listed = |photos: &[PhotoRef]| -> Vec<StepPhoto> {
        photos
            .iter()
            .map(|p| StepPhoto {
                hash: p.hash.clone(),
                mime: p.mime.clone(),
                size: p.size,
                path: format!("/hotline/v1/orders/{}/photos/{}", row.order_number, p.hash),
            })
            .collect()
    };
    let photos = listed(&view.order.record.photos);
    let steps: Vec<(String, String)> = view
        .summary
        .events
        .iter()
        .filter(|e| goes_up(e.event_type))
        .map(|e| {
            let step = Step {
                step_id: e.id.clone(),
                order_number: row.order_number.clone(),
                work_order_id: row.doc_id,
                event_type: e.event_type,
                at: e.received_at.unwrap_or(e.at),
                department: e.department.clone(),
                note: e.note.clone(),
                satisfaction: e.satisfaction,
                photos: photos.clone(),
                step_photos: listed(&e.photos),
                state: view.summary.state,
            };
            (e.id.clone(), serde_json::to_string(&step).unwrap_or_default())
        })
        .collect();
    Ok(st.store.hotline().outbox_add(&row.platform, &row.order_number, &steps, now_ms()).await?)
}

/// Platforms by id, loaded once per round.
#[derive(Default)]
struct Platforms(HashMap<String, Option<Platform>>);

impl Platforms {
    async fn get(&mut self, st: &AppState, id: &str) -> Option<Platform> {
        if !self.0.contains_key(id) {
            let p = match Platform::load(&st.store, id).await {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(platform = id, error = %e, "hotline platform unavailable");
                    None
                }
            };
            self.0.insert(id.to_owned(), p);
        }
        self.0.get(id).cloned().flatten()
    }
}

/// Queues the new steps of every hotline order; returns how many were new.
///
/// # Errors
/// Storage errors (an order that fails to load is logged and skipped).
pub async fn queue_all(st: &AppState) -> Result<usize, HotlineError> {
    let mut platforms = Platforms::default();
    let mut added = 0;
    for row in st.store.hotline().orders().await? {
        let Some(p) = platforms.get(st, &row.platform).await else { continue };
        match queue_order(st, &p, &row).await {
            Ok(n) => added += n,
            Err(e) => tracing::warn!(order = %row.order_number, error = %e, "not queued yet"),
        }
    }
    Ok(added)
}

/// Sends one step; `Err` says why it failed.
async fn post(http: &reqwest::Client, p: &Platform, item: &OutboxItem) -> Result<(), String> {
    let Some(endpoint) = &p.endpoint else { return Err("no endpoint".into()) };
    let url = reqwest::Url::parse(endpoint).map_err(|e| format!("endpoint: {e}"))?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let ts = now_ms();
    let signature = sign(p.secret.as_bytes(), ts, "POST", &path, item.body.as_bytes());
    let res = http
        .post(url)
        .timeout(Duration::from_millis(p.delivery.timeout_ms))
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, signature)
        .header(STEP_HEADER, &item.step_id)
        .body(item.body.clone())
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { e.to_string() })?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", res.status().as_u16()))
    }
}

/// This process's name as the holder of outbox leases (a fresh id per start).
fn holder() -> &'static str {
    static HOLDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOLDER.get_or_init(|| format!("outbox-{}", Uuid::now_v7()))
}

/// Extra lease time beyond the longest delivery timeout (ms): the database round trips.
pub const LEASE_MARGIN_MS: i64 = 5_000;

/// Delivers the due steps once; returns how many were attempted.
///
/// The steps are leased first (`outbox_claim`: each due head of an order, not leased by another
/// process), for the longest delivery timeout plus [`LEASE_MARGIN_MS`], and delivered at the
/// same time, so every delivery ends within its lease: another process sharing the database
/// never sends a step this one is sending.
///
/// # Errors
/// Storage errors.
pub async fn deliver_due(st: &AppState, http: &reqwest::Client) -> Result<usize, HotlineError> {
    let mut platforms = Platforms::default();
    let mut longest = 0u64;
    for (id, _) in st.store.hotline().platforms().await? {
        if let Some(p) = platforms.get(st, &id).await {
            longest = longest.max(p.delivery.timeout_ms);
        }
    }
    let now = now_ms();
    let lease = now
        .saturating_add(i64::try_from(longest).unwrap_or(i64::MAX / 2))
        .saturating_add(LEASE_MARGIN_MS);
    let due = st.store.hotline().outbox_claim(now, BATCH, holder(), lease).await?;
    let mut sending = tokio::task::JoinSet::new();
    for item in due {
        let Some(p) = platforms.get(st, &item.platform).await else { continue };
        if p.endpoint.is_none() || !p.enabled {
            // A platform that only polls (or is disabled): look again in an hour, so its steps
            // do not crowd the others' out of the batch.
            let later = now_ms().saturating_add(POLL_ONLY_RECHECK_MS);
            st.store
                .hotline()
                .outbox_failed(item.id, item.attempts, later, "no endpoint", false)
                .await?;
            continue;
        }
        let (st, http) = (st.clone(), http.clone());
        sending.spawn(async move { deliver_one(&st, &http, &p, &item).await });
    }
    let mut tried = 0;
    while let Some(done) = sending.join_next().await {
        tried += 1;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "hotline delivery not recorded"),
            Err(e) => tracing::warn!(error = %e, "hotline delivery task failed"),
        }
    }
    Ok(tried)
}

/// Sends one leased step and records the outcome.
async fn deliver_one(
    st: &AppState,
    http: &reqwest::Client,
    p: &Platform,
    item: &OutboxItem,
) -> Result<(), HotlineError> {
    match post(http, p, item).await {
        Ok(()) => st.store.hotline().outbox_delivered(item.id, now_ms()).await?,
        Err(why) => {
            let attempts = item.attempts.saturating_add(1);
            let n = u32::try_from(attempts).unwrap_or(u32::MAX);
            let dead = n >= p.delivery.max_attempts;
            let delay = i64::try_from(p.delivery.backoff_ms(n)).unwrap_or(i64::MAX);
            let next = now_ms().saturating_add(delay);
            tracing::info!(step = %item.step_id, attempts, dead, error = %why, "hotline delivery failed");
            st.store.hotline().outbox_failed(item.id, attempts, next, &why, dead).await?;
        }
    }
    Ok(())
}

/// The HTTP client deliveries use (rustls; per-request timeouts from the platform).
///
/// # Errors
/// The client cannot be built (no TLS backend).
pub fn http_client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

/// Runs the outbox for ever: queues the steps of hotline orders as the read model folds them
/// (and in a full scan at start and every [`SCAN_EVERY`]) and delivers them.
pub async fn run(st: AppState) {
    let http = match http_client() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "hotline outbox: no HTTP client; deliveries stopped");
            return;
        }
    };
    let wake = Arc::new(Notify::new());
    tokio::spawn(deliver_loop(st.clone(), http, wake.clone()));
    let mut orders = st.read_model.subscribe_orders();
    let mut next_scan = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_scan {
            match queue_all(&st).await {
                Ok(n) if n > 0 => wake.notify_one(),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "hotline outbox scan failed"),
            }
            next_scan = tokio::time::Instant::now() + SCAN_EVERY;
        }
        tokio::select! {
            got = orders.recv() => match got {
                Ok(row) => {
                    if let Ok(Some(h)) = st.store.hotline().order_by_doc(row.id).await
                        && let Ok(p) = Platform::load(&st.store, &h.platform).await
                    {
                        match queue_order(&st, &p, &h).await {
                            Ok(n) if n > 0 => wake.notify_one(),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "hotline step not queued yet"),
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => next_scan = tokio::time::Instant::now(),
                Err(RecvError::Closed) => tokio::time::sleep(SCAN_EVERY).await,
            },
            () = tokio::time::sleep_until(next_scan) => {}
        }
    }
}

async fn deliver_loop(st: AppState, http: reqwest::Client, wake: Arc<Notify>) {
    loop {
        let tried = match deliver_due(&st, &http).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "hotline delivery round failed");
                0
            }
        };
        if tried == 0 {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(DELIVER_EVERY) => {}
            }
        }
    }
}
