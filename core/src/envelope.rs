//! A change in transit: one raw Automerge change together with the document it belongs to, the
//! document's kind and its area. Automerge changes do not name their document, so this envelope is
//! what the outbox holds, what a push carries and what a pull returns (DESIGN §2).

use automerge::Change;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::area::AreaPath;
use crate::error::CoreError;
use crate::kind::RecordKind;

/// One raw Automerge change addressed to a document.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEnvelope {
    /// The record's id (UUIDv7).
    pub doc_id: Uuid,
    /// The record's kind.
    pub kind: RecordKind,
    /// The record's area code path at the time of the change (scope checks use it).
    pub area: AreaPath,
    /// The raw bytes of one Automerge change.
    pub bytes: Vec<u8>,
}

impl ChangeEnvelope {
    /// Decodes the change, checking its checksum.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `change` when the bytes are not one valid Automerge change.
    pub fn decode(&self) -> Result<Change, CoreError> {
        Change::from_bytes(self.bytes.clone())
            .map_err(|e| CoreError::invalid("change", format!("corrupt change bytes: {e}")))
    }

    /// The change's hash (SHA-256 over the change, as Automerge defines it): the change's identity
    /// for idempotent storage.
    ///
    /// # Errors
    /// As [`ChangeEnvelope::decode`].
    pub fn hash(&self) -> Result<[u8; 32], CoreError> {
        Ok(self.decode()?.hash().0)
    }
}

/// The operations of `change`, expanded, or `None` when Automerge cannot expand them.
///
/// A change can pass `Change::from_bytes` (well framed, right checksum) and still name an actor
/// index its header does not list; Automerge's expansion then panics (found by the validator's
/// fuzz run, `docs/BENCHMARKS.md`). Changes come from devices and servers we do not control, so
/// every expansion of a foreign change goes through here and a bad one is refused like any
/// corrupt change instead of taking a request or a sync down.
pub fn expand_ops(change: &Change) -> Option<Vec<automerge::legacy::Op>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| change.decode().operations)).ok()
}
