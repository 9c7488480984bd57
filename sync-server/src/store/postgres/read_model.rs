//! The read model's tables in PostgreSQL (`rm_*`), as in SQLite (`sqlite/read_model.rs`): one
//! row per record in `rm_records` with its common columns and JSON, the kinds' typed columns in
//! their own tables, sensitive records apart in `rm_sensitive`, each document's saved state in
//! `rm_docs`, and the projector's cursor in `rm_cursor` — all written in one transaction per
//! projector step, by upserts on `doc_id`. The tables are made by migration 3
//! (`migrations/postgres/0003_read_model.sql`: BOOLEAN, BIGINT, BYTEA, DOUBLE PRECISION columns).

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{PgStore, i64_of, u64_of};
use crate::read_model::projector::{DocState, ReadModelStore, RmBatch};
use crate::read_model::rows::{KindColumns, RecordRow};
use crate::store::rm_rows::{
    Cell, Col, ROW_TABLES, all_tables, blob_received, line, received_blob,
};
use crate::store::{StoreError, StoreResult};
use gridwork_core::RecordKind;

type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Upserts the shared `rm_records` rows of every non-sensitive row of a step in one statement.
async fn write_records(tx: &Tx<'_>, rows: &[RecordRow]) -> StoreResult<()> {
    let shared: Vec<&RecordRow> =
        rows.iter().filter(|r| !matches!(r.columns, KindColumns::Sensitive { .. })).collect();
    if shared.is_empty() {
        return Ok(());
    }
    let ids: Vec<&[u8]> = shared.iter().map(|r| &r.id.as_bytes()[..]).collect();
    let kinds: Vec<i32> = shared.iter().map(|r| i32::from(r.kind.code())).collect();
    let areas: Vec<String> =
        shared.iter().map(|r| crate::store::area_key(r.area.as_str())).collect();
    let deleted: Vec<bool> = shared.iter().map(|r| r.deleted).collect();
    let created: Vec<i64> = shared.iter().map(|r| r.created_at).collect();
    let json: Vec<&str> = shared.iter().map(|r| r.json.as_str()).collect();
    tx.execute(
        "INSERT INTO rm_records (doc_id, kind, area_key, deleted, created_at, record)
         SELECT * FROM UNNEST($1::bytea[], $2::int[], $3::text[], $4::bool[], $5::bigint[],
            $6::text[])
         ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, area_key = excluded.area_key,
            deleted = excluded.deleted, created_at = excluded.created_at,
            record = excluded.record",
        &[&ids, &kinds, &areas, &deleted, &created, &json],
    )
    .await?;
    Ok(())
}

/// Upserts the `rm_visits` rows of a step in one statement: visits are most of what a district
/// records, and a statement per visit made the projector's PostgreSQL work compete with ingest.
async fn write_visits(tx: &Tx<'_>, rows: &[RecordRow]) -> StoreResult<()> {
    let mut ids: Vec<&[u8]> = Vec::new();
    let mut areas: Vec<String> = Vec::new();
    let mut households: Vec<&[u8]> = Vec::new();
    let mut visitors: Vec<&str> = Vec::new();
    let mut at: Vec<i64> = Vec::new();
    let mut outcomes: Vec<&str> = Vec::new();
    let mut satisfaction: Vec<Option<i64>> = Vec::new();
    let mut knows: Vec<Option<bool>> = Vec::new();
    let mut deleted: Vec<bool> = Vec::new();
    for r in rows {
        let KindColumns::Visit {
            household_id,
            visitor,
            visited_at,
            outcome,
            satisfaction: sat,
            knows_worker,
        } = &r.columns
        else {
            continue;
        };
        ids.push(r.id.as_bytes());
        areas.push(crate::store::area_key(r.area.as_str()));
        households.push(household_id.as_bytes());
        visitors.push(visitor);
        at.push(*visited_at);
        outcomes.push(outcome);
        satisfaction.push(*sat);
        knows.push(*knows_worker);
        deleted.push(r.deleted);
    }
    if ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO rm_visits (doc_id, area_key, household_id, visitor, visited_at, outcome,
            satisfaction, knows_worker, deleted)
         SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bytea[], $4::text[], $5::bigint[],
            $6::text[], $7::bigint[], $8::bool[], $9::bool[])
         ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
            household_id = excluded.household_id, visitor = excluded.visitor,
            visited_at = excluded.visited_at, outcome = excluded.outcome,
            satisfaction = excluded.satisfaction, knows_worker = excluded.knows_worker,
            deleted = excluded.deleted",
        &[&ids, &areas, &households, &visitors, &at, &outcomes, &satisfaction, &knows, &deleted],
    )
    .await?;
    Ok(())
}

/// Upserts `r` into its kind's table, or into `rm_sensitive` (its `rm_records` row is written
/// by [`write_records`]).
async fn write_row(tx: &Tx<'_>, r: &RecordRow) -> StoreResult<()> {
    let id: &[u8] = r.id.as_bytes();
    let area = crate::store::area_key(r.area.as_str());
    if let KindColumns::Sensitive { resident_id, household_id, key_population } = &r.columns {
        // Sensitive data never enters the shared records table.
        let stmt = tx
            .prepare_cached(
                "INSERT INTO rm_sensitive (doc_id, area_key, resident_id, household_id,
                    key_population, deleted, record) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                    resident_id = excluded.resident_id, household_id = excluded.household_id,
                    key_population = excluded.key_population, deleted = excluded.deleted,
                    record = excluded.record",
            )
            .await?;
        let resident: &[u8] = resident_id.as_bytes();
        let household: &[u8] = household_id.as_bytes();
        tx.execute(
            &stmt,
            &[&id, &area, &resident, &household, key_population, &r.deleted, &r.json],
        )
        .await?;
        return Ok(());
    }
    // The shared `rm_records` row is written for the whole step by `write_records`.
    match &r.columns {
        KindColumns::Household { head_name, address, tags } => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO rm_households (doc_id, area_key, head_name, address, tags,
                        deleted) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                        head_name = excluded.head_name, address = excluded.address,
                        tags = excluded.tags, deleted = excluded.deleted",
                )
                .await?;
            tx.execute(&stmt, &[&id, &area, head_name, address, tags, &r.deleted]).await?;
        }
        KindColumns::Resident { household_id, name } => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO rm_residents (doc_id, area_key, household_id, name, deleted)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                        household_id = excluded.household_id, name = excluded.name,
                        deleted = excluded.deleted",
                )
                .await?;
            let household: &[u8] = household_id.as_bytes();
            tx.execute(&stmt, &[&id, &area, &household, name, &r.deleted]).await?;
        }
        // Written for the whole step by `write_visits`.
        KindColumns::Visit { .. } => {}
        KindColumns::Patrol { worker, started_at, ended_at, points, distance_m, duration_s } => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO rm_patrols (doc_id, area_key, worker, started_at, ended_at,
                        points, distance_m, duration_s, deleted)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                        worker = excluded.worker, started_at = excluded.started_at,
                        ended_at = excluded.ended_at, points = excluded.points,
                        distance_m = excluded.distance_m, duration_s = excluded.duration_s,
                        deleted = excluded.deleted",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &id, &area, worker, started_at, ended_at, points, distance_m, duration_s,
                    &r.deleted,
                ],
            )
            .await?;
        }
        KindColumns::WorkOrder {
            category,
            severity,
            state,
            reported_at,
            deadline_at,
            closed_at,
            closed_on_time,
            is_open,
            escalated,
            departments,
            dept_states,
            pending_ext,
            title,
            household_id,
            description: _,
            conflicts,
        } => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO rm_work_orders (doc_id, area_key, category, severity, state,
                        reported_at, deadline_at, closed_at, closed_on_time, is_open, escalated,
                        departments, dept_states, pending_ext, title, household_id, conflicts, deleted)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $17, $18)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                        category = excluded.category, severity = excluded.severity,
                        state = excluded.state, reported_at = excluded.reported_at,
                        deadline_at = excluded.deadline_at, closed_at = excluded.closed_at,
                        closed_on_time = excluded.closed_on_time, is_open = excluded.is_open,
                        escalated = excluded.escalated, departments = excluded.departments,
                        dept_states = excluded.dept_states, pending_ext = excluded.pending_ext,
                        title = excluded.title, household_id = excluded.household_id,
                        conflicts = excluded.conflicts, deleted = excluded.deleted",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &id,
                    &area,
                    category,
                    severity,
                    state,
                    reported_at,
                    deadline_at,
                    closed_at,
                    closed_on_time,
                    is_open,
                    escalated,
                    departments,
                    dept_states,
                    pending_ext,
                    title,
                    &household_id.map(|h| h.as_bytes().to_vec()),
                    conflicts,
                    &r.deleted,
                ],
            )
            .await?;
        }
        KindColumns::Task { title, due_at, completed_at } => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO rm_tasks (doc_id, area_key, title, due_at, completed_at, deleted)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                        title = excluded.title, due_at = excluded.due_at,
                        completed_at = excluded.completed_at, deleted = excluded.deleted",
                )
                .await?;
            tx.execute(&stmt, &[&id, &area, title, due_at, completed_at, &r.deleted]).await?;
        }
        KindColumns::Sensitive { .. } => {}
    }
    super::query::write_search(tx, r).await
}

/// Column `i` of `r`, read as `col` (integer columns are selected as BIGINT).
pub(super) fn cell(r: &Row, i: usize, col: Col) -> StoreResult<Cell> {
    Ok(match col {
        Col::Bytes => r.try_get::<_, Option<Vec<u8>>>(i)?.into(),
        Col::Int => r.try_get::<_, Option<i64>>(i)?.into(),
        Col::Bool => r.try_get::<_, Option<bool>>(i)?.into(),
        Col::Real => r.try_get::<_, Option<f64>>(i)?.into(),
        Col::Text => r.try_get::<_, Option<String>>(i)?.into(),
    })
}

#[async_trait]
impl ReadModelStore for PgStore {
    async fn rm_cursor(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let row = c.query_opt("SELECT seq FROM rm_cursor WHERE id = 1", &[]).await?;
        Ok(match row {
            Some(r) => u64_of(r.try_get(0)?),
            None => 0,
        })
    }

    async fn rm_states(&self, ids: &[Uuid]) -> Result<Vec<DocState>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        let keys: Vec<&[u8]> = ids.iter().map(|id| &id.as_bytes()[..]).collect();
        let rows = c
            .query(
                "SELECT doc_id, kind, state, received FROM rm_docs WHERE doc_id = ANY($1)",
                &[&keys],
            )
            .await?;
        let mut found: BTreeMap<Uuid, DocState> = BTreeMap::new();
        for r in rows {
            let id = Uuid::from_slice(r.try_get::<_, &[u8]>(0)?)
                .map_err(|e| StoreError::Corrupt(format!("rm_docs doc_id: {e}")))?;
            let kind: i32 = r.try_get(1)?;
            let kind = u8::try_from(kind)
                .ok()
                .and_then(|k| RecordKind::from_code(k).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("rm_docs kind {kind}")))?;
            let received = blob_received(r.try_get::<_, &[u8]>(3)?);
            found.insert(id, DocState { id, kind, state: r.try_get(2)?, received });
        }
        // In the order asked, as SQLite gives them.
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn rm_commit(&self, batch: &RmBatch) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        write_records(&tx, &batch.rows).await?;
        write_visits(&tx, &batch.rows).await?;
        // Visits are written above and have no search tokens.
        for r in batch.rows.iter().filter(|r| !matches!(r.columns, KindColumns::Visit { .. })) {
            write_row(&tx, r).await?;
        }
        // Every document state of the step in one statement (a round trip per document
        // dominated the step's time).
        let ids: Vec<&[u8]> = batch.states.iter().map(|s| &s.id.as_bytes()[..]).collect();
        let kinds: Vec<i32> = batch.states.iter().map(|s| i32::from(s.kind.code())).collect();
        let states: Vec<&[u8]> = batch.states.iter().map(|s| s.state.as_slice()).collect();
        let received: Vec<Vec<u8>> =
            batch.states.iter().map(|s| received_blob(&s.received)).collect();
        tx.execute(
            "INSERT INTO rm_docs (doc_id, kind, state, received)
             SELECT * FROM UNNEST($1::bytea[], $2::int[], $3::bytea[], $4::bytea[])
             ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, state = excluded.state,
                received = excluded.received",
            &[&ids, &kinds, &states, &received],
        )
        .await?;
        tx.execute(
            "INSERT INTO rm_cursor (id, seq) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
            &[&i64_of(batch.cursor)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rm_clear(&self) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for t in all_tables() {
            // Table names come from `ROW_TABLES`, never from input.
            tx.execute(&format!("DELETE FROM {t}"), &[]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rm_overdue(&self, now_ms: i64, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT doc_id FROM rm_work_orders
                 WHERE is_open AND NOT deleted AND NOT escalated AND deadline_at < $1
                 ORDER BY deadline_at, doc_id LIMIT $2",
                &[&now_ms, &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let b: &[u8] = r.try_get(0)?;
                Uuid::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    async fn rm_rows(&self) -> Result<Vec<String>, StoreError> {
        let c = self.client().await?;
        let mut out = Vec::new();
        for (table, cols) in ROW_TABLES {
            let names: Vec<String> = cols
                .iter()
                .map(|(n, col)| match col {
                    Col::Int => format!("{n}::BIGINT"),
                    _ => (*n).to_owned(),
                })
                .collect();
            // Names come from `ROW_TABLES`, never from input.
            let rows = c.query(&format!("SELECT {} FROM {table}", names.join(", ")), &[]).await?;
            for r in &rows {
                let cells = cols
                    .iter()
                    .enumerate()
                    .map(|(i, (_, col))| cell(r, i, *col))
                    .collect::<StoreResult<Vec<Cell>>>()?;
                out.push(line(table, &cells));
            }
        }
        out.sort();
        Ok(out)
    }
}
