//! Gridwork core: the offline record store of a community grid worker's phone.
//!
//! Every record (household, resident, sensitive resident data, visit, patrol, incident/work order,
//! task) is one small Automerge document so that offline edits from several phones merge without
//! loss. SQLite is the documents' home and their index: each kind has a typed projection table
//! written in the same transaction as the change, and lists, search and statistics read those.
//!
//! The crate is pure Rust with no FFI or server code; `bindings/`, `cli/` and `sync-server/` build
//! on it.

#[cfg(feature = "store")]
pub mod alert;
pub mod area;
#[cfg(feature = "store")]
pub mod assessment;
pub mod attachment;
pub mod author;
mod code;
pub mod demo;
pub mod doc;
pub mod envelope;
pub mod error;
pub mod geo;
pub mod household;
pub mod kind;
pub mod kinds;
pub mod location;
#[cfg(feature = "store")]
pub mod my_day;
pub mod patrol;
pub mod protocol;
#[cfg(feature = "store")]
pub mod record;
pub mod resident;
pub mod role;
pub mod search;
pub mod sensitive;
pub mod spec;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "client")]
pub mod sync;
pub mod task;
pub mod time;
pub mod track;
#[cfg(feature = "uniffi")]
mod uniffi_types;
pub mod validate;
pub mod visit;
pub mod work_order;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub use area::{Area, AreaLevel, AreaPath};
pub use envelope::ChangeEnvelope;
pub use error::{CoreError, Result};
pub use household::{HouseholdInput, HouseholdTag};
pub use kind::RecordKind;
pub use patrol::{CheckIn, CheckInInput, Observation, ObservationInput, Patrol};
pub use resident::{Gender, Relation, Resident, ResidentInput};
pub use role::Role;
pub use sensitive::{KeyPopulation, ReliefStatus, SensitiveInput, SensitiveRecord};
pub use spec::{DecodeError, Header, RecordSpec};
pub use task::{Task, TaskInput};
pub use track::{TrackPoint, TrackStats};
pub use visit::{PhotoRef, Visit, VisitInput, VisitKind, VisitOutcome};

#[cfg(feature = "store")]
pub use assessment::{Assessment, Rate};
#[cfg(feature = "store")]
pub use household::{DueVisit, Household};
#[cfg(feature = "store")]
pub use my_day::MyDay;
#[cfg(feature = "store")]
pub use patrol::PatrolSummary;
#[cfg(feature = "store")]
pub use sensitive::KeyPerson;
#[cfg(feature = "store")]
pub use store::{Ack, ApplyReport, DocHeads, HeldChange, Incoming, Received, SignedInUser, Store};
#[cfg(feature = "store")]
pub use task::{TaskProgress, TaskRecords, TaskSummary};
