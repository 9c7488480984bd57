//! The server's storage: one trait, [`Store`], with two implementations — [`sqlite::SqliteStore`]
//! (the embedded default) and [`postgres::PgStore`] (selected by a `postgres://` URL). Both are
//! run by the same test suite.
//!
//! The store holds no policy: the API layer decides who may do what, and hands the store only
//! validated changes and precomputed read scopes.

pub mod blobs;
pub mod departments;
pub mod held;
pub mod hotline;
pub mod migrations;
pub mod postgres;
pub mod rm_rows;
pub mod sqlite;
pub mod staff;

use std::sync::Arc;

use async_trait::async_trait;
use gridwork_core::protocol::{DocDigest, PulledChange};
use gridwork_core::{AreaPath, ChangeEnvelope, RecordKind, Role};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

pub use blobs::{AttachmentChunk, AttachmentInfo, AttachmentRef, ChunkProblem};
pub use held::{DeviceReport, HeldChange, HeldReport, ReportOutcome, Withholding};
pub use migrations::SchemaProblem;

/// A PostgreSQL error with the server's own message and SQLSTATE when it sent one.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{e}: {} ({})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

/// Errors of the storage layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (the server's own message when it sent one: the driver's display
    /// alone says only "db error").
    #[error("postgres: {}", pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// A blocking storage task failed to run to completion.
    #[error("storage task failed: {0}")]
    Task(String),
    /// A value read back from the database is not what this code writes.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The thing referred to does not exist.
    #[error("{what} not found: {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// Creating something that already exists.
    #[error("{what} already exists: {id}")]
    Conflict {
        /// What was created.
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// An enrolment code is unknown, already used or expired.
    #[error("enrolment code {0}")]
    Enrolment(EnrolmentProblem),
    /// A pushed change names a document that the log already holds under another kind.
    #[error("change {index}: document {doc_id} is a {stored}, not a {pushed}")]
    KindMismatch {
        /// Position of the change in the push.
        index: usize,
        /// The document.
        doc_id: Uuid,
        /// The kind the log holds it under.
        stored: RecordKind,
        /// The kind pushed.
        pushed: RecordKind,
    },
    /// A pushed change reuses an Automerge (actor, sequence number) that the log already holds
    /// for the document with other content — what a phone restored from a backup of its own
    /// store produces when it records again. Storing it would make the document unloadable on
    /// every device that receives both.
    #[error(
        "change {index}: document {doc_id} already has change {seq} of actor {actor} with other content"
    )]
    DuplicateSeq {
        /// Position of the change in the push.
        index: usize,
        /// The document.
        doc_id: Uuid,
        /// The actor, hex.
        actor: String,
        /// The actor's sequence number.
        seq: u64,
    },
    /// An attachment chunk does not fit the upload in progress.
    #[error("attachment chunk refused: {0}")]
    Chunk(ChunkProblem),
    /// The database was migrated by a newer server than this one: it is refused, never used
    /// (this server would not know what the newer schema means).
    #[error(
        "the database schema is at version {database}, newer than this server knows ({known}): \
         run the newer server"
    )]
    SchemaTooNew {
        /// The newest migration the database records.
        database: u32,
        /// The newest migration this server has.
        known: u32,
    },
    /// The database's migration history does not fit this server's migrations.
    #[error("the database schema does not fit this server: {0}")]
    SchemaHistory(SchemaProblem),
    /// A schema migration failed: it was rolled back whole, the database stays at `previous`.
    #[error(
        "schema migration {version} ({name}) failed, the database stays at version {previous}: \
         {source}"
    )]
    MigrationFailed {
        /// The migration's version.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// The version the database stays at (0: empty).
        previous: u32,
        /// What failed.
        source: Box<StoreError>,
    },
}

/// Why an enrolment code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentProblem {
    /// No such code.
    Unknown,
    /// Already exchanged for a device credential.
    Used,
    /// Past its expiry.
    Expired,
    /// The actor id is already bound to a device of another user.
    ActorTaken,
    /// The actor id is bound to a revoked device: it cannot enrol again.
    DeviceRevoked,
}

impl EnrolmentProblem {
    /// The stable error code the API answers with.
    pub const fn code(self) -> &'static str {
        match self {
            EnrolmentProblem::Unknown => "enrolment_code_unknown",
            EnrolmentProblem::Used => "enrolment_code_used",
            EnrolmentProblem::Expired => "enrolment_code_expired",
            EnrolmentProblem::ActorTaken => "actor_taken",
            EnrolmentProblem::DeviceRevoked => "device_revoked",
        }
    }
}

impl std::fmt::Display for EnrolmentProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EnrolmentProblem::Unknown => "is unknown",
            EnrolmentProblem::Used => "was already used",
            EnrolmentProblem::Expired => "has expired",
            EnrolmentProblem::ActorTaken => {
                "cannot bind an actor id already bound to another user's device"
            }
            EnrolmentProblem::DeviceRevoked => {
                "cannot enrol again an actor id bound to a revoked device"
            }
        })
    }
}

/// Result alias of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// One role a user holds, bound to an area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// The area it covers (the role's scope).
    pub area: AreaPath,
}

/// A person who uses Gridwork.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Server-assigned id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// The roles held, each with its area.
    pub roles: Vec<RoleGrant>,
    /// When the user was created (ms since the Unix epoch).
    pub created_at: i64,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Server-assigned id.
    pub id: Uuid,
    /// The user the device acts for.
    pub user_id: Uuid,
    /// A name given at enrolment ("王芳's phone").
    pub name: String,
    /// The Automerge actor id bound at enrolment, as hex.
    pub actor_hex: String,
    /// Whether the device is revoked.
    pub revoked: bool,
    /// When it enrolled (ms since the epoch).
    pub enrolled_at: i64,
    /// Its last sync (ms since the epoch), if any.
    pub last_seen: Option<i64>,
    /// The cursor it last reported (its `next_cursor` after its last pull).
    pub cursor: u64,
}

/// A device together with its user, as found by its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device.
    pub device: Device,
    /// Its user.
    pub user: User,
}

/// A new enrolment code (stored by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrolmentCode {
    /// SHA-256 of the code.
    pub code_hash: [u8; 32],
    /// The user a device enrolled with it will act for.
    pub user_id: Uuid,
    /// Expiry (ms since the epoch).
    pub expires_at: i64,
    /// Creation time (ms since the epoch).
    pub created_at: i64,
}

/// What exchanging an enrolment code creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// The new device's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its Automerge actor id, hex.
    pub actor_hex: String,
    /// SHA-256 of its credential.
    pub credential_hash: [u8; 32],
    /// Now (ms since the epoch).
    pub now: i64,
}

/// What redeeming an enrolment code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    /// The device bound to the actor: new, or the existing one whose enrolment was completed
    /// again (its credential replaced by the new one).
    pub device: Device,
    /// Whether an existing device's enrolment was completed again (retry) rather than a new
    /// device created.
    pub renewed: bool,
}

/// An enrolment code as the redeeming transaction reads it (row locked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredCode {
    /// The user it enrols a device for.
    pub(crate) user_id: Uuid,
    /// Expiry (ms since the epoch).
    pub(crate) expires_at: i64,
    /// Whether it was exchanged already.
    pub(crate) used: bool,
    /// The device it was exchanged for, if used.
    pub(crate) used_by: Option<Uuid>,
}

/// What a redemption must write, decided by [`redemption`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redemption {
    /// Insert a new device for this user, mark the code used by it.
    Create {
        /// The code's user.
        user_id: Uuid,
    },
    /// Replace the existing device's credential hash and name; mark the code used by it when
    /// `consume_code` (a fresh code), leave it as is otherwise (the same code retried).
    Renew {
        /// The device already bound to the actor.
        device: Device,
        /// Whether the code is a fresh one to mark used.
        consume_code: bool,
    },
}

impl Redemption {
    /// The answer of a redemption once written: the new device, or the renewed one.
    pub(crate) fn outcome(self, new: &NewDevice) -> Redeemed {
        match self {
            Redemption::Create { user_id } => Redeemed {
                device: Device {
                    id: new.id,
                    user_id,
                    name: new.name.clone(),
                    actor_hex: new.actor_hex.clone(),
                    revoked: false,
                    enrolled_at: new.now,
                    last_seen: None,
                    cursor: 0,
                },
                renewed: false,
            },
            Redemption::Renew { device, .. } => {
                Redeemed { device: Device { name: new.name.clone(), ..device }, renewed: true }
            }
        }
    }
}

/// The enrolment rules, shared by both backends: given the code (if it exists) and the device
/// already bound to the actor (if any), decides what redeeming does — or why it is refused.
///
/// A phone whose enrolment answer was lost, or whose next request failed, must be able to
/// complete its enrolment (issue 7): so the actor's existing device is renewed when the phone
/// presents the code that device was enrolled with (still unexpired), or a fresh unexpired code
/// of the same user. Everything else is refused: an unknown or expired code, a used code
/// presented by another actor, an actor bound to another user's device (`ActorTaken`), and an
/// actor bound to a revoked device (`DeviceRevoked`).
///
/// # Errors
/// The [`EnrolmentProblem`] to answer.
pub(crate) fn redemption(
    code: Option<StoredCode>,
    bound: Option<Device>,
    now: i64,
) -> Result<Redemption, EnrolmentProblem> {
    let code = code.ok_or(EnrolmentProblem::Unknown)?;
    if code.used {
        let device = bound.filter(|d| code.used_by == Some(d.id)).ok_or(EnrolmentProblem::Used)?;
        if code.expires_at <= now {
            return Err(EnrolmentProblem::Expired);
        }
        if device.revoked {
            return Err(EnrolmentProblem::DeviceRevoked);
        }
        return Ok(Redemption::Renew { device, consume_code: false });
    }
    if code.expires_at <= now {
        return Err(EnrolmentProblem::Expired);
    }
    match bound {
        None => Ok(Redemption::Create { user_id: code.user_id }),
        Some(d) if d.user_id != code.user_id => Err(EnrolmentProblem::ActorTaken),
        Some(d) if d.revoked => Err(EnrolmentProblem::DeviceRevoked),
        Some(device) => Ok(Redemption::Renew { device, consume_code: true }),
    }
}

/// A change validated by the API layer, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    /// Automerge's hash of the change.
    pub hash: [u8; 32],
    /// The change and its addressing.
    pub envelope: ChangeEnvelope,
    /// The area the change writes into its record's `area` field, if it does (a creation, or
    /// a move the API layer authorised). A record's area is its creation's and changes only by
    /// such a change: a later edit addressed to a stale area (made before the device saw a
    /// move) does not move the record back.
    pub sets_area: Option<AreaWrite>,
    /// The change's Automerge actor and sequence number, unique per document: a second change
    /// with the same pair and other content is refused ([`StoreError::DuplicateSeq`]).
    pub origin: Option<(Vec<u8>, u64)>,
    /// The departments the change's work-order events name (dispatches, a department's own
    /// steps): stored with the change in `doc_departments` ([`departments`]).
    pub departments: Vec<String>,
}

impl NewChange {
    /// A change that leaves its record's area as it is (or creates it in `envelope.area`),
    /// without its origin checked (trusted input: the demo, store tests).
    pub fn new(hash: [u8; 32], envelope: ChangeEnvelope) -> Self {
        NewChange { hash, envelope, sets_area: None, origin: None, departments: Vec::new() }
    }
}

/// A change's write of its record's root `area` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaWrite {
    /// The area written.
    pub area: AreaPath,
    /// The write's Automerge operation id as bytes that sort like Automerge orders concurrent
    /// writes: the counter as 8 big-endian bytes, then the actor id.
    pub op: Vec<u8>,
}

impl AreaWrite {
    /// The write of `area` by operation `counter` of `actor`.
    pub fn new(area: AreaPath, counter: u64, actor: &[u8]) -> Self {
        let mut op = counter.to_be_bytes().to_vec();
        op.extend_from_slice(actor);
        AreaWrite { area, op }
    }
}

/// Where a record lies: its area key and the operation that wrote it, if known.
pub(crate) type DocArea = (String, Option<Vec<u8>>);

/// Where a record lies after a pushed change, given where it lay (`None` for a new record).
/// Returns the new area and, for a move, the area key it left.
///
/// Of two concurrent moves Automerge keeps the write with the greatest operation id, and a write
/// that supersedes another always has a greater one: so the record's area is the write with the
/// greatest id ever seen, whatever order the pushes arrive in — the same area every device's
/// document shows.
pub(crate) fn area_after(stored: Option<DocArea>, change: &NewChange) -> (DocArea, Option<String>) {
    let written = change.sets_area.as_ref();
    match stored {
        None => {
            let area = written.map_or(&change.envelope.area, |w| &w.area);
            ((area_key(area.as_str()), written.map(|w| w.op.clone())), None)
        }
        Some((old, old_op)) => match written {
            Some(w) if old.is_empty() || old_op.as_ref().is_none_or(|o| w.op > *o) => {
                let new = area_key(w.area.as_str());
                let moved = (!old.is_empty() && new != old).then_some(old);
                ((new, Some(w.op.clone())), moved)
            }
            _ => ((old, old_op), None),
        },
    }
}

/// The outcome of storing a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// The seq of each pushed change, in push order.
    pub seqs: Vec<u64>,
    /// When the server first stored each pushed change (ms since the epoch), in push order:
    /// `now` for new ones, the original time for those already held.
    pub received_at: Vec<i64>,
    /// How many were new (the others were already held).
    pub stored: usize,
}

/// One area a device may read, and which kinds in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    /// The area (all of it, sub-areas included).
    pub area: AreaPath,
    /// The kinds readable in it.
    pub kinds: Vec<RecordKind>,
    /// Only the documents ever dispatched to one of these departments (a department handler's
    /// scope, [`departments`]); `None`: every document of the kinds.
    pub departments: Option<Vec<String>>,
}

impl ReadScope {
    /// Every document of `kinds` in `area`.
    pub fn new(area: AreaPath, kinds: Vec<RecordKind>) -> ReadScope {
        ReadScope { area, kinds, departments: None }
    }
}

/// A pull from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullQuery {
    /// Return changes with seq above this.
    pub cursor: u64,
    /// What may be read; empty means nothing.
    pub scopes: Vec<ReadScope>,
    /// Leave out changes pushed by this device.
    pub exclude_device: Option<Uuid>,
    /// Stop once the page's change bytes reach this (at least one change is returned).
    pub max_bytes: u32,
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPage {
    /// The changes, in seq order.
    pub changes: Vec<PulledChange>,
    /// The cursor after this page.
    pub next_cursor: u64,
    /// Whether more changes wait.
    pub more: bool,
    /// The log's head seq when read.
    pub head_seq: u64,
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A device pushed changes.
    Push,
    /// A device pulled changes.
    Pull,
    /// A device enrolled.
    Enrol,
    /// A device was revoked.
    Revoke,
    /// A revoked device tried to sync.
    RevokedContact,
    /// A device was refused (bad push).
    Refused,
    /// An admin changed a user's roles.
    Assign,
    /// An admin withheld a logged change from every device.
    Withhold,
    /// An admin served a withheld change again.
    Restore,
    /// An admin changed the department registry or a person's departments.
    Departments,
    /// A person acted on a record through the server (a server-authored change).
    Act,
    /// A person signed in to the web (a staff session started).
    Login,
    /// A person signed out.
    Logout,
    /// A staff login was changed: granted, password changed or reset, unlocked, disabled,
    /// enabled (which one in `detail`).
    Account,
    /// A mutation of the admin API (method and path in `detail`).
    Admin,
    /// A person read a resident's sensitive record through the query API (the resident in
    /// `detail`).
    ReadSensitive,
    /// A ledger was exported (downloaded or written by `gridwork-server export`).
    Export,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Push => "push",
            AuditAction::Pull => "pull",
            AuditAction::Enrol => "enrol",
            AuditAction::Revoke => "revoke",
            AuditAction::RevokedContact => "revoked_contact",
            AuditAction::Refused => "refused",
            AuditAction::Assign => "assign",
            AuditAction::Withhold => "withhold",
            AuditAction::Restore => "restore",
            AuditAction::Departments => "departments",
            AuditAction::Act => "act",
            AuditAction::Login => "login",
            AuditAction::Logout => "logout",
            AuditAction::Account => "account",
            AuditAction::Admin => "admin",
            AuditAction::ReadSensitive => "read_sensitive",
            AuditAction::Export => "export",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`].
    pub fn parse(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "push" => AuditAction::Push,
            "pull" => AuditAction::Pull,
            "enrol" => AuditAction::Enrol,
            "revoke" => AuditAction::Revoke,
            "revoked_contact" => AuditAction::RevokedContact,
            "refused" => AuditAction::Refused,
            "assign" => AuditAction::Assign,
            "withhold" => AuditAction::Withhold,
            "restore" => AuditAction::Restore,
            "departments" => AuditAction::Departments,
            "act" => AuditAction::Act,
            "login" => AuditAction::Login,
            "logout" => AuditAction::Logout,
            "account" => AuditAction::Account,
            "admin" => AuditAction::Admin,
            "read_sensitive" => AuditAction::ReadSensitive,
            "export" => AuditAction::Export,
            o => return Err(StoreError::Corrupt(format!("audit action {o}"))),
        })
    }
}

/// One audit log entry: who did what, from which device, to how many records, in which areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log (assigned on append; 0 before).
    pub id: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The user, if known.
    pub user_id: Option<Uuid>,
    /// The device, if any.
    pub device_id: Option<Uuid>,
    /// What happened.
    pub action: AuditAction,
    /// How many records (changes) it concerned.
    pub count: u64,
    /// The distinct areas concerned.
    pub areas: Vec<String>,
    /// Free detail (error code, admin action…).
    pub detail: String,
    /// The person who acted, when a person did (a staff member signed in to the web, or the
    /// admin API used with a sync admin's session) rather than a device or the admin token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
}

/// One device's sync health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// The device.
    pub device_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its user.
    pub user_id: Uuid,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Last contact (ms since the epoch).
    pub last_seen: Option<i64>,
    /// Its cursor.
    pub cursor: u64,
    /// The log's head seq minus its cursor.
    pub cursor_lag: u64,
}

/// A document's server-side summary for the repair path.
pub type ServerDigest = DocDigest;

/// The storage behind the sync server.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// The departments' registry, memberships and dispatched documents.
    fn departments(&self) -> &dyn departments::DepartmentStore;

    /// The 12345 hotline exchange's platforms, messages and outbox.
    fn hotline(&self) -> &dyn hotline::HotlineStore;

    /// The backend's read-model tables, if it keeps them (DESIGN §8).
    fn read_model(&self) -> Option<&dyn crate::read_model::projector::ReadModelStore> {
        None
    }

    /// The backend's staff logins and browser sessions (issue 10, item 3).
    fn staff(&self) -> &dyn staff::StaffStore;
    /// The backend's answers to the staff query API over its read model, if it keeps one.
    fn query(&self) -> Option<&dyn crate::query::QueryStore> {
        None
    }
    /// The backend's ledger and assessment queries over its read model, if it keeps one.
    fn ledger(&self) -> Option<&dyn crate::ledger::store::LedgerStore> {
        None
    }

    /// Stores the admin token's hash if no admin token exists yet; returns whether it did.
    async fn init_admin_token(&self, hash: [u8; 32], now: i64) -> StoreResult<bool>;
    /// Whether this hash is a valid admin token's.
    async fn check_admin_token(&self, hash: [u8; 32]) -> StoreResult<bool>;

    /// Creates (or renames) an area.
    async fn put_area(&self, path: &AreaPath, name: &str) -> StoreResult<()>;
    /// Every area, by path.
    async fn list_areas(&self) -> StoreResult<Vec<gridwork_core::Area>>;

    /// Creates a user.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    /// Every user, by creation.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// One user.
    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// Replaces a user's roles (moving a worker to another grid, say); their devices' scope
    /// follows at their next contact. `false` when the user does not exist.
    async fn set_user_roles(&self, id: Uuid, roles: &[RoleGrant]) -> StoreResult<bool>;

    /// Stores a new one-time enrolment code.
    async fn create_enrolment_code(&self, code: &NewEnrolmentCode) -> StoreResult<()>;
    /// Exchanges a code for a device atomically, following the rules both backends share
    /// (`redemption` in this module): a new device when the actor id is unbound and the code
    /// unused and unexpired (the code is then marked used); the actor's existing device, its
    /// credential hash and name replaced by `device`'s, when the same unexpired code is
    /// presented again by that device's actor or a fresh code of the same user (then marked
    /// used) — a retried enrolment completes.
    async fn redeem_enrolment_code(
        &self,
        code_hash: [u8; 32],
        device: &NewDevice,
    ) -> StoreResult<Redeemed>;

    /// The device holding this credential hash, with its user.
    async fn device_by_credential(&self, hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>>;
    /// Every device.
    async fn list_devices(&self) -> StoreResult<Vec<Device>>;
    /// Revokes a device; returns whether it existed.
    async fn revoke_device(&self, id: Uuid) -> StoreResult<bool>;
    /// Records a device's contact and the cursor it will hold.
    async fn touch_device(&self, id: Uuid, cursor: u64, now: i64) -> StoreResult<()>;

    /// Stores validated changes atomically and idempotently by hash; each new change gets the
    /// next seq. Seq assignment is serialised so that commits happen in seq order: a pull never
    /// skips a change committed later with a lower seq (DESIGN §2).
    async fn push(
        &self,
        device_id: Uuid,
        now: i64,
        changes: &[NewChange],
    ) -> StoreResult<PushOutcome>;
    /// One page of the log after a cursor, within the scopes.
    async fn pull(&self, query: &PullQuery) -> StoreResult<PullPage>;
    /// The log's head seq.
    async fn head_seq(&self) -> StoreResult<u64>;
    /// The log's identity: devices keep it with their cursor and repair when it changes.
    async fn epoch(&self) -> StoreResult<Uuid>;
    /// Gives the log a new identity: after it was restored from a backup, the seqs devices
    /// hold may name changes it lost or new ones it will give the same numbers.
    async fn new_epoch(&self) -> StoreResult<Uuid>;
    /// The kind and current area of each of these documents the log holds.
    async fn doc_areas(&self, doc_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, RecordKind, AreaPath)>>;
    /// Digests of every document within `area` and the scopes.
    async fn digests(&self, area: &AreaPath, scopes: &[ReadScope]) -> StoreResult<Vec<DocDigest>>;
    /// Every change of these documents within the scopes, grouped by document (request order),
    /// each in seq order.
    async fn doc_changes(
        &self,
        doc_ids: &[Uuid],
        scopes: &[ReadScope],
    ) -> StoreResult<Vec<PulledChange>>;
    /// How many changes the log holds.
    async fn change_count(&self) -> StoreResult<u64>;

    /// Stores a device's reports of changes it set aside (one per change and device, a later
    /// report replacing the earlier); reports of a hash the log does not hold under the
    /// reported document are ignored and counted as unknown.
    async fn report_held(
        &self,
        device_id: Uuid,
        now: i64,
        reports: &[HeldReport],
    ) -> StoreResult<ReportOutcome>;
    /// The reported changes with their reports, in log order: the [`held::LIST_LIMIT`] latest
    /// in the log.
    async fn held_changes(&self) -> StoreResult<Vec<HeldChange>>;
    /// Withholds (`true`) or serves again (`false`) a logged change: a withheld change is
    /// skipped by pulls, fetches and digests (its document's digest leaves it out).
    async fn set_withheld(&self, hash: [u8; 32], withheld: bool) -> StoreResult<Withholding>;

    /// Appends to the audit log.
    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// The newest audit entries, newest first, optionally of one device.
    async fn list_audit(&self, limit: u32, device: Option<Uuid>) -> StoreResult<Vec<AuditEntry>>;
    /// Every device's sync health.
    async fn sync_health(&self) -> StoreResult<Vec<DeviceHealth>>;

    /// What the server holds of an attachment, if anything.
    async fn attachment(&self, hash: [u8; 32]) -> StoreResult<Option<AttachmentInfo>>;
    /// Appends an upload chunk atomically: the first chunk (offset 0) starts the upload with
    /// its declared size and MIME type; later chunks must start at the bytes received so far
    /// and repeat the declaration ([`StoreError::Chunk`] otherwise). A complete attachment is
    /// returned unchanged. Concurrent uploads of one hash serialise here.
    async fn append_attachment(&self, chunk: &AttachmentChunk) -> StoreResult<AttachmentInfo>;
    /// The bytes `start..end` of an attachment (complete or not; clipped to what is held).
    async fn read_attachment(&self, hash: [u8; 32], start: u64, end: u64) -> StoreResult<Vec<u8>>;
    /// Marks a fully received, verified attachment complete.
    async fn complete_attachment(&self, hash: [u8; 32], now: i64) -> StoreResult<()>;
    /// Forgets an attachment and its bytes (a failed verification).
    async fn discard_attachment(&self, hash: [u8; 32]) -> StoreResult<()>;
    /// Records references from records to attachments (idempotent).
    async fn add_attachment_refs(&self, refs: &[AttachmentRef]) -> StoreResult<()>;
    /// Whether a record within the scopes refers to the attachment.
    async fn attachment_referenced(
        &self,
        hash: [u8; 32],
        scopes: &[ReadScope],
    ) -> StoreResult<bool>;
}

/// A shared store handle.
pub type DynStore = Arc<dyn Store>;

/// Opens the store a database URL names: `postgres://…`/`postgresql://…` for PostgreSQL,
/// `sqlite://PATH` or a plain path for SQLite. Creates or migrates the schema
/// ([`migrations`]).
///
/// # Errors
/// Any [`StoreError`] from opening or migrating; [`StoreError::SchemaTooNew`] for a database a
/// newer server migrated.
pub async fn open(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(sqlite::SqliteStore::open(std::path::Path::new(path)).await?))
    }
}

/// The SQL range that selects area paths within `area`: stored area keys are the path followed
/// by `/`, so `area` contains `key` exactly when `lo <= key < hi`.
pub(crate) fn area_range(area: &str) -> (String, String) {
    (format!("{area}/"), format!("{area}0"))
}

/// The stored key of an area path (the path followed by `/`).
pub(crate) fn area_key(area: &str) -> String {
    format!("{area}/")
}

/// The area path of a stored key.
pub(crate) fn area_from_key(key: &str) -> StoreResult<AreaPath> {
    AreaPath::parse(key.strip_suffix('/').unwrap_or(key))
        .map_err(|e| StoreError::Corrupt(format!("area {key}: {e}")))
}

/// Builds the scope predicate shared by both SQL dialects: `(key in range AND kind IN (…)) OR …`.
/// Placeholders are produced by `ph(n)` for the n-th bound value (0-based offset added by the
/// caller); returns the SQL and the range bounds to bind, in order.
pub(crate) fn scope_sql(scopes: &[ReadScope], ph: impl FnMut() -> String) -> (String, Vec<String>) {
    scope_sql_on(scopes, ScopeCols::PLAIN, ph)
}

/// The columns a scope predicate reads: the record's area key, kind and document id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScopeCols<'a> {
    /// The area key column.
    pub area: &'a str,
    /// The kind code column.
    pub kind: &'a str,
    /// The document id column.
    pub doc: &'a str,
}

impl ScopeCols<'_> {
    /// Unqualified `area_key`, `kind`, `doc_id`.
    pub const PLAIN: ScopeCols<'static> =
        ScopeCols { area: "area_key", kind: "kind", doc: "doc_id" };
    /// Over `changes c JOIN documents d`: the record's current area.
    pub const PULL: ScopeCols<'static> =
        ScopeCols { area: "d.area_key", kind: "c.kind", doc: "c.doc_id" };
}

/// The scope predicate of a pull over `changes c JOIN documents d`: a change is served when its
/// record's *current* area is in scope — records move as wholes, so a device holds a record's
/// whole history or none of it — and a move is also served where the record moved *from*, so
/// devices there learn that it left and drop it.
pub(crate) fn pull_scope_sql(
    scopes: &[ReadScope],
    mut ph: impl FnMut() -> String,
) -> (String, Vec<String>) {
    let (current, mut binds) = scope_sql_on(scopes, ScopeCols::PULL, &mut ph);
    let (left, more) =
        scope_sql_on(scopes, ScopeCols { area: "c.prev_area_key", ..ScopeCols::PULL }, &mut ph);
    binds.extend(more);
    (format!("({current}) OR (c.prev_area_key IS NOT NULL AND ({left}))"), binds)
}

/// The scope predicate over the columns `cols`: `(area in range AND kind IN (…) [AND document
/// dispatched to one of the departments]) OR …`, plus the kinds issued to whole areas from the
/// scopes' ancestors.
pub(crate) fn scope_sql_on(
    scopes: &[ReadScope],
    cols: ScopeCols<'_>,
    mut ph: impl FnMut() -> String,
) -> (String, Vec<String>) {
    let ScopeCols { area: area_col, kind: kind_col, doc: doc_col } = cols;
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    for s in scopes {
        if s.kinds.is_empty() {
            continue;
        }
        // A handler of no department reads no record of its area (only the wide kinds below:
        // the district's reference record).
        let no_department = s.departments.as_ref().is_some_and(Vec::is_empty);
        let (lo, hi) = area_range(s.area.as_str());
        let kinds: Vec<String> = s.kinds.iter().map(|k| k.code().to_string()).collect();
        if !no_department {
            let mut part = format!(
                "({area_col} >= {} AND {area_col} < {} AND {kind_col} IN ({})",
                ph(),
                ph(),
                kinds.join(",")
            );
            binds.push(lo);
            binds.push(hi);
            if let Some(departments) = &s.departments {
                let phs: Vec<String> = departments.iter().map(|_| ph()).collect();
                part.push_str(&format!(
                    " AND {doc_col} IN (SELECT doc_id FROM doc_departments WHERE department IN ({}))",
                    phs.join(",")
                ));
                binds.extend(departments.iter().cloned());
            }
            part.push(')');
            parts.push(part);
        }
        // Records for an area containing the scope reach it too, for the kinds issued to whole
        // areas (a town-wide task reaches every grid of the town; DESIGN §8).
        // A department handler's scope reads only its departments' documents in its own area:
        // the wide kinds issued for that very area (the district's reference record, for a
        // handler of the whole district) reach it here too.
        let from = if s.departments.is_some() { Some(s.area.clone()) } else { s.area.parent() };
        let ancestors: Vec<String> =
            std::iter::successors(from, |a| a.parent()).map(|a| area_key(a.as_str())).collect();
        let wide: Vec<String> = s
            .kinds
            .iter()
            .filter(|k| gridwork_core::kinds::reaches_sub_areas(**k))
            .map(|k| k.code().to_string())
            .collect();
        if !ancestors.is_empty() && !wide.is_empty() {
            let phs: Vec<String> = ancestors.iter().map(|_| ph()).collect();
            parts.push(format!(
                "({area_col} IN ({}) AND {kind_col} IN ({}))",
                phs.join(","),
                wide.join(",")
            ));
            binds.extend(ancestors);
        }
    }
    if parts.is_empty() { ("FALSE".into(), binds) } else { (parts.join(" OR "), binds) }
}

/// The `log_meta` key of the log's identity.
pub(crate) const EPOCH_KEY: &str = "epoch";

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Cuts a list of candidate changes (seq order, already filtered) into one page.
pub(crate) fn page_of(
    rows: Vec<PulledChange>,
    fetched_full: bool,
    max_bytes: u32,
    head: u64,
) -> PullPage {
    let mut out = Vec::new();
    let mut bytes: u64 = 0;
    let mut more = fetched_full;
    for c in rows {
        let len = c.change.bytes.len() as u64;
        if !out.is_empty() && bytes + len > u64::from(max_bytes) {
            more = true;
            break;
        }
        bytes += len;
        out.push(c);
    }
    let next_cursor = if more { out.last().map_or(0, |c| c.seq) } else { head };
    PullPage { changes: out, next_cursor, more, head_seq: head }
}

/// How many candidate rows a pull reads from the database at once.
pub(crate) const PULL_BATCH_ROWS: i64 = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_range_is_whole_segments() {
        let (lo, hi) = area_range("320612/004");
        for (k, inside) in [
            ("320612/004/", true),
            ("320612/004/017/03/", true),
            ("320612/0041/", false),
            ("320612/003/", false),
            ("320612/", false),
        ] {
            assert_eq!(k >= lo.as_str() && k < hi.as_str(), inside, "{k}");
        }
    }
}
