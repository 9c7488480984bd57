//! Settings of the sync client: timeouts, retries, request sizes.

use std::time::Duration;

/// How the sync client talks to the server. [`SyncConfig::default`] suits phones.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request and its answer.
    pub request_timeout: Duration,
    /// Attempts per request (1 = no retry) for network failures and 5xx/429 answers.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// About how many change bytes one request pushes (the rest follows in the next requests).
    pub max_push_bytes: usize,
    /// Page size asked of the server, in change bytes (0: the server's default, 128 KiB).
    pub page_bytes: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_push_bytes: 1024 * 1024,
            page_bytes: 0,
        }
    }
}
