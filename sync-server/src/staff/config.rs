//! Configuration of staff logins and of the shared admin token: the `[admin]` and `[staff]`
//! tables of the server's TOML file.

use serde::Deserialize;

use crate::store::staff::LockRule;

/// The `[admin]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Whether the shared admin token is accepted (`token_enabled`, `GRIDWORK_ADMIN_TOKEN_ENABLED`,
    /// `--no-admin-token`), default true. Turned off, the admin API answers bearer admin tokens
    /// 401 `admin_token_disabled` and only sync admins' sessions reach it; the token's hash stays
    /// stored, and `gridwork-server admin reset-token` still replaces it.
    pub token_enabled: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig { token_enabled: true }
    }
}

/// The `[staff]` table: sessions and login throttling.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaffConfig {
    /// A session unused this long ends, minutes (default 60).
    pub session_idle_minutes: u32,
    /// A session ends this long after the login whatever its use, hours (default 12).
    pub session_max_hours: u32,
    /// Failed logins in a row that lock a login (default 5).
    pub max_failed_logins: u32,
    /// The first lockout's length, minutes (default 15); each further one before a successful
    /// login doubles, up to `max_lockout_minutes`.
    pub lockout_minutes: u32,
    /// The longest lockout, minutes (default 1440, a day).
    pub max_lockout_minutes: u32,
    /// Failed logins one source address may make per minute, sustained (default 10).
    pub failed_logins_per_minute: u32,
    /// Failed logins one source address may make at once (default 20).
    pub failed_login_burst: u32,
}

impl Default for StaffConfig {
    fn default() -> Self {
        StaffConfig {
            session_idle_minutes: 60,
            session_max_hours: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
            max_lockout_minutes: 24 * 60,
            failed_logins_per_minute: 10,
            failed_login_burst: 20,
        }
    }
}

impl StaffConfig {
    /// The idle timeout, ms.
    pub fn idle_ms(&self) -> i64 {
        i64::from(self.session_idle_minutes.max(1)) * 60_000
    }

    /// The absolute session lifetime, ms.
    pub fn max_ms(&self) -> i64 {
        i64::from(self.session_max_hours.max(1)) * 3_600_000
    }

    /// The lockout rule.
    pub fn lock_rule(&self) -> LockRule {
        LockRule {
            max_failures: self.max_failed_logins.max(1),
            base_ms: i64::from(self.lockout_minutes.max(1)) * 60_000,
            max_ms: i64::from(self.max_lockout_minutes.max(self.lockout_minutes).max(1)) * 60_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn tables_parse_and_lock_rule_follows() {
        let c: Config = toml::from_str(
            "[admin]\ntoken_enabled = false\n[staff]\nlockout_minutes = 2\nmax_failed_logins = 3\n",
        )
        .unwrap();
        assert!(!c.admin.token_enabled);
        let rule = c.staff.lock_rule();
        assert_eq!((rule.max_failures, rule.base_ms, rule.max_ms), (3, 120_000, 86_400_000));
        assert!(Config::default().admin.token_enabled);
        assert!(toml::from_str::<Config>("[staff]\nnonsense = 1\n").is_err());
        let mut c = Config::default();
        c.apply_env(|k| (k == "GRIDWORK_ADMIN_TOKEN_ENABLED").then(|| "false".into())).unwrap();
        assert!(!c.admin.token_enabled);
    }
}
