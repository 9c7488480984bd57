//! Dispatch from a record document to its kind's projection writer. Projections are pure
//! functions of the documents on the device, so every replica holding the same documents holds
//! the same rows.

use automerge::AutoCommit;
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::Result;
use crate::kind::RecordKind;

/// Writes the projection rows of document `id` of `kind`, in the caller's transaction.
pub(crate) fn project(tx: &Connection, kind: RecordKind, id: Uuid, doc: &AutoCommit) -> Result<()> {
    match kind {
        RecordKind::Household => crate::household::project(tx, id, doc),
        RecordKind::Visit => crate::visit::project(tx, id, doc),
        RecordKind::Resident => crate::resident::project(tx, id, doc),
        RecordKind::Sensitive => crate::sensitive::project(tx, id, doc),
        RecordKind::Patrol => crate::patrol::project(tx, id, doc),
        RecordKind::Task => crate::task::project(tx, id, doc),
        RecordKind::WorkOrder => crate::work_order::project(tx, id, doc),
    }
}
