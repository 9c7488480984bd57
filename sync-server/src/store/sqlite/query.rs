//! The staff query API on SQLite: runs the statements `crate::query::sql` builds (the same for
//! both backends) and keeps `rm_search` (migration 7) beside the rows the projector writes.

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, ToSql, params_from_iter};

use super::SqliteStore;
use crate::query::stats::CountRow;
use crate::query::{Bind, Dialect, QueryStore, RawRow, Statement, search};
use crate::read_model::rows::RecordRow;
use crate::store::{StoreError, StoreResult};

impl ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(match self {
            Bind::Text(s) => Value::Text(s.clone()),
            Bind::Int(i) => Value::Integer(*i),
            Bind::Bytes(b) => Value::Blob(b.clone()),
        }))
    }
}

/// Replaces the search rows of `row` (households and residents), in the projector's
/// transaction.
pub(super) fn write_search(tx: &Connection, row: &RecordRow) -> StoreResult<()> {
    for s in search::write_statements(Dialect::Sqlite, row) {
        tx.prepare_cached(&s.sql)?.execute(params_from_iter(s.binds.iter()))?;
    }
    Ok(())
}

#[async_trait]
impl QueryStore for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn run_query(&self, statement: &Statement) -> Result<Vec<RawRow>, StoreError> {
        let s = statement.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&s.sql)?;
            let rows = stmt.query_map(params_from_iter(s.binds.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<RawRow>>>()?)
        })
        .await
    }

    async fn run_counts(&self, statement: &Statement) -> Result<Vec<CountRow>, StoreError> {
        let s = statement.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&s.sql)?;
            let keys = stmt.column_count().saturating_sub(1);
            let rows = stmt.query_map(params_from_iter(s.binds.iter()), |r| {
                let mut k = Vec::with_capacity(keys);
                for i in 0..keys {
                    k.push(r.get::<_, Option<String>>(i)?.unwrap_or_default());
                }
                Ok((k, r.get(keys)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<CountRow>>>()?)
        })
        .await
    }
}
