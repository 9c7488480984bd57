//! Attachments the 12345 platform uploads with an order (issue 13), against the real
//! `gridwork-server` process on both backends: an image uploaded base64 inside the signed body
//! becomes the work order's photo, which a grid worker's phone in scope downloads byte for byte
//! (and a phone out of scope may not), and the steps going up list it for the platform to
//! download with a signed request; the signature covers the bytes (one byte changed: 401);
//! an upload over 5 MiB → 413 `attachment_too_large`, a body over 16 MiB → 413
//! `payload_too_large`, a non-image or a wrong `sha256` → 400 — each refusal writes nothing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hotline_common;

use base64::Engine;
use chrono::Utc;
use common::*;
use gridwork_tests::{Backend, Device, HarnessResult};
use hotline_common::*;
use serde_json::{Value, json};
use sha2_hmac::Digest;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn with_attachments(number: &str, attachments: Value) -> Value {
    let mut m = order_message(number, &format!("m-{number}"), MICRO_A);
    m["attachments"] = attachments;
    m
}

async fn state(url: &str, number: &str) -> HarnessResult<(u16, Value)> {
    let path = format!("/hotline/v1/orders/{number}");
    hotline_request(&reqwest::Client::new(), url, "GET", &path, None).await
}

async fn uploads_become_photos_the_phone_downloads(backend: Backend) -> HarnessResult<()> {
    let sim = SimPlatform::start(Faults::None).await?;
    let (server, proxy) = world(backend).await?;
    register(&server, &sim, json!({})).await?;
    let url = proxy.url.as_str();

    // Bytes of a "photo": not valid base64 text by accident, all 256 byte values.
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let hash = hex::encode(sha2_hmac::Sha256::digest(&photo));
    let order = with_attachments(
        "HL-UP-1",
        json!([
            { "content_base64": b64(&photo), "mime": "image/jpeg", "name": "现场.jpg",
              "sha256": hash },
            { "url": "https://hotline.example/a/2.pdf", "name": "说明.pdf", "size": 1200 }
        ]),
    );

    // The signature covers the bytes: one byte of the upload changed after signing → 401.
    let raw = order.to_string();
    let ts = Utc::now().timestamp_millis();
    let signature = sign(ts, "POST", "/hotline/v1/orders", raw.as_bytes());
    let tampered = raw.replacen(&b64(&photo)[..8], "AAAAAAAA", 1);
    assert_ne!(tampered, raw);
    let r = reqwest::Client::new()
        .post(format!("{url}/hotline/v1/orders"))
        .header("x-hotline-platform", PLATFORM)
        .header("x-hotline-timestamp", ts.to_string())
        .header("x-hotline-signature", signature)
        .header("content-type", "application/json")
        .body(tampered)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(v["error"]["code"], "bad_signature", "{v}");
    assert_eq!(state(url, "HL-UP-1").await?.0, 404, "nothing written");

    let (s, v) = hotline_post(url, "/hotline/v1/orders", &order).await?;
    assert_eq!(s, 201, "{v}");
    let wo: uuid::Uuid = v["work_order_id"].as_str().unwrap().parse()?;

    // The grid worker's phone receives the order with the upload as its photo, and downloads it.
    let worker = Device::new()?;
    worker.enrol_new_user(&server, url, "王芳", "grid_worker", GRID_A).await?;
    worker.sync().await?;
    let got = worker.with(|s| s.work_orders().get(wo))?;
    assert_eq!(got.photos.len(), 1, "{:?}", got.photos);
    assert_eq!((got.photos[0].hash.as_str(), got.photos[0].size), (hash.as_str(), 300_000));
    assert_eq!(got.photos[0].mime, "image/jpeg");
    assert!(got.description.contains("说明.pdf https://hotline.example/a/2.pdf"), "the link");
    let download = |credential: String| {
        let path = format!("{url}/v1/attachments/{hash}");
        async move {
            let r = reqwest::Client::new().get(path).bearer_auth(credential).send().await?;
            let s = r.status().as_u16();
            Ok::<_, gridwork_tests::HarnessError>((s, r.bytes().await?.to_vec()))
        }
    };
    let (s, bytes) = download(worker.enrolment()?.credential).await?;
    assert_eq!(s, 200);
    assert_eq!(bytes, photo, "the phone gets the platform's bytes exactly");
    let elsewhere = Device::new()?;
    elsewhere.enrol_new_user(&server, url, "李雷", "grid_worker", GRID_B).await?;
    let (s, _) = download(elsewhere.enrolment()?.credential).await?;
    assert_eq!(s, 403, "a phone with no record referring to it may not download it");

    // The centre accepts: the step that goes up lists the order's photo, and the platform
    // downloads it with a signed GET, byte for byte; a hash the order lacks is 404, and an
    // unsigned request 401.
    let centre = Device::new()?;
    centre.enrol_new_user(&server, url, "区指挥中心", "district_centre", "320612").await?;
    act_on(url, &centre.enrolment()?.credential, &wo.to_string(), json!({ "type": "accept" }))
        .await?;
    let http = reqwest::Client::new();
    let mut accept = Value::Null;
    for _ in 0..100 {
        let (_, v) =
            hotline_request(&http, url, "GET", "/hotline/v1/events?cursor=0", None).await?;
        if let Some(e) = v["events"].as_array().and_then(|es| {
            es.iter().find(|e| e["step"]["type"] == "accept").map(|e| e["step"].clone())
        }) {
            accept = e;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let path = format!("/hotline/v1/orders/HL-UP-1/photos/{hash}");
    assert_eq!(
        accept["photos"],
        json!([{ "hash": hash, "mime": "image/jpeg", "size": 300_000, "path": path }]),
        "{accept}"
    );
    assert_eq!(platform_get(url, &path).await?, (200, photo.clone()), "the platform's own bytes");
    let other = format!("/hotline/v1/orders/HL-UP-1/photos/{}", "0".repeat(64));
    assert_eq!(platform_get(url, &other).await?.0, 404);
    let unknown_order = format!("/hotline/v1/orders/HL-NONE/photos/{hash}");
    assert_eq!(platform_get(url, &unknown_order).await?.0, 404);
    let unsigned = http.get(format!("{url}{path}")).send().await?;
    assert_eq!(unsigned.status().as_u16(), 401);

    // The same order again (a retry after a lost answer): the same work order, one photo.
    let mut again = order.clone();
    again["message_id"] = json!("m-HL-UP-1-retry");
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &again).await?;
    assert_eq!((s, v["work_order_id"].as_str()), (200, Some(wo.to_string().as_str())), "{v}");

    // Refusals, each writing nothing.
    let over = vec![1u8; 5 * 1024 * 1024 + 1];
    let big = with_attachments(
        "HL-UP-2",
        json!([{ "content_base64": b64(&over), "mime": "image/jpeg", "name": "big.jpg" }]),
    );
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &big).await?;
    assert_eq!((s, v["error"]["code"].as_str()), (413, Some("attachment_too_large")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("attachment 0"), "{v}");
    assert_eq!(state(url, "HL-UP-2").await?.0, 404);

    let huge = with_attachments(
        "HL-UP-3",
        json!([{ "url": "https://x.example/a", "size": 1,
        "name": "n".repeat(17 * 1024 * 1024) }]),
    );
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &huge).await?;
    assert_eq!((s, v["error"]["code"].as_str()), (413, Some("payload_too_large")), "{v}");
    assert_eq!(state(url, "HL-UP-3").await?.0, 404);

    let pdf = with_attachments(
        "HL-UP-4",
        json!([{ "content_base64": b64(b"%PDF-1.4"), "mime": "application/pdf", "name": "a" }]),
    );
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &pdf).await?;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("image"), "{v}");

    let wrong = with_attachments(
        "HL-UP-5",
        json!([{ "content_base64": b64(b"abc"), "mime": "image/png", "sha256": hash }]),
    );
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &wrong).await?;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("hash"), "{v}");
    for n in ["HL-UP-4", "HL-UP-5"] {
        assert_eq!(state(url, n).await?.0, 404, "{n} not written");
    }
    let not_b64 = with_attachments(
        "HL-UP-6",
        json!([{ "content_base64": "%%%%", "mime": "image/png", "name": "x.png" }]),
    );
    let (s, v) = hotline_post(url, "/hotline/v1/orders", &not_b64).await?;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_input")), "{v}");

    // One work order in all: the refused messages made none.
    worker.sync().await?;
    assert_eq!(worker.count(gridwork_core::RecordKind::WorkOrder)?, 1);
    Ok(())
}
both!(uploads_become_photos_the_phone_downloads);
