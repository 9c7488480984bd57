//! What a backend does for ledgers and the assessment: run a statement [`super::sql`] built
//! (the same SQL for both backends but for the dialect) and give its rows back as typed cells.
//! Both backends implement it (`store/sqlite/ledger.rs`, `store/postgres/ledger.rs`); the
//! server reaches it through [`crate::store::Store::ledger`].

use async_trait::async_trait;

use crate::query::{Dialect, Statement};
use crate::store::StoreResult;
pub use crate::store::rm_rows::{Cell, Col};

/// A backend's ledger queries.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// The SQL dialect to build statements in.
    fn dialect(&self) -> Dialect;

    /// Runs `statement` and reads each row's columns as `cols` says (one page of a ledger, or
    /// an assessment's grouped counts).
    ///
    /// # Errors
    /// Storage errors.
    async fn ledger_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>>;

    /// Runs one of the assessment's grouped statements (which read whole districts' indexes:
    /// a backend may give it more cache than a ledger page needs).
    ///
    /// # Errors
    /// Storage errors.
    async fn aggregate_rows(
        &self,
        statement: &Statement,
        cols: &'static [Col],
    ) -> StoreResult<Vec<Vec<Cell>>> {
        self.ledger_rows(statement, cols).await
    }
}
