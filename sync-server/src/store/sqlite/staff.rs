//! Staff logins and sessions in SQLite ([`StaffStore`]): columns of `users` and the
//! `staff_sessions` table of migration 6 (`migrations/sqlite/0006_staff.sql`).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, load_user};
use crate::store::staff::{
    LockRule, LockState, NewSession, PasswordWrite, StaffAccount, StaffStore, StoredSession,
};
use crate::store::{StoreError, StoreResult};

/// The account columns of `users`, in the order [`account_of`] reads them.
const ACCOUNT_COLUMNS: &str = "id, login, password_hash, must_change_password, disabled, \
     failed_logins, lockouts, locked_until";

/// The account of a person with a login, by a `WHERE` clause over `users` with one parameter.
fn account_where(c: &Connection, clause: &str, param: &str) -> StoreResult<Option<StaffAccount>> {
    let row = c
        .query_row(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM users WHERE {clause} AND password_hash IS NOT NULL"
            ),
            [param],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, u32>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((id, login, password_hash, must_change, disabled, failed, lockouts, until)) = row
    else {
        return Ok(None);
    };
    let user = load_user(c, &id)?
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} vanished while read")))?;
    Ok(Some(StaffAccount {
        user,
        login,
        password_hash,
        must_change_password: must_change,
        disabled,
        failed_logins: failed,
        lockouts,
        locked_until: until,
    }))
}

/// Ends a person's sessions but `keep`.
fn end_sessions(c: &Connection, user_id: &str, keep: Option<[u8; 32]>) -> StoreResult<()> {
    let keep = keep.map(|k| k.to_vec()).unwrap_or_default();
    c.execute(
        "DELETE FROM staff_sessions WHERE user_id = ? AND token_hash <> ?",
        params![user_id, keep],
    )?;
    Ok(())
}

/// Writes a password (and the login, when given), clearing the lockout and ending sessions but
/// the one kept; `false` when no row matched.
fn write_password(c: &mut Connection, login: Option<&str>, w: &PasswordWrite) -> StoreResult<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = w.user_id.to_string();
    if let Some(login) = login {
        let holder: Option<String> = tx
            .query_row("SELECT id FROM users WHERE login = ?", [login], |r| r.get(0))
            .optional()?;
        if holder.is_some_and(|h| h != id) {
            return Err(StoreError::Conflict { what: "login", id: login.to_owned() });
        }
    }
    let n = tx.execute(
        "UPDATE users SET login = coalesce(?2, login), password_hash = ?3,
             must_change_password = ?4, failed_logins = 0, lockouts = 0, locked_until = NULL
         WHERE id = ?1 AND (?2 IS NOT NULL OR password_hash IS NOT NULL)",
        params![id, login, w.password_hash, w.must_change],
    )?;
    if n == 0 {
        return Ok(false);
    }
    end_sessions(&tx, &id, w.keep_session)?;
    tx.commit()?;
    Ok(true)
}

#[async_trait]
impl StaffStore for SqliteStore {
    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<StaffAccount>> {
        let login = login.to_owned();
        self.read(move |c| account_where(c, "login = ?", &login)).await
    }

    async fn staff_by_id(&self, user_id: Uuid) -> StoreResult<Option<StaffAccount>> {
        self.read(move |c| account_where(c, "id = ?", &user_id.to_string())).await
    }

    async fn set_login(&self, login: &str, write: &PasswordWrite) -> StoreResult<bool> {
        let (login, w) = (login.to_owned(), write.clone());
        self.write(move |c| write_password(c, Some(&login), &w)).await
    }

    async fn set_password(&self, write: &PasswordWrite) -> StoreResult<bool> {
        let w = write.clone();
        self.write(move |c| write_password(c, None, &w)).await
    }

    async fn record_login_failure(
        &self,
        user_id: Uuid,
        now: i64,
        rule: LockRule,
    ) -> StoreResult<LockState> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user_id.to_string();
            let (failed, lockouts): (u32, u32) = tx.query_row(
                "SELECT failed_logins, lockouts FROM users WHERE id = ?",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let s = rule.after_failure(failed, lockouts, now);
            tx.execute(
                "UPDATE users SET failed_logins = ?2, lockouts = ?3,
                     locked_until = coalesce(?4, locked_until) WHERE id = ?1",
                params![id, s.failed_logins, s.lockouts, s.locked_until],
            )?;
            tx.commit()?;
            Ok(s)
        })
        .await
    }

    async fn start_session(&self, s: &NewSession) -> StoreResult<()> {
        let s = s.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = s.user_id.to_string();
            tx.execute(
                "UPDATE users SET failed_logins = 0, lockouts = 0, locked_until = NULL
                 WHERE id = ?",
                [&id],
            )?;
            // The person's sessions past their absolute expiry go.
            tx.execute(
                "DELETE FROM staff_sessions WHERE user_id = ? AND expires_at <= ?",
                params![id, s.now],
            )?;
            tx.execute(
                "INSERT INTO staff_sessions (token_hash, user_id, csrf_token, created_at,
                     last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                params![&s.token_hash[..], id, s.csrf_token, s.now, s.now, s.expires_at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn unlock(&self, user_id: Uuid) -> StoreResult<bool> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE users SET failed_logins = 0, lockouts = 0, locked_until = NULL
                 WHERE id = ? AND password_hash IS NOT NULL",
                [user_id.to_string()],
            )? > 0)
        })
        .await
    }

    async fn set_disabled(&self, user_id: Uuid, disabled: bool) -> StoreResult<bool> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user_id.to_string();
            let n = tx.execute(
                "UPDATE users SET disabled = ? WHERE id = ? AND password_hash IS NOT NULL",
                params![disabled, id],
            )?;
            if n == 0 {
                return Ok(false);
            }
            if disabled {
                end_sessions(&tx, &id, None)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn session(&self, token_hash: [u8; 32]) -> StoreResult<Option<StoredSession>> {
        self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT user_id, csrf_token, created_at, last_seen, expires_at
                     FROM staff_sessions WHERE token_hash = ?",
                    [&token_hash[..]],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, i64>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((user_id, csrf_token, created_at, last_seen, expires_at)) = row else {
                return Ok(None);
            };
            // A session outlives its person's login only if the login was removed by hand.
            Ok(account_where(c, "id = ?", &user_id)?.map(|account| StoredSession {
                account,
                csrf_token,
                created_at,
                last_seen,
                expires_at,
            }))
        })
        .await
    }

    async fn touch_session(&self, token_hash: [u8; 32], now: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE staff_sessions SET last_seen = max(last_seen, ?) WHERE token_hash = ?",
                params![now, &token_hash[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, token_hash: [u8; 32]) -> StoreResult<bool> {
        self.write(move |c| {
            Ok(c.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [&token_hash[..]])? > 0)
        })
        .await
    }

    async fn replace_admin_token(&self, hash: [u8; 32], now: i64) -> StoreResult<()> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM admin_tokens", [])?;
            tx.execute(
                "INSERT INTO admin_tokens (hash, created_at) VALUES (?, ?)",
                params![&hash[..], now],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
