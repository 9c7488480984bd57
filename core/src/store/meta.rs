//! Device-level settings kept in the `meta` table: the signed-in user and small counters.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::area::AreaPath;
use crate::error::{CoreError, Result};
use crate::role::Role;

/// The person using this device: who records what is recorded here, and where they may work.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    /// The user's id on the server.
    pub user_id: String,
    /// Display name, e.g. `李娟`.
    pub name: String,
    /// The role they act in on this device.
    pub role: Role,
    /// The area their role covers; records are created only inside it.
    pub scope: AreaPath,
}

impl Store {
    /// Reads a raw setting.
    pub(crate) fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a raw setting in its own transaction.
    pub(crate) fn meta_set(&mut self, key: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub(super) fn load_user(&self) -> Result<Option<SignedInUser>> {
        match self.meta_get("user")? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CoreError::corrupt("user", e.to_string())),
        }
    }

    /// Signs `user` in on this device; every record written from now on names them.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `user_id` or `name` when empty; storage errors.
    pub fn sign_in(&mut self, user: SignedInUser) -> Result<()> {
        crate::validate::required("user_id", &user.user_id)?;
        crate::validate::required("name", &user.name)?;
        let json = serde_json::to_vec(&user)
            .map_err(|e| CoreError::Internal { reason: format!("cannot encode the user: {e}") })?;
        self.meta_set("user", &json)?;
        self.user = Some(user);
        Ok(())
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&SignedInUser> {
        self.user.as_ref()
    }

    /// The signed-in user, or an error saying nobody is.
    pub(crate) fn require_user(&self) -> Result<&SignedInUser> {
        self.user.as_ref().ok_or(CoreError::NotSignedIn)
    }
}

impl Store {
    /// When the server received the change with this hex hash, if this device was told.
    pub(crate) fn received_at(
        &self,
        hash_hex: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let Ok(hash) = hex::decode(hash_hex) else { return Ok(None) };
        let ms: Option<i64> = self
            .conn
            .prepare_cached("SELECT received_at FROM change_received WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?;
        Ok(ms.map(crate::time::ms_to_time))
    }
}

impl Store {
    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(true)` when the file is sound. Apps run it
    /// after an unclean shutdown; tests run it after killing a writer.
    ///
    /// # Errors
    /// Storage errors.
    pub fn integrity_check(&self) -> Result<bool> {
        let r: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(r == "ok")
    }

    /// How many live records of `kind` the store holds.
    ///
    /// # Errors
    /// Storage errors.
    pub fn count_records(&self, kind: crate::kind::RecordKind) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM doc WHERE kind = ?1")?
            .query_row([kind.code()], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }
}

impl Store {
    /// Moves the write-ahead log into the main file and truncates it: apps call it when going
    /// to the background, benchmarks before measuring the file size.
    ///
    /// # Errors
    /// Storage errors.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
