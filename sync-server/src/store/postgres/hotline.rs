//! The 12345 hotline exchange in PostgreSQL (`store::hotline`), as in SQLite
//! (`sqlite/hotline.rs`): tables of migration 10.

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::hotline::{
    DEAD, DELIVERED, HotlineOrder, HotlineStore, InboundMessage, Mismatch, NewMessage, OutboxItem,
    PENDING, RUNNING, ReconciliationRun, Recorded, RunOutcome,
};
use crate::store::{StoreError, StoreResult};

/// Taken by every transaction that queues a platform's steps (`$1`: the platform's id), held
/// until it commits: see `outbox_add`.
pub const OUTBOX_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('hotline_outbox/' || $1, 0))";

const MESSAGE_COLS: &str =
    "id, platform, order_number, message_id, kind, body, status, detail, received_at";
const OUTBOX_COLS: &str = "id, platform, order_number, step_id, body, status, attempts, next_at, \
                           last_error, created_at, delivered_at";
const ORDER_COLS: &str = "platform, order_number, doc_id, created_at, withdrawn";

fn message(r: &Row) -> StoreResult<InboundMessage> {
    Ok(InboundMessage {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        order_number: r.try_get(2)?,
        message_id: r.try_get(3)?,
        kind: r.try_get(4)?,
        body: r.try_get(5)?,
        status: r.try_get(6)?,
        detail: r.try_get(7)?,
        received_at: r.try_get(8)?,
    })
}

fn outbox(r: &Row) -> StoreResult<OutboxItem> {
    Ok(OutboxItem {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        order_number: r.try_get(2)?,
        step_id: r.try_get(3)?,
        body: r.try_get(4)?,
        status: r.try_get(5)?,
        attempts: r.try_get(6)?,
        next_at: r.try_get(7)?,
        last_error: r.try_get(8)?,
        created_at: r.try_get(9)?,
        delivered_at: r.try_get(10)?,
    })
}

fn order(r: &Row) -> StoreResult<HotlineOrder> {
    let order_number: String = r.try_get(1)?;
    let doc: String = r.try_get(2)?;
    let doc_id = Uuid::parse_str(&doc)
        .map_err(|e| StoreError::Corrupt(format!("hotline order {order_number}: {e}")))?;
    Ok(HotlineOrder {
        platform: r.try_get(0)?,
        order_number,
        doc_id,
        created_at: r.try_get(3)?,
        withdrawn: r.try_get(4)?,
    })
}

const RUN_COLS: &str =
    "id, platform, slot, run_by, started_at, finished_at, status, error, compared, mismatches";

fn run(r: &Row) -> StoreResult<ReconciliationRun> {
    Ok(ReconciliationRun {
        id: r.try_get(0)?,
        platform: r.try_get(1)?,
        slot: r.try_get(2)?,
        run_by: r.try_get(3)?,
        started_at: r.try_get(4)?,
        finished_at: r.try_get(5)?,
        status: r.try_get(6)?,
        error: r.try_get(7)?,
        compared: r.try_get(8)?,
        mismatches: r.try_get(9)?,
    })
}

fn limit(n: u32) -> i64 {
    i64::from(n)
}

#[async_trait]
impl HotlineStore for PgStore {
    async fn put_platform(&self, id: &str, config: &str, now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO hotline_platforms (id, config, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET config = $2, updated_at = $3",
            &[&id, &config, &now],
        )
        .await?;
        Ok(())
    }

    async fn platform(&self, id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT config FROM hotline_platforms WHERE id = $1", &[&id]).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn platforms(&self) -> StoreResult<Vec<(String, String)>> {
        let c = self.client().await?;
        let rows = c.query("SELECT id, config FROM hotline_platforms ORDER BY id", &[]).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    async fn note_signature(
        &self,
        platform: &str,
        signature: &str,
        now: i64,
        oldest: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        c.execute("DELETE FROM hotline_signatures WHERE seen_at < $1", &[&oldest]).await?;
        let n = c
            .execute(
                "INSERT INTO hotline_signatures (platform, signature, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&platform, &signature, &now],
            )
            .await?;
        Ok(n == 1)
    }

    async fn record_message(&self, m: &NewMessage<'_>) -> StoreResult<Recorded> {
        let c = self.client().await?;
        let inserted = c
            .query_opt(
                "INSERT INTO hotline_messages
                   (platform, order_number, message_id, kind, body, status, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (platform, order_number, message_id) DO NOTHING RETURNING id",
                &[
                    &m.platform,
                    &m.order_number,
                    &m.message_id,
                    &m.kind,
                    &m.body,
                    &m.status,
                    &m.received_at,
                ],
            )
            .await?;
        if let Some(r) = inserted {
            return Ok(Recorded::New(r.try_get(0)?));
        }
        let found = c
            .query_one(
                &format!(
                    "SELECT {MESSAGE_COLS} FROM hotline_messages
                     WHERE platform = $1 AND order_number = $2 AND message_id = $3"
                ),
                &[&m.platform, &m.order_number, &m.message_id],
            )
            .await?;
        Ok(Recorded::Duplicate(message(&found)?))
    }

    async fn set_message_status(&self, id: i64, status: &str, detail: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE hotline_messages SET status = $1, detail = $2 WHERE id = $3",
            &[&status, &detail, &id],
        )
        .await?;
        Ok(())
    }

    async fn messages(
        &self,
        platform: Option<&str>,
        order_number: Option<&str>,
        status: &str,
    ) -> StoreResult<Vec<InboundMessage>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {MESSAGE_COLS} FROM hotline_messages
                     WHERE status = $1 AND ($2::TEXT IS NULL OR platform = $2)
                       AND ($3::TEXT IS NULL OR order_number = $3)
                     ORDER BY id"
                ),
                &[&status, &platform, &order_number],
            )
            .await?;
        rows.iter().map(message).collect()
    }

    async fn order(&self, platform: &str, order_number: &str) -> StoreResult<Option<HotlineOrder>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!(
                    "SELECT {ORDER_COLS} FROM hotline_orders
                     WHERE platform = $1 AND order_number = $2"
                ),
                &[&platform, &order_number],
            )
            .await?;
        row.as_ref().map(order).transpose()
    }

    async fn order_by_doc(&self, doc_id: Uuid) -> StoreResult<Option<HotlineOrder>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {ORDER_COLS} FROM hotline_orders WHERE doc_id = $1"),
                &[&doc_id.to_string()],
            )
            .await?;
        row.as_ref().map(order).transpose()
    }

    async fn add_order(&self, o: &HotlineOrder) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO hotline_orders (platform, order_number, doc_id, created_at, withdrawn)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&o.platform, &o.order_number, &o.doc_id.to_string(), &o.created_at, &o.withdrawn],
            )
            .await?;
        Ok(n == 1)
    }

    async fn set_withdrawn(&self, platform: &str, order_number: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE hotline_orders SET withdrawn = TRUE WHERE platform = $1 AND order_number = $2",
            &[&platform, &order_number],
        )
        .await?;
        Ok(())
    }

    async fn orders(&self) -> StoreResult<Vec<HotlineOrder>> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("SELECT {ORDER_COLS} FROM hotline_orders ORDER BY created_at"), &[])
            .await?;
        rows.iter().map(order).collect()
    }

    async fn outbox_add(
        &self,
        platform: &str,
        order_number: &str,
        steps: &[(String, String)],
        now: i64,
    ) -> StoreResult<usize> {
        if steps.is_empty() {
            return Ok(0);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // One platform's steps are queued one transaction at a time: their ids then commit in
        // id order, so a poller that has read up to id N never finds a step below N appear
        // later (docs/12345-exchange.md, "Polling").
        tx.execute(OUTBOX_LOCK, &[&platform]).await?;
        let mut added = 0;
        for (step, body) in steps {
            added += tx
                .execute(
                    "INSERT INTO hotline_outbox
                       (platform, order_number, step_id, body, status, next_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
                    &[&platform, &order_number, step, body, &PENDING, &now],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(added).unwrap_or(usize::MAX))
    }

    async fn claim_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "INSERT INTO hotline_claims (platform, order_number, holder, until_ms)
                 VALUES ($1, $2, $3, $5)
                 ON CONFLICT (platform, order_number) DO UPDATE SET holder = $3, until_ms = $5
                 WHERE hotline_claims.until_ms < $4 OR hotline_claims.holder = $3
                 RETURNING holder",
                &[&platform, &order_number, &holder, &now, &until],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn release_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
    ) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM hotline_claims WHERE platform = $1 AND order_number = $2 AND holder = $3",
            &[&platform, &order_number, &holder],
        )
        .await?;
        Ok(())
    }

    async fn outbox_claim(
        &self,
        now: i64,
        n: u32,
        holder: &str,
        lease_until: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        let c = self.client().await?;
        // The head of each order's pending steps, due and not leased; a head leased by another
        // process keeps the order's later steps back (in order per order).
        let rows = c
            .query(
                &format!(
                    "UPDATE hotline_outbox SET lease_holder = $3, lease_until = $4
                     WHERE id IN (
                       SELECT o.id FROM hotline_outbox o
                       WHERE o.status = $1 AND o.next_at <= $2 AND o.lease_until <= $2
                         AND o.id = (
                           SELECT MIN(p.id) FROM hotline_outbox p
                           WHERE p.status = $1 AND p.platform = o.platform
                             AND p.order_number = o.order_number)
                       ORDER BY o.id LIMIT $5
                       FOR UPDATE SKIP LOCKED)
                       AND status = $1 AND lease_until <= $2
                     RETURNING {OUTBOX_COLS}"
                ),
                &[&PENDING, &now, &holder, &lease_until, &limit(n)],
            )
            .await?;
        let mut items = rows.iter().map(outbox).collect::<StoreResult<Vec<_>>>()?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    async fn outbox_pending_orders(&self, platform: &str) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT DISTINCT order_number FROM hotline_outbox
                 WHERE platform = $1 AND status = $2",
                &[&platform, &PENDING],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn reconciliation_start(
        &self,
        platform: &str,
        slot: &str,
        run_by: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "INSERT INTO hotline_reconciliations (platform, slot, run_by, started_at, status)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, slot) DO NOTHING RETURNING id",
                &[&platform, &slot, &run_by, &now, &RUNNING],
            )
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn reconciliation_finish(
        &self,
        id: i64,
        platform: &str,
        now: i64,
        outcome: &RunOutcome<'_>,
    ) -> StoreResult<()> {
        let RunOutcome { status, error, compared, mismatches } = *outcome;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for m in mismatches {
            tx.execute(
                "INSERT INTO hotline_mismatches
                   (run_id, platform, order_number, kind, gridwork_state, platform_state, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &id,
                    &platform,
                    &m.order_number,
                    &m.kind,
                    &m.gridwork_state,
                    &m.platform_state,
                    &m.detail,
                ],
            )
            .await?;
        }
        let found = i64::try_from(mismatches.len()).unwrap_or(i64::MAX);
        tx.execute(
            "UPDATE hotline_reconciliations SET finished_at = $2, status = $3, error = $4,
               compared = $5, mismatches = $6 WHERE id = $1",
            &[&id, &now, &status, &error, &compared, &found],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reconciliations(
        &self,
        platform: Option<&str>,
        n: u32,
    ) -> StoreResult<Vec<ReconciliationRun>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {RUN_COLS} FROM hotline_reconciliations
                     WHERE ($1::TEXT IS NULL OR platform = $1) ORDER BY id DESC LIMIT $2"
                ),
                &[&platform, &limit(n)],
            )
            .await?;
        rows.iter().map(run).collect()
    }

    async fn mismatches(&self, id: i64) -> StoreResult<Vec<Mismatch>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT order_number, kind, gridwork_state, platform_state, detail
                 FROM hotline_mismatches WHERE run_id = $1 ORDER BY order_number",
                &[&id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Mismatch {
                    order_number: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    gridwork_state: r.try_get(2)?,
                    platform_state: r.try_get(3)?,
                    detail: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn outbox_delivered(&self, id: i64, now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE hotline_outbox SET status = $1, delivered_at = $2, attempts = attempts + 1,
               lease_until = 0 WHERE id = $3",
            &[&DELIVERED, &now, &id],
        )
        .await?;
        Ok(())
    }

    async fn outbox_failed(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: &str,
        dead: bool,
    ) -> StoreResult<()> {
        let c = self.client().await?;
        let status = if dead { DEAD } else { PENDING };
        c.execute(
            "UPDATE hotline_outbox SET status = $1, attempts = $2, next_at = $3, last_error = $4,
               lease_until = 0 WHERE id = $5",
            &[&status, &attempts, &next_at, &error, &id],
        )
        .await?;
        Ok(())
    }

    async fn outbox_after(
        &self,
        platform: &str,
        cursor: i64,
        n: u32,
    ) -> StoreResult<Vec<OutboxItem>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM hotline_outbox WHERE platform = $1 AND id > $2
                     ORDER BY id LIMIT $3"
                ),
                &[&platform, &cursor, &limit(n)],
            )
            .await?;
        rows.iter().map(outbox).collect()
    }

    async fn outbox_dead(&self, n: u32) -> StoreResult<Vec<OutboxItem>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {OUTBOX_COLS} FROM hotline_outbox WHERE status = $1 ORDER BY id
                     LIMIT $2"
                ),
                &[&DEAD, &limit(n)],
            )
            .await?;
        rows.iter().map(outbox).collect()
    }

    async fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE hotline_outbox SET status = $1, attempts = 0, next_at = $2, lease_until = 0
                 WHERE id = $3 AND status = $4",
                &[&PENDING, &now, &id, &DEAD],
            )
            .await?;
        Ok(n == 1)
    }
}
