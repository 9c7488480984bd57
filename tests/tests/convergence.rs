//! Scenario 1: three devices edit shared households and one work order offline and sync in
//! random orders → identical documents and projections everywhere; the server holds each
//! change exactly once.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Utc;
use common::*;
use gridwork_core::demo::DemoRng;
use gridwork_core::work_order::{EventType, WorkOrderAction};
use gridwork_core::{RecordKind, Store};
use gridwork_tests::{Backend, Device, HarnessResult};

fn snapshot(s: &mut Store, wo: uuid::Uuid) -> HarnessResult<String> {
    let digest = s.digest(None)?;
    let households = s.households().in_area(&area(GRID_A), 1000)?;
    let order = s.work_orders().get(wo)?;
    Ok(format!(
        "{digest:?}\n{households:?}\n{:?} {:?}",
        order.summary.state,
        order.summary.conflicts.len()
    ))
}

async fn three_devices_converge(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let devices = [Device::new()?, Device::new()?, Device::new()?];
    devices[0].enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    devices[1].enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;
    devices[2].enrol_new_user(&server, &proxy.url, "张伟", "town_operator", TOWN).await?;

    // Shared starting point: five households and one reported incident.
    let ids: Vec<uuid::Uuid> = devices[0].with(|s| {
        (0..5).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<_, _>>()
    })?;
    let wo = devices[0].with(|s| s.work_orders().report(incident(MICRO_A)))?;
    let mut pushed = 0;
    for d in &devices {
        pushed += d.sync().await?.pushed;
    }
    for d in &devices {
        d.sync().await?;
    }

    // Offline: everyone edits the same households; both operators accept the work order.
    let mut rng = DemoRng::new(7);
    for (n, d) in devices.iter().enumerate() {
        d.with(|s| -> HarnessResult<()> {
            for (i, id) in ids.iter().enumerate() {
                if (i + n) % 2 == 0 {
                    let mut h = s.households().get(*id)?.ok_or("household missing")?;
                    let mut input = household(i as u64, MICRO_A);
                    input.head_name = h.head_name.clone();
                    input.member_count = 1 + (rng.below(6) as u32);
                    input.phone = Some(format!("1380000{:04}", n * 100 + i));
                    h.member_count = input.member_count;
                    s.households().update(*id, input)?;
                }
            }
            if n > 0 {
                s.work_orders().act(
                    wo,
                    WorkOrderAction {
                        event_type: EventType::Accept,
                        department: None,
                        note: Some(format!("operator {n} accepts")),
                        extension_hours: None,
                        satisfaction: None,
                        photos: vec![],
                        at: Utc::now(),
                    },
                )?;
            }
            Ok(())
        })?;
    }

    // Sync in random orders, a few rounds.
    let mut order: Vec<usize> = vec![0, 1, 2];
    for round in 0..3 {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for &i in &order {
            pushed += devices[i].sync().await?.pushed;
        }
        if round == 2 {
            break;
        }
    }
    for d in &devices {
        d.sync().await?;
    }
    let snaps: Vec<String> =
        devices.iter().map(|d| d.with(|s| snapshot(s, wo))).collect::<HarnessResult<_>>()?;
    assert_eq!(snaps[0], snaps[1], "device 0 and 1 differ");
    assert_eq!(snaps[1], snaps[2], "device 1 and 2 differ");
    let wo_state = devices[0].with(|s| s.work_orders().get(wo))?;
    assert_eq!(
        wo_state.summary.conflicts.len(),
        1,
        "the double accept is surfaced: {:?}",
        wo_state.summary.conflicts
    );
    for d in &devices {
        assert_eq!(d.count(RecordKind::Household)?, 5);
        assert_eq!(d.with(|s| s.outbox_len())?, 0);
    }
    let (head, changes) = server.log_size().await?;
    // Beside the pushed changes: the district's reference record, authored by the server when
    // the district was registered (issue 11).
    assert_eq!(changes, pushed + 1, "the server holds each change exactly once");
    assert_eq!(head, changes, "no seq was spent on a duplicate");
    Ok(())
}

both!(three_devices_converge);
