//! Ledgers and the assessment on SQLite: runs the statements `crate::ledger::sql` builds (the
//! same for both backends) on a pooled reader, one page or one grouped answer at a time. An
//! assessment's statement runs with a 64 MiB page cache (then the reader's default again): a
//! district's month reads a few hundred thousand index entries, which the default 2 MiB cache
//! re-reads from the file (docs/BENCHMARKS.md).

use async_trait::async_trait;
use rusqlite::{Connection, params_from_iter};

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
        self.read(move |c| run(c, &s, cols)).await
    }

    async fn aggregate_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>> {
        let s = statement.clone();
        self.read(move |c| {
            c.pragma_update(None, "cache_size", ASSESSMENT_CACHE_KIB)?;
            let out = run(c, &s, cols);
            c.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
            out
        })
        .await
    }
}

/// The page cache of an assessment's statement, in KiB (negative: KiB, SQLite's convention).
const ASSESSMENT_CACHE_KIB: i64 = -65_536;
/// SQLite's default page cache (2 MiB).
const DEFAULT_CACHE_KIB: i64 = -2_000;

fn run(c: &Connection, s: &Statement, cols: &'static [Col]) -> StoreResult<Vec<Vec<Cell>>> {
    let mut stmt = c.prepare_cached(&s.sql)?;
    let rows = stmt.query_map(params_from_iter(s.binds.iter()), |r| {
        cols.iter().enumerate().map(|(i, col)| cell(r, i, *col)).collect()
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<Vec<Cell>>>>()?)
}
