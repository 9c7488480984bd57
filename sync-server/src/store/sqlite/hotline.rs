//! The 12345 hotline exchange in SQLite (`store::hotline`, tables of migrations 10 and 11). The
//! leases are single statements under the file's write lock, so they hold across processes
//! sharing the file too.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::hotline::{
    DEAD, DELIVERED, HotlineOrder, HotlineStore, InboundMessage, Mismatch, NewMessage, OutboxItem,
    PENDING, RUNNING, ReconciliationRun, Recorded, RunOutcome,
};
use crate::store::{StoreError, StoreResult};

const MESSAGE_COLS: &str =
    "id, platform, order_number, message_id, kind, body, status, detail, received_at";
const OUTBOX_COLS: &str = "id, platform, order_number, step_id, body, status, attempts, next_at, \
                           last_error, created_at, delivered_at";

fn message(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboundMessage> {
    Ok(InboundMessage {
        id: r.get(0)?,
        platform: r.get(1)?,
        order_number: r.get(2)?,
        message_id: r.get(3)?,
        kind: r.get(4)?,
        body: r.get(5)?,
        status: r.get(6)?,
        detail: r.get(7)?,
        received_at: r.get(8)?,
    })
}

fn outbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        id: r.get(0)?,
        platform: r.get(1)?,
        order_number: r.get(2)?,
        step_id: r.get(3)?,
        body: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        next_at: r.get(7)?,
        last_error: r.get(8)?,
        created_at: r.get(9)?,
        delivered_at: r.get(10)?,
    })
}

const RUN_COLS: &str =
    "id, platform, slot, run_by, started_at, finished_at, status, error, compared, mismatches";

fn run(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReconciliationRun> {
    Ok(ReconciliationRun {
        id: r.get(0)?,
        platform: r.get(1)?,
        slot: r.get(2)?,
        run_by: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        status: r.get(6)?,
        error: r.get(7)?,
        compared: r.get(8)?,
        mismatches: r.get(9)?,
    })
}

type OrderRow = (String, String, String, i64, bool);

fn order_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn order(
    (platform, order_number, doc, created_at, withdrawn): OrderRow,
) -> StoreResult<HotlineOrder> {
    let doc_id = Uuid::parse_str(&doc)
        .map_err(|e| StoreError::Corrupt(format!("hotline order {order_number}: {e}")))?;
    Ok(HotlineOrder { platform, order_number, doc_id, created_at, withdrawn })
}

const ORDER_COLS: &str = "platform, order_number, doc_id, created_at, withdrawn";

#[async_trait]
impl HotlineStore for SqliteStore {
    async fn put_platform(&self, id: &str, config: &str, now: i64) -> StoreResult<()> {
        let (id, config) = (id.to_owned(), config.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO hotline_platforms (id, config, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET config = ?2, updated_at = ?3",
                params![id, config, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn platform(&self, id: &str) -> StoreResult<Option<String>> {
        let id = id.to_owned();
        self.read(move |c| {
            Ok(c.query_row("SELECT config FROM hotline_platforms WHERE id = ?", [id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn platforms(&self) -> StoreResult<Vec<(String, String)>> {
        self.read(|c| {
            let mut s = c.prepare_cached("SELECT id, config FROM hotline_platforms ORDER BY id")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn note_signature(
        &self,
        platform: &str,
        signature: &str,
        now: i64,
        oldest: i64,
    ) -> StoreResult<bool> {
        let (platform, signature) = (platform.to_owned(), signature.to_owned());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM hotline_signatures WHERE seen_at < ?", [oldest])?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO hotline_signatures (platform, signature, seen_at)
                 VALUES (?, ?, ?)",
                params![platform, signature, now],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn record_message(&self, m: &NewMessage<'_>) -> StoreResult<Recorded> {
        let v = (
            m.platform.to_owned(),
            m.order_number.to_owned(),
            m.message_id.to_owned(),
            m.kind.to_owned(),
            m.body.to_owned(),
            m.status.to_owned(),
            m.received_at,
        );
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .query_row(
                    &format!(
                        "SELECT {MESSAGE_COLS} FROM hotline_messages
                         WHERE platform = ? AND order_number = ? AND message_id = ?"
                    ),
                    params![v.0, v.1, v.2],
                    message,
                )
                .optional()?;
            if let Some(found) = found {
                return Ok(Recorded::Duplicate(found));
            }
            tx.execute(
                "INSERT INTO hotline_messages
                   (platform, order_number, message_id, kind, body, status, received_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![v.0, v.1, v.2, v.3, v.4, v.5, v.6],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(Recorded::New(id))
        })
        .await
    }

    async fn set_message_status(&self, id: i64, status: &str, detail: &str) -> StoreResult<()> {
        let (status, detail) = (status.to_owned(), detail.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE hotline_messages SET status = ?, detail = ? WHERE id = ?",
                params![status, detail, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn messages(
        &self,
        platform: Option<&str>,
        order_number: Option<&str>,
        status: &str,
    ) -> StoreResult<Vec<InboundMessage>> {
        let v = (platform.map(str::to_owned), order_number.map(str::to_owned), status.to_owned());
        self.read(move |c| {
            let mut s = c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM hotline_messages
                 WHERE status = ?1 AND (?2 IS NULL OR platform = ?2)
                   AND (?3 IS NULL OR order_number = ?3)
                 ORDER BY id"
            ))?;
            let rows = s.query_map(params![v.2, v.0, v.1], message)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn order(&self, platform: &str, order_number: &str) -> StoreResult<Option<HotlineOrder>> {
        let (platform, number) = (platform.to_owned(), order_number.to_owned());
        let row = self
            .read(move |c| {
                Ok(c.query_row(
                    &format!(
                        "SELECT {ORDER_COLS} FROM hotline_orders
                         WHERE platform = ? AND order_number = ?"
                    ),
                    params![platform, number],
                    order_row,
                )
                .optional()?)
            })
            .await?;
        row.map(order).transpose()
    }

    async fn order_by_doc(&self, doc_id: Uuid) -> StoreResult<Option<HotlineOrder>> {
        let row = self
            .read(move |c| {
                Ok(c.query_row(
                    &format!("SELECT {ORDER_COLS} FROM hotline_orders WHERE doc_id = ?"),
                    [doc_id.to_string()],
                    order_row,
                )
                .optional()?)
            })
            .await?;
        row.map(order).transpose()
    }

    async fn add_order(&self, o: &HotlineOrder) -> StoreResult<bool> {
        let o = o.clone();
        self.write(move |c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO hotline_orders
                   (platform, order_number, doc_id, created_at, withdrawn)
                 VALUES (?, ?, ?, ?, ?)",
                params![
                    o.platform,
                    o.order_number,
                    o.doc_id.to_string(),
                    o.created_at,
                    o.withdrawn
                ],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn set_withdrawn(&self, platform: &str, order_number: &str) -> StoreResult<()> {
        let (platform, number) = (platform.to_owned(), order_number.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE hotline_orders SET withdrawn = 1 WHERE platform = ? AND order_number = ?",
                params![platform, number],
            )?;
            Ok(())
        })
        .await
    }

    async fn orders(&self) -> StoreResult<Vec<HotlineOrder>> {
        let rows = self
            .read(|c| {
                let mut s = c.prepare_cached(&format!(
                    "SELECT {ORDER_COLS} FROM hotline_orders ORDER BY created_at"
                ))?;
                let rows = s.query_map([], order_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        rows.into_iter().map(order).collect()
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
        let (platform, number, steps) =
            (platform.to_owned(), order_number.to_owned(), steps.to_vec());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut added = 0;
            for (step, body) in &steps {
                added += tx.execute(
                    "INSERT OR IGNORE INTO hotline_outbox
                       (platform, order_number, step_id, body, status, next_at, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                    params![platform, number, step, body, PENDING, now, now],
                )?;
            }
            tx.commit()?;
            Ok(added)
        })
        .await
    }

    async fn claim_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let (platform, number, holder) =
            (platform.to_owned(), order_number.to_owned(), holder.to_owned());
        self.write(move |c| {
            let got: Option<String> = c
                .query_row(
                    "INSERT INTO hotline_claims (platform, order_number, holder, until_ms)
                     VALUES (?1, ?2, ?3, ?5)
                     ON CONFLICT (platform, order_number) DO UPDATE SET holder = ?3, until_ms = ?5
                     WHERE hotline_claims.until_ms < ?4 OR hotline_claims.holder = ?3
                     RETURNING holder",
                    params![platform, number, holder, now, until],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(got.is_some())
        })
        .await
    }

    async fn release_order(
        &self,
        platform: &str,
        order_number: &str,
        holder: &str,
    ) -> StoreResult<()> {
        let (platform, number, holder) =
            (platform.to_owned(), order_number.to_owned(), holder.to_owned());
        self.write(move |c| {
            c.execute(
                "DELETE FROM hotline_claims WHERE platform = ? AND order_number = ? AND holder = ?",
                params![platform, number, holder],
            )?;
            Ok(())
        })
        .await
    }

    async fn outbox_claim(
        &self,
        now: i64,
        limit: u32,
        holder: &str,
        lease_until: i64,
    ) -> StoreResult<Vec<OutboxItem>> {
        let holder = holder.to_owned();
        self.write(move |c| {
            let mut s = c.prepare_cached(&format!(
                "UPDATE hotline_outbox SET lease_holder = ?3, lease_until = ?4
                 WHERE id IN (
                   SELECT o.id FROM hotline_outbox o
                   WHERE o.status = ?1 AND o.next_at <= ?2 AND o.lease_until <= ?2
                     AND o.id = (
                       SELECT MIN(p.id) FROM hotline_outbox p
                       WHERE p.status = ?1 AND p.platform = o.platform
                         AND p.order_number = o.order_number)
                   ORDER BY o.id LIMIT ?5)
                 RETURNING {OUTBOX_COLS}"
            ))?;
            let rows = s.query_map(params![PENDING, now, holder, lease_until, limit], outbox)?;
            let mut items: Vec<OutboxItem> = rows.collect::<Result<_, _>>()?;
            items.sort_by_key(|i| i.id);
            Ok(items)
        })
        .await
    }

    async fn outbox_pending_orders(&self, platform: &str) -> StoreResult<Vec<String>> {
        let platform = platform.to_owned();
        self.read(move |c| {
            let mut s = c.prepare_cached(
                "SELECT DISTINCT order_number FROM hotline_outbox WHERE platform = ? AND status = ?",
            )?;
            let rows = s.query_map(params![platform, PENDING], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn reconciliation_start(
        &self,
        platform: &str,
        slot: &str,
        run_by: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let (platform, slot, run_by) = (platform.to_owned(), slot.to_owned(), run_by.to_owned());
        self.write(move |c| {
            Ok(c.query_row(
                "INSERT INTO hotline_reconciliations (platform, slot, run_by, started_at, status)
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, slot) DO NOTHING RETURNING id",
                params![platform, slot, run_by, now, RUNNING],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn reconciliation_finish(
        &self,
        id: i64,
        platform: &str,
        now: i64,
        outcome: &RunOutcome<'_>,
    ) -> StoreResult<()> {
        let RunOutcome { status, error, compared, mismatches } = *outcome;
        let (platform, status, error, mismatches) =
            (platform.to_owned(), status.to_owned(), error.to_owned(), mismatches.to_vec());
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for m in &mismatches {
                tx.execute(
                    "INSERT OR IGNORE INTO hotline_mismatches
                       (run_id, platform, order_number, kind, gridwork_state, platform_state, detail)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                    params![
                        id,
                        platform,
                        m.order_number,
                        m.kind,
                        m.gridwork_state,
                        m.platform_state,
                        m.detail
                    ],
                )?;
            }
            let found = i64::try_from(mismatches.len()).unwrap_or(i64::MAX);
            tx.execute(
                "UPDATE hotline_reconciliations SET finished_at = ?2, status = ?3, error = ?4,
                   compared = ?5, mismatches = ?6 WHERE id = ?1",
                params![id, now, status, error, compared, found],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn reconciliations(
        &self,
        platform: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ReconciliationRun>> {
        let platform = platform.map(str::to_owned);
        self.read(move |c| {
            let mut s = c.prepare_cached(&format!(
                "SELECT {RUN_COLS} FROM hotline_reconciliations
                 WHERE (?1 IS NULL OR platform = ?1) ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = s.query_map(params![platform, limit], run)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn mismatches(&self, id: i64) -> StoreResult<Vec<Mismatch>> {
        self.read(move |c| {
            let mut s = c.prepare_cached(
                "SELECT order_number, kind, gridwork_state, platform_state, detail
                 FROM hotline_mismatches WHERE run_id = ? ORDER BY order_number",
            )?;
            let rows = s.query_map(params![id], |r| {
                Ok(Mismatch {
                    order_number: r.get(0)?,
                    kind: r.get(1)?,
                    gridwork_state: r.get(2)?,
                    platform_state: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn outbox_delivered(&self, id: i64, now: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE hotline_outbox SET status = ?, delivered_at = ?, attempts = attempts + 1,
                   lease_until = 0 WHERE id = ?",
                params![DELIVERED, now, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn outbox_failed(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: &str,
        dead: bool,
    ) -> StoreResult<()> {
        let error = error.to_owned();
        let status = if dead { DEAD } else { PENDING };
        self.write(move |c| {
            c.execute(
                "UPDATE hotline_outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?,
                   lease_until = 0 WHERE id = ?",
                params![status, attempts, next_at, error, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn outbox_after(
        &self,
        platform: &str,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<Vec<OutboxItem>> {
        let platform = platform.to_owned();
        self.read(move |c| {
            let mut s = c.prepare_cached(&format!(
                "SELECT {OUTBOX_COLS} FROM hotline_outbox WHERE platform = ? AND id > ?
                 ORDER BY id LIMIT ?"
            ))?;
            let rows = s.query_map(params![platform, cursor, limit], outbox)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn outbox_dead(&self, limit: u32) -> StoreResult<Vec<OutboxItem>> {
        self.read(move |c| {
            let mut s = c.prepare_cached(&format!(
                "SELECT {OUTBOX_COLS} FROM hotline_outbox WHERE status = ? ORDER BY id LIMIT ?"
            ))?;
            let rows = s.query_map(params![DEAD, limit], outbox)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE hotline_outbox SET status = ?, attempts = 0, next_at = ?, lease_until = 0
                 WHERE id = ? AND status = ?",
                params![PENDING, now, id, DEAD],
            )?;
            Ok(n == 1)
        })
        .await
    }
}
