//! The sans-IO heart of a sync: build a request from the store, then apply the server's answer
//! to the store. No network and no `await` here, so the caller never holds the store (or its
//! lock) while waiting on the network (DESIGN §2).

use super::error::{SyncError, SyncResult};
use super::progress::SyncProgress;
use super::state::{self, BOOTSTRAP, CURSOR, EPOCH};
use crate::envelope::ChangeEnvelope;
use crate::protocol::{SyncRequest, SyncResponse, SyncStatus, WireMessage};
use crate::store::{Ack, Incoming, Received, Store};

/// How many `bootstrap_required` answers one sync accepts before giving up (a server that keeps
/// asking is broken; looping would never end).
const MAX_BOOTSTRAPS: u32 = 2;

/// What to do after applying an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send the next request at once (more to push or pull).
    Continue,
    /// The sync is complete.
    Done,
}

/// One sync in progress: alternates [`SyncSession::next_request`] and
/// [`SyncSession::apply_response`] until the latter says [`Step::Done`].
#[derive(Debug)]
pub struct SyncSession {
    max_push_bytes: usize,
    page_bytes: u32,
    /// Hashes of the changes in the request in flight, in push order.
    in_flight: Vec<[u8; 32]>,
    bootstraps: u32,
    progress: SyncProgress,
}

impl SyncSession {
    /// A session pushing at most about `max_push_bytes` of changes per request and asking for
    /// pages of `page_bytes` (0: the server's default).
    pub fn new(max_push_bytes: usize, page_bytes: u32) -> Self {
        SyncSession {
            max_push_bytes: max_push_bytes.max(1),
            page_bytes,
            in_flight: Vec::new(),
            bootstraps: 0,
            progress: SyncProgress::default(),
        }
    }

    /// The hash of the `index`-th change of the push in flight (the server names a refused
    /// change by its index).
    pub fn in_flight(&self, index: usize) -> Option<[u8; 32]> {
        self.in_flight.get(index).copied()
    }

    /// The push in flight was refused as a whole: none of it was stored.
    pub fn push_refused(&mut self) {
        self.in_flight.clear();
    }

    /// Whether the server asked this sync to start over (`bootstrap_required` or a new epoch):
    /// the repair check then runs at its end.
    pub fn started_over(&self) -> bool {
        self.bootstraps > 0
    }

    /// The totals so far.
    pub fn progress(&self) -> &SyncProgress {
        &self.progress
    }

    /// Mutable totals (the transport adds byte counts and retries).
    pub fn progress_mut(&mut self) -> &mut SyncProgress {
        &mut self.progress
    }

    /// Builds the next request: the oldest outbox changes (up to the push size) and the cursor.
    ///
    /// # Errors
    /// [`SyncError::NotEnrolled`]; store errors.
    pub fn next_request(&mut self, store: &Store) -> SyncResult<Vec<u8>> {
        if state::enrolment(store)?.is_none() {
            return Err(SyncError::NotEnrolled);
        }
        let push: Vec<ChangeEnvelope> =
            if store.outbox_len()? > 0 { store.outbox(self.max_push_bytes)? } else { Vec::new() };
        self.in_flight = push.iter().map(ChangeEnvelope::hash).collect::<Result<_, _>>()?;
        let cursor = state::cursor(store)?;
        self.progress.cursor = cursor;
        let req = SyncRequest {
            cursor,
            max_page_bytes: self.page_bytes,
            include_own: state::bootstrap_pending(store)?,
            push,
        };
        Ok(req.encode())
    }

    /// Applies the server's answer to the request last built: acknowledges the pushed changes,
    /// applies the page and advances the cursor, all in one transaction. On `revoked` wipes the
    /// store; on `bootstrap_required` resets the cursor so the next request re-pulls everything.
    /// The server's receive times of pushed and pulled changes are stored with them;
    /// `server_time_ms` (the answer's `Date`) stands in for a version 1 server that gives none.
    ///
    /// # Errors
    /// [`SyncError::Revoked`] after wiping; [`SyncError::Protocol`] for an answer that breaks the
    /// protocol (nothing is applied then); store errors (nothing is applied then).
    pub fn apply_response(
        &mut self,
        store: &mut Store,
        body: &[u8],
        server_time_ms: Option<i64>,
    ) -> SyncResult<Step> {
        let resp = SyncResponse::decode(body)?;
        let pushed = std::mem::take(&mut self.in_flight);
        self.progress.round_trips += 1;
        self.progress.head_seq = resp.head_seq;
        if resp.status == SyncStatus::Revoked {
            store.wipe()?;
            return Err(SyncError::Revoked);
        }
        let epoch = resp.epoch.map(|e| e.to_string());
        if let Some(e) = &epoch
            && let Some(known) = state::epoch(store)?
            && known.to_string() != *e
        {
            // The server's log is not the one this device synced with: restored from a
            // backup, it may have lost changes it acknowledged, and the seqs this device saw
            // may now name other changes. Send every own change again and pull the whole scope.
            self.bootstraps += 1;
            if self.bootstraps > MAX_BOOTSTRAPS {
                return Err(SyncError::Protocol("the server's log keeps changing epoch".into()));
            }
            store.batch(|s| {
                s.requeue_own_changes()?;
                s.apply_changes_with_meta(
                    &[],
                    &[(CURSOR, b"0"), (BOOTSTRAP, b"1"), (EPOCH, e.as_bytes())],
                )
            })?;
            self.progress.cursor = 0;
            self.progress.epoch_changed = true;
            return Ok(Step::Continue);
        }
        match resp.status {
            SyncStatus::Revoked => return Err(SyncError::Revoked),
            SyncStatus::BootstrapRequired => {
                self.bootstraps += 1;
                if self.bootstraps > MAX_BOOTSTRAPS {
                    return Err(SyncError::Protocol(
                        "the server keeps answering bootstrap_required".into(),
                    ));
                }
                store.apply_changes_with_meta(&[], &[(CURSOR, b"0"), (BOOTSTRAP, b"1")])?;
                self.progress.cursor = 0;
                return Ok(Step::Continue);
            }
            SyncStatus::Ok => {}
        }

        if resp.acks.len() != pushed.len() {
            return Err(SyncError::Protocol(format!(
                "{} changes pushed but {} acknowledged",
                pushed.len(),
                resp.acks.len()
            )));
        }
        let cursor = state::cursor(store)?;
        if resp.next_cursor < cursor {
            return Err(SyncError::Protocol(format!(
                "next_cursor {} is behind the cursor {cursor}",
                resp.next_cursor
            )));
        }
        let next = resp.next_cursor.to_string();
        let bootstrap: &[u8] = if resp.more { b"1" } else { b"0" };
        let still_bootstrapping = state::bootstrap_pending(store)?;
        let mut meta: Vec<(&str, &[u8])> = vec![(CURSOR, next.as_bytes())];
        if still_bootstrapping {
            meta.push((BOOTSTRAP, bootstrap));
        }
        if let Some(e) = &epoch {
            meta.push((EPOCH, e.as_bytes()));
        }
        // A version 1 server gives no receive times: the answer's `Date` stands in for the
        // pushed changes' (whole seconds; version 2 servers say exactly).
        let acks = pushed
            .iter()
            .zip(&resp.acks)
            .map(|(hash, a)| Ack { hash: *hash, received_at: a.received_at.or(server_time_ms) })
            .collect();
        let pulled = resp.changes.len() as u64;
        let report = store.apply_incoming(Incoming {
            changes: resp
                .changes
                .into_iter()
                .map(|c| Received { envelope: c.change, received_at: c.received_at })
                .collect(),
            acks,
            meta,
        })?;
        self.progress.held += report.held as u64;
        self.progress.refused += report.refused as u64;
        self.progress.pushed += pushed.len() as u64;
        self.progress.pulled += pulled;
        self.progress.cursor = resp.next_cursor;
        self.progress.pending = store.outbox_len()?;
        if resp.more || self.progress.pending > 0 { Ok(Step::Continue) } else { Ok(Step::Done) }
    }
}
