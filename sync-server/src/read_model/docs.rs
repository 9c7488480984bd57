//! Folding logged changes into documents: the projector keeps each document's state (a recent
//! few in memory, every one as saved bytes beside its rows) so a new change is applied to that
//! state instead of replaying the document's history.

use std::num::NonZeroUsize;

use automerge::{AutoCommit, Change};
use gridwork_core::RecordKind;
use gridwork_core::kinds::{AnyRecord, decode_any};
use lru::LruCache;
use uuid::Uuid;

/// Why a logged change could not be folded into its document.
#[derive(Debug, thiserror::Error)]
pub enum FoldError {
    /// The stored state of a document does not load.
    #[error("stored state of document {doc} does not load: {reason}")]
    State {
        /// The document.
        doc: Uuid,
        /// Automerge's reason.
        reason: String,
    },
}

/// The documents the projector works on: a bounded cache of loaded documents.
pub struct Docs {
    cache: LruCache<Uuid, AutoCommit>,
}

impl std::fmt::Debug for Docs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docs").field("cached", &self.cache.len()).finish()
    }
}

impl Docs {
    /// A cache holding at most `capacity` loaded documents (at least one).
    pub fn new(capacity: usize) -> Docs {
        Docs { cache: LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)) }
    }

    /// Whether document `id` is loaded.
    pub fn has(&self, id: &Uuid) -> bool {
        self.cache.contains(id)
    }

    /// Applies `changes` (raw change bytes, log order) to document `id`, loading it from
    /// `stored` (its saved state, if any) when not cached; returns the decoded record, or `None`
    /// while the document is not complete (its creating change not logged yet) or when a
    /// logged change does not decode (the server's validation refuses those; a log from before
    /// that validation may hold one — it is skipped, like a phone sets it aside).
    ///
    /// # Errors
    /// [`FoldError::State`] when `stored` does not load.
    pub fn apply(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        stored: Option<&[u8]>,
        changes: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<Option<AnyRecord>, FoldError> {
        let mut doc = match (self.cache.pop(&id), stored) {
            (Some(d), _) => d,
            (None, Some(bytes)) => AutoCommit::load(bytes)
                .map_err(|e| FoldError::State { doc: id, reason: e.to_string() })?,
            (None, None) => AutoCommit::new(),
        };
        for bytes in changes {
            // Automerge queues a change whose dependencies are missing until they arrive; one
            // it refuses costs only itself.
            let applied = Change::from_bytes(bytes).map(|c| doc.apply_changes([c]));
            if !matches!(applied, Ok(Ok(()))) {
                tracing::warn!(doc = %id, "read model: a logged change was skipped");
            }
        }
        let record = decode_any(kind, id, &doc).ok();
        self.cache.put(id, doc);
        Ok(record)
    }

    /// The saved state of cached document `id`, to store beside its rows.
    pub fn save(&mut self, id: &Uuid) -> Option<Vec<u8>> {
        self.cache.get_mut(id).map(|d| d.save())
    }
}
