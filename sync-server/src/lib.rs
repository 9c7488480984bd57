//! Gridwork's sync server (DESIGN §2, §3, §6): devices push validated Automerge changes and pull
//! an area-scoped, sequence-numbered change log over a compact binary protocol
//! (`gridwork_core::protocol`). Storage is SQLite (embedded default) or PostgreSQL behind
//! one trait ([`store::Store`]); an admin API manages areas, users, enrolment and devices.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod authoring;
pub mod config;
pub mod demo;
pub mod demo_records;
pub mod error;
pub mod hotline;
pub mod ledger;
pub mod metrics;
pub mod policy;
pub mod query;
pub mod read_model;
pub mod reference;
pub mod server;
pub mod staff;
pub mod store;
pub mod supervision;
pub mod uploads;
pub mod validate;
