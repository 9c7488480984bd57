//! HTTP for the sync client: timeouts, retry with exponential backoff on network failures and
//! server errors (5xx, 429), the JSON error shape, cancellation while waiting.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HeaderMap, RETRY_AFTER};

use super::cancel::CancelToken;
use super::config::SyncConfig;
use super::error::{SyncError, SyncResult};
use crate::protocol::CONTENT_TYPE as PROTOCOL_TYPE;

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

impl<'a> Call<'a> {
    /// A protocol message (`POST`, [`PROTOCOL`] body) to `url` with the device credential;
    /// retried on any transient failure (protocol requests are idempotent).
    pub(crate) fn protocol(url: String, credential: &'a str, body: Vec<u8>) -> Self {
        Call {
            method: reqwest::Method::POST,
            url,
            credential: Some(credential),
            content_type: Some(PROTOCOL),
            body,
            retry_connect_only: false,
        }
    }
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

/// The longest `Retry-After` the client obeys; a longer one (or a misconfigured proxy's) is cut
/// to this, so a sync never hangs for hours on one answer.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The wait an overloaded server asks for (`Retry-After` of a 503 or 429): delay-seconds or an
/// HTTP date, at most [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            let ms = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
            Duration::from_millis(u64::try_from(ms).unwrap_or(0))
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait before retry number `attempt`: the exponential backoff, or longer when the server
/// asked for longer with `Retry-After`.
fn retry_delay(config: &SyncConfig, attempt: u32, server_asked: Option<Duration>) -> Duration {
    let own = backoff(config, attempt);
    server_asked.map_or(own, |asked| asked.max(own))
}

/// One attempt's failure: whether to retry it (after at least the server's `Retry-After`, if
/// it gave one), and the error if not (or if out of attempts).
enum Failure {
    Retry(SyncError, Option<Duration>),
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
            return Err(Failure::Retry(transport(e), None));
        }
        Err(e) => return Err(Failure::Fatal(transport(e))),
    };
    let status = resp.status();
    let asked_wait = retry_after(resp.headers());
    let server_time_ms = resp
        .headers()
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| chrono::DateTime::parse_from_rfc2822(s).ok())
        .map(|t| t.timestamp_millis());
    let body = match resp.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) if call.retry_connect_only => return Err(Failure::Fatal(transport(e))),
        Err(e) => return Err(Failure::Retry(transport(e), None)),
    };
    if status.is_success() {
        return Ok(Answer { body, server_time_ms });
    }
    let err = server_error(status, &body);
    if (status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
        && !call.retry_connect_only
    {
        Err(Failure::Retry(err, asked_wait))
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
        let (err, asked_wait) = match result {
            Ok(a) => return Ok(a),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(e, wait)) => (e, wait),
        };
        if attempts >= config.max_attempts.max(1) {
            return Err(err);
        }
        tracing::debug!(attempt = attempts, error = %err, "sync request failed; retrying");
        on_retry(attempts);
        tokio::select! {
            () = tokio::time::sleep(retry_delay(config, attempts, asked_wait)) => {}
            () = cancel.cancelled() => return Err(SyncError::Cancelled),
        }
    }
}

/// The protocol content type, for [`Call::content_type`].
pub(crate) const PROTOCOL: &str = PROTOCOL_TYPE;

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("x")));
        h
    }

    #[test]
    fn retry_after_is_read_and_bounded() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers("999999")), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
        let past = "Tue, 01 Jan 2019 00:00:00 GMT";
        assert_eq!(retry_after(&headers(past)), Some(Duration::ZERO));
    }

    #[test]
    fn server_wait_stretches_the_backoff() {
        let config = SyncConfig::default();
        let own = backoff(&config, 1);
        assert!(own < Duration::from_secs(1));
        let d = retry_delay(&config, 1, Some(Duration::from_secs(5)));
        assert_eq!(d, Duration::from_secs(5));
        assert!(retry_delay(&config, 1, Some(Duration::ZERO)) >= config.backoff_base);
    }
}
