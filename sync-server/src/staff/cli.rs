//! The local `gridwork-server admin …` commands: recovery and bootstrap run on the server's
//! machine, straight on its database (the configured URL or data directory), never over the
//! network — whoever can run them can read the database anyway.
//!
//! - `reset-token`: a new shared admin token replaces the old one (printed once);
//! - `set-password --login NAME`: a one-time password for a login (printed once), which the
//!   person must change at their next sign-in; their sessions end and any lockout is cleared;
//! - `create-staff --login NAME --name NAME --role ROLE:AREA…`: a new person with a login and a
//!   one-time password (printed once) — the first sync admin of a server whose admin token is
//!   turned off.

use gridwork_core::{AreaPath, Role};
use uuid::Uuid;

use super::password::{self, HashError};
use crate::auth::{self, RandomError};
use crate::store::staff::PasswordWrite;
use crate::store::{AuditAction, AuditEntry, DynStore, RoleGrant, StoreError, User, now_ms};

/// A local admin command.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum AdminCommand {
    /// Replace the shared admin token by a new one, printed once.
    ResetToken,
    /// Give a login a new one-time password, printed once (the person changes it at sign-in).
    SetPassword {
        /// The login name.
        #[arg(long)]
        login: String,
    },
    /// Create a person with a login and a one-time password, printed once.
    CreateStaff {
        /// The login name (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        login: String,
        /// The person's display name.
        #[arg(long)]
        name: String,
        /// A role and its area, `ROLE:AREA` (e.g. `sync_admin:320612`); repeat for more.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

/// Why a local admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The database failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// An argument is invalid.
    #[error("{0}")]
    Input(String),
    /// No randomness.
    #[error("{0}")]
    Random(#[from] RandomError),
    /// Hashing failed.
    #[error("{0}")]
    Hash(#[from] HashError),
}

fn parse_role(raw: &str) -> Result<RoleGrant, CliError> {
    let (role, area) = raw
        .split_once(':')
        .ok_or_else(|| CliError::Input(format!("--role {raw}: expected ROLE:AREA")))?;
    Ok(RoleGrant {
        role: Role::parse(role).map_err(|e| CliError::Input(format!("--role {raw}: {e}")))?,
        area: AreaPath::parse(area).map_err(|e| CliError::Input(format!("--role {raw}: {e}")))?,
    })
}

fn audit_entry(user_id: Option<Uuid>, detail: String) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: now_ms(),
        user_id,
        device_id: None,
        action: AuditAction::Account,
        count: 0,
        areas: vec![],
        detail,
        actor_id: None,
    }
}

/// Runs a local admin command on `store`; returns what to print.
///
/// # Errors
/// [`CliError`].
pub async fn run(store: &DynStore, command: AdminCommand) -> Result<String, CliError> {
    match command {
        AdminCommand::ResetToken => {
            let token = auth::new_admin_token()?;
            store.staff().replace_admin_token(auth::hash_secret(&token), now_ms()).await?;
            store
                .audit(&audit_entry(None, "admin token reset on the server's machine".into()))
                .await?;
            Ok(format!(
                "The admin token was replaced; the old one no longer works. The new one (shown \
                 only now):\n  {token}\n"
            ))
        }
        AdminCommand::SetPassword { login } => {
            let login =
                super::normalize_login(&login).map_err(|e| CliError::Input(e.to_string()))?;
            let account = store
                .staff()
                .staff_by_login(&login)
                .await?
                .ok_or_else(|| CliError::Input(format!("no login {login}")))?;
            let otp = password::one_time_password()?;
            let write = PasswordWrite {
                user_id: account.user.id,
                password_hash: password::hash_blocking(otp.clone()).await?,
                must_change: true,
                keep_session: None,
            };
            store.staff().set_password(&write).await?;
            let detail = "password reset on the server's machine".to_string();
            store.audit(&audit_entry(Some(account.user.id), detail)).await?;
            Ok(format!(
                "One-time password for {login} ({}), to change at sign-in:\n  {otp}\n",
                account.user.name
            ))
        }
        AdminCommand::CreateStaff { login, name, roles } => {
            let login =
                super::normalize_login(&login).map_err(|e| CliError::Input(e.to_string()))?;
            let name = crate::api::valid_name("--name", &name)
                .map_err(|e| CliError::Input(e.message))?
                .to_owned();
            let roles = roles.iter().map(|r| parse_role(r)).collect::<Result<Vec<_>, _>>()?;
            if store.staff().staff_by_login(&login).await?.is_some() {
                return Err(CliError::Input(format!("login {login} is taken")));
            }
            let user = User { id: Uuid::now_v7(), name, roles, created_at: now_ms() };
            store.create_user(&user).await?;
            let otp = password::one_time_password()?;
            let write = PasswordWrite {
                user_id: user.id,
                password_hash: password::hash_blocking(otp.clone()).await?,
                must_change: true,
                keep_session: None,
            };
            store.staff().set_login(&login, &write).await?;
            let detail = format!("login {login} created on the server's machine");
            store.audit(&audit_entry(Some(user.id), detail)).await?;
            Ok(format!(
                "Created {} ({}) with login {login}. One-time password, to change at sign-in:\n  \
                 {otp}\n",
                user.name, user.id
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse() {
        let g = parse_role("sync_admin:320612").unwrap();
        assert_eq!((g.role, g.area.as_str()), (Role::SyncAdmin, "320612"));
        assert!(parse_role("sync_admin").is_err());
        assert!(parse_role("boss:320612").is_err());
    }
}
