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
