//! The end-to-end test harness: the real `gridwork-server` binary on 127.0.0.1 (SQLite or
//! PostgreSQL), devices with real stores and the real sync client, the admin API, and a
//! fault-injecting TCP proxy that counts bytes; and the district chaos scenario ([`chaos`]).

pub mod chaos;
pub mod cli;
pub mod device;
pub mod measure;
pub mod proxy;
pub mod server;
pub mod wire;
pub mod workload;

pub use cli::Cli;
pub use device::{Device, HeldChange};
pub use proxy::{ChaosFaults, Fault, Proxy};
pub use server::{Backend, Server, cli_binary};

/// Error type of the harness: any failure, as text (tests report and fail).
pub type HarnessError = Box<dyn std::error::Error + Send + Sync>;
/// Result alias of the harness.
pub type HarnessResult<T> = Result<T, HarnessError>;
