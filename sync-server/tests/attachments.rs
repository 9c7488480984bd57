//! Attachment endpoints against a real server on 127.0.0.1:0, on both storage backends: chunked
//! upload, resume from the status offset, hash verification, limits, Range downloads, read
//! scope, credentials; and the core's reqwest client end to end.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Mutex;

use common::{TestDevice, TestServer, change, envelope, push, spawn};
use gridwork_core::sync::attachment_client::{AttachmentClient, download_missing, upload_pending};
use gridwork_core::{RecordKind, Role};
use gridwork_sync_server::store::DynStore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GRID_A: &str = "320612/001/001/01";
const GRID_B: &str = "320612/001/001/02";
const MIB: usize = 1024 * 1024;

fn blob(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| ((i * 7919) as u8).wrapping_add(seed)).collect()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("<none>").to_owned()
    }
}

async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Resp { status, headers, body: r.bytes().await.unwrap().to_vec() }
}

async fn put(
    srv: &TestServer,
    cred: Option<&str>,
    hash: &str,
    offset: usize,
    size: usize,
    mime: &str,
    body: &[u8],
) -> Resp {
    let mut rb = srv
        .http
        .put(format!("{}/v1/attachments/{hash}?offset={offset}&size={size}", srv.base))
        .header("content-type", mime)
        .body(body.to_vec());
    if let Some(c) = cred {
        rb = rb.bearer_auth(c);
    }
    send(rb).await
}

async fn get(srv: &TestServer, dev: &TestDevice, path: &str, range: Option<&str>) -> Resp {
    let mut rb = srv.http.get(format!("{}{path}", srv.base)).bearer_auth(&dev.credential);
    if let Some(r) = range {
        rb = rb.header("range", r);
    }
    send(rb).await
}

async fn upload_resume_download(store: DynStore) {
    let srv = spawn(store).await;
    let a = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let head = srv.device(&[(Role::GridHead, GRID_A)], 2).await;
    let other = srv.device(&[(Role::GridWorker, GRID_B)], 3).await;
    let bytes = blob(2 * MIB + 500_000, 1);
    let (hash, size) = (sha(&bytes), bytes.len());
    let cred = Some(a.credential.as_str());

    let st = get(&srv, &a, &format!("/v1/attachments/{hash}/status"), None).await;
    assert_eq!((st.status, st.json()["received"].as_u64()), (200, Some(0)));

    let r = put(&srv, cred, &hash, 0, size, "image/jpeg", &bytes[..MIB]).await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["received"], json!(MIB));
    assert_eq!(r.json()["complete"], json!(false));
    // The client lost the answer and sends a chunk at a wrong offset: 409, nothing stored.
    let r = put(&srv, cred, &hash, 2 * MIB, size, "image/jpeg", &bytes[2 * MIB..]).await;
    assert_eq!((r.status, r.code().as_str()), (409, "offset_mismatch"));
    // Another size or type for the same hash is refused.
    let r = put(&srv, cred, &hash, MIB, size + 1, "image/jpeg", &bytes[MIB..2 * MIB]).await;
    assert_eq!((r.status, r.code().as_str()), (409, "attachment_conflict"));
    // Resume from the status offset (HEAD carries it in headers).
    let h = send(
        srv.http
            .head(format!("{}/v1/attachments/{hash}/status", srv.base))
            .bearer_auth(&a.credential),
    )
    .await;
    assert_eq!(h.status, 200);
    let offset: usize = h.headers["x-attachment-received"].to_str().unwrap().parse().unwrap();
    assert_eq!(offset, MIB);
    // Not downloadable before it is complete.
    let r = get(&srv, &a, &format!("/v1/attachments/{hash}"), None).await;
    assert_eq!((r.status, r.code().as_str()), (404, "attachment_not_found"));
    let mut at = offset;
    while at < size {
        let end = (at + MIB).min(size);
        let r = put(&srv, cred, &hash, at, size, "image/jpeg", &bytes[at..end]).await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        at = end;
        assert_eq!(r.json()["complete"], json!(at == size));
    }
    // Idempotent: a chunk of a complete attachment answers its status.
    let r = put(&srv, cred, &hash, 0, size, "image/jpeg", &bytes[..10]).await;
    assert_eq!((r.status, r.json()["complete"].clone()), (200, json!(true)));

    // Download: whole, ranges, unsatisfiable range.
    let path = format!("/v1/attachments/{hash}");
    let r = get(&srv, &a, &path, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "image/jpeg");
    assert_eq!(r.headers["accept-ranges"], "bytes");
    assert!(r.body == bytes, "downloaded bytes differ");
    let r = get(&srv, &a, &path, Some("bytes=1048000-1049999")).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.headers["content-range"], format!("bytes 1048000-1049999/{size}").as_str());
    assert!(r.body == bytes[1_048_000..1_050_000]);
    let r = get(&srv, &a, &path, Some("bytes=2000000-")).await;
    assert!(r.status == 206 && r.body == bytes[2_000_000..]);
    let r = get(&srv, &a, &path, Some("bytes=-10")).await;
    assert!(r.status == 206 && r.body == bytes[size - 10..]);
    let r = get(&srv, &a, &path, Some(&format!("bytes={size}-"))).await;
    assert_eq!((r.status, r.code().as_str()), (416, "range_not_satisfiable"));

    // Read scope: only devices seeing a record that refers to it (or the uploader).
    let r = get(&srv, &head, &path, None).await;
    assert_eq!((r.status, r.code().as_str()), (403, "out_of_scope"));
    let visit = envelope(RecordKind::Visit, GRID_A, change(&a.actor, "hash", &hash));
    srv.sync(&a, &push(vec![visit])).await;
    assert_eq!(get(&srv, &head, &path, None).await.status, 200);
    let r = get(&srv, &other, &path, None).await;
    assert_eq!((r.status, r.code().as_str()), (403, "out_of_scope"), "grid B sees no grid A photo");
}
both!(upload_resume_download_both, super::upload_resume_download);

async fn integrity_and_limits(store: DynStore) {
    let srv = spawn(store).await;
    let a = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let cred = Some(a.credential.as_str());
    let bytes = blob(300_000, 2);
    let wrong = sha(b"something else");
    // Two chunks, declared under another hash: the completing chunk is refused, all discarded.
    let r = put(&srv, cred, &wrong, 0, bytes.len(), "image/png", &bytes[..200_000]).await;
    assert_eq!(r.status, 200);
    let r = put(&srv, cred, &wrong, 200_000, bytes.len(), "image/png", &bytes[200_000..]).await;
    assert_eq!((r.status, r.code().as_str()), (400, "hash_mismatch"));
    let st = get(&srv, &a, &format!("/v1/attachments/{wrong}/status"), None).await;
    assert_eq!(st.json()["received"], json!(0), "partial data discarded");
    assert_eq!(st.json()["complete"], json!(false));

    let h = sha(&bytes);
    let max = 20 * MIB;
    let r = put(&srv, cred, &h, 0, max + 1, "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (413, "attachment_too_large"));
    let big = blob(MIB + 1, 3);
    let r = put(&srv, cred, &sha(&big), 0, big.len(), "image/png", &big).await;
    assert_eq!((r.status, r.code().as_str()), (413, "chunk_too_large"));
    let r = put(&srv, cred, &h, 0, bytes.len(), "text/html", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (415, "unsupported_media_type"));
    let r = put(&srv, cred, "abc", 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_hash"));
    let r = put(&srv, cred, &h, 0, 10, "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (400, "chunk_out_of_range"));
    let r = send(
        srv.http
            .put(format!("{}/v1/attachments/{h}", srv.base))
            .bearer_auth(&a.credential)
            .header("content-type", "image/png")
            .body(bytes.clone()),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_input"), "offset and size required");
    let r = put(&srv, cred, &h, 0, bytes.len(), "image/png", &[]).await;
    assert_eq!((r.status, r.code().as_str()), (400, "empty_chunk"));
    // Nothing of the refused requests was stored.
    let st = get(&srv, &a, &format!("/v1/attachments/{h}/status"), None).await;
    assert_eq!(st.json()["received"], json!(0));
    // The whole blob in one chunk is fine.
    let r = put(&srv, cred, &h, 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!(r.json()["complete"], json!(true));
}
both!(integrity_and_limits_both, super::integrity_and_limits);

async fn credentials_required(store: DynStore) {
    let srv = spawn(store).await;
    let a = srv.device(&[(Role::GridWorker, GRID_A)], 1).await;
    let bytes = blob(1000, 4);
    let h = sha(&bytes);
    let r = put(&srv, None, &h, 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (401, "missing_credential"));
    let r = put(&srv, Some(&srv.admin), &h, 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (401, "bad_credential"), "admin token is no device");
    for path in [format!("/v1/attachments/{h}"), format!("/v1/attachments/{h}/status")] {
        let r = send(srv.http.get(format!("{}{path}", srv.base))).await;
        assert_eq!((r.status, r.code().as_str()), (401, "missing_credential"), "{path}");
    }
    let r = put(&srv, Some(&a.credential), &h, 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!(r.status, 200);
    let (s, _) = srv.admin_post(&format!("/devices/{}/revoke", a.id), json!({})).await;
    assert_eq!(s, 200);
    let r = get(&srv, &a, &format!("/v1/attachments/{h}"), None).await;
    assert_eq!((r.status, r.code().as_str()), (403, "device_revoked"));
    let r = put(&srv, Some(&a.credential), &h, 0, bytes.len(), "image/png", &bytes).await;
    assert_eq!((r.status, r.code().as_str()), (403, "device_revoked"));
}
both!(credentials_required_both, super::credentials_required);

/// Enrols a core store's actor as a device of a new user.
async fn enrol_store(srv: &TestServer, store: &gridwork_core::Store, role: Role) -> String {
    let user = srv.user(&format!("u{}", store.actor_id()), &[(role, GRID_A)]).await;
    let code = srv.code(user).await;
    let (s, v) = srv
        .enrol_raw(json!({
            "code": code, "actor_id": store.actor_id().to_hex_string(), "device_name": "phone"
        }))
        .await;
    assert_eq!(s, 201, "{v}");
    v["credential"].as_str().unwrap().to_owned()
}

fn core_store(user: &str, role: Role) -> gridwork_core::Store {
    let mut s = gridwork_core::Store::open_in_memory().unwrap();
    s.load_areas(&gridwork_core::demo::areas(2, 2, 2, 2)).unwrap();
    s.sign_in(gridwork_core::SignedInUser {
        user_id: user.into(),
        name: "王芳".into(),
        role,
        scope: gridwork_core::AreaPath::parse(GRID_A).unwrap(),
    })
    .unwrap();
    s
}

async fn client_end_to_end(store: DynStore) {
    let srv = spawn(store).await;
    let mut a = core_store("a", Role::GridWorker);
    let b = core_store("b", Role::GridHead);
    let cred_a = enrol_store(&srv, &a, Role::GridWorker).await;
    let cred_b = enrol_store(&srv, &b, Role::GridHead).await;

    let bytes = blob(MIB + 123_456, 5);
    let photo = a.add_attachment(&bytes, "image/jpeg").unwrap();
    let hh = a
        .households()
        .add(gridwork_core::demo::household(
            &mut gridwork_core::demo::DemoRng::new(1),
            &gridwork_core::AreaPath::parse("320612/001/001/01/01").unwrap(),
        ))
        .unwrap();
    a.visits()
        .record(gridwork_core::VisitInput {
            situation: "拍照留存".into(),
            photos: vec![photo.clone()],
            ..gridwork_core::VisitInput::routine(hh, chrono_now(), gridwork_core::VisitOutcome::Met)
        })
        .unwrap();
    // Push the records (as the sync client would).
    let outbox = a.outbox(usize::MAX).unwrap();
    let dev_a = TestDevice {
        id: uuid::Uuid::nil(),
        credential: cred_a.clone(),
        actor: a.actor_id().clone(),
        user_id: uuid::Uuid::nil(),
    };
    let r = srv.sync(&dev_a, &push(outbox)).await;
    assert!(!r.acks.is_empty());

    // An upload interrupted after its first chunk reached the server (the answer was lost),
    // then a run of the client, which resumes from the server's offset.
    let a = Mutex::new(a);
    let client_a = AttachmentClient::new(&srv.base, &cred_a).unwrap().chunk_bytes(400_000);
    {
        let c = a.lock().unwrap().next_upload_chunk(&photo.hash, 400_000).unwrap().unwrap();
        let r = put(&srv, Some(&cred_a), &photo.hash, 0, bytes.len(), "image/jpeg", &c.bytes).await;
        assert_eq!(r.status, 200);
        // The device never heard the answer: its queue still says 0 bytes sent.
    }
    let mut seen = Vec::new();
    let report = upload_pending(&client_a, &a, &mut |p| seen.push(p.done)).await.unwrap();
    assert_eq!(report.completed, 1, "{report:?}");
    assert_eq!(seen.first(), Some(&800_000), "resumed after the chunk the server held");
    assert_eq!(report.bytes, bytes.len() as u64 - 400_000);
    assert!(a.lock().unwrap().pending_uploads().unwrap().is_empty());

    // B pulls the visit and downloads the photo it refers to.
    let dev_b = TestDevice {
        id: uuid::Uuid::nil(),
        credential: cred_b.clone(),
        actor: b.actor_id().clone(),
        user_id: uuid::Uuid::nil(),
    };
    let pulled = srv.sync(&dev_b, &common::pull(0)).await;
    let mut b = b;
    b.apply_changes(&pulled.changes.into_iter().map(|c| c.change).collect::<Vec<_>>()).unwrap();
    let b = Mutex::new(b);
    let client_b = AttachmentClient::new(&srv.base, &cred_b).unwrap();
    let report = download_missing(&client_b, &b, &mut |_| {}).await.unwrap();
    assert_eq!(report.completed, 1, "{report:?}");
    assert_eq!(b.lock().unwrap().attachment_bytes(&photo.hash).unwrap().unwrap(), bytes);
    let again = download_missing(&client_b, &b, &mut |_| {}).await.unwrap();
    assert_eq!(again.completed, 0, "nothing left to download");

    // The workbench's route: the photo of a record within the caller's scope, sandboxed.
    let r = get(&srv, &dev_b, &format!("/api/v1/attachments/{}", photo.hash), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body == bytes, "the workbench gets the same bytes");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["content-disposition"], "inline");
    assert!(r.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    // A photo no record refers to is nobody's to read there, not even its uploader's.
    let stray = blob(1000, 9);
    let r = put(&srv, Some(&cred_a), &sha(&stray), 0, stray.len(), "image/png", &stray).await;
    assert_eq!(r.status, 200);
    let r = get(&srv, &dev_a, &format!("/api/v1/attachments/{}", sha(&stray)), None).await;
    assert_eq!((r.status, r.code().as_str()), (403, "out_of_scope"));
    // Its uploader still reads it on the device route, never as a page of this origin.
    let r = get(&srv, &dev_a, &format!("/v1/attachments/{}", sha(&stray)), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-disposition"], "inline");
    assert!(r.headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
}
both!(client_end_to_end_both, super::client_end_to_end);

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
