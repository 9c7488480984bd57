//! Actions taken through the server (issue 10, item 6) end to end, on both backends: a town
//! operator dispatches a work order and issues a town-wide task over `POST /api/v1/…`; each is a
//! server-authored change the department handler's and the grid worker's phones receive by
//! ordinary pulls. Illegal, duplicate, malformed and out-of-scope requests get clear JSON errors
//! and write nothing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{TimeDelta, Utc};
use common::*;
use gridwork_core::AreaPath;
use gridwork_core::work_order::{EventType, WorkOrderAction, WorkOrderState};
use gridwork_tests::{Backend, Device, HarnessResult};
use serde_json::{Value, json};

async fn post(url: &str, credential: &str, body: &str) -> HarnessResult<(u16, Value)> {
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(credential)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, serde_json::from_slice(&r.bytes().await?)?))
}

async fn actions_reach_phones(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let operator = Device::new()?;
    let op = operator.enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;
    let handler = Device::new()?;
    let h = handler.enrol_new_user(&server, &proxy.url, "赵强", "department_handler", TOWN).await?;
    server.set_departments(&h.user_id, &["sanitation"]).await?;
    let credential = operator.enrolment()?.credential;

    let wo = worker.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    worker.sync().await?;
    operator.sync().await?;
    operator.with(|s| {
        s.work_orders().act(
            wo,
            WorkOrderAction {
                event_type: EventType::Accept,
                department: None,
                note: None,
                extension_hours: None,
                satisfaction: None,
                photos: vec![],
                at: Utc::now(),
            },
        )
    })?;
    operator.sync().await?;

    let url = format!("{}/api/v1/work-orders/{wo}/actions", proxy.url);
    let dispatch =
        json!({"type": "dispatch", "department": "sanitation", "note": "请于今日处理"}).to_string();
    let (status, v) = post(&url, &credential, &dispatch).await?;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["record"]["departments"]["sanitation"], "dispatched", "{v}");
    assert_eq!(v["read_model_caught_up"], true, "{v}");
    let seq = v["seq"].as_u64().unwrap();

    // Pressed twice, a step the state refuses, nonsense: clear errors, nothing logged.
    for (body, want_status, code) in [
        (dispatch.as_str(), 409, "already_dispatched"),
        (r#"{"type": "close"}"#, 409, "illegal_transition"),
        (r#"{"type": "review_conflicts"}"#, 409, "no_conflict_to_review"),
        (r#"{"type": "sign", "department": "sanitation"}"#, 403, "role_not_allowed"),
        (r#"{"type": "dispatch", "department": "aliens"}"#, 403, "unknown_department"),
        (r#"{"type": "teleport"}"#, 400, "invalid_input"),
        (r#"{"type": "report"}"#, 400, "invalid_input"),
        (r#"{"type": "accept", "extra": 1}"#, 400, "malformed_json"),
        ("not json", 400, "malformed_json"),
    ] {
        let (status, v) = post(&url, &credential, body).await?;
        assert_eq!((status, v["error"]["code"].as_str()), (want_status, Some(code)), "{body}: {v}");
    }
    let unknown = format!("{}/api/v1/work-orders/{}/actions", proxy.url, uuid::Uuid::now_v7());
    let (status, v) = post(&unknown, &credential, r#"{"type": "accept"}"#).await?;
    assert_eq!(status, 404, "{v}");
    let (status, _) = post(
        &url,
        "gwd_0000000000000000000000000000000000000000000000000000000000000000",
        &dispatch,
    )
    .await?;
    assert_eq!(status, 401);

    // A town-wide task, issued through the server.
    let tasks = format!("{}/api/v1/tasks", proxy.url);
    let due = (Utc::now() + TimeDelta::days(7)).to_rfc3339();
    let body = json!({"area": TOWN, "title": "冬季消防安全排查", "instructions": "全镇各网格本周完成", "due_at": due});
    let (status, v) = post(&tasks, &credential, &body.to_string()).await?;
    assert_eq!(status, 201, "{v}");
    let task: uuid::Uuid = v["record"]["id"].as_str().unwrap().parse()?;
    assert!(v["seq"].as_u64().unwrap() > seq);
    let (status, v) =
        post(&tasks, &credential, &json!({"area": TOWN, "title": ""}).to_string()).await?;
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");

    // The phones receive both by ordinary pulls.
    handler.sync().await?;
    let order = handler.with(|s| s.work_orders().get(wo))?;
    assert_eq!(order.summary.departments.get("sanitation"), Some(&WorkOrderState::Dispatched));
    let step = order.summary.events.last().unwrap();
    assert_eq!(step.by, op.user_id);
    assert_eq!(step.note.as_deref(), Some("请于今日处理"));
    worker.sync().await?;
    let grid = AreaPath::parse(GRID_A).unwrap();
    let listed = worker.with(|s| s.tasks().in_area(&grid, 10))?;
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![task]);
    assert_eq!(
        worker.with(|s| s.work_orders().get(wo))?.summary.state,
        Some(WorkOrderState::Dispatched)
    );

    // A revoked device acts no more: refused, nothing logged.
    server.admin("POST", &format!("/devices/{}/revoke", op.device_id), None).await?;
    let (status, v) = post(&url, &credential, r#"{"type": "escalate"}"#).await?;
    assert_eq!((status, v["error"]["code"].as_str()), (403, Some("device_revoked")), "{v}");
    let (status, _) = post(&tasks, &credential, &body.to_string()).await?;
    assert_eq!(status, 403);
    handler.sync().await?;
    let after = handler.with(|s| s.work_orders().get(wo))?.summary.events.len();
    assert_eq!(after, order.summary.events.len(), "no step was logged after the revocation");
    Ok(())
}

both!(actions_reach_phones);
