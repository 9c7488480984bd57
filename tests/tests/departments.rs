//! Issue 10, item 4: departments. A department handler's phone holds only the work orders
//! dispatched to one of their departments — whole, by ordinary pulls and gap fills — and may
//! step only for their own department; a dispatch must name a department of the registry. On
//! both backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Utc;
use common::*;
use gridwork_core::RecordKind;
use gridwork_core::work_order::{EventType, WorkOrderAction, WorkOrderState};
use gridwork_tests::{Backend, Device, HarnessResult};
use serde_json::json;

fn act(event_type: EventType, department: Option<&str>) -> WorkOrderAction {
    WorkOrderAction {
        event_type,
        department: department.map(str::to_owned),
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at: Utc::now(),
    }
}

async fn handlers_see_their_departments_orders(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let operator = Device::new()?;
    operator.enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;
    let sanitation = Device::new()?;
    let u =
        sanitation.enrol_new_user(&server, &proxy.url, "赵强", "department_handler", TOWN).await?;
    server.set_departments(&u.user_id, &["sanitation"]).await?;
    let police = Device::new()?;
    let u = police.enrol_new_user(&server, &proxy.url, "孙丽", "department_handler", TOWN).await?;
    server.set_departments(&u.user_id, &["police"]).await?;
    let nobody = Device::new()?;
    nobody.enrol_new_user(&server, &proxy.url, "钱进", "department_handler", TOWN).await?;

    // Two reports, accepted and dispatched to different departments.
    let litter = worker.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    let quarrel = worker.with(|s| s.work_orders().report(incident("320612/001/001/01/02")))?;
    let undispatched = worker.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    worker.sync().await?;
    operator.sync().await?;
    for (id, dep) in [(litter, "sanitation"), (quarrel, "police")] {
        operator.with(|s| s.work_orders().act(id, act(EventType::Accept, None)))?;
        operator.with(|s| s.work_orders().act(id, act(EventType::Dispatch, Some(dep))))?;
    }
    operator.sync().await?;
    assert_eq!(operator.with(|s| s.outbox_len())?, 0, "both dispatches accepted");

    for d in [&sanitation, &police, &nobody] {
        d.sync().await?;
    }
    // Every phone also holds the district's reference record (issue 11); of the records, only
    // its departments' orders.
    let reference = gridwork_core::reference::reference_id(&area("320612"));
    let held = |d: &Device| {
        d.with(|s| s.digest(None).map(|v| v.into_iter().map(|x| x.id).collect::<Vec<_>>())).map(
            |ids| {
                assert!(ids.contains(&reference), "the reference record reaches every handler");
                ids.into_iter().filter(|id| *id != reference).collect::<Vec<_>>()
            },
        )
    };
    assert_eq!(held(&sanitation)?, vec![litter], "sanitation holds only its order");
    assert_eq!(held(&police)?, vec![quarrel], "police holds only its order");
    assert!(held(&nobody)?.is_empty(), "a handler of no department holds nothing");
    assert!(!held(&sanitation)?.contains(&undispatched));
    // Whole: the report, the acceptance and the dispatch (the gaps were filled).
    let order = sanitation.with(|s| s.work_orders().get(litter))?;
    assert_eq!(order.summary.events.len(), 3, "{:?}", order.summary.events);
    assert_eq!(order.summary.departments.get("sanitation"), Some(&WorkOrderState::Dispatched));

    // The handler signs for their own department: accepted, the operator sees it.
    sanitation.with(|s| s.work_orders().act(litter, act(EventType::Sign, Some("sanitation"))))?;
    sanitation.sync().await?;
    assert_eq!(sanitation.with(|s| s.outbox_len())?, 0);
    operator.sync().await?;
    let seen = operator.with(|s| s.work_orders().get(litter))?;
    assert_eq!(seen.summary.departments.get("sanitation"), Some(&WorkOrderState::Signed));

    // A dispatch to a department not in the registry is refused too.
    operator.with(|s| s.work_orders().act(quarrel, act(EventType::Dispatch, Some("aliens"))))?;
    let report = operator.sync().await?;
    assert_eq!(report.quarantined, 1, "{report:?}");
    let q = operator.with(|s| s.quarantined_changes())?;
    assert_eq!(q[0].code, "unknown_department", "{q:?}");

    // A co-dispatch to police reaches the police handler whole, history included.
    operator.with(|s| s.work_orders().act(litter, act(EventType::Dispatch, Some("police"))))?;
    operator.sync().await?;
    police.sync().await?;
    let mut ids = held(&police)?;
    ids.sort();
    let mut want = vec![litter, quarrel];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(police.with(|s| s.work_orders().get(litter))?.summary.events.len(), 5);
    assert_eq!(police.with(|s| s.outbox_len())?, 0);

    // Stepping in another department's name (legal on the phone, which does not know who
    // belongs where) is refused by the server and set aside; in their own name it is accepted.
    police.with(|s| s.work_orders().act(litter, act(EventType::Handle, Some("sanitation"))))?;
    let report = police.sync().await?;
    assert_eq!(report.quarantined, 1, "{report:?}");
    let q = police.with(|s| s.quarantined_changes())?;
    assert_eq!(q[0].code, "department_not_held", "{q:?}");
    police.with(|s| s.work_orders().act(quarrel, act(EventType::Sign, Some("police"))))?;
    police.sync().await?;
    assert_eq!(police.with(|s| s.outbox_len())?, 0);
    assert_eq!(police.with(|s| s.quarantined_changes())?.len(), 1);
    assert_eq!(nobody.sync().await?.pulled, 0);
    assert_eq!(nobody.count(RecordKind::WorkOrder)?, 0);
    Ok(())
}

both!(handlers_see_their_departments_orders);

async fn the_registry_is_managed_and_served(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let (status, list) = server.admin("GET", "/departments", None).await?;
    assert_eq!(status, 200);
    let codes: Vec<&str> = list["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"sanitation") && codes.contains(&"police"), "{codes:?}");

    // Add one, retire one; bad input is refused naming the field.
    let elevator = json!({"code": "elevator", "name_zh": "电梯安全办", "name_en": "Elevator safety",
        "categories": ["safety_hazard"], "area": TOWN});
    let (status, _) = server.admin("PUT", "/departments/elevator", Some(elevator)).await?;
    assert_eq!(status, 200);
    let retired = json!({"code": "health", "name_zh": "卫生健康办", "name_en": "Health",
        "categories": [], "active": false});
    assert_eq!(server.admin("PUT", "/departments/health", Some(retired)).await?.0, 200);
    for (path, body, field) in [
        (
            "/departments/Bad Code",
            json!({"code": "Bad Code", "name_zh": "x", "name_en": "x"}),
            "code",
        ),
        ("/departments/x", json!({"code": "x", "name_zh": "", "name_en": "x"}), "name_zh"),
        (
            "/departments/x",
            json!({"code": "x", "name_zh": "甲", "name_en": "x", "categories": ["aliens"]}),
            "categories",
        ),
        ("/departments/y", json!({"code": "x", "name_zh": "甲", "name_en": "x"}), "code"),
    ] {
        let (status, v) = server.admin("PUT", path, Some(body)).await?;
        assert_eq!(status, 400, "{path}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().starts_with(field), "{v}");
    }
    let user = server.create_user("周杰", "department_handler", TOWN).await?;
    let (status, v) = server
        .admin("PUT", &format!("/users/{user}/departments"), Some(json!({"departments": ["nope"]})))
        .await?;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (status, _) = server
        .admin(
            "PUT",
            "/users/00000000-0000-0000-0000-000000000000/departments",
            Some(json!({"departments": []})),
        )
        .await?;
    assert_eq!(status, 404);

    // A phone reads the active ones.
    let phone = Device::new()?;
    let enrolled = phone.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let credential = phone.enrolment()?.credential;
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/departments", proxy.url))
        .bearer_auth(credential)
        .send()
        .await?
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b))??;
    let served: Vec<&str> =
        v["departments"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(served.contains(&"elevator"), "{served:?}");
    assert!(!served.contains(&"health"), "retired ones are not offered");
    // Revoked: nothing more, and a forged credential is refused.
    server.admin("POST", &format!("/devices/{}/revoke", enrolled.device_id), None).await?;
    let after: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/departments", proxy.url))
        .bearer_auth(phone.enrolment()?.credential)
        .send()
        .await?
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b))??;
    assert_eq!(after, json!({"revoked": true, "departments": []}));
    let forged = reqwest::Client::new()
        .get(format!("{}/v1/departments", proxy.url))
        .bearer_auth(format!("gwd_{}", "0".repeat(64)))
        .send()
        .await?;
    assert_eq!(forged.status().as_u16(), 401);

    // Dispatching to the retired one is refused.
    let operator = Device::new()?;
    operator.enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;
    let id = operator.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    operator.with(|s| s.work_orders().act(id, act(EventType::Accept, None)))?;
    operator.with(|s| s.work_orders().act(id, act(EventType::Dispatch, Some("health"))))?;
    let report = operator.sync().await?;
    assert_eq!(report.quarantined, 1, "{report:?}");
    let (_, audit) = server.admin("GET", "/audit", None).await?;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.iter().filter(|a| **a == "departments").count() >= 2, "{actions:?}");
    Ok(())
}

both!(the_registry_is_managed_and_served);
