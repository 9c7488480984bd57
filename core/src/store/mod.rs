//! The device store: one SQLite file (optionally SQLCipher-encrypted) holding every record
//! document, its changes, the outbox and the typed projections (DESIGN §1).
//!
//! Exactly one writer connection, WAL mode, `synchronous = FULL` so that a committed record
//! survives a crash or power loss. Write paths run in one transaction: the document change, the
//! outbox entry and the projection rows commit together or not at all.

mod areas;
mod docs;
mod meta;
mod open;

use std::num::NonZeroUsize;

use automerge::{ActorId, AutoCommit};
use lru::LruCache;
use rusqlite::Connection;
use uuid::Uuid;

pub(crate) use docs::ChangeNote;
pub use docs::{ApplyReport, DocDigest};
pub use meta::SignedInUser;

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

    fn cache_capacity() -> NonZeroUsize {
        NonZeroUsize::new(DOC_CACHE).unwrap_or(NonZeroUsize::MIN)
    }
}
