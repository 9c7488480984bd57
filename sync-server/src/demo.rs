//! `gridwork-server --demo`: seeds a demo district (Tongzhou, 320612) with towns, communities,
//! grids, micro-grids and a user of every role, so a newcomer sees real structure at once.
//!
//! Demo *records* (households, residents, work orders) are made by the core crate: implement
//! [`DemoRecords`] there and pass it to [`seed`] — that is the seam.

use gridwork_core::{AreaPath, ChangeEnvelope, Role};
use uuid::Uuid;

use crate::store::{
    DynStore, NewChange, NewDevice, NewEnrolmentCode, RoleGrant, StoreError, User, now_ms,
};

/// Errors seeding the demo district.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The server's storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The core refused to make a demo record.
    #[error("making demo records: {0}")]
    Core(#[from] gridwork_core::CoreError),
    /// No randomness for a device credential.
    #[error(transparent)]
    Random(#[from] crate::auth::RandomError),
}

/// The changes one demo user's phone made, ready to ingest as pushed by a device bound to
/// `actor_hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoBatch {
    /// The demo user (by name) the device belongs to.
    pub user_name: String,
    /// The device's Automerge actor id, hex.
    pub actor_hex: String,
    /// The changes, in the order made.
    pub changes: Vec<ChangeEnvelope>,
}

/// A source of demo records: Automerge changes for the seeded areas, made by the core crate
/// ([`crate::demo_records::CoreDemoRecords`]).
pub trait DemoRecords {
    /// The batches to ingest, one per demo device.
    ///
    /// # Errors
    /// [`DemoError::Core`] when a record cannot be made.
    fn batches(
        &self,
        areas: &[(AreaPath, String)],
        users: &[User],
    ) -> Result<Vec<DemoBatch>, DemoError>;
}

/// No demo records.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecords;

impl DemoRecords for NoRecords {
    fn batches(&self, _: &[(AreaPath, String)], _: &[User]) -> Result<Vec<DemoBatch>, DemoError> {
        Ok(Vec::new())
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

/// The department the demo's handler (孙伟) belongs to and the demo's orders are dispatched to.
pub const DEMO_DEPARTMENT: &str = "fire_rescue";

/// The departments a demo change's work-order events name (the demo's changes skip the push
/// validation that records them).
fn named_departments(e: &gridwork_core::ChangeEnvelope) -> Vec<String> {
    if e.kind != gridwork_core::RecordKind::WorkOrder {
        return Vec::new();
    }
    automerge::Change::from_bytes(e.bytes.clone())
        .ok()
        .and_then(|c| crate::validate::named_departments(&c).ok())
        .unwrap_or_default()
}

/// Seeds the demo district (idempotent for areas; users are added once, recognised by name)
/// and the records `records` provides, each batch ingested as pushed by a demo device bound to
/// its actor. Records are seeded once: when demo devices exist already, none are added.
/// Returns the demo users.
///
/// # Errors
/// Any storage error; [`DemoError::Core`] from making the records.
pub async fn seed(store: &DynStore, records: &dyn DemoRecords) -> Result<Vec<User>, DemoError> {
    let mut areas = Vec::new();
    for (path, name) in demo_areas() {
        let p = AreaPath::parse(path).map_err(|e| StoreError::Corrupt(e.to_string()))?;
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
        let area = AreaPath::parse(area).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let u = User {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            roles: vec![RoleGrant { role, area }],
            created_at: now_ms(),
        };
        store.create_user(&u).await?;
        if crate::policy::is_departmental(role) {
            store.departments().set_user_departments(u.id, &[DEMO_DEPARTMENT.to_owned()]).await?;
        }
        users.push(u);
    }
    let devices = store.list_devices().await?;
    if devices.iter().any(|d| d.name.starts_with(DEMO_DEVICE_PREFIX)) {
        return Ok(users);
    }
    for batch in records.batches(&areas, &users)? {
        let Some(user) = users.iter().find(|u| u.name == batch.user_name) else { continue };
        let device = demo_device(store, user, &batch.actor_hex).await?;
        let changes: Vec<NewChange> = batch
            .changes
            .into_iter()
            .filter_map(|e| {
                let hash = e.hash().ok()?;
                let departments = named_departments(&e);
                Some(NewChange { departments, ..NewChange::new(hash, e) })
            })
            .collect();
        if !changes.is_empty() {
            store.push(device, now_ms(), &changes).await?;
            store.add_attachment_refs(&crate::api::attachments_refs::refs_in(&changes)).await?;
        }
    }
    Ok(users)
}

/// Names of demo devices start with this.
pub const DEMO_DEVICE_PREFIX: &str = "演示设备";

/// Enrols a device for `user` bound to `actor_hex`, with a credential nobody holds.
async fn demo_device(store: &DynStore, user: &User, actor_hex: &str) -> Result<Uuid, DemoError> {
    let code = crate::auth::new_enrolment_code()?;
    let now = now_ms();
    store
        .create_enrolment_code(&NewEnrolmentCode {
            code_hash: crate::auth::hash_code(&code),
            user_id: user.id,
            expires_at: now + 60_000,
            created_at: now,
        })
        .await?;
    let credential = crate::auth::new_device_credential()?;
    let device = store
        .redeem_enrolment_code(
            crate::auth::hash_code(&code),
            &NewDevice {
                id: Uuid::now_v7(),
                name: format!("{DEMO_DEVICE_PREFIX}（{}）", user.name),
                actor_hex: actor_hex.to_owned(),
                credential_hash: crate::auth::hash_secret(&credential),
                now,
            },
        )
        .await?;
    Ok(device.device.id)
}
