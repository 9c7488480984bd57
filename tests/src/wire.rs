//! Hand-built protocol messages and raw HTTP calls, for tests that send what a well-behaved
//! client never would (wrong versions, unknown kinds, forged actors, truncated frames).

use gridwork_core::ChangeEnvelope;
use gridwork_core::protocol::{
    CONTENT_TYPE, MAGIC, MessageType, PROTOCOL_VERSION, SyncRequest, WireMessage, Writer,
};
use serde_json::Value;

use crate::HarnessResult;

/// A message frame with an uncompressed `payload`, any `version` and message type byte.
pub fn frame(version: u8, message_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.push(message_type);
    out.push(0);
    out.push(0);
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The uncompressed payload of a message.
pub fn payload<M: WireMessage>(m: &M) -> Vec<u8> {
    let mut w = Writer::default();
    m.write_payload(&mut w);
    w.into_bytes()
}

/// A sync request pushing `push` (cursor 0), framed uncompressed with protocol `version`.
pub fn sync_request(version: u8, push: Vec<ChangeEnvelope>) -> Vec<u8> {
    let req = SyncRequest { cursor: 0, max_page_bytes: 0, include_own: false, push };
    frame(version, MessageType::SyncRequest as u8, &payload(&req))
}

/// A sync request with one envelope whose kind byte is `kind_code` (e.g. an unknown one),
/// written field by field as `docs/sync-protocol.md` lays it out.
pub fn sync_request_with_kind(e: &ChangeEnvelope, kind_code: u8) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(0);
    w.varint(0);
    w.varint(0);
    w.varint(1);
    w.raw(e.doc_id.as_bytes());
    w.u8(kind_code);
    w.bytes(e.area.as_str().as_bytes());
    w.bytes(&e.bytes);
    frame(PROTOCOL_VERSION, MessageType::SyncRequest as u8, &w.into_bytes())
}

/// An HTTP answer as received.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header (empty when absent).
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    ///
    /// # Errors
    /// When the body is not JSON (the message names status and body).
    pub fn json(&self) -> HarnessResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "answer {} ({}) is not JSON: {e}: {}",
                self.status,
                self.content_type,
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
            .into()
        })
    }

    /// The `error.code` of a JSON error answer, checking the error shape
    /// (`{"error": {"code", "message"}}` with a non-empty message and a JSON content type).
    ///
    /// # Errors
    /// When the answer is not such an error.
    pub fn error_code(&self) -> HarnessResult<String> {
        let v = self.json()?;
        if !self.content_type.starts_with("application/json") {
            return Err(
                format!("error answer has content type {:?}: {v}", self.content_type).into()
            );
        }
        let code = v["error"]["code"].as_str().ok_or_else(|| format!("no error.code in {v}"))?;
        let message = v["error"]["message"].as_str().unwrap_or("");
        if message.is_empty() {
            return Err(format!("no error.message in {v}").into());
        }
        Ok(code.to_owned())
    }
}

/// One raw HTTP request to `url`.
///
/// # Errors
/// Network failures.
pub async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> HarnessResult<Answer> {
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut req = http.request(method, url);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let resp = req.body(body).send().await?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.bytes().await?.to_vec();
    Ok(Answer { status, content_type, body })
}

/// Headers of a protocol request with a device credential.
pub fn protocol_headers(credential: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {credential}")), ("content-type", CONTENT_TYPE.into())]
}
