//! A hotline platform's configuration, set by a sync admin (`PUT /admin/v1/hotline/platforms/{id}`)
//! and stored as JSON (`hotline_platforms`): its signing secret, where its orders land, where
//! steps are delivered, its value mapping and its delivery schedule.

use gridwork_core::AreaPath;
use serde::{Deserialize, Serialize};

use super::HotlineError;
use super::mapping::Mapping;
use super::reconcile::{MIN_EVERY_SECS, Reconcile};
use crate::store::DynStore;

/// Shortest signing secret accepted (bytes).
pub const MIN_SECRET_LEN: usize = 32;

/// Longest delivery timeout (ms): a step's lease outlasts its delivery (see `outbox`).
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// How outbound steps are delivered to a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// The first retry's delay (ms); each later retry doubles it.
    pub retry_base_ms: u64,
    /// The longest delay between retries (ms).
    pub retry_max_ms: u64,
    /// Attempts before a step goes to the dead-letter list.
    pub max_attempts: u32,
    /// How long one delivery may take (ms) before it counts as failed.
    pub timeout_ms: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            retry_base_ms: 1_000,
            retry_max_ms: 300_000,
            max_attempts: 12,
            timeout_ms: 5_000,
        }
    }
}

impl Delivery {
    /// The delay before attempt `attempts + 1`, after `attempts` failures (exponential, capped).
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let factor = 1u64.checked_shl(attempts.saturating_sub(1)).unwrap_or(u64::MAX);
        self.retry_base_ms.saturating_mul(factor).min(self.retry_max_ms)
    }
}

/// A platform's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// A name for people.
    pub name: String,
    /// The shared signing secret (at least [`MIN_SECRET_LEN`] bytes); never shown back.
    pub secret: String,
    /// Where its orders land when a message names no area (usually the district); its first
    /// level is the district whose system person authors the orders.
    pub area: AreaPath,
    /// Where steps are delivered (`POST`); `None`: the platform only polls.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Whether it may send.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// Its values → Gridwork's, over the defaults.
    #[serde(default)]
    pub mapping: Mapping,
    /// Delivery schedule.
    #[serde(default)]
    pub delivery: Delivery,
    /// The daily reconciliation: where the platform lists its open orders, how often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
}

fn enabled_default() -> bool {
    true
}

impl Platform {
    /// Checks the configuration, naming the first bad field.
    ///
    /// # Errors
    /// [`HotlineError::Invalid`].
    pub fn validate(&self) -> Result<(), HotlineError> {
        crate::api::valid_name("name", &self.name)
            .map_err(|e| HotlineError::invalid("name", e.message))?;
        if self.secret.len() < MIN_SECRET_LEN {
            return Err(HotlineError::invalid(
                "secret",
                format!("must be at least {MIN_SECRET_LEN} bytes"),
            ));
        }
        if let Some(url) = &self.endpoint
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(HotlineError::invalid("endpoint", "must be an http(s) URL"));
        }
        if self.delivery.max_attempts == 0
            || self.delivery.timeout_ms == 0
            || self.delivery.timeout_ms > MAX_TIMEOUT_MS
        {
            return Err(HotlineError::invalid(
                "delivery",
                format!("max_attempts must be positive, timeout_ms 1–{MAX_TIMEOUT_MS}"),
            ));
        }
        if let Some(r) = &self.reconcile {
            if !(r.endpoint.starts_with("https://") || r.endpoint.starts_with("http://")) {
                return Err(HotlineError::invalid("reconcile", "endpoint must be an http(s) URL"));
            }
            if r.every_secs < MIN_EVERY_SECS {
                return Err(HotlineError::invalid(
                    "reconcile",
                    format!("every_secs must be at least {MIN_EVERY_SECS}"),
                ));
            }
        }
        self.mapping.validate()
    }

    /// The district (first area level) whose system person authors its orders.
    pub fn district(&self) -> AreaPath {
        let first = self.area.as_str().split('/').next().unwrap_or(self.area.as_str());
        AreaPath::parse(first).unwrap_or_else(|_| self.area.clone())
    }

    /// The configuration as shown to an admin: the secret left out.
    pub fn redacted(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("secret".into(), serde_json::Value::String("(set)".into()));
        }
        v
    }

    /// Loads platform `id`.
    ///
    /// # Errors
    /// [`HotlineError::UnknownPlatform`]; storage errors; a stored configuration that does not
    /// parse (corrupt).
    pub async fn load(store: &DynStore, id: &str) -> Result<Platform, HotlineError> {
        let raw = store
            .hotline()
            .platform(id)
            .await?
            .ok_or_else(|| HotlineError::UnknownPlatform(id.chars().take(64).collect()))?;
        serde_json::from_str(&raw).map_err(|e| {
            HotlineError::Store(crate::store::StoreError::Corrupt(format!("platform {id}: {e}")))
        })
    }
}

/// Whether `id` is a well-formed platform id: 1–32 lowercase ASCII letters, digits, `_` or `-`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
