//! The staff query API on PostgreSQL: runs the statements `crate::query::sql` builds (the same
//! for both backends) and keeps `rm_search` (migration 7) beside the rows the projector writes.

use async_trait::async_trait;
use tokio_postgres::types::ToSql;

use super::PgStore;
use crate::query::stats::CountRow;
use crate::query::{Bind, Dialect, QueryStore, RawRow, Statement, search};
use crate::read_model::rows::RecordRow;
use crate::store::{StoreError, StoreResult};

/// The bound values of a statement as PostgreSQL parameters.
pub(super) fn params(binds: &[Bind]) -> Vec<&(dyn ToSql + Sync)> {
    binds
        .iter()
        .map(|b| match b {
            Bind::Text(s) => s as &(dyn ToSql + Sync),
            Bind::Int(i) => i as &(dyn ToSql + Sync),
            Bind::Bytes(v) => v as &(dyn ToSql + Sync),
        })
        .collect()
}

/// Replaces the search rows of `row` (households and residents), in the projector's
/// transaction.
pub(super) async fn write_search(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &RecordRow,
) -> StoreResult<()> {
    for s in search::write_statements(Dialect::Postgres, row) {
        let stmt = tx.prepare_cached(&s.sql).await?;
        tx.execute(&stmt, &params(&s.binds)).await?;
    }
    Ok(())
}

#[async_trait]
impl QueryStore for PgStore {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    /// Each statement is prepared afresh (not cached), so PostgreSQL plans it for its values: a
    /// cached statement gets a generic plan after five runs, which cannot see that a search
    /// token is rare or an area small, and scanned every household in id order (400 ms instead
    /// of 1 ms over 100,000 households; docs/BENCHMARKS.md).
    async fn run_query(&self, statement: &Statement) -> Result<Vec<RawRow>, StoreError> {
        let c = self.client().await?;
        let rows = c.query(statement.sql.as_str(), &params(&statement.binds)).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }

    async fn run_counts(&self, statement: &Statement) -> Result<Vec<CountRow>, StoreError> {
        let c = self.client().await?;
        let rows = c.query(statement.sql.as_str(), &params(&statement.binds)).await?;
        rows.iter()
            .map(|r| {
                let keys = r.len().saturating_sub(1);
                let mut k = Vec::with_capacity(keys);
                for i in 0..keys {
                    k.push(r.try_get::<_, Option<String>>(i)?.unwrap_or_default());
                }
                Ok((k, r.try_get(keys)?))
            })
            .collect()
    }
}
