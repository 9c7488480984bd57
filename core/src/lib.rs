//! Gridwork core: the offline record store of a community grid worker's phone.
//!
//! Every record (household, resident, sensitive resident data, visit, patrol, incident/work order,
//! task) is one small Automerge document so that offline edits from several phones merge without
//! loss. SQLite is the documents' home and their index: each kind has a typed projection table
//! written in the same transaction as the change, and lists, search and statistics read those.
//!
//! The crate is pure Rust with no FFI or server code; `bindings/`, `cli/` and `sync-server/` build
//! on it.

pub mod error;

pub use error::{CoreError, Result};
pub mod area;
pub mod envelope;
pub mod kind;
pub mod role;
pub mod sync;

pub use area::{Area, AreaLevel, AreaPath};
pub use envelope::ChangeEnvelope;
pub use kind::RecordKind;
pub use role::Role;
