//! Changes devices set aside: `POST /v1/held`, the admin's list, withhold and restore, on both
//! storage backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestServer, change, envelope, pull, push, spawn};
use gridwork_core::protocol::{
    CONTENT_TYPE, DigestRequest, DigestResponse, FetchRequest, FetchResponse, WireMessage,
};
use gridwork_core::{RecordKind, Role};
use gridwork_sync_server::store::DynStore;
use serde_json::{Value, json};

const GRID: &str = "320612/001/001/01";

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

async fn report(srv: &TestServer, credential: Option<&str>, body: Value) -> (u16, Value) {
    let (s, b) = srv
        .post_raw("/v1/held", credential, Some("application/json"), body.to_string().into_bytes())
        .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn report_withhold_restore(store: DynStore) {
    let srv = spawn(store).await;
    let author = srv.device(&[(Role::GridWorker, GRID)], 1).await;
    let peer = srv.device(&[(Role::GridHead, GRID)], 2).await;
    let other = srv.device(&[(Role::GridWorker, "320612/001/001/02")], 3).await;
    let bad = envelope(RecordKind::Visit, GRID, change(&author.actor, "note", "bad"));
    let good = envelope(RecordKind::Visit, GRID, change(&author.actor, "note", "good"));
    let r = srv.sync(&author, &push(vec![bad.clone(), good.clone()])).await;
    assert_eq!(r.acks.len(), 2);
    let hash = hex::encode(bad.hash().unwrap());

    // The peer reports the first change; a report of an unknown change is ignored.
    let entry = |hash: &str, doc: uuid::Uuid| json!({ "hash": hash, "doc_id": doc, "reason": "apply_failed", "detail": "boom\nline 2" });
    let (s, v) = report(
        &srv,
        Some(&peer.credential),
        json!({ "changes": [entry(&hash, bad.doc_id), entry(&"ab".repeat(32), bad.doc_id),
                            entry(&hash, good.doc_id)] }),
    )
    .await;
    assert_eq!((s, v["recorded"].as_u64(), v["unknown"].as_u64()), (200, Some(1), Some(2)), "{v}");
    // A second device reports it too; the same device again replaces its report.
    let mut e = entry(&hash, bad.doc_id);
    e["reason"] = json!("kind_mismatch");
    let (s, _) = report(&srv, Some(&other.credential), json!({ "changes": [e] })).await;
    assert_eq!(s, 200);
    let (s, _) =
        report(&srv, Some(&peer.credential), json!({ "changes": [entry(&hash, bad.doc_id)] }))
            .await;
    assert_eq!(s, 200);

    let (s, v) = srv.admin_get("/held").await;
    assert_eq!(s, 200, "{v}");
    let list = v["changes"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    let c = &list[0];
    assert_eq!(c["hash"], hash);
    assert_eq!(c["doc_id"], bad.doc_id.to_string());
    assert_eq!(c["kind"], "visit");
    assert_eq!(c["area"], GRID);
    assert_eq!(c["seq"], 1);
    assert!(c["received_at"].as_i64().unwrap() > 0);
    assert_eq!(c["withheld"], false);
    assert_eq!(c["devices"], 2);
    let mut reasons: Vec<&str> =
        c["reports"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    reasons.sort_unstable();
    assert_eq!(reasons, ["apply_failed", "kind_mismatch"]);

    // Withheld: a new device's pull, fetch and digest leave it out.
    let (s, v) = srv.admin_post(&format!("/held/{hash}/withhold"), json!({})).await;
    assert_eq!((s, &v["withheld"], &v["changed"]), (200, &json!(true), &json!(true)), "{v}");
    let (s, v) = srv.admin_post(&format!("/held/{hash}/withhold"), json!({})).await;
    assert_eq!((s, &v["changed"]), (200, &json!(false)), "{v}");
    let newcomer = srv.device(&[(Role::GridHead, GRID)], 4).await;
    let r = srv.sync(&newcomer, &pull(0)).await;
    assert_eq!(r.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![2]);
    assert_eq!(r.next_cursor, 2);
    let (_, body) = srv
        .post_raw(
            "/v1/fetch",
            Some(&newcomer.credential),
            Some(CONTENT_TYPE),
            FetchRequest { doc_ids: vec![bad.doc_id, good.doc_id], max_page_bytes: 0 }.encode(),
        )
        .await;
    let f = FetchResponse::decode(&body).unwrap();
    assert_eq!(f.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![2]);
    let digest = |docs| DigestRequest { area: common::area(GRID), docs };
    let good_only =
        gridwork_core::protocol::DocDigest::from_hashes(good.doc_id, &[good.hash().unwrap()]);
    let empty_bad = gridwork_core::protocol::DocDigest::from_hashes(bad.doc_id, &[]);
    let (_, body) = srv
        .post_raw(
            "/v1/digest",
            Some(&newcomer.credential),
            Some(CONTENT_TYPE),
            digest(vec![good_only, empty_bad]).encode(),
        )
        .await;
    let d = DigestResponse::decode(&body).unwrap();
    assert!(d.divergent.is_empty(), "the withheld change is left out of the digest: {d:?}");
    let (_, v) = srv.admin_get("/held").await;
    assert_eq!(v["changes"][0]["withheld"], true);

    // Restored: served again.
    let (s, v) = srv.admin_post(&format!("/held/{hash}/restore"), json!({})).await;
    assert_eq!((s, &v["changed"]), (200, &json!(true)), "{v}");
    let late = srv.device(&[(Role::GridHead, GRID)], 5).await;
    let r = srv.sync(&late, &pull(0)).await;
    assert_eq!(r.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2]);
    let with_bad =
        gridwork_core::protocol::DocDigest::from_hashes(bad.doc_id, &[bad.hash().unwrap()]);
    let (_, body) = srv
        .post_raw(
            "/v1/digest",
            Some(&late.credential),
            Some(CONTENT_TYPE),
            digest(vec![good_only, with_bad]).encode(),
        )
        .await;
    assert!(DigestResponse::decode(&body).unwrap().divergent.is_empty());

    // Audited, naming action and hash.
    let (_, v) = srv.admin_get("/audit").await;
    let entries = v["entries"].as_array().unwrap();
    for action in ["withhold", "restore"] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == action && e["detail"].as_str().unwrap().contains(&hash)),
            "{action}: {v}"
        );
    }

    // Unknown and malformed hashes, no admin token.
    let (s, v) = srv.admin_post(&format!("/held/{}/withhold", "cd".repeat(32)), json!({})).await;
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    let (s, v) = srv.admin_post("/held/xyz/restore", json!({})).await;
    assert_eq!((s, err_code(&v)), (400, "invalid_input"));
    let r = srv.http.get(format!("{}/admin/v1/held", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = srv
        .http
        .get(format!("{}/admin/v1/held", srv.base))
        .bearer_auth(&peer.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "a device credential is no admin token");
}
both!(report_withhold_restore_t, super::report_withhold_restore);

async fn bad_reports_refused(store: DynStore) {
    let srv = spawn(store).await;
    let dev = srv.device(&[(Role::GridWorker, GRID)], 1).await;
    let ok = json!({ "hash": "ab".repeat(32), "doc_id": uuid::Uuid::nil(), "reason": "apply_failed",
                     "detail": "x" });
    let with = |key: &str, value: Value| {
        let mut e = ok.clone();
        e[key] = value;
        json!({ "changes": [e] })
    };

    // Credentials: none, unknown, the admin token.
    let (s, v) = report(&srv, None, json!({ "changes": [ok.clone()] })).await;
    assert_eq!((s, err_code(&v)), (401, "missing_credential"));
    let fake = format!("gwd_{}", "0".repeat(64));
    let (s, v) = report(&srv, Some(&fake), json!({ "changes": [ok.clone()] })).await;
    assert_eq!((s, err_code(&v)), (401, "bad_credential"));
    let (s, _) = report(&srv, Some(&srv.admin.clone()), json!({ "changes": [ok.clone()] })).await;
    assert_eq!(s, 401);

    let cases = [
        (json!("not json"), "malformed_json"),
        (json!({ "changes": [ok.clone()], "extra": 1 }), "malformed_json"),
        (json!({ "changes": vec![ok.clone(); 1001] }), "too_many_changes"),
        (with("hash", json!("abc")), "invalid_input"),
        (with("hash", json!("zz".repeat(32))), "invalid_input"),
        (with("doc_id", json!("nope")), "invalid_input"),
        (with("reason", json!("")), "invalid_input"),
        (with("reason", json!("Bad Reason")), "invalid_input"),
        (with("reason", json!("r".repeat(65))), "invalid_input"),
        (with("detail", json!("d".repeat(1001))), "invalid_input"),
        (with("detail", json!("a\u{0}b")), "invalid_input"),
        (with("reason", json!(7)), "malformed_json"),
    ];
    for (body, code) in cases {
        let (s, v) = report(&srv, Some(&dev.credential), body.clone()).await;
        assert_eq!((s, err_code(&v)), (400, code), "{body}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (s, v) = report(&srv, Some(&dev.credential), json!({ "changes": [] })).await;
    assert_eq!((s, &v["recorded"]), (200, &json!(0)));
    let (_, v) = srv.admin_get("/held").await;
    assert_eq!(v["changes"], json!([]));

    // A revoked device is refused.
    let (s, _) = srv.admin_post(&format!("/devices/{}/revoke", dev.id), json!({})).await;
    assert_eq!(s, 200);
    let (s, v) = report(&srv, Some(&dev.credential), json!({ "changes": [ok] })).await;
    assert_eq!((s, err_code(&v)), (403, "device_revoked"));
}
both!(bad_reports_refused_t, super::bad_reports_refused);
