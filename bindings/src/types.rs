//! Small records that exist only at the FFI: reports whose core form uses types the FFI cannot
//! carry (`usize`).

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
