//! The 12345 hotline exchange end to end (issue 13), on both backends: a simulated hotline
//! platform — a real HTTP server on loopback playing the platform's side of
//! `docs/12345-exchange.md` — sends an order down to the real `gridwork-server` process; the
//! district centre accepts and dispatches it through the server's actions API (the
//! workbench); the department handler's phone — the real `gridwork` CLI binary — syncs, signs,
//! handles and feeds back; the grid worker's phone (CLI) verifies on site; the centre closes.
//! The platform answers 500 or stalls past the delivery timeout on some deliveries, and the
//! Gridwork server is killed (SIGKILL) and restarted mid-way: the platform still receives every
//! step, in order, exactly once by step id, and nothing lands in the dead-letter list.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hotline_common;

use std::time::Duration;

use common::*;
use gridwork_tests::{Backend, Cli, Device, HarnessResult};
use hotline_common::*;
use serde_json::json;

async fn hotline_round_trip(backend: Backend) -> HarnessResult<()> {
    let sim = SimPlatform::start(Faults::EveryFourth).await?;
    let (mut server, proxy) = world(backend).await?;
    register(&server, &sim, json!({})).await?;
    let dir = tempfile::tempdir()?;

    // An urge that arrives before its order (reordered): it waits, then applies after the create.
    let urge = json!({ "message_id": "u1", "kind": "urge", "text": "市民催办" });
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders/HL-E2E-1/updates", &urge).await?;
    assert_eq!((s, v["status"].as_str()), (202, Some("waiting_for_create")), "{v}");

    let order = order_message("HL-E2E-1", "m1", MICRO_A);
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders", &order).await?;
    assert_eq!(s, 201, "{v}");
    let wo = v["work_order_id"].as_str().ok_or("no work order id")?.to_owned();
    // A duplicate create (new message id, same order number) and the urge again: nothing new.
    let mut again = order.clone();
    again["message_id"] = json!("m1-retry");
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders", &again).await?;
    assert_eq!((s, v["work_order_id"].as_str()), (200, Some(wo.as_str())), "{v}");
    let (s, v) = hotline_post(&proxy.url, "/hotline/v1/orders/HL-E2E-1/updates", &urge).await?;
    assert_eq!((s, v["repeated"].as_bool()), (200, Some(true)), "{v}");

    let centre = Device::new()?;
    centre.enrol_new_user(&server, &proxy.url, "区指挥中心", "district_centre", "320612").await?;
    let centre_key = centre.enrolment()?.credential;
    let (handler, h) =
        Cli::enrolled(&server, &proxy.url, dir.path(), "赵强", "department_handler", TOWN).await?;
    server.set_departments(&h, &["sanitation"]).await?;
    let (worker, _) =
        Cli::enrolled(&server, &proxy.url, dir.path(), "王芳", "grid_worker", GRID_A).await?;

    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "accept" })).await?;
    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "dispatch", "department": "sanitation" }))
        .await?;

    // The handler's phone receives the dispatched hotline order and signs for it.
    handler.json(&["sync"]).await?;
    let shown = handler.json(&["work-order", "show", &wo]).await?;
    assert_eq!(shown["summary"]["state"], "dispatched", "{shown}");
    assert!(shown["timeline"].to_string().contains("12345督办"), "the urge reached the phone");
    handler.json(&["work-order", "act", &wo, "sign", "--departments", "sanitation"]).await?;
    handler.json(&["sync"]).await?;

    // The server dies (SIGKILL) with steps in its outbox, and comes back.
    server.kill().await?;
    server.restart().await?;
    proxy.set_upstream(server.addr);

    handler.json(&["work-order", "act", &wo, "handle", "--note", "已安排清运车"]).await?;
    // The feedback shows the finished work: a photo taken on the handler's phone.
    let photo: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0]
        .into_iter()
        .chain((0..5_000u32).map(|i| (i * 13 % 256) as u8))
        .collect();
    let photo_hash = hex::encode(<sha2_hmac::Sha256 as sha2_hmac::Digest>::digest(&photo));
    let photo_file = dir.path().join("cleared.jpg");
    std::fs::write(&photo_file, &photo)?;
    let photo_arg = photo_file.to_string_lossy().into_owned();
    let fed = handler
        .json(&[
            "work-order",
            "act",
            &wo,
            "feedback",
            "--note",
            "已清运完毕",
            "--photo",
            &photo_arg,
        ])
        .await?;
    assert_eq!(fed["summary"]["state"], "fed_back");
    let synced = handler.json(&["sync"]).await?;
    assert_eq!(synced["photos_uploaded"], 1, "{synced}");

    // The grid worker checks on site and records the resident's satisfaction.
    worker.json(&["sync"]).await?;
    worker.json(&["work-order", "act", &wo, "verify", "--satisfaction", "5"]).await?;
    worker.json(&["sync"]).await?;
    act_on(&proxy.url, &centre_key, &wo, json!({ "type": "close" })).await?;

    let want = ["escalate", "accept", "dispatch", "sign", "handle", "feedback", "verify", "close"];
    let got = sim.wait_for_steps(want.len(), 60).await;
    assert_eq!(got, want.len(), "every step arrived");
    // Nothing more arrives later (no second copy of a step gets recorded as new).
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let p = sim.seen.lock().unwrap();
        assert_eq!(p.types_of("HL-E2E-1"), want, "every step, in order, once");
        assert_eq!(p.steps.len(), want.len());
        assert_eq!(p.bad_signatures, 0);
        assert!(p.calls > want.len(), "failures were injected and retried ({} calls)", p.calls);
        let last = &p.steps[want.len() - 1].0;
        assert_eq!(last["state"], "closed", "{last}");
        let verify = &p.steps[want.len() - 2].0;
        assert_eq!(verify["satisfaction"], 5, "{verify}");
        let feedback = &p.steps[want.len() - 3].0;
        let path = format!("/hotline/v1/orders/HL-E2E-1/photos/{photo_hash}");
        assert_eq!(
            feedback["step_photos"],
            json!([{ "hash": photo_hash, "mime": "image/jpeg", "size": photo.len(), "path": path }]),
            "{feedback}"
        );
        assert!(verify.get("step_photos").is_none(), "only the feedback has photos: {verify}");
        eprintln!("hotline e2e: {} calls, {} repeats deduped", p.calls, p.repeats);
    }
    // The platform downloads the step's photo: the bytes the handler's phone took.
    let path = format!("/hotline/v1/orders/HL-E2E-1/photos/{photo_hash}");
    assert_eq!(platform_get(&proxy.url, &path).await?, (200, photo.clone()));
    let (_, dead) = server.admin("GET", "/hotline/dead-letters", None).await?;
    assert_eq!(dead["dead_letters"], json!([]), "{dead}");
    // The platform asks the state: closed, with the steps counted.
    let (s, v) = hotline_request(
        &reqwest::Client::new(),
        &proxy.url,
        "GET",
        "/hotline/v1/orders/HL-E2E-1",
        None,
    )
    .await?;
    assert_eq!(
        (s, v["state"].as_str(), v["steps"].as_u64()),
        (200, Some("closed"), Some(8)),
        "{v}"
    );
    Ok(())
}
both!(hotline_round_trip);
