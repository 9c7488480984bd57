//! Named staff accounts (issue 10, item 3; DESIGN §8): people who work in a browser —
//! command-centre and town operators, grid heads, department handlers, sync admins — sign in
//! with a login name and password to a session kept in an `HttpOnly; Secure; SameSite=Strict`
//! cookie, with a CSRF token for every state-changing request.
//!
//! - [`password`]: the password rules, argon2id hashing and verification;
//! - [`session`]: the [`StaffSession`] extractor that handlers use;
//! - [`login`]: signing in, with lockout per login and throttling per address;
//! - [`config`]: the `[admin]` and `[staff]` configuration;
//! - [`error`]: the refusals and their JSON errors;
//! - [`cli`]: the local `gridwork-server admin …` commands (recovery on the machine).
//!
//! A person is a row of `users` like any device user; a login is optional on it. Storage is
//! [`crate::store::staff::StaffStore`].

pub mod cli;
pub mod config;
pub mod error;
pub mod login;
pub mod password;
pub mod session;

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use config::{AdminConfig, StaffConfig};
pub use error::StaffError;
pub use session::{PendingSession, StaffSession};

/// Addresses tracked by the login throttle before expired entries are swept.
const TRACKED_MAX: usize = 10_000;

/// Staff settings and the login throttle, shared by every request.
pub struct StaffState {
    /// Session lifetimes and lockout rules.
    pub config: StaffConfig,
    /// Whether the shared admin token is accepted.
    pub admin_token_enabled: bool,
    /// Failed logins per source address.
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses told to wait, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl std::fmt::Debug for StaffState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffState")
            .field("config", &self.config)
            .field("admin_token_enabled", &self.admin_token_enabled)
            .finish_non_exhaustive()
    }
}

impl StaffState {
    /// The state for a configuration.
    pub fn new(config: StaffConfig, admin: &AdminConfig) -> Self {
        let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(nz(config.failed_logins_per_minute))
            .allow_burst(nz(config.failed_login_burst));
        StaffState {
            config,
            admin_token_enabled: admin.token_enabled,
            failures: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` must still wait before trying to sign in again, if it must.
    pub fn throttled(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let until = self.blocked.lock().ok()?.get(&ip).copied()?;
        (until > now).then(|| until - now)
    }

    /// Counts a failed login from `ip`; past the address's allowance it must wait.
    pub fn failed(&self, ip: IpAddr) {
        let Err(not_until) = self.failures.check_key(&ip) else { return };
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        tracing::warn!(%ip, wait_secs = wait.as_secs(), "logins throttled for this address");
        if let Ok(mut m) = self.blocked.lock() {
            let now = Instant::now();
            if m.len() >= TRACKED_MAX {
                m.retain(|_, until| *until > now);
                self.failures.retain_recent();
            }
            m.insert(ip, now + wait);
        }
    }
}

/// The canonical form of a login name: trimmed, lower case; 3 to 64 characters of `a-z`,
/// `0-9`, `.`, `_`, `-`, starting with a letter or digit.
///
/// # Errors
/// [`StaffError::BadLoginName`].
pub fn normalize_login(raw: &str) -> Result<String, StaffError> {
    let login = raw.trim().to_ascii_lowercase();
    let ok_chars =
        login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let ok_start = login.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if (3..=64).contains(&login.len()) && ok_chars && ok_start {
        Ok(login)
    } else {
        Err(StaffError::BadLoginName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names() {
        assert_eq!(normalize_login(" WangFang ").unwrap(), "wangfang");
        assert_eq!(normalize_login("zhao.li-01").unwrap(), "zhao.li-01");
        for bad in ["ab", "-abc", "王芳", "a b c", "x'; DROP TABLE users; --", &"a".repeat(65)] {
            assert_eq!(normalize_login(bad), Err(StaffError::BadLoginName), "{bad}");
        }
    }

    #[test]
    fn addresses_are_throttled_after_their_allowance() {
        let config = StaffConfig {
            failed_logins_per_minute: 1,
            failed_login_burst: 2,
            ..StaffConfig::default()
        };
        let s = StaffState::new(config, &AdminConfig::default());
        let ip: IpAddr = [10, 0, 0, 1].into();
        s.failed(ip);
        s.failed(ip);
        assert!(s.throttled(ip).is_none());
        s.failed(ip);
        assert!(s.throttled(ip).is_some());
        assert!(s.throttled([10, 0, 0, 2].into()).is_none());
    }
}
