//! Small records that exist only at the FFI: summaries composed from several core calls, and
//! reports whose core form uses types the FFI cannot carry (`usize`).

use gridwork_core::{DueVisit, SignedInUser};

/// What applying a batch of changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ApplyReport {
    /// Changes that were new to this device.
    pub applied: u64,
    /// Changes this device already had (duplicates are harmless).
    pub duplicates: u64,
    /// Records whose state changed.
    pub documents: u64,
}

impl From<gridwork_core::ApplyReport> for ApplyReport {
    fn from(r: gridwork_core::ApplyReport) -> Self {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        ApplyReport {
            applied: n(r.applied),
            duplicates: n(r.duplicates),
            documents: n(r.documents),
        }
    }
}

/// The first screen of the day (我的一天): who is signed in, which households are due for a
/// visit in their scope, and how many changes wait to be synced.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MyDay {
    /// The signed-in user.
    pub user: SignedInUser,
    /// Households in the user's scope whose visit is due, most overdue first (at most the
    /// requested number).
    pub due_visits: Vec<DueVisit>,
    /// Whether there were more due households than listed.
    pub more_due: bool,
    /// Changes made on this device not yet acknowledged by the server.
    pub pending_changes: u64,
}
