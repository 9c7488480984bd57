//! Issue 8, item 1 end to end: a device that sets aside a change it can never apply reports it
//! to the server; the sync admin sees it and withholds it; a phone enrolled afterwards never
//! receives it (and restoring serves it again).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::RecordKind;
use gridwork_tests::{Backend, Device, HarnessResult};

async fn set_aside_change_is_reported_and_withheld(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let colleague = Device::new()?;
    colleague.enrol_new_user(&server, &proxy.url, "李强", "grid_head", GRID_A).await?;

    let id = worker.with(|s| s.households().add(household(1, MICRO_A)))?;
    assert_eq!(worker.sync().await?.pushed, 1);
    // The household, and the district's reference record (issue 11).
    assert_eq!(colleague.sync().await?.pulled, 2);
    worker.with(|s| {
        let mut input = household(1, MICRO_A);
        input.member_count = 9;
        s.households().update(id, input)
    })?;
    assert_eq!(worker.sync().await?.pushed, 1);
    // The edit is made to contradict its record's kind in the log, as a bad server-side
    // change would: no device can apply it.
    let planted = server
        .execute_sql(&format!(
            "UPDATE changes SET kind = {} WHERE seq = (SELECT max(seq) FROM changes)",
            RecordKind::Visit.code()
        ))
        .await?;
    assert_eq!(planted, 1);

    // The colleague sets it aside and reports it in the same sync.
    let report = colleague.sync().await?;
    assert_eq!(report.refused, 1, "{report:?}");
    let held = colleague.with(|s| s.held_changes())?;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].reason, "kind_mismatch");
    assert!(colleague.with(|s| s.unreported_held(10))?.is_empty(), "reported");
    let hash = held[0].hash.clone();

    // The admin sees it.
    let (status, v) = server.admin("GET", "/held", None).await?;
    assert_eq!(status, 200, "{v}");
    let list = v["changes"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["hash"], hash.as_str());
    assert_eq!(list[0]["doc_id"], id.to_string());
    assert_eq!(list[0]["devices"], 1);
    assert_eq!(list[0]["reports"][0]["reason"], "kind_mismatch");
    // Reported once: another sync sends nothing new and the list is unchanged.
    colleague.sync().await?;
    let (_, again) = server.admin("GET", "/held", None).await?;
    assert_eq!(again["changes"][0]["reports"], v["changes"][0]["reports"]);

    // Withheld: a newly enrolled phone gets the household and nothing it must set aside.
    let (status, v) = server.admin("POST", &format!("/held/{hash}/withhold"), None).await?;
    assert_eq!(status, 200, "{v}");
    let newcomer = Device::new()?;
    newcomer.enrol_new_user(&server, &proxy.url, "张伟", "grid_worker", GRID_A).await?;
    let r = newcomer.sync().await?;
    // The household and the district's reference record (issue 11).
    assert_eq!((r.pulled, r.refused), (2, 0), "{r:?}");
    assert_eq!(newcomer.with(|s| s.held_counts())?, (0, 0));
    assert_eq!(newcomer.count(RecordKind::Household)?, 1);

    // Restored: a phone enrolled now receives it again (and sets it aside).
    let (status, _) = server.admin("POST", &format!("/held/{hash}/restore"), None).await?;
    assert_eq!(status, 200);
    let late = Device::new()?;
    late.enrol_new_user(&server, &proxy.url, "赵敏", "grid_worker", GRID_A).await?;
    let r = late.sync().await?;
    assert_eq!((r.pulled, r.refused), (3, 1), "{r:?}");
    let audit = server.audit(None).await?;
    for action in ["withhold", "restore"] {
        assert!(
            audit.iter().any(|e| e["action"] == action
                && e["detail"].as_str().is_some_and(|d| d.contains(&hash))),
            "{action} audited"
        );
    }
    Ok(())
}
both!(set_aside_change_is_reported_and_withheld);
