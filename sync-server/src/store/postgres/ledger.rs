//! Ledgers and the assessment on PostgreSQL: runs the statements `crate::ledger::sql` builds
//! (the same for both backends) one page or one grouped answer at a time. Each statement is
//! planned for its values (not cached), as the query API's are (`postgres/query.rs`).
//!
//! An assessment's grouped statement runs without JIT compilation and with more memory for its
//! hash joins: it reads a district's indexes once, and PostgreSQL's JIT — chosen by cost, which
//! such a statement always exceeds — spent over a second compiling it, more than it saved
//! (docs/BENCHMARKS.md, "Ledger exports and assessment").

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
        cells(&rows, cols)
    }

    async fn aggregate_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.batch_execute(AGGREGATE_SETTINGS).await?;
        let rows = tx.query(statement.sql.as_str(), &params(&statement.binds)).await?;
        // Read only: ending the transaction either way restores the connection's settings.
        tx.rollback().await?;
        cells(&rows, cols)
    }
}

fn cells(rows: &[tokio_postgres::Row], cols: &'static [Col]) -> StoreResult<Vec<Vec<Cell>>> {
    rows.iter()
        .map(|r| cols.iter().enumerate().map(|(i, col)| cell(r, i, *col)).collect())
        .collect()
}

/// The settings of an assessment's statement, for its transaction only.
const AGGREGATE_SETTINGS: &str = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'";
