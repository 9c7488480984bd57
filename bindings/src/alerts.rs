//! "My alerts" on the phone: the signed-in user's alerts computed from what the device holds
//! (supervised, returned and overdue work orders in their scope, steps others took on their
//! reports, tasks due within a day or overdue) and marking them seen. Thin calls into the
//! core's [`Alerts`](gridwork_core::alert::Alerts).

use gridwork_core::alert::Alert;

use crate::UtcDateTime;
use crate::error::Result;
use crate::store::GridworkStore;

#[uniffi::export]
impl GridworkStore {
    /// The signed-in user's alerts at `now`, newest first; those marked seen only with
    /// `include_seen`. Each has a stable id, a kind code (for translated text), the record it
    /// points to, a time and an English text.
    ///
    /// # Errors
    /// `NotSignedIn`; storage errors.
    pub fn alerts(&self, now: UtcDateTime, include_seen: bool) -> Result<Vec<Alert>> {
        self.with(|s| s.alerts().list(now, include_seen))
    }

    /// How many of the user's alerts at `now` are not marked seen (a badge).
    ///
    /// # Errors
    /// `NotSignedIn`; storage errors.
    pub fn unseen_alert_count(&self, now: UtcDateTime) -> Result<u32> {
        self.with(|s| s.alerts().unseen_count(now))
    }

    /// Marks alert `id` seen on this device (kept across restarts; not synced).
    ///
    /// # Errors
    /// `NotFound` naming `alert` when the user has no such alert at `now`; `NotSignedIn`;
    /// storage errors.
    pub fn ack_alert(&self, id: String, now: UtcDateTime) -> Result<()> {
        self.with(|s| s.alerts().ack(&id, now))
    }
}
