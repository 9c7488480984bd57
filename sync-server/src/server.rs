//! Starting the server: open the store, create the admin token on first start, bind, serve
//! until SIGTERM or Ctrl-C (graceful shutdown).
//!
//! Connections are served by hyper directly (not `axum::serve`) so that the transport limits
//! of issue 8 apply: a header-read timeout that also closes idle keep-alive connections, and a
//! cap on open connections that fits the open-file limit — when it is reached, the oldest
//! connection is asked to close (at once when idle, after its request otherwise), so a flood
//! of idle or half-sent connections cannot lock out `/health` or a phone.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::api::guard::Guards;
use crate::api::{self, AppState};
use crate::auth;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{self, DynStore, StoreError, now_ms};

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    /// No randomness for the admin token.
    #[error(transparent)]
    Random(#[from] auth::RandomError),
}

/// What first start produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminToken {
    /// A new admin token was created (shown once).
    Created(String),
    /// An admin token existed already.
    Existing,
}

/// Creates the admin token if none exists: `preset` (e.g. from `GRIDWORK_ADMIN_TOKEN`) or a new
/// random one. Only its hash is stored.
///
/// # Errors
/// [`ServeError::Store`], [`ServeError::Random`].
pub async fn ensure_admin_token(
    store: &DynStore,
    preset: Option<String>,
) -> Result<AdminToken, ServeError> {
    let token = match preset {
        Some(t) => t,
        None => auth::new_admin_token()?,
    };
    if store.init_admin_token(auth::hash_secret(&token), now_ms()).await? {
        Ok(AdminToken::Created(token))
    } else {
        Ok(AdminToken::Existing)
    }
}

/// The application state for a store and configuration.
pub fn state(store: DynStore, config: &Config) -> AppState {
    AppState {
        store,
        metrics: Arc::new(Metrics::default()),
        public_url: config.public_url.clone(),
        enrolment_ttl_minutes: config.enrolment_ttl_minutes,
        guards: Arc::new(Guards::new(config)),
        read_model: crate::read_model::progress::Progress::new(),
        staff: Arc::new(crate::staff::StaffState::new(config.staff.clone(), &config.admin)),
    }
}

/// File descriptors kept free of connections: the database (SQLite files, PostgreSQL pool),
/// logs, the listener.
pub const FD_RESERVE: u64 = 128;

/// Raises the open-file limit to its hard maximum (where the platform allows) and returns how
/// many connections fit: `wanted`, lowered to the limit less [`FD_RESERVE`].
pub fn connection_cap(wanted: usize) -> usize {
    #[cfg(unix)]
    {
        let soft = rlimit::increase_nofile_limit(u64::MAX)
            .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft));
        if let Ok(soft) = soft {
            let fit = usize::try_from(soft.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
            return wanted.min(fit.max(16));
        }
    }
    wanted
}

/// Checks that PostgreSQL acknowledges a commit only once its WAL is flushed to disk
/// (`synchronous_commit` anything but `off`; `on` is the default and what Gridwork requires).
/// With `off` a crash can lose pushes the devices were told are stored — and a device drops an
/// acknowledged change from its outbox. Logs an error when it is off; the server still starts.
pub async fn check_postgres_durability(url: &str) {
    let setting = async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let task = tokio::spawn(conn);
        let row = client.query_one("SHOW synchronous_commit", &[]).await?;
        let value: String = row.try_get(0)?;
        drop(client);
        let _ = task.await;
        Ok::<_, tokio_postgres::Error>(value)
    };
    match setting.await {
        Ok(v) if durable_commit(&v) => {
            tracing::info!(synchronous_commit = %v, "PostgreSQL commits are durable");
        }
        Ok(v) => tracing::error!(
            synchronous_commit = %v,
            "PostgreSQL synchronous_commit is not `on`: a crash may lose acknowledged pushes; \
             set synchronous_commit = on (see docs/architecture.md, Durability)"
        ),
        Err(e) => tracing::warn!(error = %e, "could not read PostgreSQL synchronous_commit"),
    }
}

/// Whether a `synchronous_commit` value waits for the local WAL flush before acknowledging
/// (every value but `off`).
fn durable_commit(value: &str) -> bool {
    !value.trim().eq_ignore_ascii_case("off")
}

/// Opens the store the configuration names and, for a log made before departments were
/// recorded, fills in which work orders were dispatched to which department (once).
///
/// # Errors
/// [`ServeError::Store`].
pub async fn open_store(config: &Config) -> Result<DynStore, ServeError> {
    let store = store::open(&config.effective_database_url()).await?;
    let found = store::departments::backfill(&store).await?;
    if found > 0 {
        tracing::info!(dispatches = found, "recorded the departments of earlier dispatches");
    }
    Ok(store)
}

/// Binds the listen address.
///
/// # Errors
/// [`ServeError::Bind`].
pub async fn bind(addr: &str) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr: addr.to_owned(), source })
}

/// How long a connection asked to close while no request of it is being handled (idle, or
/// still sending its headers) may take to finish writing an answer before it is dropped.
const EVICT_GRACE: Duration = Duration::from_secs(1);

/// Counts a connection's requests being handled while alive.
struct Active(Arc<AtomicUsize>);

impl Active {
    fn enter(n: &Arc<AtomicUsize>) -> Self {
        n.fetch_add(1, Ordering::AcqRel);
        Active(n.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, oldest first, each with the signal that asks it to close.
struct Connections {
    /// Connections that may be asked to close, by accept order.
    open: Mutex<BTreeMap<u64, Arc<Notify>>>,
    /// Every connection still being served (including those already asked to close).
    alive: AtomicUsize,
    /// Most connections wanted.
    cap: usize,
}

impl Connections {
    /// Registers connection `id` and, when the cap is reached, asks the oldest to close.
    /// `None` when even closing cannot make room (every slot, plus a margin, is still busy
    /// finishing a request): the new connection is dropped.
    fn admit(&self, id: u64) -> Option<Arc<Notify>> {
        if self.alive.load(Ordering::Acquire) > self.cap + self.cap / 8 {
            return None;
        }
        let notify = Arc::new(Notify::new());
        let mut open = self.open.lock().ok()?;
        while open.len() >= self.cap {
            match open.pop_first() {
                Some((_, oldest)) => oldest.notify_one(),
                None => break,
            }
        }
        open.insert(id, notify.clone());
        self.alive.fetch_add(1, Ordering::AcqRel);
        Some(notify)
    }

    /// Forgets connection `id` once it is closed.
    fn closed(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
        self.alive.fetch_sub(1, Ordering::AcqRel);
    }

    /// Asks the oldest connection to close (the accept loop ran out of file descriptors).
    fn shed_oldest(&self) {
        if let Some((_, oldest)) = self.open.lock().ok().and_then(|mut o| o.pop_first()) {
            oldest.notify_one();
        }
    }
}

/// How long a stopping server waits for open requests to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves on a bound listener until `shutdown` completes, then finishes in-flight requests
/// (for at most [`SHUTDOWN_GRACE`]).
///
/// # Errors
/// [`ServeError::Io`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    body_limit: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let header_timeout = state.guards.header_timeout;
    let conns = Arc::new(Connections {
        open: Mutex::new(BTreeMap::new()),
        alive: AtomicUsize::new(0),
        cap: connection_cap(state.guards.max_connections),
    });
    tracing::info!(max_connections = conns.cap, ?header_timeout, "transport limits");
    let app = api::router(state, body_limit);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    let mut next_id = 0u64;
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (or a transient error): make room, breathe.
                    tracing::warn!(error = %e, "accept failed");
                    conns.shed_oldest();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        next_id += 1;
        let id = next_id;
        let Some(evict) = conns.admit(id) else {
            tracing::debug!(%remote, "connection refused: every connection slot is busy");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let conns = conns.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let active = Arc::new(AtomicUsize::new(0));
            let in_service = active.clone();
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                let app = app.clone();
                let guard = Active::enter(&in_service);
                async move {
                    let res = app.oneshot(req.map(axum::body::Body::new)).await;
                    drop(guard);
                    res
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let grace = tokio::time::sleep(Duration::from_secs(3600));
            tokio::pin!(grace);
            let (mut closing, mut dropping) = (false, false);
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, %remote, "connection ended");
                        }
                        break;
                    }
                    () = evict.notified(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                        // Not handling a request: idle, or headers still trickling in.
                        if active.load(Ordering::Acquire) == 0 {
                            dropping = true;
                            grace.as_mut().reset(tokio::time::Instant::now() + EVICT_GRACE);
                        }
                    }
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = &mut grace, if dropping => break,
                }
            }
            conns.closed(id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Wait for the open connections to finish their requests — not for ever: a live alert
    // stream never finishes by itself, and a stuck client must not hold the server up.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while conns.alive.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_connections_evict_the_oldest() {
        let c =
            Connections { open: Mutex::new(BTreeMap::new()), alive: AtomicUsize::new(0), cap: 2 };
        let a = c.admit(1).unwrap();
        let _b = c.admit(2).unwrap();
        let _c = c.admit(3).unwrap();
        // Connection 1 was asked to close: its permit is stored.
        let asked =
            tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(
                async {
                    tokio::time::timeout(Duration::from_millis(50), a.notified()).await.is_ok()
                },
            );
        assert!(asked);
        c.closed(1);
        assert_eq!(c.alive.load(Ordering::Acquire), 2);
        // Slots still busy beyond the margin refuse new connections.
        let _d = c.admit(4).unwrap();
        assert!(c.admit(5).is_none(), "3 alive + margin 1 reached");
    }

    #[test]
    fn durable_commit_settings() {
        assert!(durable_commit("on"));
        assert!(durable_commit("remote_apply"));
        assert!(durable_commit("local"));
        assert!(!durable_commit("off"));
    }
}
