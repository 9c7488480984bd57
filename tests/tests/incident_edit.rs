//! Who may edit an incident's details is enforced by the server too (issue 10, bad input): the
//! reporter's correction made offline after a command centre accepted the report is refused at
//! ingest (`details_locked`) and set aside on the phone — never merged behind the centre's back —
//! while the same correction before acceptance, and a command role's edit while the order is
//! open, are accepted and reach everyone. On both backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Utc;
use common::*;
use gridwork_core::work_order::{EventType, IncidentDetails, Severity, WorkOrderAction};
use gridwork_tests::{Backend, Device, HarnessResult};

fn accept() -> WorkOrderAction {
    WorkOrderAction {
        event_type: EventType::Accept,
        department: None,
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    }
}

async fn details_edits_are_checked_at_ingest(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let operator = Device::new()?;
    operator.enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;

    // Reported and corrected before anyone acted: accepted.
    let first = worker.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    let mut details = IncidentDetails::from(&worker.with(|s| s.work_orders().get(first))?);
    details.title = "楼道堆放杂物（已核实）".into();
    worker.sync().await?;
    worker.with(|s| s.work_orders().update_incident(first, details.clone()))?;
    let report = worker.sync().await?;
    assert_eq!(report.quarantined, 0, "{report:?}");

    // The operator accepts; the worker, not yet synced, corrects again offline.
    operator.sync().await?;
    operator.with(|s| s.work_orders().act(first, accept()))?;
    operator.sync().await?;
    details.description = "三幢二单元，纸箱约二十个".into();
    worker.with(|s| s.work_orders().update_incident(first, details.clone()))?;
    let report = worker.sync().await?;
    assert_eq!(report.quarantined, 1, "refused at ingest: {report:?}");
    let q = worker.with(|s| s.quarantined_changes())?;
    assert_eq!(q[0].code, "details_locked", "{q:?}");
    assert_eq!(worker.with(|s| s.outbox_len())?, 0, "the phone's sync is not stalled");

    // The command role grades it while open: accepted, and everyone sees it.
    let mut graded = IncidentDetails::from(&operator.with(|s| s.work_orders().get(first))?);
    graded.severity = Severity::Urgent;
    operator.with(|s| s.work_orders().update_incident(first, graded))?;
    assert_eq!(operator.sync().await?.quarantined, 0);
    let other = Device::new()?;
    other.enrol_new_user(&server, &proxy.url, "张伟", "town_operator", TOWN).await?;
    other.sync().await?;
    let seen = other.with(|s| s.work_orders().get(first))?;
    assert_eq!(seen.title, "楼道堆放杂物（已核实）");
    assert_eq!(seen.summary.severity, Severity::Urgent);
    assert_ne!(seen.description, "三幢二单元，纸箱约二十个", "the refused edit reached nobody");
    Ok(())
}

both!(details_edits_are_checked_at_ingest);
