//! Ledgers and the assessment on PostgreSQL: runs the statements `crate::ledger::sql` builds
//! (the same for both backends) one page or one grouped answer at a time. Each statement is
//! planned for its values (not cached), as the query API's are (`postgres/query.rs`).

use async_trait::async_trait;

use super::PgStore;
use super::query::params;
use super::read_model::cell;
use crate::ledger::store::{Cell, Col, LedgerStore};
use crate::query::{Dialect, Statement};
use crate::store::StoreResult;

#[async_trait]
impl LedgerStore for PgStore {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn ledger_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>> {
        let c = self.client().await?;
        let rows = c.query(statement.sql.as_str(), &params(&statement.binds)).await?;
        rows.iter()
            .map(|r| cols.iter().enumerate().map(|(i, col)| cell(r, i, *col)).collect())
            .collect()
    }
}
