//! The staff query API's shared core (issue 10, item 2): what a caller may ask of the read model
//! ([`filter`]), whose answers they may see ([`scope`]), the opaque page cursor ([`cursor`]),
//! Chinese text search over the core's tokens ([`search`]) and the one SQL statement every list
//! becomes ([`sql`]) — written once for both backends, which differ only in their dialect
//! ([`sql::Dialect`]) and in how they run a statement ([`QueryStore`]).
//!
//! Everything a caller sends is parsed and checked here before any SQL is made; every value
//! reaches the database as a bound parameter, never as SQL text.

pub mod cursor;
pub mod filter;
pub mod queue;
pub mod scope;
pub mod search;
pub mod sql;
pub mod stats;

use async_trait::async_trait;
use gridwork_core::RecordKind;
use serde::Serialize;
use uuid::Uuid;

use crate::store::StoreError;
pub use filter::{ListQuery, QueryError};
pub use sql::{Bind, Dialect, Statement};

/// A kind of record the API lists, by its path segment (`/api/v1/{segment}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listed {
    /// `households`.
    Households,
    /// `residents`.
    Residents,
    /// `visits`.
    Visits,
    /// `patrols`.
    Patrols,
    /// `work-orders`.
    WorkOrders,
    /// `tasks`.
    Tasks,
}

impl Listed {
    /// Every listed kind.
    pub const ALL: [Listed; 6] = [
        Listed::Households,
        Listed::Residents,
        Listed::Visits,
        Listed::Patrols,
        Listed::WorkOrders,
        Listed::Tasks,
    ];

    /// The path segment.
    pub const fn segment(self) -> &'static str {
        match self {
            Listed::Households => "households",
            Listed::Residents => "residents",
            Listed::Visits => "visits",
            Listed::Patrols => "patrols",
            Listed::WorkOrders => "work-orders",
            Listed::Tasks => "tasks",
        }
    }

    /// The kind of a path segment.
    pub fn of_segment(segment: &str) -> Option<Listed> {
        Listed::ALL.into_iter().find(|l| l.segment() == segment)
    }

    /// The record kind.
    pub const fn kind(self) -> RecordKind {
        match self {
            Listed::Households => RecordKind::Household,
            Listed::Residents => RecordKind::Resident,
            Listed::Visits => RecordKind::Visit,
            Listed::Patrols => RecordKind::Patrol,
            Listed::WorkOrders => RecordKind::WorkOrder,
            Listed::Tasks => RecordKind::Task,
        }
    }

    /// The kind's typed read-model table (migration 3).
    pub(crate) const fn table(self) -> &'static str {
        match self {
            Listed::Households => "rm_households",
            Listed::Residents => "rm_residents",
            Listed::Visits => "rm_visits",
            Listed::Patrols => "rm_patrols",
            Listed::WorkOrders => "rm_work_orders",
            Listed::Tasks => "rm_tasks",
        }
    }
}

/// One record found: its id, area, whether it is deleted, and the record as the core decodes it
/// (the JSON the read model keeps).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// Record id.
    pub id: Uuid,
    /// Its area path.
    pub area: String,
    /// Deleted (tombstone): only a lookup by id shows one.
    pub deleted: bool,
    /// The decoded record.
    pub record: serde_json::Value,
}

/// A raw row of a query statement: `doc_id`, `area_key`, `deleted`, `record` (the columns every
/// [`Statement`] selects, in that order).
pub type RawRow = (Vec<u8>, String, bool, String);

impl Found {
    /// A found record from its raw row.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a row this server did not write.
    pub fn of_row((id, area_key, deleted, record): RawRow) -> Result<Found, StoreError> {
        let id = Uuid::from_slice(&id)
            .map_err(|e| StoreError::Corrupt(format!("read model doc_id: {e}")))?;
        let record = serde_json::from_str(&record)
            .map_err(|e| StoreError::Corrupt(format!("read model record {id}: {e}")))?;
        let area = area_key.strip_suffix('/').unwrap_or(&area_key).to_owned();
        Ok(Found { id, area, deleted, record })
    }
}

/// A backend that answers query statements over its read model; both backends implement it
/// (`store/sqlite/query.rs`, `store/postgres/query.rs`).
#[async_trait]
pub trait QueryStore: Send + Sync {
    /// The SQL dialect to build statements in.
    fn dialect(&self) -> Dialect;

    /// Runs a statement made by [`sql`] and returns its rows.
    ///
    /// # Errors
    /// Storage errors.
    async fn run_query(&self, statement: &Statement) -> Result<Vec<RawRow>, StoreError>;

    /// Runs a counting statement: some text key columns, then a count (the last column).
    ///
    /// # Errors
    /// Storage errors.
    async fn run_counts(&self, statement: &Statement) -> Result<Vec<stats::CountRow>, StoreError>;

    /// Runs a statement and decodes its rows.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for a row this server did not write.
    async fn find(&self, statement: &Statement) -> Result<Vec<Found>, StoreError> {
        self.run_query(statement).await?.into_iter().map(Found::of_row).collect()
    }
}
