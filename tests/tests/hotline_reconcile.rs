//! The daily reconciliation of the 12345 exchange (issue 13) against the real `gridwork-server`
//! process on both backends: the simulated platform lists its open orders with deliberate
//! mismatches (a state it has wrong, an order Gridwork holds for mapping, one Gridwork never
//! received, one it does not list although Gridwork has it open); a run on demand reports
//! exactly those, the admin API and `/metrics` show them, the scheduled runs (every 10 s here)
//! come round by themselves and report none once the platform's list agrees; a platform that
//! cannot be asked makes a failed run with the reason.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hotline_common;

use std::time::Duration;

use common::*;
use gridwork_tests::{Backend, Device, HarnessResult, Server};
use hotline_common::*;
use serde_json::{Value, json};

async fn metric(server: &Server) -> HarnessResult<Option<u64>> {
    let text = reqwest::get(format!("{}/metrics", server.url)).await?.text().await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("gridwork_hotline_reconciliation_mismatches "))
        .and_then(|n| n.trim().parse().ok()))
}

fn kinds(run: &Value) -> Vec<(String, String)> {
    run["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["order_number"].as_str().unwrap().to_owned(), m["kind"].as_str().unwrap().to_owned())
        })
        .collect()
}

async fn reconciliation_reports_deliberate_mismatches(backend: Backend) -> HarnessResult<()> {
    let sim = SimPlatform::start(Faults::None).await?;
    let (server, proxy) = world(backend).await?;
    let url = proxy.url.as_str();
    register(
        &server,
        &sim,
        json!({ "reconcile": { "endpoint": sim.reconcile_endpoint, "every_secs": 10 } }),
    )
    .await?;

    // Gridwork's side: HL-R-1 accepted, HL-R-2 only reported, HL-R-3 accepted, HL-R-4 held.
    let mut ids = Vec::new();
    for n in ["HL-R-1", "HL-R-2", "HL-R-3"] {
        let (s, v) = hotline_post(url, "/hotline/v1/orders", &order_message(n, n, MICRO_A)).await?;
        assert_eq!(s, 201, "{v}");
        ids.push(v["work_order_id"].as_str().unwrap().to_owned());
    }
    let mut held = order_message("HL-R-4", "HL-R-4", MICRO_A);
    held["category"] = json!("井盖丢失");
    assert_eq!(hotline_post(url, "/hotline/v1/orders", &held).await?.0, 202);
    let centre = Device::new()?;
    centre.enrol_new_user(&server, url, "区指挥中心", "district_centre", "320612").await?;
    let key = centre.enrolment()?.credential;
    act_on(url, &key, &ids[0], json!({ "type": "accept" })).await?;
    act_on(url, &key, &ids[2], json!({ "type": "accept" })).await?;
    assert_eq!(sim.wait_for_steps(2, 30).await, 2, "both accepts delivered");

    // The platform's list, wrong on purpose.
    sim.seen.lock().unwrap().open_orders = vec![
        json!({ "order_number": "HL-R-1", "state": "accepted" }),
        json!({ "order_number": "HL-R-2", "state": "dispatched" }),
        json!({ "order_number": "HL-R-4", "state": null }),
        json!({ "order_number": "HL-R-9", "state": "signed" }),
    ];
    let (s, run) = server
        .admin("POST", "/hotline/reconciliation/run", Some(json!({ "platform": PLATFORM })))
        .await?;
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["run"]["status"], "done", "{run}");
    assert_eq!(run["run"]["run_by"], "admin");
    assert_eq!(run["run"]["compared"], 5, "HL-R-1..4 and HL-R-9: {run}");
    let want: Vec<(String, String)> = [
        ("HL-R-2", "state_differs"),
        ("HL-R-3", "not_open_on_platform"),
        ("HL-R-4", "missing_in_gridwork"),
        ("HL-R-9", "missing_in_gridwork"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(kinds(&run), want, "{run}");
    let m = &run["mismatches"];
    assert_eq!(
        (m[0]["gridwork_state"].as_str(), m[0]["platform_state"].as_str()),
        (Some("reported"), Some("dispatched"))
    );
    assert!(m[2]["detail"].as_str().unwrap().contains("held for mapping"), "{m}");
    assert!(m[3]["detail"].as_str().unwrap().contains("never received"), "{m}");

    // The admin's view and the metric.
    let (_, view) = server.admin("GET", "/hotline/reconciliation", None).await?;
    let latest = view["latest"].as_array().unwrap();
    assert_eq!(latest.len(), 1, "{view}");
    assert_eq!(kinds(&latest[0]).len(), 4, "{view}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(&server).await? != Some(4) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(metric(&server).await?, Some(4));

    // The platform puts its list right; the schedule comes round by itself and finds none.
    sim.seen.lock().unwrap().open_orders = vec![
        json!({ "order_number": "HL-R-1", "state": "accepted" }),
        json!({ "order_number": "HL-R-2", "state": null }),
        json!({ "order_number": "HL-R-3", "state": "accepted" }),
    ];
    let asked = sim.seen.lock().unwrap().reconciliation_calls;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let clean = loop {
        let (_, view) = server.admin("GET", "/hotline/reconciliation", None).await?;
        let run = view["latest"][0].clone();
        if run["run"]["run_by"] == "schedule"
            && sim.seen.lock().unwrap().reconciliation_calls > asked
            && run["mismatches"] == json!([])
        {
            break run;
        }
        assert!(tokio::time::Instant::now() < deadline, "no clean scheduled run: {view}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(clean["run"]["status"], "done");
    assert_eq!(clean["run"]["compared"], 3, "{clean}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(&server).await? != Some(0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(metric(&server).await?, Some(0));
    assert_eq!(sim.seen.lock().unwrap().bad_signatures, 0, "Gridwork signs its questions");

    // A platform that cannot be asked: a failed run saying why; no reconcile setting: 400.
    let (s, v) = server
        .admin(
            "PUT",
            "/hotline/platforms/down",
            Some(json!({ "name": "停机平台", "secret": SECRET, "area": "320612",
                "reconcile": { "endpoint": "http://127.0.0.1:9/open-orders" } })),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    let (s, run) = server
        .admin("POST", "/hotline/reconciliation/run", Some(json!({ "platform": "down" })))
        .await?;
    assert_eq!((s, run["run"]["status"].as_str()), (200, Some("failed")), "{run}");
    assert!(!run["run"]["error"].as_str().unwrap().is_empty(), "{run}");
    let (s, v) = server
        .admin("POST", "/hotline/reconciliation/run", Some(json!({ "platform": "nope" })))
        .await?;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (s, v) = server
        .admin(
            "PUT",
            "/hotline/platforms/bad",
            Some(json!({ "name": "坏", "secret": SECRET, "area": "320612",
                "reconcile": { "endpoint": "ftp://x", "every_secs": 5 } })),
        )
        .await?;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");

    // The OpenAPI description has the reconciliation and the upload contract.
    let openapi = reqwest::get(format!("{}/api/openapi.json", server.url)).await?;
    let doc: Value = serde_json::from_slice(&openapi.bytes().await?)?;
    let paths = &doc["paths"];
    assert!(paths["/admin/v1/hotline/reconciliation"]["get"].is_object(), "reconciliation");
    assert!(paths["/admin/v1/hotline/reconciliation/run"]["post"].is_object(), "run");
    let create = paths["/hotline/v1/orders"]["post"].to_string();
    assert!(create.contains("content_base64") && create.contains("attachment_too_large"));
    Ok(())
}
both!(reconciliation_reports_deliberate_mismatches);
