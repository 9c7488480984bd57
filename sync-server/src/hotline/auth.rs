//! Signed requests between Gridwork and a hotline platform, in both directions.
//!
//! The signature is `hex(HMAC-SHA256(secret, "{timestamp}\n{METHOD}\n{path}\n" ‖ body))`, the
//! timestamp in milliseconds since the Unix epoch and the path with its query string. A request
//! is accepted when its platform is known and enabled, its timestamp lies within
//! [`REPLAY_WINDOW_MS`] of the server's clock, the signature matches (compared in constant time
//! by [`hmac::Mac::verify_slice`]) and the same signature was not seen within the window (a
//! replayed request is refused even though it verifies).

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};

use super::HotlineError;
use super::platform::Platform;
use crate::store::{DynStore, now_ms};

/// The header naming the platform.
pub const PLATFORM_HEADER: &str = "x-hotline-platform";
/// The header carrying the timestamp (ms since the Unix epoch).
pub const TIMESTAMP_HEADER: &str = "x-hotline-timestamp";
/// The header carrying the signature (lowercase hex).
pub const SIGNATURE_HEADER: &str = "x-hotline-signature";
/// How far a timestamp may be from the server's clock, either side (ms).
pub const REPLAY_WINDOW_MS: i64 = 5 * 60 * 1000;

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

fn mac(secret: &[u8], timestamp: i64, method: &str, path: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    m.update(format!("{timestamp}\n{method}\n{path}\n").as_bytes());
    m.update(body);
    m
}

/// The signature of a request (lowercase hex).
pub fn sign(secret: &[u8], timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, method, path, body).finalize().into_bytes())
}

/// Whether `signature` (hex) signs the request, compared in constant time.
pub fn verify(
    secret: &[u8],
    timestamp: i64,
    method: &str,
    path: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else { return false };
    mac(secret, timestamp, method, path, body).verify_slice(&given).is_ok()
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, HotlineError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(HotlineError::MissingHeader(name))
}

/// Authenticates a platform's request: returns the platform's id and configuration.
///
/// # Errors
/// 401 [`HotlineError::MissingHeader`], [`HotlineError::UnknownPlatform`],
/// [`HotlineError::TimestampExpired`], [`HotlineError::BadSignature`],
/// [`HotlineError::Replayed`]; 403 [`HotlineError::PlatformDisabled`]; storage errors.
pub async fn authenticate(
    store: &DynStore,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(String, Platform), HotlineError> {
    let id = header(headers, PLATFORM_HEADER)?;
    let timestamp: i64 = header(headers, TIMESTAMP_HEADER)?
        .parse()
        .map_err(|_| HotlineError::MissingHeader(TIMESTAMP_HEADER))?;
    let signature = header(headers, SIGNATURE_HEADER)?;
    let platform = Platform::load(store, id).await?;
    let now = now_ms();
    if (now - timestamp).abs() > REPLAY_WINDOW_MS {
        return Err(HotlineError::TimestampExpired {
            window_secs: REPLAY_WINDOW_MS / 1000,
            now_ms: now,
        });
    }
    if !verify(platform.secret.as_bytes(), timestamp, method, path, body, signature) {
        return Err(HotlineError::BadSignature);
    }
    if !platform.enabled {
        return Err(HotlineError::PlatformDisabled(id.to_owned()));
    }
    let fresh = store
        .hotline()
        .note_signature(id, &signature.to_ascii_lowercase(), now, now - 2 * REPLAY_WINDOW_MS)
        .await?;
    if !fresh {
        return Err(HotlineError::Replayed);
    }
    Ok((id.to_owned(), platform))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_its_own_request() {
        let s = sign(b"k", 1, "POST", "/hotline/v1/orders", b"{}");
        assert!(verify(b"k", 1, "POST", "/hotline/v1/orders", b"{}", &s));
        assert!(!verify(b"k", 2, "POST", "/hotline/v1/orders", b"{}", &s));
        assert!(!verify(b"k", 1, "GET", "/hotline/v1/orders", b"{}", &s));
        assert!(!verify(b"k", 1, "POST", "/hotline/v1/orders", b"{ }", &s));
        assert!(!verify(b"other", 1, "POST", "/hotline/v1/orders", b"{}", &s));
        assert!(!verify(b"k", 1, "POST", "/hotline/v1/orders", b"{}", "zz"));
    }

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2 (key "Jefe"), checked through our framing's raw MAC.
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(b"Jefe").unwrap_or_else(|_| panic!());
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
