//! Ledgers and the assessment on SQLite: runs the statements `crate::ledger::sql` builds (the
//! same for both backends) on a pooled reader, one page or one grouped answer at a time.

use async_trait::async_trait;
use rusqlite::params_from_iter;

use super::SqliteStore;
use super::read_model::cell;
use crate::ledger::store::{Cell, Col, LedgerStore};
use crate::query::{Dialect, Statement};
use crate::store::StoreResult;

#[async_trait]
impl LedgerStore for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn ledger_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>> {
        let s = statement.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&s.sql)?;
            let rows = stmt.query_map(params_from_iter(s.binds.iter()), |r| {
                cols.iter().enumerate().map(|(i, col)| cell(r, i, *col)).collect()
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<Vec<Cell>>>>()?)
        })
        .await
    }
}
