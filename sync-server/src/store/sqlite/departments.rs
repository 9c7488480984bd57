//! Departments in SQLite (`store::departments`): the registry, memberships and the documents
//! dispatched to each department (tables of migration 5).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, split_areas};
use crate::store::departments::{Department, DepartmentStore};
use crate::store::{StoreError, StoreResult, area_from_key, area_key};

/// The `log_meta` key marking a log whose dispatches must be scanned once.
const BACKFILL_KEY: &str = "doc_departments_backfill";

/// A `departments` row: code, names, categories, area key, active.
type Row = (String, String, String, String, Option<String>, bool);

fn department(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

#[async_trait]
impl DepartmentStore for SqliteStore {
    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        let rows = self
            .read(|c| {
                let mut s = c.prepare_cached(
                    "SELECT code, name_zh, name_en, categories, area_key, active FROM departments
                     ORDER BY code",
                )?;
                let rows = s.query_map([], department)?.collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(code, name_zh, name_en, categories, area, active)| {
                Ok(Department {
                    code,
                    name_zh,
                    name_en,
                    categories: split_areas(&categories),
                    area: area.as_deref().map(area_from_key).transpose()?,
                    active,
                })
            })
            .collect()
    }

    async fn put_department(&self, d: &Department) -> StoreResult<()> {
        let d = d.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO departments (code, name_zh, name_en, categories, area_key, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (code) DO UPDATE SET name_zh = ?2, name_en = ?3, categories = ?4,
                   area_key = ?5, active = ?6",
                params![
                    d.code,
                    d.name_zh,
                    d.name_en,
                    d.categories.join(","),
                    d.area.as_ref().map(|a| area_key(a.as_str())),
                    d.active
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn user_departments(&self, user: Uuid) -> StoreResult<Vec<String>> {
        self.read(move |c| {
            let mut s = c.prepare_cached(
                "SELECT department FROM user_departments WHERE user_id = ? ORDER BY department",
            )?;
            let rows = s.query_map([user.to_string()], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn set_user_departments(&self, user: Uuid, codes: &[String]) -> StoreResult<bool> {
        let codes = codes.to_vec();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user.to_string();
            let known: Option<i64> =
                tx.query_row("SELECT 1 FROM users WHERE id = ?", [&id], |r| r.get(0)).optional()?;
            if known.is_none() {
                return Ok(false);
            }
            tx.execute("DELETE FROM user_departments WHERE user_id = ?", [&id])?;
            for code in &codes {
                let exists: Option<i64> = tx
                    .query_row("SELECT 1 FROM departments WHERE code = ?", [code], |r| r.get(0))
                    .optional()?;
                if exists.is_none() {
                    return Err(StoreError::NotFound { what: "department", id: code.clone() });
                }
                tx.execute(
                    "INSERT OR IGNORE INTO user_departments (user_id, department) VALUES (?, ?)",
                    params![id, code],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn doc_departments(&self, doc: Uuid) -> StoreResult<Vec<String>> {
        self.read(move |c| {
            let mut s = c.prepare_cached(
                "SELECT department FROM doc_departments WHERE doc_id = ? ORDER BY department",
            )?;
            let rows = s
                .query_map([doc.as_bytes().as_slice()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn add_doc_departments(&self, pairs: &[(Uuid, String)]) -> StoreResult<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let pairs = pairs.to_vec();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            super::insert_doc_departments(&tx, pairs.iter().map(|(d, c)| (*d, c.as_str())))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn backfill_pending(&self) -> StoreResult<bool> {
        self.read(|c| {
            let v: Option<i64> = c
                .query_row("SELECT 1 FROM log_meta WHERE key = ?", [BACKFILL_KEY], |r| r.get(0))
                .optional()?;
            Ok(v.is_some())
        })
        .await
    }

    async fn finish_backfill(&self) -> StoreResult<()> {
        self.write(|c| {
            c.execute("DELETE FROM log_meta WHERE key = ?", [BACKFILL_KEY])?;
            Ok(())
        })
        .await
    }
}
