//! The projection side of a record kind: how its decoded records become rows of the device's
//! SQLite index. A [`Projector`] writes only through a [`WriteTxn`], which only the store's
//! kernel creates, so projection rows are always written in the transaction that stores the
//! change they derive from (DESIGN §1).

use std::cell::RefCell;
use std::ops::Deref;

use automerge::AutoCommit;
use rusqlite::Connection;
use uuid::Uuid;

use super::deferred::Deferred;
use crate::error::Result;
use crate::spec::{self, DecodeError, Decoded, RecordSpec};

/// An open write transaction of the store (or a savepoint inside a batch). Reads and writes
/// through it see and make uncommitted state; it ends when the kernel commits or rolls back.
#[derive(Debug)]
pub struct WriteTxn<'a> {
    conn: &'a Connection,
    deferred: RefCell<Deferred>,
}

impl<'a> WriteTxn<'a> {
    /// Wraps a connection on which the kernel has just begun a transaction or savepoint.
    pub(super) fn begun(conn: &'a Connection) -> Self {
        WriteTxn { conn, deferred: RefCell::new(Deferred::default()) }
    }

    /// Sets row `rowid` of the full-text index `table` to `tokens` (or deletes it) when the
    /// transaction commits (see `deferred.rs`).
    pub(crate) fn index_text(&self, table: &'static str, rowid: i64, tokens: Option<String>) {
        self.deferred.borrow_mut().set_text(table, rowid, tokens);
    }

    /// The writes held for the end of the transaction.
    pub(super) fn into_deferred(self) -> Deferred {
        self.deferred.into_inner()
    }
}

impl Deref for WriteTxn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A record kind's projection writer (implemented in the kind's folder next to its spec).
pub(crate) trait Projector: RecordSpec {
    /// Writes (replaces) the projection rows of one decoded record, and refreshes what other
    /// kinds derive from it (a visit refreshes its household's due date).
    ///
    /// # Errors
    /// Storage errors.
    fn project(tx: &WriteTxn<'_>, record: &Decoded<Self::Record>) -> Result<()>;

    /// Deletes the projection rows (and search tokens) of record `id`, which this device
    /// forgets (it left the device's scope).
    ///
    /// # Errors
    /// Storage errors.
    fn forget(tx: &WriteTxn<'_>, id: Uuid) -> Result<()>;

    /// Called instead of [`Projector::project`] when document `id` holds a value no version
    /// writes (the decoder's [`DecodeError::Invalid`]): a kind whose record the device relies on
    /// (reference data) records the refusal and falls back to its defaults. Most kinds just
    /// leave the record without rows.
    ///
    /// # Errors
    /// Storage errors.
    fn refused(_tx: &WriteTxn<'_>, _id: Uuid, _error: &DecodeError) -> Result<()> {
        Ok(())
    }
}

/// Decodes document `id` with `P` and writes its projection; returns how many photos the record
/// references. A document not complete yet (its
/// creating change has not arrived) has no rows; one whose common fields are malformed is
/// logged and left without rows rather than failing the transaction that carries it.
///
/// # Errors
/// Storage errors.
pub(crate) fn project_as<P: Projector>(
    tx: &WriteTxn<'_>,
    id: Uuid,
    d: &AutoCommit,
) -> Result<usize> {
    match spec::decode::<P>(id, d) {
        Ok(record) => {
            P::project(tx, &record)?;
            Ok(P::photos(&record.record).len())
        }
        Err(DecodeError::Incomplete { .. }) => Ok(0),
        Err(e @ DecodeError::Invalid { .. }) => {
            tracing::warn!(doc = %id, kind = %P::KIND, error = %e, "record not projected");
            P::refused(tx, id, &e)?;
            Ok(0)
        }
    }
}
