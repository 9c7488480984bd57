//! Scenario 2 (scope) and 5 (revocation).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::sync::SyncError;
use gridwork_core::{
    Gender, KeyPopulation, RecordKind, Relation, ResidentInput, SensitiveInput, SignedInUser,
};
use gridwork_tests::{Backend, Device, HarnessResult};

/// A grid-A device never receives grid-B records; a liaison never receives sensitive
/// documents; a push into another grid is refused with a clear error and nothing stored.
async fn scope_is_enforced(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::new()?;
    let b = Device::new()?;
    let liaison = Device::new()?;
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    b.enrol_new_user(&server, &proxy.url, "赵敏", "grid_worker", GRID_B).await?;
    liaison.enrol_new_user(&server, &proxy.url, "孙丽", "liaison", MICRO_A).await?;
    // Grid A: households, one resident's sensitive record. Grid B: households.
    a.with(|s| -> HarnessResult<()> {
        let mut first = None;
        for i in 0..4 {
            first.get_or_insert(s.households().add(household(i, MICRO_A))?);
        }
        let r = s.residents().add(ResidentInput {
            household_id: first.ok_or("no household")?,
            name: "王建国".into(),
            gender: Gender::Male,
            birth_year: Some(1958),
            relation: Relation::Head,
            phone: None,
        })?;
        s.sensitive().set(
            r,
            SensitiveInput { key_population: Some(KeyPopulation::DrugRehab), ..Default::default() },
        )?;
        Ok(())
    })?;
    let sensitive_before = a.count(RecordKind::Sensitive)?;
    b.with(|s| -> HarnessResult<()> {
        for i in 10..13 {
            s.households().add(household(i, MICRO_B))?;
        }
        Ok(())
    })?;
    a.sync().await?;
    b.sync().await?;
    a.sync().await?;
    liaison.sync().await?;
    assert_eq!(a.count(RecordKind::Household)?, 4, "grid A sees only its own households");
    assert_eq!(b.count(RecordKind::Household)?, 3, "grid B sees only its own households");
    assert_eq!(liaison.count(RecordKind::Household)?, 4);
    assert_eq!(liaison.count(RecordKind::Sensitive)?, 0);
    assert_eq!(sensitive_before, 1);
    assert_eq!(liaison.count(RecordKind::Resident)?, 1, "the liaison does get the resident");

    // A push into grid B from device A: the store refuses locally, so act as a tampered app
    // that signs in with grid B's scope; the server refuses, nothing is stored.
    let (_, before) = server.log_size().await?;
    a.with(|s| -> HarnessResult<()> {
        let mut user = s.user().cloned().ok_or("not signed in")?;
        user.scope = area(GRID_B);
        s.load_areas(&gridwork_core::demo::areas(1, 1, 2, 2))?;
        s.sign_in(SignedInUser { ..user })?;
        s.households().add(household(99, MICRO_B))?;
        Ok(())
    })?;
    // The refused change is quarantined (not retried forever, not blocking the rest): the sync
    // completes, the change stays on the device with the server's reason.
    let report = a.sync().await?;
    assert_eq!(report.quarantined, 1);
    let q = a.with(|s| gridwork_core::sync::quarantined(s))?;
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].code, "out_of_scope");
    assert!(!q[0].message.is_empty());
    let (_, after) = server.log_size().await?;
    assert_eq!(before, after, "nothing of the refused push was stored");
    b.sync().await?;
    assert_eq!(b.count(RecordKind::Household)?, 3);
    // Back in grid A, new work still syncs past the quarantined change.
    a.with(|s| -> HarnessResult<()> {
        let mut user = s.user().cloned().ok_or("not signed in")?;
        user.scope = area(GRID_A);
        s.sign_in(user)?;
        s.households().add(household(98, MICRO_A))?;
        Ok(())
    })?;
    let report = a.sync().await?;
    assert_eq!((report.pushed, report.quarantined), (1, 0));
    assert_eq!(server.log_size().await?.1, after + 1);
    // Released (say, after an admin fixed the roles), it is refused again and re-quarantined.
    assert_eq!(a.with(gridwork_core::sync::release_quarantined)?, 1);
    assert_eq!(a.sync().await?.quarantined, 1);
    assert_eq!(server.log_size().await?.1, after + 1);
    Ok(())
}

/// Revocation: the device's store is wiped at its next contact.
async fn revoked_device_is_wiped(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let d = Device::new()?;
    let enrolled = d.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let mut h = household(1, MICRO_A);
    h.address = "幸福小区3幢2单元301室-撤销测试".into();
    d.with(|s| s.households().add(h))?;
    d.sync().await?;
    d.with(|s| s.households().add(household(2, MICRO_A)))?; // unsent work is wiped too
    server.revoke(&enrolled.device_id).await?;
    match d.sync().await {
        Err(SyncError::Revoked) => {}
        other => return Err(format!("expected Revoked, got {other:?}").into()),
    }
    assert_eq!(d.count(RecordKind::Household)?, 0);
    d.with(|s| -> HarnessResult<()> {
        assert!(s.user().is_none());
        assert_eq!(s.outbox_len()?, 0);
        assert!(gridwork_core::sync::enrolment(s)?.is_none());
        assert!(s.integrity_check()?);
        Ok(())
    })?;
    // No resident data left in the file or its WAL.
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", d.path.display());
        if let Ok(bytes) = std::fs::read(&p) {
            let needle = "撤销测试".as_bytes();
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{p} still holds data");
        }
    }
    // Syncing again needs a new enrolment.
    assert!(matches!(d.sync().await, Err(SyncError::NotEnrolled)));
    Ok(())
}

/// A worker the admin moves from grid A to grid B: the device follows at its next refresh —
/// signed in for grid B, grid A's records forgotten, and its next sync bootstraps grid B's
/// records (even those logged before its cursor); its new work in grid B syncs, and grid A is
/// refused.
async fn moved_worker_follows_new_grid(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::new()?;
    let b = Device::new()?;
    let moved = a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    b.enrol_new_user(&server, &proxy.url, "赵敏", "grid_worker", GRID_B).await?;
    b.with(|s| s.households().add(household(10, MICRO_B)))?;
    b.sync().await?;
    a.with(|s| s.households().add(household(9, MICRO_A)))?;
    a.sync().await?;
    assert_eq!(a.count(RecordKind::Household)?, 1, "grid B is not grid A's");

    let roles = serde_json::json!({ "roles": [{ "role": "grid_worker", "area": GRID_B }] });
    let (status, v) =
        server.admin("PUT", &format!("/users/{}/roles", moved.user_id), Some(roles)).await?;
    assert_eq!(status, 200, "{v}");
    a.refresh_areas().await?;
    let scope = a.with(|s| s.user().map(|u| u.scope.as_str().to_owned()));
    assert_eq!(scope.as_deref(), Some(GRID_B));
    assert_eq!(a.count(RecordKind::Household)?, 0, "grid A's (synced) records are forgotten");
    a.sync().await?;
    assert_eq!(a.count(RecordKind::Household)?, 1, "grid B's household bootstrapped");
    a.with(|s| s.households().add(household(11, MICRO_B)))?;
    a.sync().await?;
    b.sync().await?;
    assert_eq!(b.count(RecordKind::Household)?, 2, "the moved worker's new work reached grid B");
    // Recording in grid A is refused on the device itself now.
    assert!(a.with(|s| s.households().add(household(12, MICRO_A))).is_err());
    Ok(())
}

both!(scope_is_enforced);
both!(moved_worker_follows_new_grid);
both!(revoked_device_is_wiped);
