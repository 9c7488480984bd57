//! Issue 7 §3: enrolment is retry-safe. A phone enrols through the fault proxy; the server
//! binds its actor and consumes the code, then the connection is cut inside the areas answer.
//! The phone keeps its credential ("enrolled, reference data pending") and ends enrolled and
//! syncing — by enrolling again with the same code, with a new code, or by simply syncing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::RecordKind;
use gridwork_core::sync::{SyncClient, SyncConfig, SyncError, sync_state};
use gridwork_tests::device::test_config;
use gridwork_tests::{Backend, Device, Fault, HarnessResult, Proxy, Server};

/// Settings of a phone whose transport does not retry: a cut connection fails the call it
/// carried.
fn fragile() -> SyncConfig {
    SyncConfig { max_attempts: 1, ..test_config() }
}

/// Bytes the server sends to enrol a grid worker of grid A with a two-character name: the
/// enrolment answer and the areas answer, measured through the proxy with a control phone.
async fn answer_sizes(server: &Server, proxy: &Proxy) -> HarnessResult<(u64, u64)> {
    let control = Device::new()?;
    let user = server.create_user("张伟", "grid_worker", GRID_A).await?;
    let code = server.enrolment_code(&user).await?;
    proxy.reset();
    control.enrol(&proxy.url, &code).await?;
    let both = proxy.bytes().1;
    proxy.reset();
    control.refresh_areas().await?;
    let areas = proxy.bytes().1;
    Ok((both.checked_sub(areas).ok_or("areas answer larger than both")?, areas))
}

/// The server's devices bound to `actor_hex`, as `(id, revoked)`.
async fn devices_of(server: &Server, actor_hex: &str) -> HarnessResult<Vec<(String, bool)>> {
    let (_, v) = server.admin("GET", "/devices", None).await?;
    Ok(v["devices"]
        .as_array()
        .ok_or("no devices")?
        .iter()
        .filter(|d| d["actor_hex"] == actor_hex)
        .map(|d| (d["id"].as_str().unwrap_or_default().to_owned(), d["revoked"] == true))
        .collect())
}

/// A phone of a new grid worker (`王芳`) half enrolled: `POST /v1/enrol` succeeded, then the
/// connection was cut inside the areas answer. Returns the phone, the user id and the code.
async fn half_enrolled(server: &Server, proxy: &Proxy) -> HarnessResult<(Device, String, String)> {
    let (enrol_bytes, areas_bytes) = answer_sizes(server, proxy).await?;
    let mut phone = Device::with_config(fragile())?;
    let user = server.create_user("王芳", "grid_worker", GRID_A).await?;
    let code = server.enrolment_code(&user).await?;
    let cuts = proxy.cuts();
    // Let the enrolment answer through and cut the areas answer in the middle, whether the
    // areas request reuses the enrolment's keep-alive connection (the first fault) or opens a
    // new one (the second).
    proxy.inject(&[
        Fault::CutDownAfter(enrol_bytes + areas_bytes / 2),
        Fault::CutDownAfter(areas_bytes / 2),
    ]);
    match phone.enrol(&proxy.url, &code).await {
        Err(SyncError::Transport { .. }) => {}
        other => {
            return Err(format!(
                "expected the areas call to be cut, got {other:?} (cuts {}, connections {})",
                proxy.cuts(),
                proxy.connections()
            )
            .into());
        }
    }
    assert_eq!(proxy.cuts(), cuts + 1, "the fault fired");
    // Leave no fault behind: the app restarts (its pooled connections, one maybe still armed,
    // are dropped) and a throwaway request takes the fault the phone did not use, if any.
    phone.client = SyncClient::new(fragile())?;
    reqwest::get(format!("{}/health", proxy.url)).await.ok();
    let actor = phone.with(|s| s.actor_id().to_hex_string());
    let devices = devices_of(server, &actor).await?;
    assert_eq!(devices.len(), 1, "the server enrolled the phone: {devices:?}");
    // The phone kept its credential, and says the reference data is missing.
    let state = phone.with(|s| sync_state(s))?;
    assert!(state.enrolled && state.reference_pending, "{state:?}");
    assert_eq!(state.device_id.as_deref(), Some(devices[0].0.as_str()));
    assert!(phone.with(|s| s.user().is_none()), "nobody signed in without the areas");
    assert!(!phone.with(|s| s.area_exists(&area(GRID_A)))?);
    Ok((phone, user, code))
}

/// The phone ends enrolled — one device on the server, the areas loaded, the user signed in,
/// its credential working and `stale_credential` (of an enrolment completed again) refused —
/// and syncing: its household reaches a colleague of the same grid.
async fn assert_enrolled_and_syncing(
    server: &Server,
    proxy: &Proxy,
    phone: &Device,
    stale_credential: Option<&str>,
) -> HarnessResult<()> {
    let state = phone.with(|s| sync_state(s))?;
    assert!(state.enrolled && !state.reference_pending, "{state:?}");
    let user = phone.with(|s| s.user().cloned()).ok_or("nobody signed in")?;
    assert_eq!((user.name.as_str(), user.scope.as_str()), ("王芳", GRID_A));
    assert!(phone.with(|s| s.area_exists(&area(MICRO_A)))?);
    let actor = phone.with(|s| s.actor_id().to_hex_string());
    let devices = devices_of(server, &actor).await?;
    assert_eq!(devices.len(), 1, "never a second device: {devices:?}");
    assert_eq!(Some(&devices[0].0), state.device_id.as_ref());
    assert!(!devices[0].1);
    let auth = |c: &str| vec![("authorization", format!("Bearer {c}"))];
    let current = phone.enrolment()?.credential;
    if let Some(stale_credential) = stale_credential {
        assert_ne!(current, stale_credential);
        let stale = server.raw("GET", "/v1/areas", &auth(stale_credential), vec![]).await?;
        assert_eq!(stale.status, 401, "the replaced credential stopped working");
    }
    assert_eq!(server.raw("GET", "/v1/areas", &auth(&current), vec![]).await?.status, 200);

    phone.with(|s| s.households().add(household(7, MICRO_A)))?;
    let report = phone.sync().await?;
    assert_eq!((report.pushed, report.pending), (1, 0), "{report:?}");
    let colleague = Device::new()?;
    colleague.enrol_new_user(server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    colleague.sync().await?;
    assert_eq!(colleague.count(RecordKind::Household)?, 1);
    Ok(())
}

/// The phone enrols again with the same, already consumed code.
async fn retry_with_same_code(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let (phone, _, code) = half_enrolled(&server, &proxy).await?;
    let stale = phone.enrolment()?.credential;
    let enrolled = phone.enrol(&proxy.url, &code).await?;
    assert_eq!(enrolled.scope.as_str(), GRID_A);
    assert!(enrolled.areas > 0);
    assert_enrolled_and_syncing(&server, &proxy, &phone, Some(&stale)).await?;
    let audit = server.audit(Some(&enrolled.device_id)).await?;
    let enrols = audit.iter().filter(|e| e["action"] == "enrol").count();
    assert_eq!(enrols, 2, "the enrolment and its completion are audited");
    Ok(())
}

/// The phone enrols again with a new code of the same user (the admin made one).
async fn retry_with_new_code(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let (phone, user, _) = half_enrolled(&server, &proxy).await?;
    let stale = phone.enrolment()?.credential;
    let code = server.enrolment_code(&user).await?;
    let enrolled = phone.enrol(&proxy.url, &code).await?;
    assert_eq!(enrolled.user_id, user);
    assert_enrolled_and_syncing(&server, &proxy, &phone, Some(&stale)).await?;
    // The new code is consumed: another phone cannot use it.
    let other = Device::new()?;
    match other.enrol(&proxy.url, &code).await {
        Err(SyncError::Server { status: 403, code, .. }) => {
            assert_eq!(code, "enrolment_code_used");
        }
        r => return Err(format!("the new code was not consumed: {r:?}").into()),
    }
    Ok(())
}

/// The phone does not enrol again: its next sync loads the reference data first, with the
/// credential it kept.
async fn sync_completes_enrolment(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let (phone, _, _) = half_enrolled(&server, &proxy).await?;
    let kept = phone.enrolment()?.credential;
    let report = phone.sync().await?;
    assert_eq!(report.pushed, 0, "{report:?}");
    assert_eq!(phone.enrolment()?.credential, kept);
    assert_enrolled_and_syncing(&server, &proxy, &phone, None).await
}

both!(retry_with_same_code);
both!(retry_with_new_code);
both!(sync_completes_enrolment);
