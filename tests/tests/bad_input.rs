//! Scenario 6: bad input at every endpoint of the real `gridwork-server` — malformed bodies,
//! wrong protocol versions, oversized requests, forged actors, unknown kinds, missing / bad /
//! revoked credentials, expired and replayed enrolment codes. Each gets a 4xx with a JSON error
//! naming the problem; the server keeps serving; nothing of a refused request is stored.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::protocol::{
    CONTENT_TYPE, DigestRequest, FetchRequest, MessageType, PROTOCOL_VERSION, SyncResponse,
    SyncStatus, WireMessage,
};
use gridwork_core::{ChangeEnvelope, RecordKind};
use gridwork_tests::server::ADMIN_TOKEN;
use gridwork_tests::wire::{self, protocol_headers};
use gridwork_tests::{Backend, Device, HarnessResult, Server};
use serde_json::{Value, json};

/// The server's default request body limit (16 MiB); one byte more is refused.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// A well-formed device credential the server never issued.
const UNKNOWN_DEVICE: &str = "gwd_0000000000000000000000000000000000000000000000000000000000000000";
/// A well-formed admin token the server does not know.
const UNKNOWN_ADMIN: &str = "gwa_ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

/// One request that must be refused.
struct Bad {
    what: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

impl Bad {
    fn new(what: &'static str, method: &'static str, path: &str) -> Self {
        Bad {
            what,
            method,
            path: path.to_owned(),
            headers: vec![],
            body: vec![],
            status: 400,
            code: "",
        }
    }
    fn headers(mut self, h: Vec<(&'static str, String)>) -> Self {
        self.headers = h;
        self
    }
    fn body(mut self, b: Vec<u8>) -> Self {
        self.body = b;
        self
    }
    fn json(mut self, v: &Value) -> Self {
        self.headers.push(("content-type", "application/json".into()));
        self.body = serde_json::to_vec(v).unwrap();
        self
    }
    fn expect(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }
}

/// Sends each request and checks the refusal: status, JSON error shape and code. Returns the
/// error bodies.
async fn refuse_all(server: &Server, cases: Vec<Bad>) -> HarnessResult<Vec<Value>> {
    let mut out = Vec::new();
    for c in cases {
        let a = server
            .raw(c.method, &c.path, &c.headers, c.body)
            .await
            .map_err(|e| format!("{} ({} {}): no answer: {e}", c.what, c.method, c.path))?;
        let code = a.error_code().map_err(|e| format!("{}: {e}", c.what))?;
        assert_eq!(
            (a.status, code.as_str()),
            (c.status, c.code),
            "{} ({} {}): {}",
            c.what,
            c.method,
            c.path,
            String::from_utf8_lossy(&a.body)
        );
        out.push(a.json()?);
    }
    assert!(server.healthy().await, "the server keeps serving");
    Ok(out)
}

fn admin_headers(token: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {token}"))]
}

fn device_headers(credential: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {credential}"))]
}

/// Everything the server holds that a refused request could have added to.
#[derive(Debug, PartialEq, Eq)]
struct Holdings {
    log: (u64, u64),
    areas: usize,
    users: usize,
    devices: usize,
    pushes: usize,
}

async fn holdings(server: &Server) -> HarnessResult<Holdings> {
    let count = |v: Value, key: &str| v[key].as_array().map_or(0, Vec::len);
    let pushes = server.audit(None).await?.iter().filter(|e| e["action"] == "push").count();
    Ok(Holdings {
        log: server.log_size().await?,
        areas: count(server.admin("GET", "/areas", None).await?.1, "areas"),
        users: count(server.admin("GET", "/users", None).await?.1, "users"),
        devices: count(server.admin("GET", "/devices", None).await?.1, "devices"),
        pushes,
    })
}

fn outbox(d: &Device) -> HarnessResult<Vec<ChangeEnvelope>> {
    Ok(d.with(|s| s.outbox(usize::MAX))?)
}

/// The protocol endpoints (`/v1/sync`, `/v1/digest`, `/v1/fetch`): credentials, bodies,
/// versions, sizes, and pushed changes the server must not store.
async fn protocol_endpoints_refuse_bad_input(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::new()?;
    let b = Device::new()?;
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    b.enrol_new_user(&server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    a.with(|s| s.households().add(household(1, MICRO_A)))?;
    b.with(|s| s.households().add(household(2, MICRO_A)))?;
    let a_change = outbox(&a)?.remove(0);
    let b_change = outbox(&b)?.remove(0);
    let cred = b.enrolment()?.credential;
    let before = holdings(&server).await?;

    let good = wire::sync_request(PROTOCOL_VERSION, vec![b_change.clone()]);
    let mut corrupt = b_change.clone();
    let last = corrupt.bytes.len() - 1;
    corrupt.bytes[last] ^= 0xff;
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 5);
    let digest = wire::frame(
        PROTOCOL_VERSION,
        MessageType::DigestRequest as u8,
        &wire::payload(&DigestRequest { area: area(GRID_A), docs: vec![] }),
    );
    let too_many = FetchRequest {
        doc_ids: (0..1001).map(|_| uuid::Uuid::now_v7()).collect(),
        max_page_bytes: 0,
    };
    let oversized = vec![0u8; BODY_LIMIT + 1];

    let mut cases = Vec::new();
    for path in ["/v1/sync", "/v1/digest", "/v1/fetch"] {
        let body = match path {
            "/v1/sync" => good.clone(),
            "/v1/digest" => digest.clone(),
            _ => FetchRequest { doc_ids: vec![], max_page_bytes: 0 }.encode(),
        };
        let ct = vec![("content-type", CONTENT_TYPE.to_owned())];
        cases.extend([
            Bad::new("no credential", "POST", path)
                .headers(ct.clone())
                .body(body.clone())
                .expect(401, "missing_credential"),
            Bad::new("not a bearer credential", "POST", path)
                .headers(vec![("authorization", "Basic Z3c6Z3c=".into())])
                .body(body.clone())
                .expect(401, "bad_credential"),
            Bad::new("an admin token as device credential", "POST", path)
                .headers(device_headers(ADMIN_TOKEN))
                .body(body.clone())
                .expect(401, "bad_credential"),
            Bad::new("unknown device credential", "POST", path)
                .headers(protocol_headers(UNKNOWN_DEVICE))
                .body(body.clone())
                .expect(401, "bad_credential"),
            Bad::new("JSON instead of a protocol message", "POST", path)
                .headers(device_headers(&cred))
                .json(&json!({"push": []}))
                .expect(415, "unsupported_media_type"),
            Bad::new("garbage body", "POST", path)
                .headers(protocol_headers(&cred))
                .body(b"hello, server".to_vec())
                .expect(400, "malformed_message"),
            Bad::new("empty body", "POST", path)
                .headers(protocol_headers(&cred))
                .expect(400, "malformed_message"),
            Bad::new("wrong protocol version", "POST", path)
                .headers(protocol_headers(&cred))
                .body(wire::frame(PROTOCOL_VERSION + 1, body.get(5).copied().unwrap_or(1), &[0]))
                .expect(400, "unsupported_protocol_version"),
            Bad::new("oversized request", "POST", path)
                .headers(protocol_headers(&cred))
                .body(oversized.clone())
                .expect(413, "payload_too_large"),
        ]);
    }
    let h = || protocol_headers(&cred);
    cases.extend([
        Bad::new("push with another protocol version", "POST", "/v1/sync")
            .headers(h())
            .body(wire::sync_request(PROTOCOL_VERSION + 1, vec![b_change.clone()]))
            .expect(400, "unsupported_protocol_version"),
        Bad::new("truncated frame", "POST", "/v1/sync")
            .headers(h())
            .body(truncated)
            .expect(400, "malformed_message"),
        // flags 0, cursor 0 written as `80 00` (overlong), page 0, no changes.
        Bad::new("overlong varint", "POST", "/v1/sync")
            .headers(h())
            .body(wire::frame(
                PROTOCOL_VERSION,
                MessageType::SyncRequest as u8,
                &[0, 0x80, 0, 0, 0],
            ))
            .expect(400, "malformed_message"),
        Bad::new("a digest request sent to /v1/sync", "POST", "/v1/sync")
            .headers(h())
            .body(digest.clone())
            .expect(400, "unexpected_message_type"),
        Bad::new("a sync request sent to /v1/digest", "POST", "/v1/digest")
            .headers(h())
            .body(good.clone())
            .expect(400, "unexpected_message_type"),
        Bad::new("forged actor: device A's change pushed by device B", "POST", "/v1/sync")
            .headers(h())
            .body(wire::sync_request(PROTOCOL_VERSION, vec![a_change.clone()]))
            .expect(403, "foreign_actor"),
        Bad::new("own change, then a forged one: all or nothing", "POST", "/v1/sync")
            .headers(h())
            .body(wire::sync_request(PROTOCOL_VERSION, vec![b_change.clone(), a_change.clone()]))
            .expect(403, "foreign_actor"),
        Bad::new("unknown record kind", "POST", "/v1/sync")
            .headers(h())
            .body(wire::sync_request_with_kind(&b_change, 99))
            .expect(400, "unknown_kind"),
        Bad::new("corrupt change bytes", "POST", "/v1/sync")
            .headers(h())
            .body(wire::sync_request(PROTOCOL_VERSION, vec![corrupt]))
            .expect(400, "corrupt_change"),
        Bad::new("fetch of more than 1000 documents", "POST", "/v1/fetch")
            .headers(h())
            .body(too_many.encode())
            .expect(400, "too_many_documents"),
    ]);
    let answers = refuse_all(&server, cases).await?;
    let forged = answers.iter().filter(|v| v["error"]["code"] == "foreign_actor");
    for v in forged {
        assert!(v["error"]["change_index"].is_u64(), "the refusal names the change: {v}");
    }

    // Nothing stored: no change, no push in the audit log; the refusals are audited.
    assert_eq!(holdings(&server).await?, before, "a refused request stored something");
    let b_id = b.enrolment()?.device_id;
    let audit = server.audit(Some(&b_id)).await?;
    let refused: Vec<&str> = audit
        .iter()
        .filter(|e| e["action"] == "refused")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        refused.iter().filter(|d| d.starts_with("foreign_actor")).count() == 2,
        "forged pushes are audited as refused: {refused:?}"
    );

    // The same devices then sync normally; each change is stored once, and each device
    // receives exactly the other's.
    a.sync().await?;
    b.sync().await?;
    a.sync().await?;
    // +1: the district's reference record, authored by the server when the district was
    // registered (issue 11).
    assert_eq!(server.log_size().await?, (3, 3));
    assert_eq!(a.count(RecordKind::Household)?, 2);
    assert_eq!(b.count(RecordKind::Household)?, 2);
    Ok(())
}

/// Enrolment: malformed bodies, unknown, expired and replayed codes; nothing is enrolled.
async fn enrolment_refuses_bad_input(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let user = server.create_user("王芳", "grid_worker", GRID_A).await?;
    let expired = server.enrolment_code(&user).await?;
    assert_eq!(server.expire_enrolment_codes(&user).await?, 1);
    let code = server.enrolment_code(&user).await?;
    let first = Device::new()?;
    first.enrol(&proxy.url, &code).await?;
    let before = holdings(&server).await?;
    let actor = Device::new()?.with(|s| s.actor_id().to_hex_string());
    let enrol = |code: &str, actor: &str| json!({"code": code, "actor_id": actor, "device_name": "测试手机"});
    let p = "/v1/enrol";
    let cases = vec![
        Bad::new("not JSON", "POST", p).body(b"code=1234".to_vec()).expect(400, "malformed_json"),
        Bad::new("missing field", "POST", p)
            .json(&json!({"code": code}))
            .expect(400, "malformed_json"),
        Bad::new("unknown field", "POST", p)
            .json(&json!({"code": code, "actor_id": actor, "device_name": "x", "admin": true}))
            .expect(400, "malformed_json"),
        Bad::new("actor id not hex", "POST", p)
            .json(&enrol(&code, "not-hex"))
            .expect(400, "invalid_input"),
        Bad::new("empty device name", "POST", p)
            .json(&json!({"code": code, "actor_id": actor, "device_name": " "}))
            .expect(400, "invalid_input"),
        Bad::new("unknown code", "POST", p)
            .json(&enrol("ABCD-EFGH-JKMN", &actor))
            .expect(403, "enrolment_code_unknown"),
        Bad::new("expired code", "POST", p)
            .json(&enrol(&expired, &actor))
            .expect(403, "enrolment_code_expired"),
        Bad::new("replayed code", "POST", p)
            .json(&enrol(&code, &actor))
            .expect(403, "enrolment_code_used"),
        Bad::new("oversized request", "POST", p)
            .headers(vec![("content-type", "application/json".into())])
            .body(vec![b' '; BODY_LIMIT + 1])
            .expect(413, "payload_too_large"),
    ];
    refuse_all(&server, cases).await?;
    assert_eq!(holdings(&server).await?, before, "a refused enrolment stored something");
    // Through the real client too: the replayed code is refused with its code.
    let second = Device::new()?;
    match second.enrol(&proxy.url, &code).await {
        Err(gridwork_core::sync::SyncError::Server { status: 403, code, .. })
            if code == "enrolment_code_used" => {}
        other => return Err(format!("expected enrolment_code_used, got {other:?}").into()),
    }
    assert!(second.with(|s| s.user().is_none()), "the refused device is not signed in");
    // A fresh code still works.
    second.enrol(&proxy.url, &server.enrolment_code(&user).await?).await?;
    assert_eq!(holdings(&server).await?.devices, before.devices + 1);
    Ok(())
}

/// The admin API: credentials, malformed and invalid bodies, oversized requests, unknown ids.
async fn admin_api_refuses_bad_input(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let d = Device::new()?;
    d.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let device_cred = d.enrolment()?.credential;
    let before = holdings(&server).await?;
    let ok = || admin_headers(ADMIN_TOKEN);
    let user = json!({"name": "赵敏", "roles": [{"role": "grid_worker", "area": GRID_B}]});
    let mut cases = Vec::new();
    for (method, path) in
        [("GET", "/admin/v1/users"), ("POST", "/admin/v1/users"), ("GET", "/admin/v1/audit")]
    {
        cases.extend([
            Bad::new("no admin token", method, path).json(&user).expect(401, "missing_credential"),
            Bad::new("unknown admin token", method, path)
                .headers(admin_headers(UNKNOWN_ADMIN))
                .json(&user)
                .expect(401, "bad_credential"),
            Bad::new("device credential as admin token", method, path)
                .headers(admin_headers(&device_cred))
                .json(&user)
                .expect(401, "bad_credential"),
        ]);
    }
    cases.extend([
        Bad::new("malformed JSON", "POST", "/admin/v1/users")
            .headers(ok())
            .body(b"{\"name\": ".to_vec())
            .expect(400, "malformed_json"),
        Bad::new("unknown role", "POST", "/admin/v1/users")
            .headers(ok())
            .json(&json!({"name": "赵敏", "roles": [{"role": "mayor", "area": GRID_B}]}))
            .expect(400, "invalid_input"),
        Bad::new("bad area path", "POST", "/admin/v1/users")
            .headers(ok())
            .json(&json!({"name": "赵敏", "roles": [{"role": "grid_worker", "area": "32/x"}]}))
            .expect(400, "invalid_input"),
        Bad::new("no roles", "POST", "/admin/v1/users")
            .headers(ok())
            .json(&json!({"name": "赵敏", "roles": []}))
            .expect(400, "invalid_input"),
        Bad::new("bad area", "POST", "/admin/v1/areas")
            .headers(ok())
            .json(&json!({"path": "not/an/area", "name": "x"}))
            .expect(400, "invalid_input"),
        Bad::new("code for an unknown user", "POST", "/admin/v1/enrolment-codes")
            .headers(ok())
            .json(&json!({"user_id": uuid::Uuid::now_v7()}))
            .expect(404, "not_found"),
        Bad::new("code with a user id that is no UUID", "POST", "/admin/v1/enrolment-codes")
            .headers(ok())
            .json(&json!({"user_id": "王芳"}))
            .expect(400, "malformed_json"),
        Bad::new(
            "revoke an unknown device",
            "POST",
            &format!("/admin/v1/devices/{}/revoke", uuid::Uuid::now_v7()),
        )
        .headers(ok())
        .expect(404, "not_found"),
        Bad::new("revoke a device id that is no UUID", "POST", "/admin/v1/devices/abc/revoke")
            .headers(ok())
            .expect(400, "invalid_input"),
        Bad::new("audit with a bad limit", "GET", "/admin/v1/audit?limit=many")
            .headers(ok())
            .expect(400, "bad_request"),
        Bad::new("oversized request", "POST", "/admin/v1/users")
            .headers(ok())
            .body(vec![b' '; BODY_LIMIT + 1])
            .expect(413, "payload_too_large"),
        Bad::new("unknown endpoint", "GET", "/admin/v1/secrets")
            .headers(ok())
            .expect(404, "not_found"),
        Bad::new("wrong method", "DELETE", "/admin/v1/users")
            .headers(ok())
            .expect(405, "method_not_allowed"),
    ]);
    refuse_all(&server, cases).await?;
    assert_eq!(holdings(&server).await?, before, "a refused admin request stored something");
    // Good requests still work.
    server.create_user("赵敏", "grid_worker", GRID_B).await?;
    assert_eq!(holdings(&server).await?.users, before.users + 1);
    Ok(())
}

/// Device reference data and attachments: credentials (missing, bad, revoked), bad ids, bad
/// queries, types and sizes; nothing stored.
async fn areas_and_attachments_refuse_bad_input(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let d = Device::new()?;
    let revoked = Device::new()?;
    d.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let gone = revoked.enrol_new_user(&server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    let cred = d.enrolment()?.credential;
    let revoked_cred = revoked.enrolment()?.credential;
    revoked.with(|s| s.households().add(household(3, MICRO_A)))?;
    let revoked_push = wire::sync_request(PROTOCOL_VERSION, outbox(&revoked)?);
    server.revoke(&gone.device_id).await?;
    let before = holdings(&server).await?;

    let photo = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes".to_vec();
    let hash = sha256_hex(&photo)?;
    let put =
        |offset: usize, size: usize| format!("/v1/attachments/{hash}?offset={offset}&size={size}");
    let jpeg = |cred: &str| {
        let mut h = device_headers(cred);
        h.push(("content-type", "image/jpeg".into()));
        h
    };
    let wrong = sha256_hex(b"other bytes")?;
    let cases = vec![
        Bad::new("areas without credential", "GET", "/v1/areas").expect(401, "missing_credential"),
        Bad::new("areas with an unknown credential", "GET", "/v1/areas")
            .headers(device_headers(UNKNOWN_DEVICE))
            .expect(401, "bad_credential"),
        Bad::new("upload without credential", "PUT", &put(0, photo.len()))
            .headers(vec![("content-type", "image/jpeg".into())])
            .body(photo.clone())
            .expect(401, "missing_credential"),
        Bad::new("upload with an unknown credential", "PUT", &put(0, photo.len()))
            .headers(jpeg(UNKNOWN_DEVICE))
            .body(photo.clone())
            .expect(401, "bad_credential"),
        Bad::new("upload from a revoked device", "PUT", &put(0, photo.len()))
            .headers(jpeg(&revoked_cred))
            .body(photo.clone())
            .expect(403, "device_revoked"),
        Bad::new("upload to a malformed id", "PUT", "/v1/attachments/abc?offset=0&size=3")
            .headers(jpeg(&cred))
            .body(b"abc".to_vec())
            .expect(400, "invalid_hash"),
        Bad::new("upload without offset and size", "PUT", &format!("/v1/attachments/{hash}"))
            .headers(jpeg(&cred))
            .body(photo.clone())
            .expect(400, "invalid_input"),
        Bad::new(
            "upload with a non-numeric offset",
            "PUT",
            &format!("/v1/attachments/{hash}?offset=x&size=3"),
        )
        .headers(jpeg(&cred))
        .body(photo.clone())
        .expect(400, "invalid_input"),
        Bad::new("upload that is not an image", "PUT", &put(0, photo.len()))
            .headers({
                let mut h = device_headers(&cred);
                h.push(("content-type", "application/x-sh".into()));
                h
            })
            .body(photo.clone())
            .expect(415, "unsupported_media_type"),
        Bad::new(
            "upload of bytes that do not hash to the id",
            "PUT",
            &format!("/v1/attachments/{wrong}?offset=0&size={}", photo.len()),
        )
        .headers(jpeg(&cred))
        .body(photo.clone())
        .expect(400, "hash_mismatch"),
        Bad::new("upload at the wrong offset", "PUT", &put(5, photo.len()))
            .headers(jpeg(&cred))
            .body(photo[5..].to_vec())
            .expect(409, "offset_mismatch"),
        Bad::new("oversized upload request", "PUT", &put(0, BODY_LIMIT + 1))
            .headers(jpeg(&cred))
            .body(vec![0u8; BODY_LIMIT + 1])
            .expect(413, "payload_too_large"),
        Bad::new("download of an unknown attachment", "GET", &format!("/v1/attachments/{hash}"))
            .headers(device_headers(&cred))
            .expect(404, "attachment_not_found"),
        Bad::new("download without credential", "GET", &format!("/v1/attachments/{hash}"))
            .expect(401, "missing_credential"),
        Bad::new("download by a revoked device", "GET", &format!("/v1/attachments/{hash}"))
            .headers(device_headers(&revoked_cred))
            .expect(403, "device_revoked"),
        Bad::new("status of a malformed id", "GET", "/v1/attachments/zz/status")
            .headers(device_headers(&cred))
            .expect(400, "invalid_hash"),
        Bad::new("status without credential", "GET", &format!("/v1/attachments/{hash}/status"))
            .expect(401, "missing_credential"),
    ];
    refuse_all(&server, cases).await?;

    // Revoked: the protocol endpoints answer "revoked" (HTTP 200, the client wipes itself) and
    // store nothing of the push; /v1/areas says so too.
    let a = server.raw("POST", "/v1/sync", &protocol_headers(&revoked_cred), revoked_push).await?;
    assert_eq!(a.status, 200);
    assert_eq!(SyncResponse::decode(&a.body)?.status, SyncStatus::Revoked);
    let areas = server.raw("GET", "/v1/areas", &device_headers(&revoked_cred), vec![]).await?;
    assert_eq!((areas.status, areas.json()?["revoked"].clone()), (200, json!(true)));
    assert_eq!(holdings(&server).await?, before, "a refused request stored something");
    let status = server
        .raw("GET", &format!("/v1/attachments/{hash}/status"), &device_headers(&cred), vec![])
        .await?
        .json()?;
    assert_eq!(status["received"], 0, "no byte of a refused upload is kept: {status}");
    let status = server
        .raw("GET", &format!("/v1/attachments/{wrong}/status"), &device_headers(&cred), vec![])
        .await?
        .json()?;
    assert_eq!(status["received"], 0, "a blob failing its hash check is discarded: {status}");

    // Good requests still work: the upload, the download, the areas.
    let up = server.raw("PUT", &put(0, photo.len()), &jpeg(&cred), photo.clone()).await?;
    assert_eq!((up.status, up.json()?["complete"].clone()), (200, json!(true)));
    let down = server
        .raw("GET", &format!("/v1/attachments/{hash}"), &device_headers(&cred), vec![])
        .await?;
    assert_eq!((down.status, down.body), (200, photo));
    let areas = server.raw("GET", "/v1/areas", &device_headers(&cred), vec![]).await?;
    assert_eq!(areas.status, 200);
    assert!(!areas.json()?["areas"].as_array().ok_or("no areas")?.is_empty());
    Ok(())
}

/// The attachment id (SHA-256, hex) of some bytes, as the core computes it.
fn sha256_hex(bytes: &[u8]) -> HarnessResult<String> {
    Ok(gridwork_core::Store::open_in_memory()?.add_attachment(bytes, "image/jpeg")?.hash)
}

both!(protocol_endpoints_refuse_bad_input);
both!(enrolment_refuses_bad_input);
both!(admin_api_refuses_bad_input);
both!(areas_and_attachments_refuse_bad_input);
