//! The device's sync client (DESIGN §2). The wire protocol it speaks, shared with the server,
//! is [`crate::protocol`].
//!
//! The client is split so that no store lock is held across a network wait:
//! [`session::SyncSession`] builds a request from the store and applies the answer (sans-IO);
//! [`client::SyncClient`] does the HTTP in between, with timeouts, retries and cancellation.
//! Reach the store through [`access::StoreAccess`] (implemented for `Mutex<Store>`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), gridwork_core::sync::SyncError> {
//! use std::sync::Mutex;
//! use gridwork_core::Store;
//! use gridwork_core::sync::{CancelToken, EnrolRequest, NoProgress, SyncClient, SyncConfig};
//!
//! let store = Mutex::new(Store::open("device.db", None)?);
//! let client = SyncClient::new(SyncConfig::default())?;
//! client.enrol(&store, &EnrolRequest {
//!     server_url: "http://127.0.0.1:8480".into(),
//!     code: "7K3M-Q9XR-2D4F".into(),
//!     device_name: "王芳的手机".into(),
//!     role: None,
//! }).await?;
//! let report = client.sync(&store, &NoProgress, &CancelToken::new()).await?;
//! println!("pushed {} pulled {}", report.pushed, report.pulled);
//! # Ok(()) }
//! ```

pub mod access;
pub mod attachment;
pub mod attachment_client;
pub mod cancel;
pub mod client;
pub mod config;
pub mod enrol;
pub mod error;
pub mod gaps;
pub mod held_report;
pub mod progress;
pub mod quarantine;
pub mod repair;
pub mod session;
pub mod state;
mod transport;

pub use access::StoreAccess;
pub use cancel::CancelToken;
pub use client::{RepairOutcome, SyncClient, SyncReport};
pub use config::SyncConfig;
pub use enrol::{EnrolRequest, EnrolledUser};
pub use error::{SyncError, SyncResult};
pub use progress::{NoProgress, ProgressSink, SyncPhase, SyncProgress};
pub use quarantine::{QuarantinedChange, quarantined, release_quarantined};
pub use state::{Enrolment, SyncState, enrolment, sync_state};
pub use transport::install_crypto_provider;
