//! Issue 11, reference data end to end (real server process, real devices, both backends): the
//! district's reference record exists as soon as the district is registered; a grid worker's
//! phone receives it by an ordinary sync; when the district edits it on the server
//! (`PUT /api/v1/reference`) the phone, after its next sync, offers the new category, uses the
//! new visit interval for a rental household's due date and the new deadline for an order's
//! deadline — and its pushes are accepted by the server.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::HouseholdTag;
use gridwork_core::work_order::{EventType, Severity, WorkOrderAction};
use gridwork_tests::server::ADMIN_TOKEN;
use gridwork_tests::{Backend, Device, HarnessResult};
use serde_json::{Value, json};

/// The district's edit: one category more, rentals every 45 days, urgent orders in one hour.
fn edit() -> Value {
    let mut categories =
        serde_json::to_value(gridwork_core::work_order::CategoryList::default()).unwrap();
    categories
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "elevator", "name_zh": "电梯安全", "name_en": "Elevator safety"}));
    json!({
        "categories": categories,
        "deadline_policy": {"urgent_hours": 1, "important_hours": 24, "ordinary_hours": 72},
        "tag_intervals": [{"tag": "rental", "days": 45}],
    })
}

async fn edited_reference_reaches_the_phone(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let phone = Device::new()?;
    phone.enrol_new_user(&server, &proxy.url, "王芳", "grid_head", GRID_A).await?;
    let mut h = household(3, MICRO_A);
    h.tags = vec![HouseholdTag::Rental];
    let house = phone.with(|s| s.households().add(h))?;
    phone.sync().await?;

    // The record is there from the start: the defaults, the registry's departments.
    let first = phone.with(|s| s.reference_data())?;
    assert!(first.categories.get("elevator").is_none());
    assert!(first.department("sanitation").is_some(), "the registry's departments");
    assert!(phone.with(|s| s.work_orders().report(with_category("elevator"))).is_err());
    assert_eq!(phone.with(|s| s.households().get(house))?.unwrap().interval_days, 90);

    // The district edits it on the server.
    let answer = server
        .raw(
            "PUT",
            "/api/v1/reference",
            &[
                ("authorization", format!("Bearer {ADMIN_TOKEN}")),
                ("content-type", "application/json".into()),
            ],
            serde_json::to_vec(&edit())?,
        )
        .await?;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));

    phone.sync().await?;
    let now = phone.with(|s| s.reference_data())?;
    assert_eq!(now.categories.lookup("elevator")?.name_zh, "电梯安全");
    assert_eq!(now.deadline_policy.urgent_hours, 1);
    assert_eq!(phone.with(|s| s.households().get(house))?.unwrap().interval_days, 45);

    // The phone uses it: the new category is accepted, the urgent order is due in an hour.
    let order = phone.with(|s| s.work_orders().report(with_category("elevator")))?;
    let accepted = phone.with(|s| {
        s.work_orders().act(
            order,
            WorkOrderAction {
                event_type: EventType::Accept,
                department: None,
                note: None,
                extension_hours: None,
                satisfaction: None,
                photos: vec![],
                at: chrono::Utc::now(),
            },
        )
    })?;
    let start = accepted.clock_started_at.unwrap();
    assert_eq!(accepted.deadline, Some(start + chrono::TimeDelta::hours(1)));
    phone.sync().await?;
    assert_eq!(phone.with(|s| s.outbox_len())?, 0, "the server accepted the report");
    let held = phone.with(|s| s.held_changes())?;
    assert!(held.is_empty(), "nothing held back: {held:?}");
    assert_eq!(phone.with(|s| s.reference_refusal())?, None);
    Ok(())
}

fn with_category(category: &str) -> gridwork_core::work_order::IncidentInput {
    let mut i = incident(MICRO_A);
    i.category = category.into();
    i.severity = Severity::Urgent;
    i
}

both!(edited_reference_reaches_the_phone);
