//! Data-changed notifications: a foreign trait the UI implements, a registry the store keeps, and
//! the subscription handle that unsubscribes when dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use gridwork_core::RecordKind;
use uuid::Uuid;

use crate::error::Result;

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeOrigin {
    /// Written on this device through this store.
    Local,
    /// Received from the server or another device (`apply_changes`, sync).
    Remote,
}

/// What changed: enough for a screen to decide whether to reload. After a sync, enrolment or
/// revocation `ids` is empty and `kinds` lists every kind: reload everything shown.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DataChanged {
    /// The kinds of record that changed, without repeats.
    pub kinds: Vec<RecordKind>,
    /// The records that changed, without repeats.
    pub ids: Vec<Uuid>,
    /// Whether this device or a peer made the change.
    pub origin: ChangeOrigin,
}

/// Implemented by the app to hear about changes to the store's data, e.g. to refresh a list.
///
/// Called on the thread that made the change, after it committed and with no lock held, so the
/// observer may read the store; it should hand work to its UI thread and return quickly.
#[uniffi::export(with_foreign)]
pub trait DataObserver: Send + Sync {
    /// Records changed.
    ///
    /// # Errors
    /// An observer that fails (throws) is ignored: the write that triggered it has already
    /// succeeded and stays.
    fn on_data_changed(&self, change: DataChanged) -> Result<()>;
}

/// The observers of one store.
#[derive(Default)]
pub(crate) struct Observers {
    next: AtomicU64,
    list: Mutex<BTreeMap<u64, Arc<dyn DataObserver>>>,
}

impl Observers {
    pub(crate) fn add(self: &Arc<Self>, observer: Arc<dyn DataObserver>) -> Subscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.list.lock().unwrap_or_else(|p| p.into_inner()).insert(id, observer);
        Subscription { observers: Arc::downgrade(self), id }
    }

    fn remove(&self, id: u64) {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    pub(crate) fn len(&self) -> usize {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Tells every observer; called with no store lock held.
    pub(crate) fn notify(&self, change: DataChanged) {
        if change.ids.is_empty() && change.kinds.is_empty() {
            return;
        }
        // Snapshot, so an observer may subscribe or cancel from inside its callback.
        let observers: Vec<Arc<dyn DataObserver>> =
            self.list.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for o in observers {
            // A failing observer must not fail the write nor stop the others.
            let _ = o.on_data_changed(change.clone());
        }
    }
}

/// A data-changed subscription. Dropping it (Kotlin `close()`/`use {}`, Swift deinit, Python
/// garbage collection) or calling [`Subscription::cancel`] stops the notifications.
#[derive(uniffi::Object)]
pub struct Subscription {
    observers: Weak<Observers>,
    id: u64,
}

#[uniffi::export]
impl Subscription {
    /// Stops the notifications now; calling it again does nothing.
    ///
    /// # Errors
    /// None: cancelling cannot fail.
    pub fn cancel(&self) {
        if let Some(o) = self.observers.upgrade() {
            o.remove(self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("id", &self.id).finish()
    }
}

/// Collects the kinds and ids of a change without repeats, in first-seen order.
pub(crate) fn change(
    items: impl IntoIterator<Item = (RecordKind, Uuid)>,
    origin: ChangeOrigin,
) -> DataChanged {
    let mut kinds = Vec::new();
    let mut ids = Vec::new();
    for (k, id) in items {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    DataChanged { kinds, ids, origin }
}

/// A change that may concern any record (after sync, enrolment, revocation).
pub(crate) fn everything(origin: ChangeOrigin) -> DataChanged {
    DataChanged { kinds: RecordKind::ALL.to_vec(), ids: Vec::new(), origin }
}
