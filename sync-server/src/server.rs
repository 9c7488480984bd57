//! Starting the server: open the store, create the admin token on first start, bind, serve
//! until SIGTERM or Ctrl-C (graceful shutdown).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

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
    }
}

/// Opens the store the configuration names.
///
/// # Errors
/// [`ServeError::Store`].
pub async fn open_store(config: &Config) -> Result<DynStore, ServeError> {
    Ok(store::open(&config.effective_database_url()).await?)
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

/// Serves on a bound listener until `shutdown` completes, then finishes in-flight requests.
///
/// # Errors
/// [`ServeError::Io`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    body_limit: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = api::router(state, body_limit);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
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
