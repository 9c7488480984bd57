//! A `gridwork` CLI device for end-to-end tests: its store file, and the real binary run on it
//! with a fixed time zone (UTC+8, as in China) so local times in its text output can be checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::{HarnessResult, Server, cli_binary};

/// A CLI device: the store file it runs on.
#[derive(Debug, Clone)]
pub struct Cli {
    /// The device's store (SQLite file).
    pub store: PathBuf,
}

impl Cli {
    /// A device on the store file `store` (made by its first command).
    pub fn new(store: PathBuf) -> Cli {
        Cli { store }
    }

    /// A new device enrolled as a new user `name` of `role` over `area` on `server`, reached at
    /// `url` (the server's own address or a proxy's); returns it and the user's id.
    ///
    /// # Errors
    /// The user, the code or the enrolment failed.
    pub async fn enrolled(
        server: &Server,
        url: &str,
        dir: &Path,
        name: &str,
        role: &str,
        area: &str,
    ) -> HarnessResult<(Cli, String)> {
        let user = server.create_user(name, role, area).await?;
        let code = server.enrolment_code(&user).await?;
        let cli = Cli::new(dir.join(format!("{user}.db")));
        cli.json(&["enrol", "--server", url, "--code", &code]).await?;
        Ok((cli, user))
    }

    /// The command running the CLI on this device's store (to pipe or spawn it yourself).
    ///
    /// # Errors
    /// The binary could not be built.
    pub fn command(&self) -> HarnessResult<Command> {
        let mut c = Command::new(cli_binary()?);
        c.arg("--store").arg(&self.store).env("TZ", "Asia/Shanghai").env("LANG", "C");
        c.stdin(Stdio::null());
        Ok(c)
    }

    /// Runs the CLI with `args`, off the async runtime (it blocks), whatever its exit.
    ///
    /// # Errors
    /// The binary could not be built or started.
    pub async fn run(&self, args: &[&str]) -> HarnessResult<Output> {
        let mut cmd = self.command()?;
        cmd.args(args);
        Ok(tokio::task::spawn_blocking(move || cmd.output()).await??)
    }

    /// The `--json` output of a command that must succeed.
    ///
    /// # Errors
    /// The command failed (its stderr is in the error) or printed no JSON.
    pub async fn json(&self, args: &[&str]) -> HarnessResult<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.succeeded(&all).await?;
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// The text output of a command that must succeed.
    ///
    /// # Errors
    /// The command failed (its stderr is in the error) or printed invalid UTF-8.
    pub async fn text(&self, args: &[&str]) -> HarnessResult<String> {
        Ok(String::from_utf8(self.succeeded(args).await?.stdout)?)
    }

    /// The JSON error of a command that must be refused (non-zero exit, nothing on stdout).
    ///
    /// # Errors
    /// The command succeeded, printed on stdout, or its stderr is not the JSON error.
    pub async fn refused(&self, args: &[&str]) -> HarnessResult<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all).await?;
        if out.status.success() || !out.stdout.is_empty() {
            return Err(format!("gridwork {args:?} should have been refused").into());
        }
        Ok(serde_json::from_slice::<Value>(&out.stderr)?["error"].clone())
    }

    async fn succeeded(&self, args: &[&str]) -> HarnessResult<Output> {
        let out = self.run(args).await?;
        if !out.status.success() {
            return Err(format!(
                "gridwork {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(out)
    }
}
