//! Starting, killing and restarting the real `gridwork-server` process, and its admin API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::HarnessResult;

/// The admin token every test server is started with.
pub const ADMIN_TOKEN: &str =
    "gwa_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Which storage the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL at this URL (a fresh database per server).
    Postgres(String),
}

impl Backend {
    /// A fresh PostgreSQL database for one test, or `None` (skip) when `GRIDWORK_TEST_PG_URL`
    /// is unset — except under CI (`CI` set), where that is an error.
    ///
    /// # Errors
    /// Missing URL under CI; connection failures.
    pub async fn postgres() -> HarnessResult<Option<Backend>> {
        let Ok(url) = std::env::var("GRIDWORK_TEST_PG_URL") else {
            if std::env::var_os("CI").is_some() {
                return Err(
                    "GRIDWORK_TEST_PG_URL is unset under CI: PostgreSQL e2e tests must run".into(),
                );
            }
            eprintln!("skipping PostgreSQL e2e test: GRIDWORK_TEST_PG_URL is unset");
            return Ok(None);
        };
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
        let task = tokio::spawn(conn);
        let db = format!("e2e_{}", uuid::Uuid::now_v7().simple());
        client.batch_execute(&format!("CREATE DATABASE {db}")).await?;
        drop(client);
        let _ = task.await;
        let base = match url.rfind('/') {
            Some(i) if url[..i].contains("://") && !url[..i].ends_with('/') => &url[..i],
            _ => return Err(format!("cannot replace the database in {url}").into()),
        };
        let (base, query) = match url[base.len()..].find('?') {
            Some(q) => (base, &url[base.len() + q..]),
            None => (base, ""),
        };
        Ok(Some(Backend::Postgres(format!("{base}/{db}{query}"))))
    }

    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Builds `gridwork-server` once per test process and returns its path; `GRIDWORK_SERVER_BIN`
/// names a prebuilt binary instead (benchmarks: building the server alone unifies features
/// differently from the workspace and rebuilds much of the dependency tree).
///
/// # Errors
/// When cargo fails or the binary is not where cargo puts it.
pub fn server_binary() -> HarnessResult<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("GRIDWORK_SERVER_BIN") {
            return Ok(PathBuf::from(bin));
        }
        build_binary("gridwork-sync-server", "gridwork-server").map_err(|e| e.to_string())
    })
    .clone()
    .map_err(Into::into)
}

/// Builds the `gridwork` CLI once per test process and returns its path.
///
/// # Errors
/// When cargo fails or the binary is not where cargo puts it.
pub fn cli_binary() -> HarnessResult<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| build_binary("gridwork-cli", "gridwork").map_err(|e| e.to_string()))
        .clone()
        .map_err(Into::into)
}

fn build_binary(package: &str, bin_name: &str) -> HarnessResult<PathBuf> {
    // Test and bench binaries live in <target>/<profile>/deps/, other binaries (the load
    // simulator) in <target>/<profile>/.
    let exe = std::env::current_exe()?;
    let mut profile_dir =
        exe.parent().ok_or("cannot locate the target directory from the binary")?.to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir = profile_dir.parent().ok_or("no profile directory")?.to_path_buf();
    }
    let target_dir = profile_dir.parent().ok_or("no target directory")?.to_path_buf();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("Cargo.toml");
    let mut cmd = std::process::Command::new(cargo);
    // `cargo test` sets variables (CARGO_PKG_*, CARGO_MANIFEST_DIR, …) for the test process;
    // passed on, they change fingerprints and force a rebuild every time.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        let keep = matches!(k.as_str(), "CARGO_HOME" | "RUSTUP_HOME" | "RUSTUP_TOOLCHAIN");
        if !keep && (k.starts_with("CARGO_") || k.starts_with("RUST") || k.starts_with("__CARGO")) {
            cmd.env_remove(&k);
        }
    }
    cmd.args(["build", "-q", "-p", package, "--bin", bin_name])
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target_dir);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status()?;
    if !status.success() {
        return Err(format!("cargo build of {bin_name} failed: {status}").into());
    }
    let bin = profile_dir.join(bin_name);
    if !bin.exists() {
        return Err(format!("{} not found after building", bin.display()).into());
    }
    Ok(bin)
}

/// A running `gridwork-server` process.
pub struct Server {
    child: Option<Child>,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its address.
    pub addr: std::net::SocketAddr,
    backend: Backend,
    data_dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.start_kill();
        }
    }
}

impl Server {
    /// Starts a server on 127.0.0.1, port 0.
    ///
    /// # Errors
    /// When it cannot be built or started.
    pub async fn start(backend: Backend) -> HarnessResult<Server> {
        Self::start_with_env(backend, &[]).await
    }

    /// Starts a server with extra environment variables (e.g. `GRIDWORK_BODY_LIMIT`).
    ///
    /// # Errors
    /// When it cannot be built or started.
    pub async fn start_with_env(backend: Backend, env: &[(&str, &str)]) -> HarnessResult<Server> {
        let data_dir = tempfile::tempdir()?;
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let mut s = Server {
            child: None,
            url: String::new(),
            addr: "127.0.0.1:0".parse()?,
            backend,
            data_dir,
            env,
            http: {
                gridwork_core::sync::install_crypto_provider();
                reqwest::Client::new()
            },
        };
        s.launch("127.0.0.1:0", &[]).await?;
        Ok(s)
    }

    /// Starts a second server process on this one's database (several processes serving one
    /// district): on PostgreSQL the same database, on SQLite the same file (its own data
    /// directory otherwise).
    ///
    /// # Errors
    /// When it cannot be built or started.
    pub async fn start_sharing(&self) -> HarnessResult<Server> {
        let mut s = Server {
            child: None,
            url: String::new(),
            addr: "127.0.0.1:0".parse()?,
            backend: self.backend.clone(),
            data_dir: tempfile::tempdir()?,
            env: self.env.clone(),
            http: reqwest::Client::new(),
        };
        let file = self.data_dir.path().join("gridwork-server.db").display().to_string();
        let shared: Vec<&str> = match self.backend {
            Backend::Sqlite => vec!["--database-url", file.as_str()],
            Backend::Postgres(_) => Vec::new(),
        };
        s.launch("127.0.0.1:0", &shared).await?;
        Ok(s)
    }

    async fn launch(&mut self, listen: &str, args: &[&str]) -> HarnessResult<()> {
        let mut cmd = Command::new(server_binary()?);
        cmd.args(args)
            .arg("--listen")
            .arg(listen)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env("GRIDWORK_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("GRIDWORK_LOG", "warn")
            .env_remove("GRIDWORK_DATABASE_URL")
            .env_remove("GRIDWORK_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Backend::Postgres(url) = &self.backend {
            cmd.arg("--database-url").arg(url);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    return Ok::<_, crate::HarnessError>(rest.trim().to_owned());
                }
            }
            Err("gridwork-server exited before listening".into())
        })
        .await
        .map_err(|_| "gridwork-server did not start within 60 s")??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.addr = addr.parse()?;
        self.url = format!("http://{addr}");
        self.child = Some(child);
        Ok(())
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and waits for it to die.
    ///
    /// # Errors
    /// When it cannot be killed.
    pub async fn kill(&mut self) -> HarnessResult<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().await?;
        }
        Ok(())
    }

    /// Starts the process again on the same data (and the same port when it is free).
    ///
    /// # Errors
    /// When it cannot be started.
    pub async fn restart(&mut self) -> HarnessResult<()> {
        self.restart_with(&[]).await
    }

    /// [`Server::restart`] with extra command-line arguments (e.g. `--restored` after putting
    /// a PostgreSQL database back from a backup).
    ///
    /// # Errors
    /// When it cannot be started.
    pub async fn restart_with(&mut self, args: &[&str]) -> HarnessResult<()> {
        let listen = self.addr.to_string();
        if self.launch(&listen, args).await.is_err() {
            self.launch("127.0.0.1:0", args).await?;
        }
        Ok(())
    }

    /// The data directory (the SQLite database lives here as `gridwork-server.db`).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// The server process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The storage backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// An admin API call; returns status and JSON body.
    ///
    /// # Errors
    /// Network failures, non-JSON answers.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> HarnessResult<(u16, Value)> {
        let url = format!("{}/admin/v1{path}", self.url);
        let mut req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url),
            _ => self.http.post(url),
        }
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(serde_json::to_vec(&b)?);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let v: Value = serde_json::from_slice(&resp.bytes().await?)?;
        Ok((status, v))
    }

    async fn admin_ok(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> HarnessResult<Value> {
        let (status, v) = self.admin(method, path, body).await?;
        if !(200..300).contains(&status) {
            return Err(format!("admin {method} {path}: {status} {v}").into());
        }
        Ok(v)
    }

    /// Creates areas (parents first).
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn create_areas(&self, areas: &[gridwork_core::Area]) -> HarnessResult<()> {
        for a in areas {
            self.admin_ok("POST", "/areas", Some(json!({"path": a.path.as_str(), "name": a.name})))
                .await?;
        }
        Ok(())
    }

    /// Creates a user with one role and returns its id.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn create_user(&self, name: &str, role: &str, area: &str) -> HarnessResult<String> {
        let v = self
            .admin_ok(
                "POST",
                "/users",
                Some(json!({"name": name, "roles": [{"role": role, "area": area}]})),
            )
            .await?;
        Ok(v["id"].as_str().ok_or("no user id")?.to_owned())
    }

    /// Makes a user a member of `departments` (codes of the registry), replacing their others.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn set_departments(&self, user_id: &str, departments: &[&str]) -> HarnessResult<()> {
        self.admin_ok(
            "PUT",
            &format!("/users/{user_id}/departments"),
            Some(json!({ "departments": departments })),
        )
        .await?;
        Ok(())
    }

    /// A one-time enrolment code for a user.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn enrolment_code(&self, user_id: &str) -> HarnessResult<String> {
        let v =
            self.admin_ok("POST", "/enrolment-codes", Some(json!({"user_id": user_id}))).await?;
        Ok(v["code"].as_str().ok_or("no code")?.to_owned())
    }

    /// Enrols a device that presents `actor_hex` (a light simulated phone without a store) for
    /// a user, through the real `POST /v1/enrol`; returns its device credential.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn enrol_actor(&self, user_id: &str, actor_hex: &str) -> HarnessResult<String> {
        let code = self.enrolment_code(user_id).await?;
        let body = json!({"code": code, "actor_id": actor_hex, "device_name": "模拟手机"});
        let resp = self
            .http
            .post(format!("{}/v1/enrol", self.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body)?)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let v: Value = serde_json::from_slice(&resp.bytes().await?)?;
        if status != 201 {
            return Err(format!("enrol: {status} {v}").into());
        }
        Ok(v["credential"].as_str().ok_or("no credential")?.to_owned())
    }

    /// Revokes a device.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn revoke(&self, device_id: &str) -> HarnessResult<()> {
        self.admin_ok("POST", &format!("/devices/{device_id}/revoke"), None).await?;
        Ok(())
    }

    /// `(head_seq, number of changes held)` from `/admin/v1/sync-health`.
    ///
    /// # Errors
    /// As [`Server::admin`].
    pub async fn log_size(&self) -> HarnessResult<(u64, u64)> {
        let v = self.admin_ok("GET", "/sync-health", None).await?;
        Ok((
            v["head_seq"].as_u64().ok_or("no head_seq")?,
            v["changes"].as_u64().ok_or("no changes")?,
        ))
    }

    /// Whether `GET /health` answers 200.
    pub async fn healthy(&self) -> bool {
        matches!(self.http.get(format!("{}/health", self.url)).send().await, Ok(r) if r.status().is_success())
    }
}

impl Server {
    /// A raw request to `path` (e.g. `/v1/sync`) with these headers and body; the answer as
    /// received, whatever its status.
    ///
    /// # Errors
    /// Network failures.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> HarnessResult<crate::wire::Answer> {
        crate::wire::call(&self.http, method, &format!("{}{path}", self.url), headers, body).await
    }

    /// The newest audit entries (newest first), optionally of one device.
    ///
    /// # Errors
    /// As [`Server::admin`], and refusals.
    pub async fn audit(&self, device: Option<&str>) -> HarnessResult<Vec<Value>> {
        let path = match device {
            Some(d) => format!("/audit?limit=1000&device={d}"),
            None => "/audit?limit=1000".to_owned(),
        };
        let v = self.admin_ok("GET", &path, None).await?;
        Ok(v["entries"].as_array().ok_or("no audit entries")?.clone())
    }

    /// Runs one SQL statement without parameters directly on the server's database (both
    /// dialects must accept it): plants what no API would accept. Returns the rows changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute_sql(&self, sql: &str) -> HarnessResult<u64> {
        match &self.backend {
            Backend::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                let task = tokio::spawn(conn);
                let n = client.execute(sql, &[]).await?;
                drop(client);
                let _ = task.await;
                Ok(n)
            }
            Backend::Sqlite => {
                let path = self.data_dir.path().join("gridwork-server.db");
                let sql = sql.to_owned();
                let n = tokio::task::spawn_blocking(move || -> Result<usize, rusqlite::Error> {
                    let db = rusqlite::Connection::open(path)?;
                    db.busy_timeout(Duration::from_secs(10))?;
                    db.execute(&sql, [])
                })
                .await??;
                Ok(n as u64)
            }
        }
    }

    /// Lets every unused enrolment code of `user_id` expire, as if its lifetime had passed
    /// (the shortest lifetime the admin API grants is a minute; tests do not wait that long).
    /// Writes the server's database directly.
    ///
    /// # Errors
    /// Database errors.
    pub async fn expire_enrolment_codes(&self, user_id: &str) -> HarnessResult<u64> {
        const SQL: &str = "UPDATE enrolment_codes SET expires_at = 1 WHERE used_at IS NULL";
        match &self.backend {
            Backend::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                let task = tokio::spawn(conn);
                let n = client.execute(&format!("{SQL} AND user_id = $1"), &[&user_id]).await?;
                drop(client);
                let _ = task.await;
                Ok(n)
            }
            Backend::Sqlite => {
                let path = self.data_dir.path().join("gridwork-server.db");
                let user = user_id.to_owned();
                let n = tokio::task::spawn_blocking(move || -> Result<usize, rusqlite::Error> {
                    let db = rusqlite::Connection::open(path)?;
                    db.busy_timeout(Duration::from_secs(10))?;
                    db.execute(&format!("{SQL} AND user_id = ?1"), [user])
                })
                .await??;
                Ok(n as u64)
            }
        }
    }
}
