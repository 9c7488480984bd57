//! Storage of the 12345 hotline exchange (issue 13, `docs/12345-exchange.md`), both backends,
//! reached by [`super::Store::hotline`]: the platforms' configuration, the signatures seen in the
//! replay window, the hotline orders made into work orders, every inbound message with its
//! status, and the durable outbox of steps delivered back to the platform (tables of migration 10);
//! the per-order leases and outbox leases that let several server processes share one database,
//! and the reconciliation runs with their mismatches (migration 11).

use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use super::StoreResult;

/// Status of an inbound message that took effect.
pub const APPLIED: &str = "applied";
/// Status of an update that arrived before its order's create: applied when the create arrives.
pub const WAITING: &str = "waiting";
/// Status of a create holding a value no mapping knows: applied once a person maps it.
pub const HELD: &str = "held";
/// Status of a message the work order's rules refused (the detail says why).
pub const REFUSED: &str = "refused";

/// Outbox status: to be delivered.
pub const PENDING: &str = "pending";
/// Outbox status: the platform acknowledged it.
pub const DELIVERED: &str = "delivered";
/// Outbox status: retries exhausted; waits in the dead-letter list for a sync admin.
pub const DEAD: &str = "dead";

/// An inbound message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundMessage {
    /// Arrival order (server-assigned).
    pub id: i64,
    /// The platform that sent it.
    pub platform: String,
    /// The hotline's order number.
    pub order_number: String,
    /// The platform's message id (idempotency key within the order).
    pub message_id: String,
    /// `create`, `supplement`, `urge` or `withdraw`.
    pub kind: String,
    /// The message body as received (JSON).
    pub body: String,
    /// [`APPLIED`], [`WAITING`], [`HELD`] or [`REFUSED`].
    pub status: String,
    /// Why it is held or refused.
    pub detail: String,
    /// When it arrived (ms).
    pub received_at: i64,
}

/// A hotline order made into a work order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotlineOrder {
    /// The platform.
    pub platform: String,
    /// The hotline's order number.
    pub order_number: String,
    /// The work order.
    pub doc_id: Uuid,
    /// When it was created (ms).
    pub created_at: i64,
    /// Whether the platform withdrew it.
    pub withdrawn: bool,
}

/// One step queued for delivery to a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    /// Queue position (also the polling cursor).
    pub id: i64,
    /// The platform.
    pub platform: String,
    /// The hotline's order number.
    pub order_number: String,
    /// The step's id (the work-order event's id): the platform dedupes on it.
    pub step_id: String,
    /// What is delivered (JSON).
    pub body: String,
    /// [`PENDING`], [`DELIVERED`] or [`DEAD`].
    pub status: String,
    /// Delivery attempts made.
    pub attempts: i64,
    /// Not before (ms).
    pub next_at: i64,
    /// The last attempt's failure.
    pub last_error: String,
    /// When it was queued (ms).
    pub created_at: i64,
    /// When the platform acknowledged it (ms).
    pub delivered_at: Option<i64>,
}

/// Reconciliation run status: running (or died running).
pub const RUNNING: &str = "running";
/// Reconciliation run status: compared.
pub const DONE: &str = "done";
/// Reconciliation run status: the platform's list could not be had.
pub const FAILED: &str = "failed";

/// One reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconciliationRun {
    /// Its id.
    pub id: i64,
    /// The platform compared.
    pub platform: String,
    /// The schedule slot (`YYYY-MM-DD…` of a scheduled run) or `manual-…` for an on-demand run.
    pub slot: String,
    /// `schedule` or `admin`.
    pub run_by: String,
    /// When it started (ms).
    pub started_at: i64,
    /// When it finished (ms).
    pub finished_at: Option<i64>,
    /// [`RUNNING`], [`DONE`] or [`FAILED`].
    pub status: String,
    /// Why it failed.
    pub error: String,
    /// Orders compared.
    pub compared: i64,
    /// Mismatches found.
    pub mismatches: i64,
}

/// One order on which the two sides disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The hotline's order number.
    pub order_number: String,
    /// `missing_in_gridwork`, `not_open_on_platform` or `state_differs`.
    pub kind: String,
    /// Gridwork's state (`None`: Gridwork has no such order).
    pub gridwork_state: Option<String>,
    /// The platform's state (`None`: the platform does not list it).
    pub platform_state: Option<String>,
    /// A sentence for the admin.
    pub detail: String,
}

/// How a reconciliation run ended.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome<'a> {
    /// [`DONE`] or [`FAILED`].
    pub status: &'a str,
    /// Why it failed (empty when done).
    pub error: &'a str,
    /// Orders compared.
    pub compared: i64,
    /// The mismatches found.
    pub mismatches: &'a [Mismatch],
}

/// A new inbound message.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// The platform.
    pub platform: &'a str,
    /// The hotline's order number.
    pub order_number: &'a str,
    /// The platform's message id.
    pub message_id: &'a str,
    /// Its kind.
    pub kind: &'a str,
    /// The body (JSON).
    pub body: &'a str,
    /// The initial status.
    pub status: &'a str,
    /// When it arrived (ms).
    pub received_at: i64,
}

/// What recording an inbound message found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new message, with its id.
    New(i64),
    /// The same (platform, order number, message id) was recorded before: nothing written.
    Duplicate(InboundMessage),
}

/// The hotline exchange's storage (both backends).
#[async_trait]
pub trait HotlineStore: Send + Sync {
    /// Adds or replaces platform `id`'s configuration (JSON).
    async fn put_platform(&self, id: &str, config: &str, now: i64) -> StoreResult<()>;

    /// Platform `id`'s configuration (JSON), if registered.
    async fn platform(&self, id: &str) -> StoreResult<Option<String>>;

    /// Every platform's id and configuration.
    async fn platforms(&self) -> StoreResult<Vec<(String, String)>>;

    /// Records a request signature seen at `now`, forgetting those seen before `oldest`;
    /// `false` when it was seen already (a replay).
    async fn note_signature(
        &self,
        platform: &str,
        signature: &str,
        now: i64,
        oldest: i64,
    ) -> StoreResult<bool>;

    /// Records an inbound message unless the same one was recorded before.
    async fn record_message(&self, m: &NewMessage<'_>) -> StoreResult<Recorded>;

    /// Sets a message's status and detail.
    async fn set_message_status(&self, id: i64, status: &str, detail: &str) -> StoreResult<()>;

    /// The messages of `platform` in `status` (of one order, when `order_number` is given), in
    /// arrival order.
    async fn messages(
        &self,
        platform: Option<&str>,
        order_number: Option<&str>,
        status: &str,
    ) -> StoreResult<Vec<InboundMessage>>;

    /// The hotline order `order_number` of `platform`.
    async fn order(&self, platform: &str, order_number: &str) -> StoreResult<Option<HotlineOrder>>;

    /// The hotline order a work order came from.
    async fn order_by_doc(&self, doc_id: Uuid) -> StoreResult<Option<HotlineOrder>>;

    /// Records a hotline order; `false` when its number was recorded already.
    async fn add_order(&self, order: &HotlineOrder) -> StoreResult<bool>;

    /// Marks a hotline order withdrawn by the platform.
    async fn set_withdrawn(&self, platform: &str, order_number: &str) -> StoreResult<()>;

    /// Every hotline order.
    async fn orders(&self) -> StoreResult<Vec<HotlineOrder>>;

    /// Queues steps `(step_id, body)` of one order at `now`, skipping those queued before;
    /// returns how many are new.
    async fn outbox_add(
        &self,
        platform: &str,
        order_number: &str,
        steps: &[(String, String)],
        now: i64,
    ) -> StoreResult<usize>;

    /// Takes the lease of hotline order `order_number` for `holder` until `until` when nobody
    /// holds it or its lease expired before `now` (one atomic `INSERT … ON CONFLICT DO UPDATE …
    /// WHERE`); `false` when another holder has it.
    async fn claim_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool>;

    /// Gives back `holder`'s lease of an order (nothing when another holds it now).
    async fn release_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
    ) -> StoreResult<()>;

    /// Leases to `holder`, until `lease_until`, the next pending step of each order that is due
    /// at `now` and not leased by anyone (at most `limit`; PostgreSQL: `FOR UPDATE SKIP
    /// LOCKED`): a later step of an order waits until the earlier one is delivered or dead, and
    /// a leased step is delivered by its holder only.
    async fn outbox_claim(
        &self,
        now: i64,
        limit: u32,
        holder: &str,
        lease_until: i64,
    ) -> StoreResult<Vec<OutboxItem>>;

    /// The order numbers of `platform` with a step not yet delivered (pending).
    async fn outbox_pending_orders(&self, platform: &str) -> StoreResult<Vec<String>>;

    /// Starts a reconciliation run of `platform` for `slot`; `None` when a run of that slot
    /// exists (another process, or an earlier start, took it).
    async fn reconciliation_start(
        &self,
        platform: &str,
        slot: &str,
        run_by: &str,
        now: i64,
    ) -> StoreResult<Option<i64>>;

    /// Finishes run `id` of `platform` at `now` with its outcome.
    async fn reconciliation_finish(
        &self,
        id: i64,
        platform: &str,
        now: i64,
        outcome: &RunOutcome<'_>,
    ) -> StoreResult<()>;

    /// The latest runs, newest first (of one platform when given), at most `limit`.
    async fn reconciliations(
        &self,
        platform: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ReconciliationRun>>;

    /// The mismatches run `id` found, by order number.
    async fn mismatches(&self, id: i64) -> StoreResult<Vec<Mismatch>>;

    /// Marks a step delivered (its lease ends).
    async fn outbox_delivered(&self, id: i64, now: i64) -> StoreResult<()>;

    /// Records a failed attempt: the attempts made, when to try again, why; `dead` moves it to
    /// the dead-letter list; its lease ends.
    async fn outbox_failed(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: &str,
        dead: bool,
    ) -> StoreResult<()>;

    /// `platform`'s steps after queue position `cursor` (any status), at most `limit`.
    async fn outbox_after(
        &self,
        platform: &str,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>>;

    /// The dead letters, oldest first, at most `limit`.
    async fn outbox_dead(&self, limit: u32) -> StoreResult<Vec<OutboxItem>>;

    /// Puts a dead letter back in the queue, due at `now`; `false` when `id` is not dead.
    async fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<bool>;
}
