//! Departments in PostgreSQL (`store::departments`), as in SQLite (`sqlite/departments.rs`): the
//! registry, memberships and the documents dispatched to each department (migration 5).

use async_trait::async_trait;
use uuid::Uuid;

use super::{PgStore, insert_doc_departments};
use crate::store::departments::{Department, DepartmentStore};
use crate::store::sqlite::split_areas;
use crate::store::{StoreError, StoreResult, area_from_key, area_key};

/// The `log_meta` key marking a log whose dispatches must be scanned once.
const BACKFILL_KEY: &str = "doc_departments_backfill";

#[async_trait]
impl DepartmentStore for PgStore {
    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT code, name_zh, name_en, categories, area_key, active FROM departments
                 ORDER BY code",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let area: Option<String> = r.try_get(4)?;
                let categories: String = r.try_get(3)?;
                Ok(Department {
                    code: r.try_get(0)?,
                    name_zh: r.try_get(1)?,
                    name_en: r.try_get(2)?,
                    categories: split_areas(&categories),
                    area: area.as_deref().map(area_from_key).transpose()?,
                    active: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn put_department(&self, d: &Department) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO departments (code, name_zh, name_en, categories, area_key, active)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name_zh = $2, name_en = $3, categories = $4,
               area_key = $5, active = $6",
            &[
                &d.code,
                &d.name_zh,
                &d.name_en,
                &d.categories.join(","),
                &d.area.as_ref().map(|a| area_key(a.as_str())),
                &d.active,
            ],
        )
        .await?;
        Ok(())
    }

    async fn user_departments(&self, user: Uuid) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT department FROM user_departments WHERE user_id = $1 ORDER BY department",
                &[&user.to_string()],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn set_user_departments(&self, user: Uuid, codes: &[String]) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = user.to_string();
        if tx.query_opt("SELECT id FROM users WHERE id = $1 FOR UPDATE", &[&id]).await?.is_none() {
            return Ok(false);
        }
        tx.execute("DELETE FROM user_departments WHERE user_id = $1", &[&id]).await?;
        for code in codes {
            if tx.query_opt("SELECT 1 FROM departments WHERE code = $1", &[code]).await?.is_none() {
                return Err(StoreError::NotFound { what: "department", id: code.clone() });
            }
            tx.execute(
                "INSERT INTO user_departments (user_id, department) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&id, code],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn doc_departments(&self, doc: Uuid) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT department FROM doc_departments WHERE doc_id = $1 ORDER BY department",
                &[&doc.as_bytes().as_slice()],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn add_doc_departments(&self, pairs: &[(Uuid, String)]) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let pairs: Vec<(Uuid, &str)> = pairs.iter().map(|(d, c)| (*d, c.as_str())).collect();
        insert_doc_departments(&tx, &pairs).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn backfill_pending(&self) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.query_opt("SELECT 1 FROM log_meta WHERE key = $1", &[&BACKFILL_KEY]).await?.is_some())
    }

    async fn finish_backfill(&self) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM log_meta WHERE key = $1", &[&BACKFILL_KEY]).await?;
        Ok(())
    }
}
