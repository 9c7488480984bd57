//! How far the read model has folded the log, shared between the projector task and the
//! handlers: an action made on the server wakes the projector and waits (briefly) until its own
//! change is folded, so the person who acted reads their own write in every list (issue 10,
//! item 1). Ingest by devices never waits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, broadcast, watch};

use super::rows::RecordRow;

/// How many folded work orders wait for a slow listener before it misses some (it is told).
const ORDERS_BUFFER: usize = 1024;

/// The projector's published cursor, its wake-up call, and the work orders it has just folded
/// (the workbench's live alerts listen to them).
#[derive(Debug)]
pub struct Progress {
    wake: Notify,
    cursor: watch::Sender<u64>,
    orders: broadcast::Sender<Arc<RecordRow>>,
}

impl Progress {
    /// A new signal at cursor 0.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress {
            wake: Notify::new(),
            cursor: watch::Sender::new(0),
            orders: broadcast::Sender::new(ORDERS_BUFFER),
        })
    }

    /// Listens to the work orders the projector folds from now on (their rows as committed).
    pub fn subscribe_orders(&self) -> broadcast::Receiver<Arc<RecordRow>> {
        self.orders.subscribe()
    }

    /// Tells the listeners about work orders just committed (nobody listening is fine).
    pub(crate) fn publish_orders(&self, rows: Vec<RecordRow>) {
        for row in rows {
            // An error only means nobody listens now.
            let _ = self.orders.send(Arc::new(row));
        }
    }

    /// Asks the projector to step now rather than at its next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Progress::wake`] or `every`, whichever comes first (the projector's pause).
    pub(crate) async fn pause(&self, every: Duration) {
        tokio::select! {
            () = self.wake.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }

    /// Publishes the cursor the read model has folded up to.
    pub(crate) fn publish(&self, cursor: u64) {
        self.cursor.send_if_modified(|c| {
            let newer = cursor > *c;
            if newer {
                *c = cursor;
            }
            newer
        });
    }

    /// The cursor last published.
    pub fn cursor(&self) -> u64 {
        *self.cursor.borrow()
    }

    /// Wakes the projector and waits until it has folded `seq`, at most `timeout`; returns
    /// whether it did (false when no projector runs, or it lags behind a burst).
    pub async fn reached(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.cursor.subscribe();
        self.wake();
        matches!(tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq)).await, Ok(Ok(_)))
    }
}
