//! Staff logins and sessions in PostgreSQL ([`StaffStore`]): columns of `users` and the
//! `staff_sessions` table of migration 6 (`migrations/postgres/0006_staff.sql`).

use async_trait::async_trait;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::{PgStore, load_user};
use crate::store::staff::{
    LockRule, LockState, NewSession, PasswordWrite, StaffAccount, StaffStore, StoredSession,
};
use crate::store::{StoreError, StoreResult};

/// The account columns of `users`, in the order [`account_where`] reads them.
const ACCOUNT_COLUMNS: &str = "id, login, password_hash, must_change_password, disabled, \
     failed_logins, lockouts, locked_until";

fn count(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The account of a person with a login, by a `WHERE` clause over `users` with one parameter.
async fn account_where(
    c: &impl GenericClient,
    clause: &str,
    param: &str,
) -> StoreResult<Option<StaffAccount>> {
    let sql =
        format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE {clause} AND password_hash IS NOT NULL");
    let Some(r) = c.query_opt(&sql, &[&param]).await? else {
        return Ok(None);
    };
    let id: String = r.get(0);
    let user = load_user(c, &id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} vanished while read")))?;
    Ok(Some(StaffAccount {
        user,
        login: r.get(1),
        password_hash: r.get(2),
        must_change_password: r.get(3),
        disabled: r.get(4),
        failed_logins: count(r.get(5)),
        lockouts: count(r.get(6)),
        locked_until: r.get(7),
    }))
}

/// Ends a person's sessions but `keep`.
async fn end_sessions(
    c: &impl GenericClient,
    user_id: &str,
    keep: Option<[u8; 32]>,
) -> StoreResult<()> {
    let keep = keep.map(|k| k.to_vec()).unwrap_or_default();
    c.execute(
        "DELETE FROM staff_sessions WHERE user_id = $1 AND token_hash <> $2",
        &[&user_id, &keep],
    )
    .await?;
    Ok(())
}

impl PgStore {
    /// Writes a password (and the login, when given), clearing the lockout and ending sessions
    /// but the one kept; `false` when no row matched.
    async fn write_password(&self, login: Option<&str>, w: &PasswordWrite) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = w.user_id.to_string();
        if let Some(login) = login {
            // Serialises grants of one login name.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&login]).await?;
            let holder = tx.query_opt("SELECT id FROM users WHERE login = $1", &[&login]).await?;
            if holder.is_some_and(|h| h.get::<_, String>(0) != id) {
                return Err(StoreError::Conflict { what: "login", id: login.to_owned() });
            }
        }
        let n = tx
            .execute(
                "UPDATE users SET login = coalesce($2, login), password_hash = $3,
                     must_change_password = $4, failed_logins = 0, lockouts = 0,
                     locked_until = NULL
                 WHERE id = $1 AND ($2::text IS NOT NULL OR password_hash IS NOT NULL)",
                &[&id, &login, &w.password_hash, &w.must_change],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        end_sessions(&*tx, &id, w.keep_session).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl StaffStore for PgStore {
    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<StaffAccount>> {
        let c = self.client().await?;
        account_where(&**c, "login = $1", login).await
    }

    async fn staff_by_id(&self, user_id: Uuid) -> StoreResult<Option<StaffAccount>> {
        let c = self.client().await?;
        account_where(&**c, "id = $1", &user_id.to_string()).await
    }

    async fn set_login(&self, login: &str, write: &PasswordWrite) -> StoreResult<bool> {
        self.write_password(Some(login), write).await
    }

    async fn set_password(&self, write: &PasswordWrite) -> StoreResult<bool> {
        self.write_password(None, write).await
    }

    async fn record_login_failure(
        &self,
        user_id: Uuid,
        now: i64,
        rule: LockRule,
    ) -> StoreResult<LockState> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = user_id.to_string();
        let r = tx
            .query_one("SELECT failed_logins, lockouts FROM users WHERE id = $1 FOR UPDATE", &[&id])
            .await?;
        let s = rule.after_failure(count(r.get(0)), count(r.get(1)), now);
        tx.execute(
            "UPDATE users SET failed_logins = $2, lockouts = $3,
                 locked_until = coalesce($4, locked_until) WHERE id = $1",
            &[&id, &int(s.failed_logins), &int(s.lockouts), &s.locked_until],
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn start_session(&self, s: &NewSession) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = s.user_id.to_string();
        tx.execute(
            "UPDATE users SET failed_logins = 0, lockouts = 0, locked_until = NULL WHERE id = $1",
            &[&id],
        )
        .await?;
        // The person's sessions past their absolute expiry go.
        tx.execute(
            "DELETE FROM staff_sessions WHERE user_id = $1 AND expires_at <= $2",
            &[&id, &s.now],
        )
        .await?;
        tx.execute(
            "INSERT INTO staff_sessions (token_hash, user_id, csrf_token, created_at, last_seen,
                 expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
            &[&&s.token_hash[..], &id, &s.csrf_token, &s.now, &s.expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unlock(&self, user_id: Uuid) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE users SET failed_logins = 0, lockouts = 0, locked_until = NULL
                 WHERE id = $1 AND password_hash IS NOT NULL",
                &[&user_id.to_string()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn set_disabled(&self, user_id: Uuid, disabled: bool) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = user_id.to_string();
        let n = tx
            .execute(
                "UPDATE users SET disabled = $2 WHERE id = $1 AND password_hash IS NOT NULL",
                &[&id, &disabled],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        if disabled {
            end_sessions(&*tx, &id, None).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn session(&self, token_hash: [u8; 32]) -> StoreResult<Option<StoredSession>> {
        let c = self.client().await?;
        let Some(r) = c
            .query_opt(
                "SELECT user_id, csrf_token, created_at, last_seen, expires_at
                 FROM staff_sessions WHERE token_hash = $1",
                &[&&token_hash[..]],
            )
            .await?
        else {
            return Ok(None);
        };
        let user_id: String = r.get(0);
        Ok(account_where(&**c, "id = $1", &user_id).await?.map(|account| StoredSession {
            account,
            csrf_token: r.get(1),
            created_at: r.get(2),
            last_seen: r.get(3),
            expires_at: r.get(4),
        }))
    }

    async fn touch_session(&self, token_hash: [u8; 32], now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE staff_sessions SET last_seen = greatest(last_seen, $1) WHERE token_hash = $2",
            &[&now, &&token_hash[..]],
        )
        .await?;
        Ok(())
    }

    async fn end_session(&self, token_hash: [u8; 32]) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute("DELETE FROM staff_sessions WHERE token_hash = $1", &[&&token_hash[..]])
            .await?;
        Ok(n > 0)
    }

    async fn replace_admin_token(&self, hash: [u8; 32], now: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute("LOCK TABLE admin_tokens IN EXCLUSIVE MODE", &[]).await?;
        tx.execute("DELETE FROM admin_tokens", &[]).await?;
        tx.execute(
            "INSERT INTO admin_tokens (hash, created_at) VALUES ($1, $2)",
            &[&&hash[..], &now],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
