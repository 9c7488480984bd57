//! HTTP for the sync client: timeouts, retry with exponential backoff on network failures and
//! server errors (5xx, 429), the JSON error shape, cancellation while waiting.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE};

use super::cancel::CancelToken;
use super::config::SyncConfig;
use super::error::{SyncError, SyncResult};
use super::protocol::CONTENT_TYPE as PROTOCOL_TYPE;

/// Installs ring as the process's TLS crypto provider unless one is installed already. The
/// sync client calls it itself; call it before building other `reqwest` clients in the same
/// process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the HTTP client: rustls (no OpenSSL), the configured timeouts.
pub(crate) fn http_client(config: &SyncConfig) -> SyncResult<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| SyncError::Transport { attempts: 0, message: e.to_string(), timeout: false })
}

/// Checks a server base URL and returns it without a trailing slash.
pub(crate) fn normalize_url(url: &str) -> SyncResult<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| SyncError::InvalidServerUrl { url: url.to_owned(), reason: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SyncError::InvalidServerUrl {
            url: url.to_owned(),
            reason: "expected http://HOST[:PORT] or https://HOST[:PORT]".into(),
        });
    }
    Ok(trimmed.to_owned())
}

/// A request to send (possibly several times).
pub(crate) struct Call<'a> {
    pub method: reqwest::Method,
    pub url: String,
    pub credential: Option<&'a str>,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// Retry only failures where the request surely never reached the server (enrolment codes
    /// are one-time: a lost answer must not be retried blindly).
    pub retry_connect_only: bool,
}

/// A successful answer.
pub(crate) struct Answer {
    pub body: Vec<u8>,
    /// The server's `Date`, ms since the epoch.
    pub server_time_ms: Option<i64>,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    change_index: Option<usize>,
}

fn server_error(status: StatusCode, body: &[u8]) -> SyncError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => SyncError::Server {
            status: status.as_u16(),
            code: e.error.code,
            message: e.error.message,
            change_index: e.error.change_index,
        },
        Err(_) => SyncError::Server {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            change_index: None,
        },
    }
}

/// The delay before retry number `attempt` (1-based): base·2^(attempt-1), capped, with up to
/// 25% random jitter so that many devices do not retry in lockstep.
fn backoff(config: &SyncConfig, attempt: u32) -> Duration {
    let exp = config.backoff_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(config.backoff_max);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 25 / 255;
    capped + capped * u32::try_from(jitter).unwrap_or(0) / 100
}

/// One attempt's failure: whether to retry it, and the error if not (or if out of attempts).
enum Failure {
    Retry(SyncError),
    Fatal(SyncError),
}

async fn attempt(
    http: &reqwest::Client,
    call: &Call<'_>,
    attempts: u32,
) -> Result<Answer, Failure> {
    let mut req = http.request(call.method.clone(), &call.url);
    if let Some(c) = call.credential {
        req = req.header(AUTHORIZATION, format!("Bearer {c}"));
    }
    if let Some(ct) = call.content_type {
        req = req.header(CONTENT_TYPE, ct).body(call.body.clone());
    }
    let transport = |e: reqwest::Error| SyncError::Transport {
        attempts,
        message: e.to_string(),
        timeout: e.is_timeout(),
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() || !call.retry_connect_only => {
            return Err(Failure::Retry(transport(e)));
        }
        Err(e) => return Err(Failure::Fatal(transport(e))),
    };
    let status = resp.status();
    let server_time_ms = resp
        .headers()
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| chrono::DateTime::parse_from_rfc2822(s).ok())
        .map(|t| t.timestamp_millis());
    let body = match resp.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) if call.retry_connect_only => return Err(Failure::Fatal(transport(e))),
        Err(e) => return Err(Failure::Retry(transport(e))),
    };
    if status.is_success() {
        return Ok(Answer { body, server_time_ms });
    }
    let err = server_error(status, &body);
    if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
        && !call.retry_connect_only
    {
        Err(Failure::Retry(err))
    } else {
        Err(Failure::Fatal(err))
    }
}

/// Sends `call`, retrying transient failures with backoff; gives up when cancelled.
///
/// `on_retry` is told before each wait.
pub(crate) async fn send(
    http: &reqwest::Client,
    config: &SyncConfig,
    call: &Call<'_>,
    cancel: &CancelToken,
    mut on_retry: impl FnMut(u32),
) -> SyncResult<Answer> {
    let mut attempts = 0u32;
    loop {
        if cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        attempts += 1;
        let result = tokio::select! {
            r = attempt(http, call, attempts) => r,
            () = cancel.cancelled() => return Err(SyncError::Cancelled),
        };
        let err = match result {
            Ok(a) => return Ok(a),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(e)) => e,
        };
        if attempts >= config.max_attempts.max(1) {
            return Err(err);
        }
        tracing::debug!(attempt = attempts, error = %err, "sync request failed; retrying");
        on_retry(attempts);
        tokio::select! {
            () = tokio::time::sleep(backoff(config, attempts)) => {}
            () = cancel.cancelled() => return Err(SyncError::Cancelled),
        }
    }
}

/// The protocol content type, for [`Call::content_type`].
pub(crate) const PROTOCOL: &str = PROTOCOL_TYPE;
