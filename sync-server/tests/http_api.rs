//! The HTTP API against a real server on 127.0.0.1:0, on both storage backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestServer, actor, area, change, envelope, pull, push, spawn, work_order_change};
use gridwork_core::protocol::{
    CONTENT_TYPE, DigestRequest, DigestResponse, DocDigest, FetchRequest, FetchResponse, MAGIC,
    PROTOCOL_VERSION, SyncRequest, SyncStatus, WireMessage, Writer,
};
use gridwork_core::{RecordKind, Role};
use gridwork_sync_server::store::{DynStore, NewEnrolmentCode};
use serde_json::{Value, json};

/// The seqs an answer acknowledged, in push order.
fn seqs(r: &gridwork_core::protocol::SyncResponse) -> Vec<u64> {
    r.acks.iter().map(|a| a.seq).collect()
}

const GRID_A: &str = "320612/001/001/01";
const GRID_B: &str = "320612/001/001/02";

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

async fn round_trip_and_scope(store: DynStore) {
    let srv = spawn(store).await;
    let a = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let b = srv.device(&[(Role::GridHead, GRID_A)], 2).await;
    let liaison = srv.device(&[(Role::Liaison, "320612/001/001/01/02")], 3).await;
    let other = srv.device(&[(Role::GridWorker, GRID_B)], 4).await;

    let h =
        envelope(RecordKind::Household, "320612/001/001/01/02", change(&a.actor, "head", "王芳"));
    let s = envelope(RecordKind::Sensitive, "320612/001/001/01/02", change(&a.actor, "id", "x"));
    let r = srv.sync(&a, &push(vec![h.clone(), s.clone()])).await;
    assert_eq!(r.status, SyncStatus::Ok);
    assert_eq!(seqs(&r), vec![1, 2]);
    assert!(r.acks.iter().all(|a| a.received_at.is_some()), "v2 acks carry receive times");
    let first_times: Vec<_> = r.acks.iter().map(|a| a.received_at).collect();
    assert!(r.changes.is_empty(), "own changes are not echoed");
    assert_eq!(r.next_cursor, 2);

    // Idempotent: the same push again is acked with the same seqs and the original receive
    // times (a retry after a lost answer must not re-time the change), nothing new stored.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = srv.sync(&a, &push(vec![s.clone(), h.clone()])).await;
    assert_eq!(seqs(&r), vec![2, 1]);
    assert_eq!(
        r.acks.iter().map(|a| a.received_at).collect::<Vec<_>>(),
        vec![first_times[1], first_times[0]]
    );
    assert_eq!(srv.store.change_count().await.unwrap(), 2);

    let r = srv.sync(&b, &pull(0)).await;
    assert_eq!(r.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(r.changes[0].change, h);
    let r = srv.sync(&liaison, &pull(0)).await;
    assert_eq!(r.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1], "no sensitive");
    assert_eq!(r.next_cursor, 2);
    let r = srv.sync(&other, &pull(0)).await;
    assert!(r.changes.is_empty(), "grid B sees nothing of grid A");
    // include_own (bootstrap) returns the device's own changes too.
    let mut boot = pull(0);
    boot.include_own = true;
    assert_eq!(srv.sync(&a, &boot).await.changes.len(), 2);
    // A cursor ahead of the log asks for a bootstrap.
    assert_eq!(srv.sync(&a, &pull(99)).await.status, SyncStatus::BootstrapRequired);

    // Repair path: digests and fetch.
    let req = DigestRequest { area: common::area(GRID_A), docs: vec![] };
    let (st, body) =
        srv.post_raw("/v1/digest", Some(&b.credential), Some(CONTENT_TYPE), req.encode()).await;
    assert_eq!(st, 200);
    let d = DigestResponse::decode(&body).unwrap();
    assert_eq!(d.divergent.len(), 2);
    let same = DocDigest::from_hashes(h.doc_id, &[h.hash().unwrap()]);
    let req = DigestRequest { area: common::area(GRID_A), docs: vec![same] };
    let (_, body) =
        srv.post_raw("/v1/digest", Some(&b.credential), Some(CONTENT_TYPE), req.encode()).await;
    assert_eq!(DigestResponse::decode(&body).unwrap().divergent, vec![s.doc_id]);
    let req = FetchRequest { doc_ids: vec![s.doc_id, h.doc_id], max_page_bytes: 0 };
    let (_, body) = srv
        .post_raw("/v1/fetch", Some(&liaison.credential), Some(CONTENT_TYPE), req.encode())
        .await;
    let f = FetchResponse::decode(&body).unwrap();
    assert_eq!(f.changes.len(), 1, "the liaison cannot fetch the sensitive document");

    // Audit and health.
    let (st, v) = srv.admin_get("/audit").await;
    assert_eq!(st, 200);
    let actions: Vec<&str> =
        v["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"push") && actions.contains(&"pull") && actions.contains(&"enrol"));
    let (st, v) = srv.admin_get("/sync-health").await;
    assert_eq!(st, 200);
    assert_eq!(v["head_seq"], 2);
    assert_eq!(v["devices"].as_array().unwrap().len(), 4);
}
both!(round_trip_and_scope_t, super::round_trip_and_scope);

/// A sync request frame with an uncompressed payload, for byte-level tampering.
fn raw_frame(version: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&[version, 1, 0, 0]);
    b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    b.extend_from_slice(payload);
    b
}

async fn expect_nothing_stored(srv: &TestServer) {
    assert_eq!(srv.store.change_count().await.unwrap(), 0, "a refused request stored something");
}

async fn bad_sync_input(store: DynStore) {
    let srv = spawn(store).await;
    let w = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let l = srv.device(&[(Role::Liaison, "320612/001/001/01/01")], 2).await;
    let good = || envelope(RecordKind::Visit, GRID_A, change(&w.actor, "note", "ok"));
    let req = push(vec![good()]).encode();

    // Credentials.
    let (s, b) = srv.post_raw("/v1/sync", None, Some(CONTENT_TYPE), req.clone()).await;
    assert_eq!((s, err_code(&serde_json::from_slice(&b).unwrap())), (401, "missing_credential"));
    let fake = format!("gwd_{}", "0".repeat(64));
    let (s, b) = srv.post_raw("/v1/sync", Some(&fake), Some(CONTENT_TYPE), req.clone()).await;
    assert_eq!((s, err_code(&serde_json::from_slice(&b).unwrap())), (401, "bad_credential"));
    let (s, _) = srv.post_raw("/v1/sync", Some("nonsense"), Some(CONTENT_TYPE), req.clone()).await;
    assert_eq!(s, 401);
    // Content type.
    let (s, b) = srv.post_raw("/v1/sync", Some(&w.credential), Some("application/json"), req).await;
    assert_eq!(
        (s, err_code(&serde_json::from_slice(&b).unwrap())),
        (415, "unsupported_media_type")
    );
    // Malformed body.
    let (s, b) = srv
        .post_raw("/v1/sync", Some(&w.credential), Some(CONTENT_TYPE), b"{\"push\":[]}".to_vec())
        .await;
    assert_eq!((s, err_code(&serde_json::from_slice(&b).unwrap())), (400, "malformed_message"));
    // Wrong protocol version.
    let mut wr = Writer::default();
    push(vec![good()]).write_payload(&mut wr);
    let payload = wr.into_bytes();
    let (s, b) = srv
        .post_raw(
            "/v1/sync",
            Some(&w.credential),
            Some(CONTENT_TYPE),
            raw_frame(PROTOCOL_VERSION + 1, &payload),
        )
        .await;
    assert_eq!(
        (s, err_code(&serde_json::from_slice(&b).unwrap())),
        (400, "unsupported_protocol_version")
    );
    // Unknown kind: flags, cursor, page, count (4 bytes), then the envelope's doc id (16).
    let mut bad = payload.clone();
    bad[4 + 16] = 42;
    let (s, b) = srv
        .post_raw(
            "/v1/sync",
            Some(&w.credential),
            Some(CONTENT_TYPE),
            raw_frame(PROTOCOL_VERSION, &bad),
        )
        .await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!((s, err_code(&v)), (400, "unknown_kind"));
    assert_eq!(v["error"]["change_index"], 0);
    expect_nothing_stored(&srv).await;

    // Forged actor at index 1: the valid change at index 0 is not stored either.
    let forged = envelope(RecordKind::Visit, GRID_A, change(&actor(99), "note", "forged"));
    let (s, v) = srv.sync_err(&w, &push(vec![good(), forged])).await;
    assert_eq!((s, err_code(&v)), (403, "foreign_actor"));
    assert_eq!(v["error"]["change_index"], 1);
    // Another device's actor is foreign too.
    let theirs = envelope(RecordKind::Visit, "320612/001/001/01/01", change(&l.actor, "n", "x"));
    assert_eq!(srv.sync_err(&w, &push(vec![theirs])).await.0, 403);
    // Outside scope.
    let outside = envelope(RecordKind::Visit, GRID_B, change(&w.actor, "note", "x"));
    let (s, v) = srv.sync_err(&w, &push(vec![good(), outside])).await;
    assert_eq!((s, err_code(&v)), (403, "out_of_scope"));
    // A liaison may not write sensitive documents.
    let sens = envelope(RecordKind::Sensitive, "320612/001/001/01/01", change(&l.actor, "id", "x"));
    let (s, v) = srv.sync_err(&l, &push(vec![sens])).await;
    assert_eq!((s, err_code(&v)), (403, "kind_not_allowed"));
    // Corrupt change bytes.
    let corrupt = envelope(RecordKind::Visit, GRID_A, vec![1, 2, 3, 4]);
    let (s, v) = srv.sync_err(&w, &push(vec![corrupt])).await;
    assert_eq!((s, err_code(&v)), (400, "corrupt_change"));
    // A work-order event claiming a role the user does not hold.
    let wo =
        envelope(RecordKind::WorkOrder, GRID_A, work_order_change(&w.actor, "district_centre"));
    let (s, v) = srv.sync_err(&w, &push(vec![wo])).await;
    assert_eq!((s, err_code(&v)), (403, "event_role_not_held"));
    expect_nothing_stored(&srv).await;

    // The held role is accepted; a document pushed under another kind later is a conflict.
    let wo = envelope(RecordKind::WorkOrder, GRID_A, work_order_change(&w.actor, "grid_worker"));
    assert_eq!(seqs(&srv.sync(&w, &push(vec![wo.clone()])).await), vec![1]);
    let mut relabelled = good();
    relabelled.doc_id = wo.doc_id;
    let (s, v) = srv.sync_err(&w, &push(vec![relabelled])).await;
    assert_eq!((s, err_code(&v)), (409, "kind_mismatch"));
    assert_eq!(srv.store.change_count().await.unwrap(), 1);

    // Refusals are audited; the server keeps serving.
    let (_, v) = srv.admin_get("/audit?limit=1000").await;
    let refused =
        v["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "refused").count();
    assert!(refused >= 6, "{refused}");
    let r = srv.http.get(format!("{}/health", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
both!(bad_sync_input_t, super::bad_sync_input);

async fn enrolment_and_admin_errors(store: DynStore) {
    let srv = spawn(store).await;
    let user = srv.user("王芳", &[(Role::GridWorker, GRID_A)]).await;
    let code = srv.code(user).await;
    let hex = actor(5).to_hex_string();
    let body =
        |code: &str, actor: &str| json!({ "code": code, "actor_id": actor, "device_name": "p" });
    let (s, v) = srv.enrol_raw(json!({ "code": 1 })).await;
    assert_eq!((s, err_code(&v)), (400, "malformed_json"));
    let (s, v) = srv.enrol_raw(body(&code, "not hex")).await;
    assert_eq!((s, err_code(&v)), (400, "invalid_input"));
    let (s, v) = srv.enrol_raw(body("AAAA-BBBB-CCCC", &hex)).await;
    assert_eq!((s, err_code(&v)), (403, "enrolment_code_unknown"));
    // Codes are case- and dash-insensitive.
    let (s, _) = srv.enrol_raw(body(&code.to_lowercase().replace('-', ""), &hex)).await;
    assert_eq!(s, 201);
    let (s, v) = srv.enrol_raw(body(&code, &actor(6).to_hex_string())).await;
    assert_eq!((s, err_code(&v)), (403, "enrolment_code_used"));
    // The actor's device belongs to this user: another user's code cannot take it.
    let someone = srv.user("李娟", &[(Role::GridWorker, GRID_A)]).await;
    let code2 = srv.code(someone).await;
    let (s, v) = srv.enrol_raw(body(&code2, &hex)).await;
    assert_eq!((s, err_code(&v)), (409, "actor_taken"));
    // Expired code.
    srv.store
        .create_enrolment_code(&NewEnrolmentCode {
            code_hash: gridwork_sync_server::auth::hash_code("EXPI-REDC-0DE0"),
            user_id: user,
            expires_at: 1,
            created_at: 0,
        })
        .await
        .unwrap();
    let (s, v) = srv.enrol_raw(body("EXPI-REDC-0DE0", &actor(7).to_hex_string())).await;
    assert_eq!((s, err_code(&v)), (403, "enrolment_code_expired"));

    // Admin: credentials, bodies, routes.
    let r = srv.http.get(format!("{}/admin/v1/devices", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = srv
        .http
        .get(format!("{}/admin/v1/devices", srv.base))
        .bearer_auth(format!("gwa_{}", "1".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(err_code(&v), "bad_credential");
    let (s, v) = srv
        .admin_post("/users", json!({ "name": "x", "roles": [{"role": "king", "area": "320612"}] }))
        .await;
    assert_eq!((s, err_code(&v)), (400, "invalid_input"));
    let (s, v) = srv.admin_post("/areas", json!({ "path": "3206", "name": "x" })).await;
    assert_eq!((s, err_code(&v)), (400, "invalid_input"));
    let (s, v) = srv.admin_post("/enrolment-codes", json!({ "user_id": "nope" })).await;
    assert_eq!((s, err_code(&v)), (400, "malformed_json"));
    let (s, v) = srv.admin_get("/nowhere").await;
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    let (s, v) =
        srv.admin_post("/devices/00000000-0000-0000-0000-000000000000/revoke", json!({})).await;
    assert_eq!((s, err_code(&v)), (404, "not_found"));

    // Areas, users, QR.
    let (s, _) = srv.admin_post("/areas", json!({ "path": "320612", "name": "通州区" })).await;
    assert_eq!(s, 201);
    let (_, v) = srv.admin_get("/areas").await;
    assert_eq!(v["areas"][0]["name"], "通州区");
    let (_, v) = srv.admin_get("/users").await;
    assert_eq!(v["users"][0]["roles"][0]["role"], "grid_worker");
    let (_, v) =
        srv.admin_post("/enrolment-codes", json!({ "user_id": user, "ttl_minutes": 5 })).await;
    assert!(v["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(v["qr_terminal"].as_str().unwrap().contains('█'));
    let (_, v) = srv.admin_get("/devices").await;
    assert_eq!(v["devices"].as_array().unwrap().len(), 1);
}
both!(enrolment_and_admin_errors_t, super::enrolment_and_admin_errors);

/// `GET /v1/areas` with a device credential: the status.
async fn areas_status(srv: &TestServer, credential: &Value) -> u16 {
    let r = srv
        .http
        .get(format!("{}/v1/areas", srv.base))
        .bearer_auth(credential.as_str().unwrap())
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// Issue 7 §3: an enrolment whose phone never got to use its credential is completed by
/// enrolling again — with the same code or a fresh one — and audited; refusals stay.
async fn enrolment_retry(store: DynStore) {
    let srv = spawn(store).await;
    let user = srv.user("王芳", &[(Role::GridWorker, GRID_A)]).await;
    let hex = actor(5).to_hex_string();
    let body = |code: &str, actor: &str| json!({ "code": code, "actor_id": actor, "device_name": "王芳的手机" });
    let code = srv.code(user).await;
    let (s, first) = srv.enrol_raw(body(&code, &hex)).await;
    assert_eq!(s, 201, "{first}");
    let device = first["device_id"].as_str().unwrap().to_owned();

    // The same (consumed) code again: the same device, a new credential; the old one is dead.
    let (s, again) = srv.enrol_raw(body(&code, &hex)).await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["device_id"], device.as_str());
    assert_eq!(again["user_id"], first["user_id"]);
    assert_eq!(again["roles"], first["roles"]);
    assert_ne!(again["credential"], first["credential"]);
    assert_eq!(areas_status(&srv, &first["credential"]).await, 401);
    assert_eq!(areas_status(&srv, &again["credential"]).await, 200);

    // A fresh code of the same user: the same again, and that code is consumed.
    let code2 = srv.code(user).await;
    let (s, fresh) = srv.enrol_raw(body(&code2, &hex)).await;
    assert_eq!(s, 201, "{fresh}");
    assert_eq!(fresh["device_id"], device.as_str());
    assert_eq!(areas_status(&srv, &again["credential"]).await, 401);
    assert_eq!(areas_status(&srv, &fresh["credential"]).await, 200);
    let (s, v) = srv.enrol_raw(body(&code2, &actor(6).to_hex_string())).await;
    assert_eq!((s, err_code(&v)), (403, "enrolment_code_used"));
    let (_, v) = srv.admin_get("/devices").await;
    assert_eq!(v["devices"].as_array().unwrap().len(), 1, "one device, never two");

    // Audited: one enrolment, two completions with a renewed credential.
    let (_, v) = srv.admin_get(&format!("/audit?device={device}")).await;
    let details: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "enrol")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    let renewed = gridwork_sync_server::api::enrol::RENEWED;
    assert_eq!(details.iter().filter(|d| d.contains(renewed)).count(), 2, "{details:?}");

    // A revoked device's actor cannot come back, with its own code or a fresh one.
    let (s, _) = srv.admin_post(&format!("/devices/{device}/revoke"), json!({})).await;
    assert_eq!(s, 200);
    let code3 = srv.code(user).await;
    for c in [&code3, &code] {
        let (s, v) = srv.enrol_raw(body(c, &hex)).await;
        assert_eq!((s, err_code(&v)), (403, "device_revoked"));
    }
    // The refused fresh code still enrols another phone.
    let (s, v) = srv.enrol_raw(body(&code3, &actor(7).to_hex_string())).await;
    assert_eq!(s, 201, "{v}");
    assert_ne!(v["device_id"], device.as_str());
}
both!(enrolment_retry_t, super::enrolment_retry);

async fn revocation(store: DynStore) {
    let srv = spawn(store).await;
    let d = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    assert_eq!(srv.sync(&d, &pull(0)).await.status, SyncStatus::Ok);
    let (s, _) = srv.admin_post(&format!("/devices/{}/revoke", d.id), json!({})).await;
    assert_eq!(s, 200);
    // Even a push is answered "revoked" and nothing is stored.
    let e = envelope(RecordKind::Visit, GRID_A, change(&d.actor, "n", "x"));
    let r = srv.sync(&d, &push(vec![e])).await;
    assert_eq!(r.status, SyncStatus::Revoked);
    assert_eq!(srv.store.change_count().await.unwrap(), 0);
    let (_, v) = srv.admin_get("/audit").await;
    assert_eq!(v["entries"][0]["action"], "revoked_contact");
    let (_, v) = srv.admin_get("/devices").await;
    assert_eq!(v["devices"][0]["revoked"], true);
}
both!(revocation_t, super::revocation);

async fn reassignment(store: DynStore) {
    let srv = spawn(store).await;
    for (path, name) in [("320612/001/001/01", "一网格"), ("320612/001/001/02", "二网格")] {
        assert_eq!(srv.admin_post("/areas", json!({ "path": path, "name": name })).await.0, 201);
    }
    let d = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let in_a = |v: &str| {
        envelope(RecordKind::Household, "320612/001/001/01/02", change(&d.actor, "head", v))
    };
    assert_eq!(seqs(&srv.sync(&d, &push(vec![in_a("王芳")])).await), vec![1]);

    // The admin moves the worker to grid B.
    let roles = json!({ "roles": [{ "role": "grid_worker", "area": GRID_B }] });
    let (s, v) = srv.admin_put(&format!("/users/{}/roles", d.user_id), roles.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["roles"], json!([{ "role": "grid_worker", "area": GRID_B }]));
    // The server's checks follow at once: grid A is now out of scope, grid B in.
    let (s, v) = srv.sync_err(&d, &push(vec![in_a("李明")])).await;
    assert_eq!((s, err_code(&v)), (403, "out_of_scope"), "{v}");
    let in_b =
        envelope(RecordKind::Household, "320612/001/001/02/01", change(&d.actor, "head", "赵丽"));
    assert_eq!(seqs(&srv.sync(&d, &push(vec![in_b])).await), vec![2]);
    // The device learns its new roles and areas from /v1/areas.
    let r = srv
        .http
        .get(format!("{}/v1/areas", srv.base))
        .bearer_auth(&d.credential)
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["roles"], json!([{ "role": "grid_worker", "area": GRID_B }]));
    let paths: Vec<&str> =
        v["areas"].as_array().unwrap().iter().filter_map(|a| a["path"].as_str()).collect();
    assert!(paths.contains(&GRID_B) && !paths.contains(&GRID_A), "{paths:?}");
    // Audited.
    let (_, v) = srv.admin_get("/audit").await;
    let assign = v["entries"].as_array().unwrap().iter().find(|e| e["action"] == "assign").unwrap();
    assert_eq!(assign["user_id"], d.user_id.to_string());
    assert_eq!(assign["detail"], format!("grid_worker@{GRID_B}"));

    // Bad input: unknown user, not a UUID, no roles, unknown role, bad area, no token.
    let unknown = format!("/users/{}/roles", uuid::Uuid::now_v7());
    assert_eq!(err_code(&srv.admin_put(&unknown, roles.clone()).await.1), "not_found");
    let path = format!("/users/{}/roles", d.user_id);
    for (p, body, code) in [
        ("/users/nope/roles".to_owned(), roles.clone(), "invalid_input"),
        (path.clone(), json!({ "roles": [] }), "invalid_input"),
        (path.clone(), json!({ "roles": [{ "role": "mayor", "area": GRID_B }] }), "invalid_input"),
        (
            path.clone(),
            json!({ "roles": [{ "role": "grid_worker", "area": "x//y" }] }),
            "invalid_input",
        ),
        (path.clone(), json!({ "role": "grid_worker" }), "malformed_json"),
    ] {
        let (s, v) = srv.admin_put(&p, body).await;
        assert_eq!((s, err_code(&v)), (400, code), "{p}: {v}");
    }
    let r = srv
        .http
        .put(format!("{}/admin/v1{path}", srv.base))
        .body(roles.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (_, v) = srv.admin_get("/users").await;
    assert_eq!(
        v["users"][0]["roles"],
        json!([{ "role": "grid_worker", "area": GRID_B }]),
        "refused edits changed nothing"
    );
}
both!(reassignment_t, super::reassignment);

async fn oversized_and_metrics(store: DynStore) {
    let srv = common::spawn_with_limit(store, 4096).await;
    let d = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let (s, b) =
        srv.post_raw("/v1/sync", Some(&d.credential), Some(CONTENT_TYPE), vec![0u8; 10_000]).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!((s, err_code(&v)), (413, "payload_too_large"));
    expect_nothing_stored(&srv).await;
    let req = SyncRequest { cursor: 0, max_page_bytes: 0, include_own: false, push: vec![] };
    srv.sync(&d, &req).await;
    let text =
        srv.http.get(format!("{}/metrics", srv.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("gridwork_sync_pulls_total 1"), "{text}");
    assert!(text.contains("gridwork_errors_total{status=\"413\",code=\"payload_too_large\"} 1"));
    assert!(text.contains("gridwork_sync_request_duration_seconds_count 1"));
}
both!(oversized_and_metrics_t, super::oversized_and_metrics);

/// Content, not only envelopes: a change that makes a record of another kind than it is
/// addressed as, an event role held only in another grid, and moves between areas.
async fn content_validation(store: DynStore) {
    let srv = spawn(store).await;
    let head_a = srv.device(&[(Role::GridHead, GRID_A)], 1).await;
    let two_grids =
        srv.device(&[(Role::GridHead, GRID_A), (Role::GridWorker, "320612/001/001/02")], 2).await;
    let liaison = srv.device(&[(Role::Liaison, "320612/001/001/01/02")], 3).await;

    // A visit's creation pushed as a household (a new doc id): refused, nothing stored.
    let (s, v) = srv
        .sync_err(
            &head_a,
            &push(vec![envelope(
                RecordKind::Household,
                "320612/001/001/01/02",
                change(&head_a.actor, "kind", "visit"),
            )]),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("kind_mismatch")), "{v}");
    assert_eq!(srv.store.change_count().await.unwrap(), 0);

    // A grid head of grid A holds `grid_head` only there: an event claiming it on an order in
    // grid B is refused, in grid A it is stored.
    let in_b = envelope(
        RecordKind::WorkOrder,
        "320612/001/001/02/01",
        work_order_change(&two_grids.actor, "grid_head"),
    );
    let (s, v) = srv.sync_err(&two_grids, &push(vec![in_b])).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("event_role_not_held")), "{v}");
    let in_a = envelope(
        RecordKind::WorkOrder,
        "320612/001/001/01/01",
        work_order_change(&two_grids.actor, "grid_head"),
    );
    assert_eq!(srv.sync(&two_grids, &push(vec![in_a])).await.acks.len(), 1);

    // Moves: the liaison's household moved by a grid head of the grid is fine; the liaison
    // may not take one from another micro-grid into theirs.
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new().with_actor(head_a.actor.clone());
    doc.put(automerge::ROOT, "kind", "household").unwrap();
    doc.put(automerge::ROOT, "area", "320612/001/001/01/01").unwrap();
    let created = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    let id = uuid::Uuid::now_v7();
    let at = |a: &str, bytes: Vec<u8>| gridwork_core::ChangeEnvelope {
        doc_id: id,
        kind: RecordKind::Household,
        area: area(a),
        bytes,
    };
    srv.sync(&head_a, &push(vec![at("320612/001/001/01/01", created)])).await;
    let mut liaison_doc = doc.fork().with_actor(liaison.actor.clone());
    liaison_doc.put(automerge::ROOT, "area", "320612/001/001/01/02").unwrap();
    let grab = liaison_doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    let (s, v) = srv.sync_err(&liaison, &push(vec![at("320612/001/001/01/02", grab)])).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("move_not_allowed")), "{v}");
    // A move whose envelope names another area than the one it writes.
    doc.put(automerge::ROOT, "area", "320612/001/001/01/02").unwrap();
    let moved = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    let (s, v) =
        srv.sync_err(&head_a, &push(vec![at("320612/001/001/01/01", moved.clone())])).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("area_mismatch")), "{v}");
    srv.sync(&head_a, &push(vec![at("320612/001/001/01/02", moved)])).await;
    let areas = srv.store.doc_areas(&[id]).await.unwrap();
    assert_eq!(areas[0].2, area("320612/001/001/01/02"), "the record moved as a whole");
    // The liaison of the new micro-grid now reads the record's whole history.
    let r = srv.sync(&liaison, &pull(0)).await;
    assert_eq!(r.changes.iter().filter(|c| c.change.doc_id == id).count(), 2);
    assert!(r.changes.iter().all(|c| c.change.area == area("320612/001/001/01/02")));

    // A phone restored from a backup records again: same actor, same sequence number, other
    // content. Refused for good (the phone quarantines it); the log keeps the first.
    let first = envelope(
        RecordKind::Household,
        "320612/001/001/01/01",
        change(&head_a.actor, "head", "甲"),
    );
    let mut again = first.clone();
    again.bytes = change(&head_a.actor, "head", "乙");
    srv.sync(&head_a, &push(vec![first.clone()])).await;
    let before = srv.store.change_count().await.unwrap();
    let (s, v) = srv.sync_err(&head_a, &push(vec![again.clone()])).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("duplicate_seq")), "{v}");
    assert_eq!(v["error"]["change_index"].as_u64(), Some(0), "{v}");
    // Both in one push: refused too, nothing stored.
    let mut twin = envelope(
        RecordKind::Household,
        "320612/001/001/01/01",
        change(&head_a.actor, "head", "丙"),
    );
    let mut twin2 = twin.clone();
    twin2.bytes = change(&head_a.actor, "head", "丁");
    twin.doc_id = uuid::Uuid::now_v7();
    twin2.doc_id = twin.doc_id;
    let (s, v) = srv.sync_err(&head_a, &push(vec![twin, twin2])).await;
    assert_eq!((s, v["error"]["change_index"].as_u64()), (409, Some(1)), "{v}");
    assert_eq!(srv.store.change_count().await.unwrap(), before);
    // The same change again is still simply acknowledged.
    assert_eq!(srv.sync(&head_a, &push(vec![first])).await.acks.len(), 1);

    // Two concurrent moves: whatever order they are pushed in, the record lies where every
    // device's merged document says (Automerge keeps the write with the greater operation id).
    let worker = srv.device(&[(Role::GridWorker, GRID_A)], 4).await;
    for p_first in [true, false] {
        let id = uuid::Uuid::now_v7();
        // A fresh actor per record: equal changes would be one change (stored by hash).
        let mut base =
            automerge::AutoCommit::new().with_actor(automerge::ActorId::from(id.as_bytes()));
        base.put(automerge::ROOT, "kind", "household").unwrap();
        base.put(automerge::ROOT, "area", "320612/001/001/01/01").unwrap();
        let created = base.get_last_local_change().unwrap().raw_bytes().to_vec();
        let at = |a: &str, bytes: Vec<u8>| gridwork_core::ChangeEnvelope {
            doc_id: id,
            kind: RecordKind::Household,
            area: area(a),
            bytes,
        };
        srv.store
            .push(
                uuid::Uuid::nil(),
                0,
                &[gridwork_sync_server::store::NewChange::new(
                    automerge::Change::from_bytes(created.clone()).unwrap().hash().0,
                    at("320612/001/001/01/01", created),
                )],
            )
            .await
            .unwrap();
        let mut p = base.fork().with_actor(head_a.actor.clone());
        p.put(automerge::ROOT, "area", "320612/001/001/01/02").unwrap();
        let mut q = base.fork().with_actor(worker.actor.clone());
        q.put(automerge::ROOT, "area", "320612/001/001/01/03").unwrap();
        let p_move =
            at("320612/001/001/01/02", p.get_last_local_change().unwrap().raw_bytes().to_vec());
        let q_move =
            at("320612/001/001/01/03", q.get_last_local_change().unwrap().raw_bytes().to_vec());
        if p_first {
            srv.sync(&head_a, &push(vec![p_move])).await;
            srv.sync(&worker, &push(vec![q_move])).await;
        } else {
            srv.sync(&worker, &push(vec![q_move])).await;
            srv.sync(&head_a, &push(vec![p_move])).await;
        }
        p.merge(&mut q).unwrap();
        let merged = match automerge::ReadDoc::get(&p, automerge::ROOT, "area").unwrap() {
            Some((automerge::Value::Scalar(v), _)) => v.as_str().unwrap().to_owned(),
            other => panic!("{other:?}"),
        };
        let areas = srv.store.doc_areas(&[id]).await.unwrap();
        assert_eq!(areas[0].2, area(&merged), "pushed P first: {p_first}");
    }
}

both!(content_validation_t, super::content_validation);
