//! Server configuration: defaults, then a TOML file, then `GRIDWORK_*` environment variables,
//! then command-line flags (each overriding the one before).

use std::path::{Path, PathBuf};

use serde::Deserialize;

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
        if let Some(v) = get("GRIDWORK_BODY_LIMIT") {
            self.body_limit_bytes = v.parse().map_err(|e: std::num::ParseIntError| {
                ConfigError::Env { var: "GRIDWORK_BODY_LIMIT", message: e.to_string() }
            })?;
        }
        if let Some(v) = get("GRIDWORK_LOG") {
            self.log = v;
        }
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
        std::fs::write(&p, "nonsense = 1\n").unwrap();
        assert!(Config::from_file(&p).is_err());
    }
}
