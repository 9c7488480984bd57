//! Ledgers (台账) and assessment (考核), issue 12: "collect once, use many times". Every ledger
//! and every assessment figure is derived from the server's read model (the records phones
//! pushed, decoded by the core), never typed in again.
//!
//! - [`Ledger`]: the five ledgers — household registry (人房台账), visits (走访台账), patrols
//!   (巡查台账), work orders (事件台账) and the key-population ledger (重点人员台账, sensitive) —
//!   each a list of typed rows ([`Value`]) under bilingual [`Column`]s, filtered by area, period
//!   and person ([`filter`]) and scoped exactly like the staff query API
//!   ([`crate::query::scope`]).
//! - [`stream`]: a ledger is read page by page (keyset pages by record id) and encoded as it is
//!   read — JSON ([`json`]), CSV with a BOM ([`csv`]) or XLSX in constant-memory mode
//!   ([`xlsx`]) — so a district-wide ledger never sits in memory.
//! - [`assessment`]: the figures per grid, community, town, district or worker for a period, with
//!   rankings and the monthly trend (`docs/assessment.md`).
//! - [`cli`]: `gridwork-server export …`, the same export written to a file.
//!
//! Each backend runs the statements [`sql`] builds through [`store::LedgerStore`]
//! (`store/{sqlite,postgres}/ledger.rs`).

pub mod assessment;
pub mod cli;
pub mod csv;
pub mod filter;
pub mod households;
pub mod json;
pub mod key_population;
pub mod labels;
pub mod names;
pub mod patrols;
pub mod period;
pub mod sql;
pub mod store;
pub mod stream;
pub mod visits;
pub mod work_orders;
pub mod xlsx;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use gridwork_core::RecordKind;

use crate::query::QueryError;
use crate::store::StoreError;

/// The time zone ledgers and periods are written in: China Standard Time (UTC+8, no daylight
/// saving). Stored times are UTC milliseconds; only their presentation uses this.
pub const CST_OFFSET_SECONDS: i32 = 8 * 3600;

/// China Standard Time, checked when the server is compiled.
const CST: FixedOffset = match FixedOffset::east_opt(CST_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// China Standard Time.
pub fn cst() -> FixedOffset {
    CST
}

/// A stored time (ms since the epoch, UTC) as China Standard Time.
pub fn local_time(ms: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.with_timezone(&cst()))
}

/// A stored time as a wall-clock date and time in China Standard Time (what CSV and XLSX show).
pub fn local_naive(ms: i64) -> Option<NaiveDateTime> {
    local_time(ms).map(|t| t.naive_local())
}

/// A ledger, by its path segment (`/api/v1/ledgers/{segment}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ledger {
    /// 人房台账: households with their tags, members and last visit.
    Households,
    /// 走访台账: visits.
    Visits,
    /// 巡查台账: patrols with hours, distance and points covered.
    Patrols,
    /// 事件台账: work orders with each step's time and whether they closed on time.
    WorkOrders,
    /// 重点人员台账: residents of a key-population category (sensitive).
    KeyPopulation,
}

impl Ledger {
    /// Every ledger.
    pub const ALL: [Ledger; 5] = [
        Ledger::Households,
        Ledger::Visits,
        Ledger::Patrols,
        Ledger::WorkOrders,
        Ledger::KeyPopulation,
    ];

    /// The path segment (also the CLI's name).
    pub const fn segment(self) -> &'static str {
        match self {
            Ledger::Households => "households",
            Ledger::Visits => "visits",
            Ledger::Patrols => "patrols",
            Ledger::WorkOrders => "work-orders",
            Ledger::KeyPopulation => "key-population",
        }
    }

    /// The ledger of a path segment.
    pub fn of_segment(segment: &str) -> Option<Ledger> {
        Ledger::ALL.into_iter().find(|l| l.segment() == segment)
    }

    /// The record kind whose read scope the ledger needs (the key-population ledger: sensitive
    /// data).
    pub const fn kind(self) -> RecordKind {
        match self {
            Ledger::Households => RecordKind::Household,
            Ledger::Visits => RecordKind::Visit,
            Ledger::Patrols => RecordKind::Patrol,
            Ledger::WorkOrders => RecordKind::WorkOrder,
            Ledger::KeyPopulation => RecordKind::Sensitive,
        }
    }

    /// Its title in `lang` (sheet and file names).
    pub const fn title(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Ledger::Households, Lang::Zh) => "人房台账",
            (Ledger::Visits, Lang::Zh) => "走访台账",
            (Ledger::Patrols, Lang::Zh) => "巡查台账",
            (Ledger::WorkOrders, Lang::Zh) => "事件台账",
            (Ledger::KeyPopulation, Lang::Zh) => "重点人员台账",
            (Ledger::Households, Lang::En) => "Household registry",
            (Ledger::Visits, Lang::En) => "Visit ledger",
            (Ledger::Patrols, Lang::En) => "Patrol ledger",
            (Ledger::WorkOrders, Lang::En) => "Work-order ledger",
            (Ledger::KeyPopulation, Lang::En) => "Key-population ledger",
        }
    }

    /// Its columns, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Ledger::Households => households::COLUMNS,
            Ledger::Visits => visits::COLUMNS,
            Ledger::Patrols => patrols::COLUMNS,
            Ledger::WorkOrders => work_orders::COLUMNS,
            Ledger::KeyPopulation => key_population::COLUMNS,
        }
    }
}

/// A ledger column: a stable key (JSON field) and its Chinese and English headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// JSON key (`visited_at`).
    pub key: &'static str,
    /// Chinese heading (`走访时间`).
    pub zh: &'static str,
    /// English heading (`Visited at`).
    pub en: &'static str,
}

impl Column {
    /// The heading in `lang`.
    pub const fn heading(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// Shorthand for a column.
pub(crate) const fn col(key: &'static str, zh: &'static str, en: &'static str) -> Column {
    Column { key, zh, en }
}

/// One cell of a ledger row, typed so each format writes it as what it is (a date as a date).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Nothing (never happened, not asked).
    Null,
    /// Free text.
    Text(String),
    /// A coded value: its stable code (JSON) and its label in the export's language
    /// (CSV, XLSX).
    Label {
        /// The code (`met`, `urgent`).
        code: String,
        /// The label (`见面`, `Met`).
        text: String,
    },
    /// A whole number.
    Int(i64),
    /// A measurement (hours, km).
    Real(f64),
    /// Yes or no.
    Bool(bool),
    /// A time, ms since the epoch (written in China Standard Time).
    Time(i64),
}

impl Value {
    /// `Text`, or `Null` for `None`.
    pub fn text(v: Option<String>) -> Value {
        v.map_or(Value::Null, Value::Text)
    }

    /// `Time`, or `Null` for `None`.
    pub fn time(v: Option<i64>) -> Value {
        v.map_or(Value::Null, Value::Time)
    }

    /// `Int`, or `Null` for `None`.
    pub fn int(v: Option<i64>) -> Value {
        v.map_or(Value::Null, Value::Int)
    }

    /// `Bool`, or `Null` for `None`.
    pub fn bool(v: Option<bool>) -> Value {
        v.map_or(Value::Null, Value::Bool)
    }
}

/// A download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`: columns and rows as objects (codes, RFC 3339 times).
    Json,
    /// `text/csv`, UTF-8 with a byte-order mark (Excel opens Chinese correctly).
    Csv,
    /// An Excel workbook: typed cells, dates as dates, frozen header row.
    Xlsx,
}

impl Format {
    /// The format of a name (`json`, `csv`, `xlsx`).
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// The MIME type.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file extension.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// The language of headings and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese (the default).
    #[default]
    Zh,
    /// English (`lang=en`).
    En,
}

/// Why a ledger, export or assessment is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A bad filter, area or period, or an area outside the caller's scope (the staff query
    /// API's errors and codes).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The key-population ledger asked for by roles that may not read sensitive data.
    #[error("your roles may not read sensitive data, so not the key-population ledger")]
    NoSensitiveAccess,
    /// No such ledger.
    #[error("no ledger `{0}`; ledgers: households, visits, patrols, work-orders, key-population")]
    UnknownLedger(String),
    /// This backend keeps no read model.
    #[error("this server keeps no read model")]
    NoReadModel,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the download (a file, the connection, the workbook).
    #[error("writing the export: {0}")]
    Write(String),
}

impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        LedgerError::Write(e.to_string())
    }
}
