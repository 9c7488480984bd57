//! The projector: follows the change log with its own cursor and keeps the read model's rows up
//! to date. Each step reads one page of the log after the cursor (the same pull every device
//! uses, over every area), folds the page's changes into their documents ([`Docs`]), derives the
//! rows ([`row_of`]) and commits rows, document states and the new cursor in one transaction —
//! so a crash repeats a page rather than losing or doubling one, and ingest never waits for it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridwork_core::kinds::AnyRecord;
use gridwork_core::work_order::DeadlinePolicy;
use gridwork_core::{AreaPath, RecordKind};
use uuid::Uuid;

use super::docs::{Docs, FoldError};
use super::rows::{RecordRow, row_with};
use crate::store::{DynStore, PullQuery, ReadScope, StoreError};

/// A logged change's bytes and server receive time (ms).
type Logged = (Vec<u8>, Option<i64>);

/// What one projector step commits together.
#[derive(Debug, Clone, PartialEq)]
pub struct RmBatch {
    /// Rows of the records the page changed (a record not complete yet has none).
    pub rows: Vec<RecordRow>,
    /// The saved state of every document the page touched, with the server receive time of
    /// each of its changes the projector has seen (the work-order fold measures with them).
    pub states: Vec<DocState>,
    /// The log position after the page.
    pub cursor: u64,
}

/// A document's state as the read model keeps it beside its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocState {
    /// The document.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// Automerge `save()` bytes.
    pub state: Vec<u8>,
    /// Receive time (ms) of each change of the document, by change hash.
    pub received: BTreeMap<[u8; 32], i64>,
}

/// The storage the projector needs beside the log; both backends implement it.
#[async_trait]
pub trait ReadModelStore: Send + Sync {
    /// The log position the read model has folded up to (0 for an empty read model).
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_cursor(&self) -> Result<u64, StoreError>;

    /// The stored states of documents `ids` (those the read model has).
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_states(&self, ids: &[Uuid]) -> Result<Vec<DocState>, StoreError>;

    /// Replaces the rows and states of `batch` and sets the cursor, in one transaction.
    ///
    /// # Errors
    /// Storage errors; nothing is written then.
    async fn rm_commit(&self, batch: &RmBatch) -> Result<(), StoreError>;

    /// Open work orders past their deadline at `now_ms` (server clock) that were never put under
    /// supervision, oldest deadline first, at most `limit`: what automatic supervision steps
    /// on ([`crate::supervision`]).
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_overdue(&self, now_ms: i64, limit: u32) -> Result<Vec<Uuid>, StoreError>;

    /// Open work orders already under supervision whose deadline passed before `before_ms`,
    /// latest deadline first (those crossing the escalation threshold most recently), at most
    /// `limit`: the candidates for escalation to the district ([`crate::supervision`] checks
    /// each against its district's threshold and its escalation count).
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_supervised_overdue(
        &self,
        before_ms: i64,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Empties the read model (rows, states, cursor), for a rebuild from the log.
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_clear(&self) -> Result<(), StoreError>;

    /// Every row of the read model as one text line `table|cell|cell…`, sorted: the same lines
    /// on either backend for the same rows (bytes as hex, text quoted, booleans `true`/`false`,
    /// NULL as `NULL`). Lists the cursor, the documents' kinds and receive times (not their
    /// Automerge states) and every row table. For tests and the rebuild check, not for serving:
    /// it reads the whole read model into memory.
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_rows(&self) -> Result<Vec<String>, StoreError>;

    /// A stable hash (SHA-256) of [`ReadModelStore::rm_rows`]: equal read models give equal
    /// digests, on either backend. As `rm_rows`, for tests and the rebuild check.
    ///
    /// # Errors
    /// Storage errors.
    async fn rm_digest(&self) -> Result<[u8; 32], StoreError> {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        for line in self.rm_rows().await? {
            hash.update(line.as_bytes());
            hash.update(b"\n");
        }
        Ok(hash.finalize().into())
    }
}

/// Why a projector step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The log or the read model's storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A stored document state did not load.
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// The backend keeps no read-model tables.
    #[error("the {backend} backend keeps no read model")]
    NoReadModel {
        /// The backend.
        backend: &'static str,
    },
}

/// Follows the log into the read model.
#[derive(Debug)]
pub struct Projector {
    docs: Docs,
    /// Receive times of the cached documents' changes.
    received: BTreeMap<Uuid, BTreeMap<[u8; 32], i64>>,
    /// Bytes of log per step.
    page_bytes: u32,
    /// The deadline policy of each district (by code) from its reference record, loaded from
    /// the read model on the first step and updated as reference changes are folded.
    policies: Option<BTreeMap<String, DeadlinePolicy>>,
    /// Work-order rows committed since [`Projector::take_folded_orders`] last took them.
    folded_orders: Vec<RecordRow>,
}

/// The district (first code of the path) an area lies in.
fn district(area: &AreaPath) -> &str {
    area.as_str().split('/').next().unwrap_or_default()
}

/// At most this many folded work orders are held for [`Projector::take_folded_orders`].
const FOLDED_ORDERS_KEPT: usize = 10_000;

impl Projector {
    /// A projector keeping up to `cached_docs` documents in memory and reading `page_bytes` of
    /// log per step.
    pub fn new(cached_docs: usize, page_bytes: u32) -> Projector {
        Projector {
            docs: Docs::new(cached_docs),
            received: BTreeMap::new(),
            page_bytes,
            policies: None,
            folded_orders: Vec::new(),
        }
    }

    /// The work-order rows committed since the last call (for live alerts).
    pub fn take_folded_orders(&mut self) -> Vec<RecordRow> {
        std::mem::take(&mut self.folded_orders)
    }

    /// Folds one page of the log after the read model's cursor; returns how many changes it
    /// folded (0 when the read model is up to date).
    ///
    /// # Errors
    /// [`ProjectorError`]; nothing of the page is committed then, and the next step retries it.
    pub async fn step<S: ReadModelStore + ?Sized>(
        &mut self,
        log: &DynStore,
        rm: &S,
        now: DateTime<Utc>,
    ) -> Result<usize, ProjectorError> {
        let cursor = rm.rm_cursor().await?;
        let scopes = everything(log).await?;
        let page = log
            .pull(&PullQuery {
                cursor,
                scopes: scopes.clone(),
                exclude_device: None,
                max_bytes: self.page_bytes,
            })
            .await?;
        if page.changes.is_empty() {
            // Changes outside every registered area are passed over: the cursor still moves.
            if page.next_cursor > cursor {
                let skip =
                    RmBatch { rows: Vec::new(), states: Vec::new(), cursor: page.next_cursor };
                rm.rm_commit(&skip).await?;
            }
            return Ok(0);
        }
        // Per document, in log order.
        let mut by_doc: BTreeMap<Uuid, (RecordKind, Vec<Logged>)> = BTreeMap::new();
        let mut order = Vec::new();
        for c in &page.changes {
            let e = &c.change;
            let entry = by_doc.entry(e.doc_id).or_insert_with(|| {
                order.push(e.doc_id);
                (e.kind, Vec::new())
            });
            entry.1.push((e.bytes.clone(), c.received_at));
        }
        // Every document of the page, also those cached now: folding one may evict another
        // before its turn. What is cached always equals what is committed, so either serves.
        let stored: BTreeMap<Uuid, DocState> =
            rm.rm_states(&order).await?.into_iter().map(|s| (s.id, s)).collect();
        let mut policies = match self.policies.take() {
            Some(p) => p,
            None => stored_policies(rm, &scopes).await?,
        };
        let mut batch = RmBatch { rows: Vec::new(), states: Vec::new(), cursor: page.next_cursor };
        for id in order {
            let Some((kind, changes)) = by_doc.remove(&id) else { continue };
            let from_disk = stored.get(&id);
            let received = self
                .received
                .entry(id)
                .or_insert_with(|| from_disk.map(|s| s.received.clone()).unwrap_or_default());
            for (bytes, at) in &changes {
                if let (Some(at), Ok(change)) = (at, automerge::Change::from_bytes(bytes.clone())) {
                    received.insert(change.hash().0, *at);
                }
            }
            let cached = self.docs.has(&id);
            let record = self.docs.apply(
                id,
                kind,
                from_disk.filter(|_| !cached).map(|s| s.state.as_slice()),
                changes.into_iter().map(|(b, _)| b),
            )?;
            let received = received.clone();
            if let Some(record) = record {
                if let AnyRecord::Reference(r) = &record {
                    policies.insert(district(&r.header.area).to_owned(), r.record.deadline_policy);
                }
                let policy = match &record {
                    AnyRecord::WorkOrder(r) => policies.get(district(&r.header.area)).copied(),
                    _ => None,
                };
                batch.rows.push(row(&record, &policy.unwrap_or_default(), &received, now));
            }
            if let Some(state) = self.docs.save(&id) {
                batch.states.push(DocState { id, kind, state, received });
            }
        }
        rm.rm_commit(&batch).await?;
        self.policies = Some(policies);
        // Only what is committed is told; bounded, in case nobody takes them.
        if self.folded_orders.len() < FOLDED_ORDERS_KEPT {
            self.folded_orders.extend(
                batch.rows.into_iter().filter(|r| r.kind == RecordKind::WorkOrder && !r.deleted),
            );
        }
        // Receive times are kept in memory only with their cached documents.
        let docs = &self.docs;
        self.received.retain(|id, _| docs.has(id));
        Ok(page.changes.len())
    }

    /// Folds the log until the read model is up to date; returns how many changes it folded.
    ///
    /// # Errors
    /// As [`Projector::step`].
    pub async fn catch_up<S: ReadModelStore + ?Sized>(
        &mut self,
        log: &DynStore,
        rm: &S,
        now: DateTime<Utc>,
    ) -> Result<usize, ProjectorError> {
        let mut total = 0;
        loop {
            let n = self.step(log, rm, now).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }
}

fn row(
    record: &AnyRecord,
    policy: &DeadlinePolicy,
    received: &BTreeMap<[u8; 32], i64>,
    now: DateTime<Utc>,
) -> RecordRow {
    row_with(
        record,
        policy,
        |h| received.get(h).and_then(|ms| DateTime::from_timestamp_millis(*ms)),
        now,
    )
}

/// The deadline policies of the districts of `scopes` as their reference records, folded into
/// the read model already, hold them.
async fn stored_policies<S: ReadModelStore + ?Sized>(
    rm: &S,
    scopes: &[ReadScope],
) -> Result<BTreeMap<String, DeadlinePolicy>, StoreError> {
    let ids: Vec<Uuid> = scopes
        .iter()
        .filter_map(|s| AreaPath::parse(district(&s.area)).ok())
        .map(|d| gridwork_core::reference::reference_id(&d))
        .collect();
    let mut out = BTreeMap::new();
    for state in rm.rm_states(&ids).await? {
        let Ok(doc) = automerge::AutoCommit::load(&state.state) else { continue };
        if let Ok(r) =
            gridwork_core::spec::decode::<gridwork_core::reference::ReferenceSpec>(state.id, &doc)
        {
            out.insert(district(&r.header.area).to_owned(), r.record.deadline_policy);
        }
    }
    Ok(out)
}

/// A read scope over every area the server knows and every kind: the read model holds all (and
/// the departments backfill reads all).
pub(crate) async fn everything(log: &DynStore) -> Result<Vec<ReadScope>, StoreError> {
    let areas: std::collections::BTreeSet<AreaPath> =
        log.list_areas().await?.into_iter().map(|a| a.path).collect();
    // The outermost registered areas (a deployment may register its towns but not the
    // district): every record lies inside one of them, as every grant does. A district has
    // thousands of areas: each is checked against its few ancestors, not against all others.
    let roots: Vec<AreaPath> = areas
        .iter()
        .filter(|a| !std::iter::successors(a.parent(), |p| p.parent()).any(|p| areas.contains(&p)))
        .cloned()
        .collect();
    Ok(roots.into_iter().map(|area| ReadScope::new(area, RecordKind::ALL.to_vec())).collect())
}

/// Keeps the read model of `log` up to date until the process ends: folds the log page by page
/// (yielding to ingest while devices push, [`INGEST_YIELD`]), then waits `every` or a wake-up
/// from `progress`; publishes the cursor
/// and the lag in `metrics` and the cursor in `progress`.
/// Ingest never waits for it. A failing step is logged and retried after the wait. Does nothing
/// for a backend without read-model tables.
pub async fn follow(
    log: DynStore,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    progress: std::sync::Arc<super::progress::Progress>,
    every: std::time::Duration,
) {
    use std::sync::atomic::Ordering;
    let mut projector = Projector::new(4096, 1 << 20);
    // The cursor after the last step: while the log's head stays there, one cheap query per
    // wait is all the projector costs.
    let mut folded: Option<u64> = None;
    loop {
        let Some(rm) = log.read_model() else { return };
        let head = log.head_seq().await.ok();
        if head.is_none() || head != folded {
            let started = std::time::Instant::now();
            let stepped = projector.step(&log, rm, Utc::now()).await;
            let took = started.elapsed();
            if let Err(e) = &stepped {
                tracing::warn!(error = %e, "read model: a projector step failed");
            }
            progress.publish_orders(projector.take_folded_orders());
            let now_head = log.head_seq().await.ok();
            if let (Ok(cursor), Some(h)) = (rm.rm_cursor().await, now_head) {
                metrics.read_model_cursor.store(cursor, Ordering::Relaxed);
                metrics.read_model_lag.store(h.saturating_sub(cursor), Ordering::Relaxed);
                progress.publish(cursor);
                folded = (cursor >= h).then_some(h);
                if cursor < h && stepped.is_ok() {
                    // Behind. While devices are pushing (the head moved during the step) the
                    // projector folds a quarter of the time, so ingest keeps the CPU and the
                    // database; once the pushes stop it folds at full speed. An action on the
                    // server waiting for its own write wakes it at once.
                    if now_head > head {
                        progress.pause(took.saturating_mul(INGEST_YIELD)).await;
                    }
                    continue;
                }
            }
        }
        progress.pause(every).await;
    }
}

/// While ingest is busy, the projector pauses this many times as long as each step took: it
/// takes at most a quarter of the time (docs/BENCHMARKS.md, "ingest with the projector
/// following").
pub const INGEST_YIELD: u32 = 3;

/// Empties the read model of `log` and folds the whole log again; returns how many changes
/// it folded. The rows equal those the projector kept (tested).
///
/// # Errors
/// [`ProjectorError::NoReadModel`] for a backend without read-model tables; other
/// [`ProjectorError`]s.
pub async fn rebuild(log: &DynStore) -> Result<usize, ProjectorError> {
    let Some(rm) = log.read_model() else {
        return Err(ProjectorError::NoReadModel { backend: log.backend() });
    };
    rm.rm_clear().await?;
    Projector::new(4096, 1 << 20).catch_up(log, rm, Utc::now()).await
}
