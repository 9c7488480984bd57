//! Named staff accounts in storage (issue 10, item 3): the web login of a person of the `users`
//! table, its lockout counters, and browser sessions. One sub-trait, [`StaffStore`], reached by
//! [`super::Store::staff`], implemented by both backends (`sqlite/staff.rs`,
//! `postgres/staff.rs`) over the tables of migration 6.
//!
//! The store holds no policy: password hashing, the password rules, session lifetimes and what a
//! session may do are the `staff` module's; the lockout arithmetic both backends share is
//! [`LockRule::after_failure`].

use async_trait::async_trait;
use uuid::Uuid;

use super::{StoreResult, User};

/// A person's web login, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    /// The person (their roles included).
    pub user: User,
    /// The login name (unique, lower case).
    pub login: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// Whether the password was set by an admin and must be changed before anything else.
    pub must_change_password: bool,
    /// Whether the person is disabled: no login, no session.
    pub disabled: bool,
    /// Failed logins since the last success or lockout.
    pub failed_logins: u32,
    /// Lockouts since the last successful login (each doubles the next one's length).
    pub lockouts: u32,
    /// Locked until then (ms since the epoch), if locked.
    pub locked_until: Option<i64>,
}

impl StaffAccount {
    /// Whether the account is locked at `now`.
    pub fn locked_at(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// The lockout rule: `max_failures` failed logins in a row lock the login for `base_ms`, each
/// further lockout before a successful login twice as long as the one before (at most `max_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockRule {
    /// Failed logins that lock the account.
    pub max_failures: u32,
    /// The first lockout's length, ms.
    pub base_ms: i64,
    /// The longest lockout, ms.
    pub max_ms: i64,
}

/// The lockout counters after a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Failed logins since the last success or lockout.
    pub failed_logins: u32,
    /// Lockouts since the last successful login.
    pub lockouts: u32,
    /// Locked until then, if the failure locked the account.
    pub locked_until: Option<i64>,
}

impl LockRule {
    /// The counters after one more failed login at `now`, given the stored ones: the
    /// `max_failures`-th failure locks the account (the failure count starts again) for
    /// `base_ms · 2^lockouts`, at most `max_ms`.
    pub fn after_failure(self, failed_logins: u32, lockouts: u32, now: i64) -> LockState {
        let failed = failed_logins.saturating_add(1);
        if failed < self.max_failures.max(1) {
            return LockState { failed_logins: failed, lockouts, locked_until: None };
        }
        let factor = 1i64.checked_shl(lockouts.min(30)).unwrap_or(i64::MAX);
        let length = self.base_ms.saturating_mul(factor).min(self.max_ms);
        LockState {
            failed_logins: 0,
            lockouts: lockouts.saturating_add(1),
            locked_until: Some(now.saturating_add(length)),
        }
    }
}

/// A new browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session token (the cookie's value; the token itself is never stored).
    pub token_hash: [u8; 32],
    /// The person.
    pub user_id: Uuid,
    /// The CSRF token bound to the session.
    pub csrf_token: String,
    /// Now (ms since the epoch).
    pub now: i64,
    /// The absolute expiry (ms since the epoch), whatever the activity.
    pub expires_at: i64,
}

/// A stored session with its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The person's account (roles, disabled flag, must-change flag).
    pub account: StaffAccount,
    /// The CSRF token bound to the session.
    pub csrf_token: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// Its last use (ms since the epoch; updated at most once a minute).
    pub last_seen: i64,
    /// Its absolute expiry (ms since the epoch).
    pub expires_at: i64,
}

/// Where a person's login and password are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordWrite {
    /// The person.
    pub user_id: Uuid,
    /// The new argon2id PHC string.
    pub password_hash: String,
    /// Whether the person must change it at their next login (set by an admin).
    pub must_change: bool,
    /// The one session kept (the one changing its own password); every other session of the
    /// person ends.
    pub keep_session: Option<[u8; 32]>,
}

/// Storage of staff logins and sessions.
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// The account with this login name, if any.
    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<StaffAccount>>;
    /// The account of this person, if they have a login.
    async fn staff_by_id(&self, user_id: Uuid) -> StoreResult<Option<StaffAccount>>;
    /// Gives a person a login name and password (replacing any they had), clears the lockout
    /// and ends their sessions. `false` when the person does not exist;
    /// [`super::StoreError::Conflict`] when another person holds the login.
    async fn set_login(&self, login: &str, write: &PasswordWrite) -> StoreResult<bool>;
    /// Replaces a person's password, clears the lockout and ends their sessions but
    /// `write.keep_session`. `false` when the person has no login.
    async fn set_password(&self, write: &PasswordWrite) -> StoreResult<bool>;
    /// Counts a failed login of a person atomically, following `rule`; returns the counters.
    async fn record_login_failure(
        &self,
        user_id: Uuid,
        now: i64,
        rule: LockRule,
    ) -> StoreResult<LockState>;
    /// A successful login: clears the counters, removes the person's sessions past their
    /// absolute expiry and stores the new session, in one transaction.
    async fn start_session(&self, session: &NewSession) -> StoreResult<()>;
    /// Clears a person's lockout. `false` when the person has no login.
    async fn unlock(&self, user_id: Uuid) -> StoreResult<bool>;
    /// Disables (ending every session) or enables a person's login. `false` when the person
    /// has no login.
    async fn set_disabled(&self, user_id: Uuid, disabled: bool) -> StoreResult<bool>;
    /// The session with this token hash, with its person, if it exists (expired or not).
    async fn session(&self, token_hash: [u8; 32]) -> StoreResult<Option<StoredSession>>;
    /// Records a session's use at `now`.
    async fn touch_session(&self, token_hash: [u8; 32], now: i64) -> StoreResult<()>;
    /// Ends one session; returns whether it existed.
    async fn end_session(&self, token_hash: [u8; 32]) -> StoreResult<bool>;
    /// Replaces every admin token by this one (the local `admin reset-token`).
    async fn replace_admin_token(&self, hash: [u8; 32], now: i64) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let rule = LockRule { max_failures: 3, base_ms: 1000, max_ms: 5000 };
        assert_eq!(
            rule.after_failure(0, 0, 10),
            LockState { failed_logins: 1, lockouts: 0, locked_until: None }
        );
        assert_eq!(
            rule.after_failure(2, 0, 10),
            LockState { failed_logins: 0, lockouts: 1, locked_until: Some(1010) }
        );
        assert_eq!(rule.after_failure(2, 1, 10).locked_until, Some(2010));
        assert_eq!(rule.after_failure(2, 2, 10).locked_until, Some(4010));
        assert_eq!(rule.after_failure(2, 3, 10).locked_until, Some(5010));
        assert_eq!(rule.after_failure(2, u32::MAX, 10).locked_until, Some(5010));
    }
}
