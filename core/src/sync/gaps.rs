//! Filling gaps in records' histories (sans-IO, like [`super::session`]).
//!
//! After a pull, some changes may still be held because a change they depend on never came in
//! the pulled pages: the record was moved into this device's scope (its earlier changes were
//! logged under an area the device does not read), or its earlier changes were pulled before a
//! scope change. The server serves a record's whole history by its *current* area
//! (`POST /v1/fetch`), so asking for those documents fills the gaps.

use std::collections::HashSet;

use uuid::Uuid;

use super::error::{SyncError, SyncResult};
use crate::protocol::{FetchRequest, FetchResponse, SyncStatus, WireMessage};
use crate::store::{Incoming, Received, Store};

/// Most documents one fetch names (the server's limit).
pub const MAX_FETCH_DOCS: usize = 1000;

/// One gap-filling pass: which documents to ask for, and which were asked already (a document
/// the server cannot complete is asked once per sync, never in a loop).
#[derive(Debug, Default)]
pub struct GapFill {
    asked: HashSet<Uuid>,
    pending: Vec<Uuid>,
    /// Fetch only the documents given at the start, not the store's gaps.
    listed_only: bool,
}

impl GapFill {
    /// A fetch of exactly these documents (the repair path's divergent ones), in pages.
    pub fn of(ids: Vec<Uuid>) -> Self {
        GapFill { asked: ids.iter().copied().collect(), pending: ids, listed_only: true }
    }

    /// The next fetch request, or `None` when no gap is left that was not asked for already.
    ///
    /// # Errors
    /// Store errors.
    pub fn next_request(&mut self, store: &Store, page_bytes: u32) -> SyncResult<Option<Vec<u8>>> {
        if self.pending.is_empty() && !self.listed_only {
            let gaps = store.docs_with_gaps(MAX_FETCH_DOCS + self.asked.len())?;
            self.pending = gaps
                .into_iter()
                .filter(|id| !self.asked.contains(id))
                .take(MAX_FETCH_DOCS)
                .collect();
            self.asked.extend(self.pending.iter().copied());
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let ids = self.pending.iter().take(MAX_FETCH_DOCS).copied().collect();
        let req = FetchRequest { max_page_bytes: page_bytes, doc_ids: ids };
        Ok(Some(req.encode()))
    }

    /// Applies a fetch answer; returns how many changes it brought.
    ///
    /// # Errors
    /// [`SyncError::Revoked`] after wiping the store; [`SyncError::Protocol`] for an answer that
    /// breaks the protocol; store errors (nothing is applied then).
    pub fn apply_response(&mut self, store: &mut Store, body: &[u8]) -> SyncResult<u64> {
        let resp = FetchResponse::decode(body)?;
        match resp.status {
            SyncStatus::Revoked => {
                store.wipe()?;
                return Err(SyncError::Revoked);
            }
            SyncStatus::BootstrapRequired => {
                self.pending.clear();
                return Ok(0);
            }
            SyncStatus::Ok => {}
        }
        let sent: Vec<Uuid> = self.pending.iter().take(MAX_FETCH_DOCS).copied().collect();
        let asked: HashSet<Uuid> = sent.iter().copied().collect();
        if resp.remaining.iter().any(|id| !asked.contains(id)) {
            return Err(SyncError::Protocol("fetch answer names a document not asked for".into()));
        }
        // A server that serves nothing of what remains would make this loop forever.
        let unsent = self.pending.split_off(sent.len());
        self.pending = if resp.changes.is_empty() { Vec::new() } else { resp.remaining };
        self.pending.extend(unsent);
        let n = resp.changes.len() as u64;
        store.apply_incoming(Incoming {
            changes: resp
                .changes
                .into_iter()
                .filter(|c| asked.contains(&c.change.doc_id))
                .map(|c| Received { envelope: c.change, received_at: c.received_at })
                .collect(),
            acks: Vec::new(),
            meta: Vec::new(),
        })?;
        Ok(n)
    }
}
