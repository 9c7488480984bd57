//! Transport guards: what keeps one client — a stranger, a stolen credential, a buggy phone —
//! from exhausting the server (issue 8, item 4).
//!
//! In the order a request meets them (outermost first):
//! 1. **Authenticate before reading a body** ([`device_first`], [`admin_first`]): the
//!    credential in the headers is checked against the store; a stranger gets 401 and the body
//!    is never read (the connection is closed).
//! 2. **Rate per device credential** (`governor`'s GCRA): more than
//!    `requests_per_second` sustained (plus `request_burst`) gets 429 `rate_limited` with
//!    `Retry-After`.
//! 3. **Requests in flight** ([`in_flight`]): at most `max_in_flight` at once; more get 503
//!    `overloaded` with `Retry-After` instead of queueing without bound.
//! 4. **Memory budget** ([`buffer_within_budget`]): the body is read here, within the body
//!    deadline, after reserving its size from a byte budget; a protocol message also reserves
//!    a multiple of its *declared uncompressed* length before anyone decompresses it. A
//!    request that does not fit gets 503 `overloaded` with `Retry-After`.
//!
//! Enrolment (the one unauthenticated write) is throttled per source address instead
//! ([`enrol_throttle`]): after [`ENROL_FAILURE_BURST`] failed codes an address waits, and every
//! failure is logged. `/health`, `/metrics` and the console pass none of these, so they keep
//! answering while the rest is overloaded.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use gridwork_core::protocol::limits::max_payload_bytes;
use gridwork_core::protocol::{CONTENT_TYPE, HEADER_LEN, peek_header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{AppState, device_auth};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};

/// A decoded protocol message takes up to this many times its uncompressed payload in memory
/// (the payload, the decoded structures, the handler's working copies): reserved up front.
pub const DECODE_FACTOR: u64 = 3;
/// The budget is counted in units of this many bytes (a semaphore holds at most `u32` permits
/// per acquisition).
const BUDGET_UNIT: u64 = 1024;
/// `Retry-After` of a 503 `overloaded`, seconds.
pub const OVERLOAD_RETRY_SECS: u64 = 1;
/// Failed enrolment codes an address may try at once before it is slowed down.
pub const ENROL_FAILURE_BURST: u32 = 10;
/// Failed enrolment codes an address may try per minute, sustained.
pub const ENROL_FAILURES_PER_MINUTE: u32 = 10;
/// Addresses tracked by the enrolment throttle before expired entries are swept.
const ENROL_TRACKED_MAX: usize = 10_000;

/// The shared state of the guards.
pub struct Guards {
    /// Requests in flight (the guarded ones).
    in_flight: Arc<Semaphore>,
    /// The byte budget, in [`BUDGET_UNIT`]s.
    budget: Arc<Semaphore>,
    /// Its size in units.
    budget_units: u32,
    /// Requests per device credential (keyed by device id).
    rate: DefaultKeyedRateLimiter<String>,
    /// Failed enrolments per source address.
    enrol_failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses told to wait, and until when.
    enrol_blocked: Mutex<HashMap<IpAddr, Instant>>,
    /// Largest single pushed change.
    pub max_change_bytes: usize,
    /// Longest wait for a request's headers (and idle keep-alive time).
    pub header_timeout: Duration,
    /// Longest time to receive a whole request body.
    pub body_timeout: Duration,
    /// Most open connections wanted (the server lowers it to fit its open-file limit).
    pub max_connections: usize,
}

impl std::fmt::Debug for Guards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guards")
            .field("in_flight", &self.in_flight.available_permits())
            .field("budget_units", &self.budget_units)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Guards {
    /// The guards for a configuration.
    pub fn new(config: &Config) -> Self {
        let units = u32::try_from(config.memory_budget_bytes as u64 / BUDGET_UNIT)
            .unwrap_or(u32::MAX)
            .max(1);
        let rate = Quota::per_second(nonzero(config.requests_per_second))
            .allow_burst(nonzero(config.request_burst));
        let enrol = Quota::per_minute(nonzero(ENROL_FAILURES_PER_MINUTE))
            .allow_burst(nonzero(ENROL_FAILURE_BURST));
        Guards {
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            budget: Arc::new(Semaphore::new(units as usize)),
            budget_units: units,
            rate: RateLimiter::keyed(rate),
            enrol_failures: RateLimiter::keyed(enrol),
            enrol_blocked: Mutex::new(HashMap::new()),
            max_change_bytes: config.max_change_bytes,
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(config.body_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
        }
    }

    /// Reserves `bytes` of the budget (all of it at most), or `None` when it is spent.
    fn reserve(&self, bytes: u64) -> Option<OwnedSemaphorePermit> {
        let units = bytes.div_ceil(BUDGET_UNIT).clamp(1, u64::from(self.budget_units));
        let units = u32::try_from(units).unwrap_or(self.budget_units);
        self.budget.clone().try_acquire_many_owned(units).ok()
    }
}

/// A refusal with a `Retry-After` (seconds, at least 1).
fn retry_later(status: StatusCode, code: &'static str, message: &str, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut r = ApiError::new(status, code, message).into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

/// 503 `overloaded`: the server is busy; the device retries after `Retry-After`.
fn overloaded(what: &str) -> Response {
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        &format!("the server is busy ({what}); retry later"),
        Duration::from_secs(OVERLOAD_RETRY_SECS),
    )
}

/// Whether a request carries a body (declared length above 0, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || declared_length(headers).is_some_and(|n| n > 0)
}

/// The `Content-Length` a request declares.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// A refusal sent without reading the body: the connection is closed after it, since the
/// unread body cannot be skipped.
pub(crate) fn unread(headers: &HeaderMap, mut r: Response) -> Response {
    if has_body(headers) {
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// Checks the per-credential rate, keyed by `key`: the 429 answer when it is exceeded.
pub(crate) fn check_rate(g: &Guards, key: String) -> Option<Response> {
    g.rate.check_key(&key).err().map(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests with this credential; retry later",
            wait,
        )
    })
}

/// Authenticates the device credential from the headers before the body is read, and checks
/// its rate. The device (revoked ones too) is put into the request's extensions.
pub async fn device_first(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth = match device_auth(&st, req.headers()).await {
        Ok(a) => a,
        Err(e) => return unread(req.headers(), e.into_response()),
    };
    if let Some(r) = check_rate(&st.guards, auth.device.id.to_string()) {
        return unread(req.headers(), r);
    }
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// Authenticates the admin token or a sync admin's session before the body is read (see
/// [`super::admin_auth::admin_first`], which this is).
pub async fn admin_first(st: State<AppState>, req: Request, next: Next) -> Response {
    super::admin_auth::admin_first(st, req, next).await
}

/// Admits at most `max_in_flight` requests at once; the rest get 503 with `Retry-After`.
pub async fn in_flight(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = st.guards.in_flight.clone().try_acquire_owned() else {
        return unread(req.headers(), overloaded("too many requests at once"));
    };
    next.run(req).await
}

/// Reads the request body (at most `body_limit` bytes) within the memory budget and the body
/// deadline (enforced by the layer outside), then hands it on. A protocol message additionally reserves
/// [`DECODE_FACTOR`] times its declared uncompressed length (at most its type's cap) before
/// the handler decompresses it. The reservation is held until the answer is ready.
pub async fn buffer_within_budget(
    st: AppState,
    body_limit: usize,
    req: Request,
    next: Next,
) -> Response {
    let g = &st.guards;
    if !has_body(req.headers()) || matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let limit = body_limit as u64;
    let expect = declared_length(req.headers()).unwrap_or(limit).min(limit);
    let Some(mut held) = g.reserve(expect) else {
        return unread(req.headers(), overloaded("memory budget spent"));
    };
    let (parts, mut body) = req.into_parts();
    let mut buf = Vec::with_capacity(usize::try_from(expect).unwrap_or(0));
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Ok(frame)) => {
                if let Some(d) = frame.data_ref() {
                    if (buf.len() + d.len()) as u64 > limit {
                        return ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                            format!("request body exceeds the server's limit of {limit} bytes"),
                        )
                        .into_response();
                    }
                    buf.extend_from_slice(d);
                }
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "request body not received");
                let mut r = ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the request body was not received in time",
                )
                .into_response();
                r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return r;
            }
        }
    }
    let is_protocol = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim() == CONTENT_TYPE);
    if is_protocol && buf.len() >= HEADER_LEN {
        // A header that does not parse is refused by the handler; only sizes matter here.
        if let Ok(h) = peek_header(&buf) {
            let declared = u64::from(h.payload_len.min(max_payload_bytes(h.message_type)));
            match g.reserve(declared * DECODE_FACTOR) {
                Some(more) => held.merge(more),
                None => return overloaded("memory budget spent"),
            }
        }
    }
    let res = next.run(Request::from_parts(parts, Body::from(buf))).await;
    drop(held);
    res
}

/// Throttles enrolment per source address: an address that has failed more than
/// [`ENROL_FAILURE_BURST`] codes (then [`ENROL_FAILURES_PER_MINUTE`] a minute) gets 429
/// `enrolment_throttled` with `Retry-After` until it may try again. Every failure is logged.
pub async fn enrol_throttle(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let g = &st.guards;
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let Some(ip) = ip else { return next.run(req).await };
    let now = Instant::now();
    let blocked = g
        .enrol_blocked
        .lock()
        .map(|m| m.get(&ip).copied().filter(|until| *until > now))
        .unwrap_or(None);
    if let Some(until) = blocked {
        tracing::warn!(%ip, "enrolment attempt refused: too many failed codes from this address");
        let r = retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "enrolment_throttled",
            "too many failed enrolment codes from this address; retry later",
            until - now,
        );
        return unread(req.headers(), r);
    }
    let res = next.run(req).await;
    let failed = res
        .extensions()
        .get::<ErrorCode>()
        .is_some_and(|ErrorCode(c)| c.starts_with("enrolment_code_"));
    if failed {
        tracing::warn!(%ip, code = ?res.extensions().get::<ErrorCode>().map(|c| c.0), "failed enrolment attempt");
        if let Err(not_until) = g.enrol_failures.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::warn!(%ip, wait_secs = wait.as_secs(), "enrolment throttled for this address");
            if let Ok(mut m) = g.enrol_blocked.lock() {
                if m.len() >= ENROL_TRACKED_MAX {
                    m.retain(|_, until| *until > now);
                    g.enrol_failures.retain_recent();
                }
                m.insert(ip, now + wait);
            }
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guards(budget: usize) -> Guards {
        Guards::new(&Config { memory_budget_bytes: budget, ..Config::default() })
    }

    #[test]
    fn budget_is_reserved_and_returned() {
        let g = guards(10 * 1024);
        let a = g.reserve(6 * 1024).unwrap();
        assert!(g.reserve(6 * 1024).is_none(), "over budget");
        let b = g.reserve(4 * 1024).unwrap();
        drop(a);
        drop(b);
        // More than the whole budget takes all of it rather than never fitting.
        assert!(g.reserve(1 << 30).is_some());
    }

    #[test]
    fn rate_is_limited_per_credential() {
        let g =
            Guards::new(&Config { requests_per_second: 1, request_burst: 2, ..Config::default() });
        assert!(check_rate(&g, "a".into()).is_none());
        assert!(check_rate(&g, "a".into()).is_none());
        let r = check_rate(&g, "a".into()).unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().contains_key(header::RETRY_AFTER));
        assert!(check_rate(&g, "b".into()).is_none(), "another credential is not slowed");
    }

    #[test]
    fn retry_after_rounds_up() {
        let r = retry_later(StatusCode::SERVICE_UNAVAILABLE, "x", "y", Duration::from_millis(1500));
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = retry_later(StatusCode::SERVICE_UNAVAILABLE, "x", "y", Duration::ZERO);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
