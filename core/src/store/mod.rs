//! The device store: one SQLite file (optionally SQLCipher-encrypted) holding every record
//! document, its changes, the outbox and the typed projections (DESIGN §1).
//!
//! Exactly one writer connection, WAL mode, `synchronous = FULL` so that a committed record
//! survives a crash or power loss. Write paths run in one transaction: the document change, the
//! outbox entry and the projection rows commit together or not at all.

mod apply;
mod areas;
mod attachments;
mod change_bytes;
mod deferred;
mod docs;
mod forget;
mod held;
mod meta;
mod open;
mod outbox;
mod projector;
mod quarantine;
mod wipe;

use std::num::NonZeroUsize;

use automerge::{ActorId, AutoCommit};
use lru::LruCache;
use rusqlite::Connection;

use crate::error::Result;
use deferred::Deferred;
use uuid::Uuid;

pub use apply::{Ack, ApplyReport, Incoming, Received};
pub use docs::DocHeads;
pub(crate) use docs::decoded;
pub use held::HeldChange;
pub use meta::SignedInUser;
pub use projector::WriteTxn;
pub(crate) use projector::{Projector, project_as};
pub use quarantine::QuarantinedChange;

/// How many loaded documents the store keeps in memory (each costs ~17 KB, DESIGN §1).
const DOC_CACHE: usize = 32;

/// The offline record store of one device.
///
/// Not `Sync`: it owns the single writer connection. Wrap it in a `Mutex` to share it.
pub struct Store {
    conn: Connection,
    actor: ActorId,
    cache: LruCache<Uuid, AutoCommit>,
    user: Option<SignedInUser>,
    /// The outbox position of the next change made here (see `outbox.rs`).
    next_ord: i64,
    /// Inside [`Store::batch`]: writes join the open transaction, and what they defer to its
    /// commit is held here.
    batch: Option<Deferred>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("actor", &self.actor.to_hex_string()).finish_non_exhaustive()
    }
}

impl Store {
    /// This device's Automerge actor id, made on first start; the server binds it to the device
    /// at enrolment (DESIGN §6).
    pub fn actor_id(&self) -> &ActorId {
        &self.actor
    }

    /// The connection, for read-only queries inside the crate.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` as one atomic write (see [`write_txn`]).
    pub(crate) fn in_write<T>(&mut self, f: impl FnOnce(&WriteTxn<'_>) -> Result<T>) -> Result<T> {
        write_txn(&mut self.conn, self.batch.as_mut(), f)
    }

    /// Runs `f` as one all-or-nothing transaction: a bulk import, or several records a user
    /// saves together. If `f` fails, nothing it wrote is kept (and the document cache is
    /// cleared, so memory never runs ahead of the database).
    ///
    /// # Errors
    /// Whatever `f` returns; [`crate::CoreError::Invalid`] naming `batch` when already inside
    /// one; storage errors.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        if self.batch.is_some() {
            return Err(crate::CoreError::invalid("batch", "batches do not nest"));
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.batch = Some(Deferred::default());
        let result = f(self);
        let deferred = self.batch.take().unwrap_or_default();
        match result {
            Ok(v) => match deferred
                .flush(&self.conn)
                .and_then(|()| self.conn.execute_batch("COMMIT").map_err(crate::CoreError::from))
            {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    self.cache.clear();
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.cache.clear();
                Err(e)
            }
        }
    }

    /// Runs `f` as one all-or-nothing write: a [`Store::batch`] of its own, or part of the one
    /// already open.
    ///
    /// # Errors
    /// Whatever `f` returns; storage errors.
    pub(crate) fn all_or_nothing<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        if self.batch.is_some() { f(self) } else { self.batch(f) }
    }

    fn cache_capacity() -> NonZeroUsize {
        NonZeroUsize::new(DOC_CACHE).unwrap_or(NonZeroUsize::MIN)
    }
}

/// Runs `f` as one atomic write: its own transaction, or a savepoint inside an open
/// [`Store::batch`] (`batch`, which then receives the writes deferred to its commit), so a
/// failed write inside a batch leaves no partial rows even if the caller carries on.
pub(crate) fn write_txn<T>(
    conn: &mut Connection,
    batch: Option<&mut Deferred>,
    f: impl FnOnce(&WriteTxn<'_>) -> Result<T>,
) -> Result<T> {
    if let Some(batch) = batch {
        conn.prepare_cached("SAVEPOINT gridwork_write")?.execute([])?;
        let txn = WriteTxn::begun(conn);
        match f(&txn) {
            Ok(v) => {
                conn.prepare_cached("RELEASE gridwork_write")?.execute([])?;
                batch.absorb(txn.into_deferred());
                Ok(v)
            }
            Err(e) => {
                conn.prepare_cached("ROLLBACK TO gridwork_write")?.execute([])?;
                conn.prepare_cached("RELEASE gridwork_write")?.execute([])?;
                Err(e)
            }
        }
    } else {
        let tx = conn.transaction()?;
        let txn = WriteTxn::begun(&tx);
        let v = f(&txn)?;
        txn.into_deferred().flush(&tx)?;
        tx.commit()?;
        Ok(v)
    }
}
