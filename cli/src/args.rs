//! Command-line arguments of `gridwork`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Gridwork device in a terminal: enrol, record, list, act on work orders, sync. Every command
/// prints text for people (tables with names and local times), or JSON with `--json` for scripts.
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
    /// Record a visit to a household (`visit --household <id> …`), or edit one (`visit edit`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Visit {
        /// Edit a recorded visit instead of recording one.
        #[command(subcommand)]
        edit: Option<VisitCmd>,
        /// The visit to record.
        #[command(flatten)]
        record: RecordVisit,
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
    /// Incidents (work orders): edit an incident's details.
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// Open work orders in the user's scope.
    WorkOrders,
    /// One work order: show it with its timeline, or take a step on it.
    #[command(subcommand)]
    WorkOrder(WorkOrderCmd),
    /// Tasks for the user's areas: list them, complete one.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Patrols: start one, check in on it, stop it.
    #[command(subcommand)]
    Patrol(PatrolCmd),
    /// Residents of a household.
    #[command(subcommand)]
    Resident(ResidentCmd),
    /// My alerts: supervised, returned or overdue work orders, changes to my reports, tasks due.
    Alerts {
        /// Mark this alert seen (its id from the list); repeatable.
        #[arg(long = "ack")]
        ack: Vec<String>,
        /// Also list alerts already marked seen.
        #[arg(long)]
        all: bool,
    },
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

/// A visit to record.
#[derive(Debug, Args)]
pub struct RecordVisit {
    /// The household's id.
    #[arg(long, required = true)]
    pub household: Option<uuid::Uuid>,
    /// met, not_home or refused.
    #[arg(long, default_value = "met")]
    pub outcome: String,
    /// The situation found.
    #[arg(long, default_value = "")]
    pub situation: String,
    /// Resident satisfaction 1–5.
    #[arg(long)]
    pub satisfaction: Option<u8>,
}

/// Visit commands.
#[derive(Debug, Subcommand)]
pub enum VisitCmd {
    /// Edit a recorded visit: only the fields given change; prints the visit.
    Edit {
        /// The visit's id.
        id: uuid::Uuid,
        /// met, not_home or refused.
        #[arg(long)]
        outcome: Option<String>,
        /// The situation found.
        #[arg(long)]
        situation: Option<String>,
        /// Needs raised by the household.
        #[arg(long)]
        needs: Option<String>,
        /// Resident satisfaction 1–5.
        #[arg(long)]
        satisfaction: Option<u8>,
        /// Whether the resident knows their grid worker: true or false.
        #[arg(long)]
        knows_worker: Option<bool>,
    },
}

/// Incident commands.
#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Edit an incident's details: only the fields given change; prints the work order.
    Edit {
        /// The work order's id.
        id: uuid::Uuid,
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Category code, e.g. fire_safety.
        #[arg(long)]
        category: Option<String>,
        /// urgent, important or ordinary (the deadline follows).
        #[arg(long)]
        severity: Option<String>,
        /// Latitude (WGS-84), with --lon.
        #[arg(long, requires = "lon", allow_hyphen_values = true)]
        lat: Option<f64>,
        /// Longitude (WGS-84), with --lat.
        #[arg(long, requires = "lat", allow_hyphen_values = true)]
        lon: Option<f64>,
    },
}

/// Commands on one work order.
#[derive(Debug, Subcommand)]
pub enum WorkOrderCmd {
    /// The order's details and its whole event timeline (who, role, device and server time).
    Show {
        /// The work order's id.
        id: uuid::Uuid,
    },
    /// Take a step on the order as the signed-in user: the same check and event as on a phone.
    Act {
        /// The work order's id.
        id: uuid::Uuid,
        /// accept, dispatch, sign, handle, feedback, return, request_extension (or extend),
        /// approve_extension (or approve), decline_extension (or decline), escalate (or
        /// supervise), verify, close, reopen, review_conflicts (or review: the centre has
        /// reviewed the order's conflicting steps).
        action: String,
        /// Departments (codes, comma-separated): required for dispatch (one step per
        /// department); for a department's steps, the department acting (default: every
        /// dispatched department the step applies to); for approving or declining an extension,
        /// the department whose request it is (default: the only one waiting).
        #[arg(long, value_delimiter = ',')]
        departments: Vec<String>,
        /// For request_extension: how many hours more.
        #[arg(long)]
        hours: Option<u32>,
        /// For verify: the resident's satisfaction at the call-back, 1 (very dissatisfied) to 5
        /// (very satisfied).
        #[arg(long)]
        satisfaction: Option<u8>,
        /// A note: what was done, why it is returned, what the resident said…
        #[arg(long)]
        note: Option<String>,
        /// A photo of the step (a JPEG, PNG, WebP, GIF or HEIF file; repeat for several, at most
        /// 20): the finished work with a feedback, what was found on a verify. Stored on this
        /// device and uploaded by the next `gridwork sync`.
        #[arg(long = "photo")]
        photos: Vec<std::path::PathBuf>,
    },
}

/// Task commands.
#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Tasks for the user's areas (open first, by due date) with their progress here.
    List {
        /// Area (defaults to the signed-in user's scope).
        #[arg(long)]
        area: Option<String>,
    },
    /// Complete a task (for a task issued to a wider area: this grid's part) with a result note.
    Complete {
        /// The task's id.
        id: uuid::Uuid,
        /// The result (办结情况).
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// Patrol commands.
#[derive(Debug, Subcommand)]
pub enum PatrolCmd {
    /// Start a patrol of a grid or micro-grid; prints its id.
    Start {
        /// Area code path (defaults to the signed-in user's scope).
        #[arg(long)]
        area: Option<String>,
        /// The task the patrol carries out, if any.
        #[arg(long)]
        task: Option<uuid::Uuid>,
    },
    /// Check in (打卡) at a place on an open patrol.
    CheckIn {
        /// The patrol's id.
        patrol: uuid::Uuid,
        /// What is checked in at, e.g. 幸福小区3幢.
        #[arg(long)]
        name: String,
        /// Latitude (WGS-84).
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Longitude (WGS-84).
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Something noticed there: recorded as an observation at the same place.
        #[arg(long)]
        note: Option<String>,
    },
    /// End an open patrol; prints its summary.
    Stop {
        /// The patrol's id.
        patrol: uuid::Uuid,
    },
}

/// Resident commands.
#[derive(Debug, Subcommand)]
pub enum ResidentCmd {
    /// Add a resident to a household; the ID-card number goes into the resident's sensitive
    /// record (only roles that may hold sensitive data may give it).
    Add {
        /// The household's id.
        #[arg(long)]
        household: uuid::Uuid,
        /// Full name.
        #[arg(long)]
        name: String,
        /// male or female.
        #[arg(long)]
        gender: String,
        /// head, spouse, child, parent, grandchild, sibling or other.
        #[arg(long, default_value = "other")]
        relation: String,
        /// Year of birth.
        #[arg(long)]
        birth_year: Option<i32>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Resident ID-card number (18 characters).
        #[arg(long)]
        id_number: Option<String>,
    },
}
