//! Changes devices could not apply and set aside (issue 8, item 1), as they report them, and
//! the sync admin's withholding of such a change from every device.
//!
//! A device that cannot apply a pulled change keeps it aside (the core's `held_change` table)
//! and reports the permanent ones with `POST /v1/held`. The server keeps one report per
//! (change, device) in `change_reports`; the admin lists them grouped by change
//! (`GET /admin/v1/held`) and may *withhold* the change: it stays in the log, but no pull,
//! fetch or digest serves it any more, so devices enrolled later never receive it. *Restore*
//! serves it again.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use gridwork_core::{AreaPath, RecordKind};

/// Most changes [`super::Store::held_changes`] lists (the latest in the log; the SQL of both
/// backends spells the same number).
pub const LIST_LIMIT: usize = 1000;

/// One device's report of a change it set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReport {
    /// The change's hash.
    pub hash: [u8; 32],
    /// The document the device says it belongs to (checked against the log).
    pub doc_id: Uuid,
    /// Why the device set it aside (`corrupt_change`, `kind_mismatch`, `apply_failed`…).
    pub reason: String,
    /// The device's error message.
    pub detail: String,
}

/// What storing a batch of reports did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOutcome {
    /// Reports stored (new, or replacing the device's earlier report of the change).
    pub recorded: usize,
    /// Reports of changes the log does not hold under that document: ignored.
    pub unknown: usize,
}

/// One device's report, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// The reporting device.
    pub device_id: Uuid,
    /// Its reason.
    pub reason: String,
    /// Its detail.
    pub detail: String,
    /// When it was (last) reported, ms since the epoch.
    pub reported_at: i64,
}

/// A reported change with every report of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChange {
    /// The change's hash, hex.
    pub hash: String,
    /// Its document.
    pub doc_id: Uuid,
    /// The document's kind.
    pub kind: RecordKind,
    /// The area it was pushed under.
    pub area: AreaPath,
    /// Its position in the log.
    pub seq: u64,
    /// When the server received it, ms since the epoch.
    pub received_at: i64,
    /// Whether the admin withheld it.
    pub withheld: bool,
    /// How many devices reported it.
    pub devices: usize,
    /// The reports, oldest first.
    pub reports: Vec<DeviceReport>,
}

/// What withholding or restoring a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withholding {
    /// The log holds no change of that hash.
    NotFound,
    /// The change was already in the state asked for.
    Unchanged,
    /// The change's state was changed.
    Changed,
}

/// One joined row (report × change) as both backends read it, ordered by seq then report time.
pub(crate) struct ReportRow {
    pub(crate) hash: [u8; 32],
    pub(crate) doc_id: Uuid,
    pub(crate) kind: RecordKind,
    pub(crate) area: AreaPath,
    pub(crate) seq: u64,
    pub(crate) received_at: i64,
    pub(crate) withheld: bool,
    pub(crate) report: DeviceReport,
}

/// Groups rows ordered by seq into one entry per change.
pub(crate) fn group(rows: Vec<ReportRow>) -> Vec<HeldChange> {
    let mut out: Vec<HeldChange> = Vec::new();
    for r in rows {
        let hash = hex::encode(r.hash);
        match out.last_mut() {
            Some(last) if last.hash == hash => {
                last.reports.push(r.report);
                last.devices = last.reports.len();
            }
            _ => out.push(HeldChange {
                hash,
                doc_id: r.doc_id,
                kind: r.kind,
                area: r.area,
                seq: r.seq,
                received_at: r.received_at,
                withheld: r.withheld,
                devices: 1,
                reports: vec![r.report],
            }),
        }
    }
    out
}

/// A document digest with one change's hash taken out (`count - 1`, xor toggled) or put back.
pub(crate) fn toggle_digest(count: i64, xor: &mut [u8; 32], hash: &[u8; 32], remove: bool) -> i64 {
    for (x, h) in xor.iter_mut().zip(hash) {
        *x ^= h;
    }
    if remove { (count - 1).max(0) } else { count + 1 }
}
