//! How the sync client reaches the store: briefly, between network waits, never across one.

use std::sync::Mutex;

use crate::store::Store;

/// Shared access to a [`Store`]. The sync client calls [`StoreAccess::with_store`] only for
/// synchronous steps (build a request, apply an answer) and never while awaiting the network,
/// so a lock taken here is never held across an `await`.
pub trait StoreAccess: Send + Sync {
    /// Runs `f` with exclusive access to the store.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T;
}

impl StoreAccess for Mutex<Store> {
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (SQLite rolls it back), so a poisoned lock is safe to take over.
        let mut guard = self.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

impl<A: StoreAccess> StoreAccess for std::sync::Arc<A> {
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        (**self).with_store(f)
    }
}
