//! Command-line arguments of `gridwork`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A Gridwork device in a terminal: enrol, record, list, sync. Every command prints plain text,
/// or JSON with `--json` for scripts.
#[derive(Debug, Parser)]
#[command(name = "gridwork", version)]
pub struct Cli {
    /// The device store (SQLite file).
    #[arg(long, env = "GRIDWORK_STORE", default_value = "gridwork-device.db", global = true)]
    pub store: PathBuf,
    /// A file holding the store's 32-byte encryption key as 64 hex digits.
    #[arg(long, env = "GRIDWORK_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enrol this device with a one-time code from the sync admin.
    Enrol {
        /// The sync server, e.g. http://127.0.0.1:8480.
        #[arg(long)]
        server: String,
        /// The enrolment code.
        #[arg(long)]
        code: String,
        /// A name for this device.
        #[arg(long, default_value = "gridwork-cli")]
        device_name: String,
    },
    /// Enrolment, cursor, last sync and pending changes.
    Status,
    /// Push pending changes, pull news from the server and refresh the areas and roles.
    Sync,
    /// How many changes wait to be sent.
    Pending,
    /// Households.
    #[command(subcommand)]
    Household(HouseholdCmd),
    /// Record a visit to a household.
    Visit {
        /// The household's id.
        #[arg(long)]
        household: uuid::Uuid,
        /// met, not_home or refused.
        #[arg(long, default_value = "met")]
        outcome: String,
        /// The situation found.
        #[arg(long, default_value = "")]
        situation: String,
        /// Resident satisfaction 1–5.
        #[arg(long)]
        satisfaction: Option<u8>,
    },
    /// Households whose visit is due, most overdue first.
    Due {
        /// Area (defaults to the signed-in user's scope).
        #[arg(long)]
        area: Option<String>,
    },
    /// Report an incident (it becomes a work order).
    Report {
        /// Area code path.
        #[arg(long)]
        area: String,
        /// Category code, e.g. safety_hazard.
        #[arg(long)]
        category: String,
        /// urgent, important or ordinary.
        #[arg(long, default_value = "ordinary")]
        severity: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Open work orders in the user's scope.
    WorkOrders,
    /// A record's history: who changed what, when.
    History {
        /// Record kind (household, visit, work_order…).
        kind: String,
        /// Record id.
        id: uuid::Uuid,
    },
}

/// Household commands.
#[derive(Debug, Subcommand)]
pub enum HouseholdCmd {
    /// Add a household.
    Add {
        /// Area code path (a micro-grid).
        #[arg(long)]
        area: String,
        /// Full address.
        #[arg(long)]
        address: String,
        /// Head of household.
        #[arg(long)]
        head: String,
        /// Number of members.
        #[arg(long, default_value_t = 1)]
        members: u32,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Tags (elderly_alone, difficulty, relief, rental…), repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Households in an area.
    List {
        /// Area (defaults to the signed-in user's scope).
        #[arg(long)]
        area: Option<String>,
    },
    /// Search by name, address, pinyin or phone digits.
    Search {
        /// What to look for.
        query: String,
        /// Area (defaults to the signed-in user's scope).
        #[arg(long)]
        area: Option<String>,
    },
}
