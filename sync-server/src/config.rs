//! Server configuration: defaults, then a TOML file, then `GRIDWORK_*` environment variables,
//! then command-line flags (each overriding the one before).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default of [`Config::max_connections`]: open connections (lowered to fit the process's
/// open-file limit, see `server::connection_cap`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default of [`Config::max_in_flight`]: requests handled at once (health, metrics and the
/// console excepted).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 128;
/// Default of [`Config::memory_budget_bytes`] (96 MiB).
pub const DEFAULT_MEMORY_BUDGET_BYTES: usize = 96 * 1024 * 1024;
/// Default of [`Config::header_timeout_secs`].
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 15;
/// Default of [`Config::body_timeout_secs`]: the device client's whole-request timeout.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// Default of [`Config::requests_per_second`].
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 50;
/// Default of [`Config::request_burst`].
pub const DEFAULT_REQUEST_BURST: u32 = 200;

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An environment variable has an invalid value.
    #[error("invalid value for {var}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Why.
        message: String,
    },
}

/// The server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`GRIDWORK_LISTEN`), default `127.0.0.1:8480`. Put a TLS-terminating
    /// reverse proxy in front for phones.
    pub listen: String,
    /// Directory of the embedded SQLite database (`GRIDWORK_DATA_DIR`), default `./gridwork-data`.
    pub data_dir: PathBuf,
    /// Database URL (`GRIDWORK_DATABASE_URL`): `postgres://…` for PostgreSQL; unset for the
    /// embedded SQLite database in `data_dir`.
    pub database_url: Option<String>,
    /// The URL phones reach the server at (`GRIDWORK_PUBLIC_URL`), put into enrolment QR codes.
    pub public_url: Option<String>,
    /// Largest request body in bytes (`GRIDWORK_BODY_LIMIT`), default 16 MiB.
    pub body_limit_bytes: usize,
    /// Default lifetime of enrolment codes in minutes, default 1440 (a day).
    pub enrolment_ttl_minutes: u32,
    /// Log filter (`GRIDWORK_LOG`), e.g. `info` or `gridwork_sync_server=debug,info`.
    pub log: String,
    /// Most open connections (`GRIDWORK_MAX_CONNECTIONS`), default 4096; never more than the
    /// open-file limit allows. When full, the oldest connection is asked to close (at once when
    /// idle, after its request otherwise), so a flood of idle connections cannot lock out
    /// `/health` or a phone.
    pub max_connections: usize,
    /// Most requests handled at once (`GRIDWORK_MAX_IN_FLIGHT`), default 128; more get 503
    /// `overloaded` with `Retry-After`.
    pub max_in_flight: usize,
    /// Bytes of request bodies and decoded protocol messages held at once
    /// (`GRIDWORK_MEMORY_BUDGET`), default 96 MiB; a request that does not fit gets 503
    /// `overloaded` with `Retry-After`.
    pub memory_budget_bytes: usize,
    /// Longest wait for a request's headers, which is also how long an idle keep-alive
    /// connection is kept (`GRIDWORK_HEADER_TIMEOUT_SECS`), default 15.
    pub header_timeout_secs: u64,
    /// How often automatic supervision looks for overdue work orders
    /// (`GRIDWORK_SUPERVISION_EVERY_SECS`), default 60.
    pub supervision_every_secs: u64,
    /// Seconds added to the server's clock when automatic supervision judges deadlines
    /// (`GRIDWORK_SUPERVISION_CLOCK_OFFSET_SECS`), default 0. For drills and tests only: it lets
    /// a trial run see tomorrow's overdue orders today. Never set it in production.
    pub supervision_clock_offset_secs: i64,
    /// Longest time to receive a whole request body (`GRIDWORK_BODY_TIMEOUT_SECS`), default 60
    /// (the device client's request timeout); slower bodies get 408 `body_timeout`.
    pub body_timeout_secs: u64,
    /// Sustained requests per second one device credential (or the admin token) may make
    /// (`GRIDWORK_RATE_LIMIT`), default 50; more get 429 `rate_limited` with `Retry-After`.
    pub requests_per_second: u32,
    /// Requests one credential may make at once above the sustained rate (`GRIDWORK_RATE_BURST`),
    /// default 200.
    pub request_burst: u32,
    /// Largest single pushed change in bytes (`GRIDWORK_MAX_CHANGE_BYTES`), default 1 MiB;
    /// larger ones are refused with 413 `change_too_large`, which the device quarantines.
    pub max_change_bytes: usize,
    /// The `[admin]` table: whether the shared admin token is accepted.
    pub admin: crate::staff::AdminConfig,
    /// The `[staff]` table: staff sessions and login throttling.
    pub staff: crate::staff::StaffConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8480".into(),
            data_dir: PathBuf::from("gridwork-data"),
            database_url: None,
            public_url: None,
            body_limit_bytes: 16 * 1024 * 1024,
            enrolment_ttl_minutes: 24 * 60,
            log: "info".into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_BYTES,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            supervision_every_secs: 60,
            supervision_clock_offset_secs: 0,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            request_burst: DEFAULT_REQUEST_BURST,
            max_change_bytes: gridwork_core::protocol::limits::DEFAULT_MAX_CHANGE_BYTES,
            admin: crate::staff::AdminConfig::default(),
            staff: crate::staff::StaffConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    ///
    /// # Errors
    /// [`ConfigError::Read`], [`ConfigError::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Applies `GRIDWORK_*` environment variables read through `get`.
    ///
    /// # Errors
    /// [`ConfigError::Env`] for an unparsable number.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("GRIDWORK_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("GRIDWORK_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("GRIDWORK_DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = Some(v);
        }
        if let Some(v) = get("GRIDWORK_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("GRIDWORK_LOG") {
            self.log = v;
        }
        number(&get, "GRIDWORK_BODY_LIMIT", &mut self.body_limit_bytes)?;
        number(&get, "GRIDWORK_MAX_CONNECTIONS", &mut self.max_connections)?;
        number(&get, "GRIDWORK_MAX_IN_FLIGHT", &mut self.max_in_flight)?;
        number(&get, "GRIDWORK_MEMORY_BUDGET", &mut self.memory_budget_bytes)?;
        number(&get, "GRIDWORK_HEADER_TIMEOUT_SECS", &mut self.header_timeout_secs)?;
        number(&get, "GRIDWORK_SUPERVISION_EVERY_SECS", &mut self.supervision_every_secs)?;
        number(
            &get,
            "GRIDWORK_SUPERVISION_CLOCK_OFFSET_SECS",
            &mut self.supervision_clock_offset_secs,
        )?;
        number(&get, "GRIDWORK_BODY_TIMEOUT_SECS", &mut self.body_timeout_secs)?;
        number(&get, "GRIDWORK_RATE_LIMIT", &mut self.requests_per_second)?;
        number(&get, "GRIDWORK_RATE_BURST", &mut self.request_burst)?;
        number(&get, "GRIDWORK_MAX_CHANGE_BYTES", &mut self.max_change_bytes)?;
        number(&get, "GRIDWORK_ADMIN_TOKEN_ENABLED", &mut self.admin.token_enabled)?;
        Ok(())
    }

    /// The database URL in effect: the configured one, or the SQLite file in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => self.data_dir.join("gridwork-server.db").display().to_string(),
        }
    }
}

/// Reads the number in environment variable `var`, if set, into `field`.
fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    field: &mut T,
) -> Result<(), ConfigError>
where
    T::Err: std::fmt::Display,
{
    if let Some(v) = get(var) {
        *field = v
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Env { var, message: e.to_string() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "listen = \"0.0.0.0:9000\"\nbody_limit_bytes = 1024\n").unwrap();
        let mut c = Config::from_file(&p).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        c.apply_env(|k| (k == "GRIDWORK_DATABASE_URL").then(|| "postgres://x/y".to_string()))
            .unwrap();
        assert_eq!(c.effective_database_url(), "postgres://x/y");
        c.apply_env(|k| (k == "GRIDWORK_MAX_IN_FLIGHT").then(|| "7".to_string())).unwrap();
        assert_eq!(c.max_in_flight, 7);
        assert!(c.apply_env(|k| (k == "GRIDWORK_RATE_LIMIT").then(|| "-1".to_string())).is_err());
        std::fs::write(&p, "nonsense = 1\n").unwrap();
        assert!(Config::from_file(&p).is_err());
    }
}
