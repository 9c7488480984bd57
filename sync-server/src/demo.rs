//! `gridwork-server --demo`: seeds a demo district (Tongzhou, 320612) with towns, communities,
//! grids, micro-grids and a user of every role, so a newcomer sees real structure at once.
//!
//! Demo *records* (households, residents, work orders) are made by the core crate: implement
//! [`DemoRecords`] there and pass it to [`seed`] — that is the seam.

use gridwork_core::{AreaPath, ChangeEnvelope, Role};
use uuid::Uuid;

use crate::store::{DynStore, NewChange, RoleGrant, StoreResult, User, now_ms};

/// A source of demo records: Automerge changes for the seeded areas, made by the core crate.
pub trait DemoRecords {
    /// The changes to store, addressed to their documents. Each change's hash is computed by
    /// the seeder.
    fn changes(&self, areas: &[(AreaPath, String)], users: &[User]) -> Vec<ChangeEnvelope>;
}

/// No demo records (until the core crate provides them).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecords;

impl DemoRecords for NoRecords {
    fn changes(&self, _: &[(AreaPath, String)], _: &[User]) -> Vec<ChangeEnvelope> {
        Vec::new()
    }
}

/// The demo area tree: (path, name).
pub fn demo_areas() -> Vec<(&'static str, &'static str)> {
    vec![
        ("320612", "通州区"),
        ("320612/001", "金沙街道"),
        ("320612/001/001", "金西社区"),
        ("320612/001/001/01", "金西社区第一网格"),
        ("320612/001/001/01/01", "金西一网格第1微网格"),
        ("320612/001/001/01/02", "金西一网格第2微网格"),
        ("320612/001/001/02", "金西社区第二网格"),
        ("320612/001/001/02/01", "金西二网格第1微网格"),
        ("320612/001/002", "金北社区"),
        ("320612/001/002/01", "金北社区第一网格"),
        ("320612/001/002/01/01", "金北一网格第1微网格"),
        ("320612/004", "平潮镇"),
        ("320612/004/017", "平潮村"),
        ("320612/004/017/03", "平潮村第三网格"),
        ("320612/004/017/03/01", "平潮三网格第1微网格"),
        ("320612/004/017/03/02", "平潮三网格第2微网格"),
        ("320612/006", "石港镇"),
        ("320612/006/003", "石港社区"),
        ("320612/006/003/01", "石港社区第一网格"),
        ("320612/006/003/01/01", "石港一网格第1微网格"),
    ]
}

/// The demo users: (name, role, area).
pub fn demo_users() -> Vec<(&'static str, Role, &'static str)> {
    vec![
        ("陈建国", Role::DistrictCentre, "320612"),
        ("周丽华", Role::TownOperator, "320612/001"),
        ("王芳", Role::GridWorker, "320612/001/001/01"),
        ("李强", Role::GridHead, "320612/001/001/01"),
        ("张桂英", Role::Liaison, "320612/001/001/01/01"),
        ("刘洋", Role::GridWorker, "320612/004/017/03"),
        ("赵秀兰", Role::Liaison, "320612/004/017/03/02"),
        ("孙伟", Role::DepartmentHandler, "320612"),
        ("吴敏", Role::SyncAdmin, "320612"),
    ]
}

/// Seeds the demo district (idempotent for areas; users are added once, recognised by name)
/// and the records `records` provides. Returns the demo users.
///
/// # Errors
/// Any storage error.
pub async fn seed(store: &DynStore, records: &dyn DemoRecords) -> StoreResult<Vec<User>> {
    let mut areas = Vec::new();
    for (path, name) in demo_areas() {
        let p =
            AreaPath::parse(path).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
        store.put_area(&p, name).await?;
        areas.push((p, name.to_owned()));
    }
    let existing = store.list_users().await?;
    let mut users = Vec::new();
    for (name, role, area) in demo_users() {
        if let Some(u) = existing.iter().find(|u| u.name == name) {
            users.push(u.clone());
            continue;
        }
        let area =
            AreaPath::parse(area).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
        let u = User {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            roles: vec![RoleGrant { role, area }],
            created_at: now_ms(),
        };
        store.create_user(&u).await?;
        users.push(u);
    }
    let changes: Vec<NewChange> = records
        .changes(&areas, &users)
        .into_iter()
        .filter_map(|e| e.hash().ok().map(|hash| NewChange { hash, envelope: e }))
        .collect();
    if !changes.is_empty() {
        store.push(Uuid::nil(), now_ms(), &changes).await?;
    }
    Ok(users)
}
