//! The read model's tables in SQLite (`rm_*`): one row per record in `rm_records` with its
//! common columns and JSON, the kinds' typed columns in their own tables, sensitive records
//! apart in `rm_sensitive`, each document's saved state in `rm_docs`, and the projector's
//! cursor in `rm_cursor` — all written in one transaction per projector step. The tables are
//! made by migration 3 (`migrations/sqlite/0003_read_model.sql`).

use async_trait::async_trait;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{SqliteStore, i64_of, u64_of};
use crate::read_model::projector::{DocState, ReadModelStore, RmBatch};
use crate::read_model::rows::{KindColumns, RecordRow};
use crate::store::rm_rows::{
    Cell, Col, ROW_TABLES, all_tables, blob_received, line, received_blob,
};
use crate::store::{StoreError, StoreResult};
use gridwork_core::RecordKind;

fn write_row(tx: &Connection, r: &RecordRow) -> StoreResult<()> {
    let id = r.id.as_bytes().to_vec();
    let area = crate::store::area_key(r.area.as_str());
    if let KindColumns::Sensitive { resident_id, household_id, key_population } = &r.columns {
        // Sensitive data never enters the shared records table.
        tx.prepare_cached(
            "INSERT OR REPLACE INTO rm_sensitive(doc_id, area_key, resident_id, household_id,
                key_population, deleted, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            id,
            area,
            resident_id.as_bytes().to_vec(),
            household_id.as_bytes().to_vec(),
            key_population,
            r.deleted,
            r.json
        ])?;
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO rm_records(doc_id, kind, area_key, deleted, created_at, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id, r.kind.code(), area, r.deleted, r.created_at, r.json])?;
    match &r.columns {
        KindColumns::Household { head_name, address, tags } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_households(doc_id, area_key, head_name, address, tags,
                    deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, area, head_name, address, tags, r.deleted])?,
        KindColumns::Resident { household_id, name } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_residents(doc_id, area_key, household_id, name, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, area, household_id.as_bytes().to_vec(), name, r.deleted])?,
        KindColumns::Visit {
            household_id,
            visitor,
            visited_at,
            outcome,
            satisfaction,
            knows_worker,
        } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_visits(doc_id, area_key, household_id, visitor,
                    visited_at, outcome, satisfaction, knows_worker, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                id,
                area,
                household_id.as_bytes().to_vec(),
                visitor,
                visited_at,
                outcome,
                satisfaction,
                knows_worker,
                r.deleted
            ])?,
        KindColumns::Patrol { worker, started_at, ended_at, points, distance_m, duration_s } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_patrols(doc_id, area_key, worker, started_at, ended_at,
                    points, distance_m, duration_s, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                id, area, worker, started_at, ended_at, points, distance_m, duration_s, r.deleted
            ])?,
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
        } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_work_orders(doc_id, area_key, category, severity, state,
                    reported_at, deadline_at, closed_at, closed_on_time, is_open, escalated,
                    departments, dept_states, pending_ext, title, household_id, conflicts, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18)",
            )?
            .execute(params![
                id,
                area,
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
                household_id.map(|h| h.as_bytes().to_vec()),
                conflicts,
                r.deleted
            ])?,
        KindColumns::Task { title, due_at, completed_at } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rm_tasks(doc_id, area_key, title, due_at, completed_at,
                    deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, area, title, due_at, completed_at, r.deleted])?,
        KindColumns::Sensitive { .. } => 0,
    };
    super::query::write_search(tx, r)
}

#[async_trait]
impl ReadModelStore for SqliteStore {
    async fn rm_cursor(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let seq: Option<i64> = rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT seq FROM rm_cursor WHERE id = 1",
                [],
                |r| r.get(0),
            ))?;
            Ok(seq.map_or(0, u64_of))
        })
        .await
    }

    async fn rm_states(&self, ids: &[Uuid]) -> Result<Vec<DocState>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT kind, state, received FROM rm_docs WHERE doc_id = ?1")?;
            let mut out = Vec::new();
            for id in ids {
                let row: Option<(u8, Vec<u8>, Vec<u8>)> = rusqlite::OptionalExtension::optional(
                    stmt.query_row([id.as_bytes().to_vec()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    }),
                )?;
                if let Some((kind, state, received)) = row {
                    let kind = RecordKind::from_code(kind)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    out.push(DocState { id, kind, state, received: blob_received(&received) });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn rm_commit(&self, batch: &RmBatch) -> Result<(), StoreError> {
        let batch = batch.clone();
        self.write(move |c| {
            let tx = c.transaction()?;
            for r in &batch.rows {
                write_row(&tx, r)?;
            }
            {
                let mut put = tx.prepare_cached(
                    "INSERT OR REPLACE INTO rm_docs(doc_id, kind, state, received)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for s in &batch.states {
                    put.execute(params![
                        s.id.as_bytes().to_vec(),
                        s.kind.code(),
                        s.state,
                        received_blob(&s.received)
                    ])?;
                }
            }
            tx.execute(
                "INSERT INTO rm_cursor(id, seq) VALUES (1, ?1)
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq",
                [i64_of(batch.cursor)],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn rm_clear(&self) -> Result<(), StoreError> {
        self.write(|c| {
            let tx = c.transaction()?;
            for t in all_tables() {
                // Table names come from `ROW_TABLES`, never from input.
                tx.execute(&format!("DELETE FROM {t}"), [])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn rm_overdue(&self, now_ms: i64, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT doc_id FROM rm_work_orders
                 WHERE is_open = 1 AND deleted = 0 AND escalated = 0 AND deadline_at < ?1
                 ORDER BY deadline_at, doc_id LIMIT ?2",
            )?;
            let ids = stmt
                .query_map(params![now_ms, limit], |r| r.get::<_, Vec<u8>>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            ids.iter()
                .map(|b| Uuid::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string())))
                .collect()
        })
        .await
    }

    async fn rm_rows(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut out = Vec::new();
            for (table, cols) in ROW_TABLES {
                let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
                // Names come from `ROW_TABLES`, never from input.
                let mut stmt = c.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let cells = cols
                        .iter()
                        .enumerate()
                        .map(|(i, (_, col))| cell(r, i, *col))
                        .collect::<rusqlite::Result<Vec<Cell>>>()?;
                    out.push(line(table, &cells));
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }
}

/// Column `i` of `r`, read as `col`.
pub(super) fn cell(r: &rusqlite::Row<'_>, i: usize, col: Col) -> rusqlite::Result<Cell> {
    Ok(match col {
        Col::Bytes => r.get::<_, Option<Vec<u8>>>(i)?.into(),
        Col::Int => r.get::<_, Option<i64>>(i)?.into(),
        Col::Bool => r.get::<_, Option<bool>>(i)?.into(),
        Col::Real => r.get::<_, Option<f64>>(i)?.into(),
        Col::Text => r.get::<_, Option<String>>(i)?.into(),
    })
}
