//! Shared helpers for the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gridwork_core::demo::{self, DemoRng};
use gridwork_core::{AreaPath, HouseholdInput, Role, SignedInUser, Store};

/// The grid most tests work in.
pub const GRID: &str = "320612/001/001/01";
/// A micro-grid inside it.
pub const MICRO: &str = "320612/001/001/01/01";

pub fn area(p: &str) -> AreaPath {
    AreaPath::parse(p).unwrap()
}

/// A store with the demo areas loaded and a grid worker signed in.
pub fn store_at(path: Option<&std::path::Path>, user: &str) -> Store {
    let mut s = match path {
        Some(p) => Store::open(p, None).unwrap(),
        None => Store::open_in_memory().unwrap(),
    };
    s.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
    s.sign_in(SignedInUser {
        user_id: user.into(),
        name: format!("网格员{user}"),
        role: Role::GridWorker,
        scope: area(GRID),
    })
    .unwrap();
    s
}

pub fn household(seed: u64) -> HouseholdInput {
    demo::household(&mut DemoRng::new(seed), &area(MICRO))
}

/// An in-memory store with the demo areas loaded and `user` signed in as `role` over `scope`.
pub fn store_as(user: &str, role: Role, scope: &str) -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
    s.sign_in(SignedInUser {
        user_id: user.into(),
        name: format!("用户{user}"),
        role,
        scope: area(scope),
    })
    .unwrap();
    s
}

/// Sends each store's outbox to the other (both ways; duplicates are harmless).
pub fn exchange(a: &mut Store, b: &mut Store) {
    let from_a = a.outbox(usize::MAX).unwrap();
    let from_b = b.outbox(usize::MAX).unwrap();
    b.apply_changes(&from_a).unwrap();
    a.apply_changes(&from_b).unwrap();
}

/// A household with no tags (so its visit interval is the yearly default).
pub fn plain_household(seed: u64) -> HouseholdInput {
    let mut h = household(seed);
    h.tags.clear();
    h
}

/// Runs `bad`, asserts its error is `Invalid` naming `field_or_code` (or has that code), and
/// that nothing was written (outbox and digests unchanged).
pub fn refused<T: std::fmt::Debug>(
    s: &mut Store,
    field_or_code: &str,
    bad: impl FnOnce(&mut Store) -> Result<T, gridwork_core::CoreError>,
) {
    let before = (s.outbox_len().unwrap(), s.digest(None).unwrap());
    let err = bad(s).expect_err("bad input must be refused");
    let named = match &err {
        gridwork_core::CoreError::Invalid { field, .. } => field == field_or_code,
        other => other.code() == field_or_code,
    };
    assert!(named, "expected an error naming `{field_or_code}`, got {err:?} ({err})");
    assert_eq!((s.outbox_len().unwrap(), s.digest(None).unwrap()), before, "something was written");
}

/// A valid 18-character ID-card number (GB 11643 check digit) from its first 17 digits.
pub fn id_card(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// A sanitation-safety incident of the given severity in [`MICRO`], reported now.
pub fn incident(
    severity: gridwork_core::work_order::Severity,
) -> gridwork_core::work_order::IncidentInput {
    gridwork_core::work_order::IncidentInput {
        area: area(MICRO),
        category: "safety_hazard".into(),
        severity,
        title: "楼道堆放杂物".into(),
        description: "3幢2单元楼道堆放纸箱".into(),
        location: None,
        photos: vec![],
        source: gridwork_core::work_order::IncidentSource::GridReport,
        household_id: None,
        patrol_id: None,
        reported_at: chrono::Utc::now(),
    }
}
