//! Making record changes: a new record's document with the fields every record has, and a
//! commit that names who made the change and why. The device's store writes every local change
//! through these; the server uses them for what it authors itself (its demo district, and later
//! the staff's actions), so a change reads the same whoever made it.

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::area::AreaPath;
use crate::doc::{self, common};
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;

/// The commit message of a change: who made it and what operation it was, read back by the
/// history view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNote {
    /// User id.
    pub by: String,
    /// Operation label, e.g. `record_visit`.
    pub op: String,
}

impl ChangeNote {
    /// The note of a change's commit message, if it carries one.
    pub fn of(change: &automerge::Change) -> Option<ChangeNote> {
        change.message().and_then(|m| serde_json::from_str(m).ok())
    }
}

/// A new, uncommitted document of `kind` in `area`, created by `user_id` through `actor` at
/// `now_ms` (ms since the Unix epoch): the common fields every record has. The caller writes
/// the kind's fields and [`commit`]s.
///
/// # Errors
/// Document errors.
pub fn new_document(
    kind: RecordKind,
    area: &AreaPath,
    user_id: &str,
    actor: &ActorId,
    now_ms: i64,
) -> Result<AutoCommit> {
    let mut d = AutoCommit::new().with_actor(actor.clone());
    doc::put(&mut d, common::KIND, kind.as_str())?;
    doc::put(&mut d, common::AREA, area.as_str())?;
    doc::put(&mut d, common::CREATED_AT, automerge::ScalarValue::Timestamp(now_ms))?;
    doc::put(&mut d, common::CREATED_BY, user_id)?;
    Ok(d)
}

/// Commits the pending edits of `doc` as one change made by `user_id` doing `op` at `now_ms`;
/// returns the change's hash and bytes, or `None` when nothing was edited.
///
/// # Errors
/// [`CoreError::BadChange`] if Automerge reports a commit but produces no change (a bug, never
/// input).
pub fn commit(
    doc: &mut AutoCommit,
    user_id: &str,
    op: &str,
    now_ms: i64,
) -> Result<Option<(ChangeHash, Vec<u8>)>> {
    let note = ChangeNote { by: user_id.to_owned(), op: op.to_owned() };
    // Serialising two strings cannot fail; the fallback keeps this path free of panics.
    let message = serde_json::to_string(&note).unwrap_or_default();
    let Some(hash) =
        doc.commit_with(CommitOptions::default().with_message(message).with_time(now_ms))
    else {
        return Ok(None);
    };
    let bytes = doc.get_last_local_change().map(|c| c.raw_bytes().to_vec()).ok_or_else(|| {
        CoreError::BadChange { doc_id: String::new(), reason: "commit produced no change".into() }
    })?;
    Ok(Some((hash, bytes)))
}
