//! The embedded SQLite store: one file in the data directory, WAL mode, exactly one writer
//! connection (which serialises seq assignment) and a small pool of reader connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gridwork_core::protocol::{DocDigest, PulledChange};
use gridwork_core::{Area, AreaPath, ChangeEnvelope, RecordKind, Role};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use uuid::Uuid;

use super::held::{
    DeviceReport, HeldChange, HeldReport, ReportOutcome, ReportRow, Withholding, group,
    toggle_digest,
};
use super::{
    AttachmentChunk, AttachmentInfo, AttachmentRef, AuditAction, AuditEntry, Device, DeviceAuth,
    DeviceHealth, EPOCH_KEY, NewChange, NewDevice, NewEnrolmentCode, PULL_BATCH_ROWS, PullPage,
    PullQuery, PushOutcome, ReadScope, Redeemed, Redemption, RoleGrant, ScopeCols, Store,
    StoreError, StoreResult, StoredCode, User, area_after, area_from_key, area_key, area_range,
    migrations, page_of, pull_scope_sql, scope_sql, scope_sql_on,
};

mod blobs;
mod departments;
mod hotline;
mod ledger;
mod query;
mod read_model;
mod staff;

const MAX_IDLE_READERS: usize = 8;

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The log's identity (kept in `log_meta`; cached: it changes only through `new_epoch`).
    epoch: Mutex<Uuid>,
}

/// The high-water mark beside the database file: the epoch and head seq after the last push,
/// written (not synced) after every commit. A database file restored from a backup is behind
/// it: the server notices at start and gives the log a new epoch. A restore that also brings
/// back this file needs `gridwork-server --restored`.
fn high_water_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".hwm");
    PathBuf::from(p)
}

fn write_high_water(db: &Path, epoch: Uuid, head: u64) {
    if let Err(e) = std::fs::write(high_water_path(db), format!("{} {head}", epoch.simple())) {
        tracing::warn!(error = %e, "cannot write the log's high-water mark");
    }
}

fn read_high_water(db: &Path) -> Option<(Uuid, u64)> {
    let text = std::fs::read_to_string(high_water_path(db)).ok()?;
    let (epoch, head) = text.trim().split_once(' ')?;
    Some((Uuid::parse_str(epoch).ok()?, head.parse().ok()?))
}

/// The stored epoch, made on first open.
fn load_epoch(conn: &Connection) -> StoreResult<Uuid> {
    conn.execute(
        "INSERT OR IGNORE INTO log_meta (key, value) VALUES (?1, ?2)",
        params![EPOCH_KEY, Uuid::new_v4().as_bytes().as_slice()],
    )?;
    let bytes: Vec<u8> =
        conn.query_row("SELECT value FROM log_meta WHERE key = ?1", [EPOCH_KEY], |r| r.get(0))?;
    Uuid::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("epoch: {e}")))
}

fn store_epoch(conn: &Connection, epoch: Uuid) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO log_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![EPOCH_KEY, epoch.as_bytes().as_slice()],
    )?;
    Ok(())
}

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// The `synchronous` setting of every connection: `FULL`, so that a commit — and therefore the
/// acknowledgement of a push — is on disk (the WAL fsynced) before the device is told it is
/// stored. `NORMAL` in WAL mode would survive a crash of the process but could lose the last
/// commits on a power cut, after the device dropped them from its outbox (issue 8, item 3; cost
/// in `docs/BENCHMARKS.md`).
pub const SYNCHRONOUS: &str = "FULL";

fn open_conn(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Task("a storage lock was poisoned by an earlier failure".into())
}

fn uuid_of(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s}: {e}")))
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn hash32(v: &[u8]) -> StoreResult<[u8; 32]> {
    <[u8; 32]>::try_from(v).map_err(|_| StoreError::Corrupt("hash length".into()))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date
    /// ([`super::migrations`]).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the file cannot be opened; [`StoreError::SchemaTooNew`],
    /// [`StoreError::SchemaHistory`] for a database this server must not use;
    /// [`StoreError::MigrationFailed`] when a migration fails (the database keeps the version
    /// before it).
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Task(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let mut conn = open_conn(&path)?;
            migrations::migrate_sqlite(&mut conn, migrations::SQLITE, super::now_ms())?
                .log("sqlite");
            let mut epoch = load_epoch(&conn)?;
            let head = head(&conn)?;
            if let Some((hwm_epoch, hwm_head)) = read_high_water(&path)
                && hwm_epoch == epoch
                && hwm_head > head
            {
                epoch = Uuid::new_v4();
                store_epoch(&conn, epoch)?;
                tracing::warn!(
                    head,
                    acknowledged = hwm_head,
                    "the database is behind what this server acknowledged (restored from a \
                     backup?): new log epoch, devices will repair"
                );
            }
            write_high_water(&path, epoch, head);
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path,
                    writer: Mutex::new(conn),
                    readers: Mutex::new(Vec::new()),
                    epoch: Mutex::new(epoch),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Sets the writer's `synchronous` level (`"FULL"` or `"NORMAL"`), for the benchmark that
    /// measures what durability costs (`benches/ingest.rs`, section `durability`). The server
    /// never calls it: it always runs with [`SYNCHRONOUS`].
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::Task`] for another level.
    pub async fn set_synchronous_for_bench(&self, level: &'static str) -> StoreResult<()> {
        if !matches!(level, "FULL" | "NORMAL") {
            return Err(StoreError::Task(format!("unsupported synchronous level {level}")));
        }
        self.write(move |c| Ok(c.pragma_update(None, "synchronous", level)?)).await
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().map_err(poisoned)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().map_err(poisoned)?.pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path)?,
            };
            let out = f(&mut conn);
            let mut readers = inner.readers.lock().map_err(poisoned)?;
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

fn load_roles(conn: &Connection, user_id: &str) -> StoreResult<Vec<RoleGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, area FROM user_roles WHERE user_id = ? ORDER BY area, role",
    )?;
    let rows =
        stmt.query_map([user_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (role, area) = row?;
        out.push(RoleGrant {
            role: Role::parse(&role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            area: AreaPath::parse(&area).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        });
    }
    Ok(out)
}

/// Grants `roles` to user `id` (inside the caller's transaction).
fn insert_grants(tx: &rusqlite::Transaction<'_>, id: &str, roles: &[RoleGrant]) -> StoreResult<()> {
    for g in roles {
        tx.execute(
            "INSERT OR IGNORE INTO user_roles (user_id, role, area) VALUES (?, ?, ?)",
            params![id, g.role.as_str(), g.area.as_str()],
        )?;
    }
    Ok(())
}

fn load_user(conn: &Connection, id: &str) -> StoreResult<Option<User>> {
    let row = conn
        .query_row("SELECT id, name, created_at FROM users WHERE id = ?", [id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((id, name, created_at)) => {
            Ok(Some(User { id: uuid_of(&id)?, roles: load_roles(conn, &id)?, name, created_at }))
        }
    }
}

const DEVICE_COLS: &str =
    "id, user_id, name, actor, revoked, enrolled_at, last_seen, cursor FROM devices";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Device)> {
    let id: String = r.get(0)?;
    let user: String = r.get(1)?;
    Ok((
        id,
        user,
        Device {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            name: r.get(2)?,
            actor_hex: r.get(3)?,
            revoked: r.get::<_, i64>(4)? != 0,
            enrolled_at: r.get(5)?,
            last_seen: r.get(6)?,
            cursor: u64_of(r.get(7)?),
        },
    ))
}

fn finish_device((id, user, mut d): (String, String, Device)) -> StoreResult<Device> {
    d.id = uuid_of(&id)?;
    d.user_id = uuid_of(&user)?;
    Ok(d)
}

fn head(conn: &Connection) -> StoreResult<u64> {
    Ok(u64_of(conn.query_row("SELECT seq FROM seq_counter WHERE id = 1", [], |r| r.get(0))?))
}

/// A raw change row: seq, doc id, kind, area key, bytes, receive time.
type ChangeRow = (i64, Vec<u8>, u8, String, Vec<u8>, i64);

/// The columns a [`ChangeRow`] reads, over `changes c JOIN documents d`: the record's current
/// area, not the one the change was pushed under.
const CHANGE_COLS: &str = "c.seq, c.doc_id, c.kind, d.area_key, c.bytes, c.received_at";

fn change_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn to_pulled(row: ChangeRow) -> StoreResult<PulledChange> {
    let (seq, doc, kind, key, bytes, received_at) = row;
    let doc_id = Uuid::from_slice(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(PulledChange {
        seq: u64_of(seq),
        received_at: Some(received_at),
        change: ChangeEnvelope {
            doc_id,
            kind: RecordKind::from_code(kind).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            area: area_from_key(&key)?,
            bytes,
        },
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn departments(&self) -> &dyn super::departments::DepartmentStore {
        self
    }

    fn hotline(&self) -> &dyn super::hotline::HotlineStore {
        self
    }

    fn read_model(&self) -> Option<&dyn crate::read_model::projector::ReadModelStore> {
        Some(self)
    }

    fn staff(&self) -> &dyn super::staff::StaffStore {
        self
    }

    fn query(&self) -> Option<&dyn crate::query::QueryStore> {
        Some(self)
    }

    fn ledger(&self) -> Option<&dyn crate::ledger::store::LedgerStore> {
        Some(self)
    }

    async fn init_admin_token(&self, hash: [u8; 32], now: i64) -> StoreResult<bool> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n: i64 = tx.query_row("SELECT count(*) FROM admin_tokens", [], |r| r.get(0))?;
            if n > 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO admin_tokens (hash, created_at) VALUES (?, ?)",
                params![&hash[..], now],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn check_admin_token(&self, hash: [u8; 32]) -> StoreResult<bool> {
        self.read(move |c| {
            Ok(c.query_row("SELECT 1 FROM admin_tokens WHERE hash = ?", [&hash[..]], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
    }

    async fn put_area(&self, path: &AreaPath, name: &str) -> StoreResult<()> {
        let (path, name) = (path.to_string(), name.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO areas (path, name) VALUES (?, ?)
                 ON CONFLICT (path) DO UPDATE SET name = excluded.name",
                params![path, name],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_areas(&self) -> StoreResult<Vec<Area>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT path, name FROM areas ORDER BY path")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (path, name) = row?;
                out.push(Area {
                    path: AreaPath::parse(&path).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    name,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let user = user.clone();
        self.write(move |c| {
            let tx = c.transaction()?;
            let id = user.id.to_string();
            let n = tx.execute(
                "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                params![id, user.name, user.created_at],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict { what: "user", id });
            }
            insert_grants(&tx, &id, &user.roles)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| {
            let ids: Vec<String> = c
                .prepare("SELECT id FROM users ORDER BY created_at, id")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for id in ids {
                out.extend(load_user(c, &id)?);
            }
            Ok(out)
        })
        .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.read(move |c| load_user(c, &id.to_string())).await
    }

    async fn set_user_roles(&self, id: Uuid, roles: &[RoleGrant]) -> StoreResult<bool> {
        let roles = roles.to_vec();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = id.to_string();
            let known: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM users WHERE id = ?)", [&id], |r| {
                    r.get(0)
                })?;
            if !known {
                return Ok(false);
            }
            tx.execute("DELETE FROM user_roles WHERE user_id = ?", [&id])?;
            insert_grants(&tx, &id, &roles)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn create_enrolment_code(&self, code: &NewEnrolmentCode) -> StoreResult<()> {
        let code = code.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO enrolment_codes (code_hash, user_id, created_at, expires_at)
                 VALUES (?, ?, ?, ?)",
                params![
                    &code.code_hash[..],
                    code.user_id.to_string(),
                    code.created_at,
                    code.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn redeem_enrolment_code(
        &self,
        code_hash: [u8; 32],
        device: &NewDevice,
    ) -> StoreResult<Redeemed> {
        let device = device.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<(String, i64, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT user_id, expires_at, used_at, device_id FROM enrolment_codes
                     WHERE code_hash = ?",
                    [&code_hash[..]],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let code = row
                .map(|(user_id, expires_at, used_at, used_by)| {
                    Ok::<_, StoreError>(StoredCode {
                        user_id: uuid_of(&user_id)?,
                        expires_at,
                        used: used_at.is_some(),
                        used_by: used_by.as_deref().map(uuid_of).transpose()?,
                    })
                })
                .transpose()?;
            let bound = tx
                .query_row(
                    &format!("SELECT {DEVICE_COLS} WHERE actor = ?"),
                    [&device.actor_hex],
                    device_row,
                )
                .optional()?
                .map(finish_device)
                .transpose()?;
            let plan =
                super::redemption(code, bound, device.now).map_err(StoreError::Enrolment)?;
            let (id, consume_code) = match &plan {
                Redemption::Create { user_id } => {
                    tx.execute(
                        "INSERT INTO devices (id, user_id, name, actor, credential_hash, enrolled_at)
                         VALUES (?, ?, ?, ?, ?, ?)",
                        params![
                            device.id.to_string(),
                            user_id.to_string(),
                            device.name,
                            device.actor_hex,
                            &device.credential_hash[..],
                            device.now
                        ],
                    )?;
                    (device.id, true)
                }
                Redemption::Renew { device: d, consume_code } => {
                    tx.execute(
                        "UPDATE devices SET credential_hash = ?, name = ? WHERE id = ?",
                        params![&device.credential_hash[..], device.name, d.id.to_string()],
                    )?;
                    (d.id, *consume_code)
                }
            };
            if consume_code {
                tx.execute(
                    "UPDATE enrolment_codes SET used_at = ?, device_id = ? WHERE code_hash = ?",
                    params![device.now, id.to_string(), &code_hash[..]],
                )?;
            }
            tx.commit()?;
            Ok(plan.outcome(&device))
        })
        .await
    }

    async fn device_by_credential(&self, hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>> {
        self.read(move |c| {
            let row = c
                .query_row(
                    &format!("SELECT {DEVICE_COLS} WHERE credential_hash = ?"),
                    [&hash[..]],
                    device_row,
                )
                .optional()?;
            let Some(row) = row else { return Ok(None) };
            let device = finish_device(row)?;
            let user = load_user(c, &device.user_id.to_string())?
                .ok_or_else(|| StoreError::Corrupt(format!("device {} has no user", device.id)))?;
            Ok(Some(DeviceAuth { device, user }))
        })
        .await
    }

    async fn list_devices(&self) -> StoreResult<Vec<Device>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {DEVICE_COLS} ORDER BY enrolled_at, id"))?;
            let rows = stmt.query_map([], device_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_device(row?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn revoke_device(&self, id: Uuid) -> StoreResult<bool> {
        self.write(move |c| {
            Ok(c.execute("UPDATE devices SET revoked = 1 WHERE id = ?", [id.to_string()])? > 0)
        })
        .await
    }

    async fn touch_device(&self, id: Uuid, cursor: u64, now: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE devices SET last_seen = ?, cursor = ? WHERE id = ?",
                params![now, i64_of(cursor), id.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn push(
        &self,
        device_id: Uuid,
        now: i64,
        changes: &[NewChange],
    ) -> StoreResult<PushOutcome> {
        let changes = changes.to_vec();
        let inner = self.inner.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut seq = i64_of(head(&tx)?);
            let start = seq;
            let device = device_id.to_string();
            let mut seqs = Vec::with_capacity(changes.len());
            let mut received = Vec::with_capacity(changes.len());
            {
                let mut existing =
                    tx.prepare_cached("SELECT seq, received_at FROM changes WHERE hash = ?")?;
                let mut doc = tx.prepare_cached(
                    "SELECT kind, change_count, hash_xor, area_key, area_op FROM documents
                     WHERE doc_id = ?",
                )?;
                let mut put_doc = tx.prepare_cached(
                    "INSERT INTO documents
                       (doc_id, kind, area_key, change_count, hash_xor, last_seq, area_op)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (doc_id) DO UPDATE SET area_key = ?3, change_count = ?4,
                       hash_xor = ?5, last_seq = ?6, area_op = ?7",
                )?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO changes (seq, hash, doc_id, kind, area_key, sensitive, device_id,
                       received_at, bytes, prev_area_key, actor, actor_seq)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?;
                let mut same_origin = tx.prepare_cached(
                    "SELECT 1 FROM changes WHERE doc_id = ? AND actor = ? AND actor_seq = ?",
                )?;
                for (index, ch) in changes.iter().enumerate() {
                    let found: Option<(i64, i64)> = existing
                        .query_row([&ch.hash[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if let Some((s, at)) = found {
                        seqs.push(u64_of(s));
                        received.push(at);
                        continue;
                    }
                    let e = &ch.envelope;
                    let doc_id = e.doc_id.as_bytes().as_slice();
                    type DocRow = (u8, i64, Vec<u8>, String, Option<Vec<u8>>);
                    let prev: Option<DocRow> = doc
                        .query_row([doc_id], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                        })
                        .optional()?;
                    let mut digest = DocDigest::from_hashes(e.doc_id, []);
                    let mut stored_area = None;
                    if let Some((kind, count, xor, area, area_op)) = prev {
                        if kind != e.kind.code() {
                            return Err(StoreError::KindMismatch {
                                index,
                                doc_id: e.doc_id,
                                stored: RecordKind::from_code(kind)
                                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                                pushed: e.kind,
                            });
                        }
                        digest.change_count = u64_of(count);
                        digest.hash_xor = hash32(&xor)?;
                        stored_area = Some((area, area_op));
                    }
                    if let Some((actor, actor_seq)) = &ch.origin
                        && same_origin.exists(params![doc_id, actor, i64_of(*actor_seq)])?
                    {
                        return Err(StoreError::DuplicateSeq {
                            index,
                            doc_id: e.doc_id,
                            actor: hex::encode(actor),
                            seq: *actor_seq,
                        });
                    }
                    digest.add(&ch.hash);
                    seq += 1;
                    let ((doc_area, area_op), moved_from) = area_after(stored_area, ch);
                    insert.execute(params![
                        seq,
                        &ch.hash[..],
                        doc_id,
                        e.kind.code(),
                        area_key(e.area.as_str()),
                        e.kind.is_sensitive(),
                        device,
                        now,
                        e.bytes,
                        moved_from,
                        ch.origin.as_ref().map(|o| o.0.as_slice()),
                        ch.origin.as_ref().map(|o| i64_of(o.1))
                    ])?;
                    put_doc.execute(params![
                        doc_id,
                        e.kind.code(),
                        doc_area,
                        i64_of(digest.change_count),
                        &digest.hash_xor[..],
                        seq,
                        area_op
                    ])?;
                    insert_doc_departments(
                        &tx,
                        ch.departments.iter().map(|d| (e.doc_id, d.as_str())),
                    )?;
                    seqs.push(u64_of(seq));
                    received.push(now);
                }
            }
            tx.execute("UPDATE seq_counter SET seq = ? WHERE id = 1", [seq])?;
            tx.commit()?;
            if seq > start {
                let epoch = *inner.epoch.lock().map_err(poisoned)?;
                write_high_water(&inner.path, epoch, u64_of(seq));
            }
            Ok(PushOutcome {
                seqs,
                received_at: received,
                stored: usize::try_from(seq - start).unwrap_or(0),
            })
        })
        .await
    }

    async fn pull(&self, query: &PullQuery) -> StoreResult<PullPage> {
        let q = query.clone();
        self.read(move |c| {
            // One read transaction: the head and the rows come from the same snapshot.
            let tx = c.transaction()?;
            let head = head(&tx)?;
            if q.cursor >= head {
                return Ok(PullPage {
                    changes: vec![],
                    next_cursor: head.max(q.cursor),
                    more: false,
                    head_seq: head,
                });
            }
            let (pred, binds) = pull_scope_sql(&q.scopes, || "?".into());
            let mut values: Vec<Value> =
                vec![Value::Integer(i64_of(q.cursor)), Value::Integer(i64_of(head))];
            values.extend(binds.into_iter().map(Value::Text));
            let own = match q.exclude_device {
                Some(d) => {
                    values.push(Value::Text(d.to_string()));
                    "AND c.device_id <> ?"
                }
                None => "",
            };
            values.push(Value::Integer(PULL_BATCH_ROWS));
            let sql = format!(
                "SELECT {CHANGE_COLS} FROM changes c JOIN documents d ON d.doc_id = c.doc_id
                 WHERE c.seq > ? AND c.seq <= ? AND NOT c.withheld AND ({pred}) {own}
                 ORDER BY c.seq LIMIT ?"
            );
            let mut rows_out = Vec::new();
            let mut bytes: u64 = 0;
            let mut count: i64 = 0;
            let mut cut = false;
            {
                let mut stmt = tx.prepare(&sql)?;
                let mut rows = stmt.query(params_from_iter(values))?;
                while let Some(r) = rows.next()? {
                    count += 1;
                    let pulled = to_pulled(change_row(r)?)?;
                    bytes += pulled.change.bytes.len() as u64;
                    rows_out.push(pulled);
                    if bytes > u64::from(q.max_bytes) {
                        cut = true;
                        break;
                    }
                }
            }
            Ok(page_of(rows_out, !cut && count == PULL_BATCH_ROWS, q.max_bytes, head))
        })
        .await
    }

    async fn head_seq(&self) -> StoreResult<u64> {
        self.read(|c| head(c)).await
    }

    async fn epoch(&self) -> StoreResult<Uuid> {
        Ok(*self.inner.epoch.lock().map_err(poisoned)?)
    }

    async fn new_epoch(&self) -> StoreResult<Uuid> {
        let inner = self.inner.clone();
        self.write(move |c| {
            let epoch = Uuid::new_v4();
            store_epoch(c, epoch)?;
            *inner.epoch.lock().map_err(poisoned)? = epoch;
            write_high_water(&inner.path, epoch, head(c)?);
            Ok(epoch)
        })
        .await
    }

    async fn doc_areas(&self, doc_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, RecordKind, AreaPath)>> {
        let doc_ids = doc_ids.to_vec();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT kind, area_key FROM documents WHERE doc_id = ?")?;
            let mut out = Vec::new();
            for id in doc_ids {
                let row: Option<(u8, String)> = stmt
                    .query_row([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((kind, key)) = row {
                    let kind = RecordKind::from_code(kind)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    out.push((id, kind, area_from_key(&key)?));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn digests(&self, area: &AreaPath, scopes: &[ReadScope]) -> StoreResult<Vec<DocDigest>> {
        let (area, scopes) = (area.clone(), scopes.to_vec());
        self.read(move |c| {
            let (pred, binds) = scope_sql(&scopes, || "?".into());
            let (lo, hi) = area_range(area.as_str());
            let mut values = vec![Value::Text(lo), Value::Text(hi)];
            values.extend(binds.into_iter().map(Value::Text));
            let mut stmt = c.prepare(&format!(
                "SELECT doc_id, change_count, hash_xor FROM documents
                 WHERE area_key >= ? AND area_key < ? AND ({pred}) ORDER BY doc_id"
            ))?;
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (doc, n, xor) = row?;
                out.push(DocDigest {
                    doc_id: Uuid::from_slice(&doc)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    change_count: u64_of(n),
                    hash_xor: hash32(&xor)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn doc_changes(
        &self,
        doc_ids: &[Uuid],
        scopes: &[ReadScope],
    ) -> StoreResult<Vec<PulledChange>> {
        let (doc_ids, scopes) = (doc_ids.to_vec(), scopes.to_vec());
        self.read(move |c| {
            let (pred, binds) = scope_sql_on(&scopes, ScopeCols::PULL, || "?".into());
            let sql = format!(
                "SELECT {CHANGE_COLS} FROM changes c JOIN documents d ON d.doc_id = c.doc_id
                 WHERE c.doc_id = ? AND NOT c.withheld AND ({pred}) ORDER BY c.seq"
            );
            let mut stmt = c.prepare(&sql)?;
            let mut out = Vec::new();
            for id in doc_ids {
                let mut values = vec![Value::Blob(id.as_bytes().to_vec())];
                values.extend(binds.iter().cloned().map(Value::Text));
                let mut rows = stmt.query(params_from_iter(values))?;
                while let Some(r) = rows.next()? {
                    out.push(to_pulled(change_row(r)?)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn change_count(&self) -> StoreResult<u64> {
        self.read(|c| Ok(u64_of(c.query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?)))
            .await
    }

    async fn report_held(
        &self,
        device_id: Uuid,
        now: i64,
        reports: &[HeldReport],
    ) -> StoreResult<ReportOutcome> {
        let reports = reports.to_vec();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = ReportOutcome { recorded: 0, unknown: 0 };
            {
                let mut known =
                    tx.prepare_cached("SELECT 1 FROM changes WHERE hash = ? AND doc_id = ?")?;
                let mut put = tx.prepare_cached(
                    "INSERT INTO change_reports (hash, device_id, reason, detail, reported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (hash, device_id) DO UPDATE SET reason = ?3, detail = ?4,
                       reported_at = ?5",
                )?;
                let device = device_id.to_string();
                for r in &reports {
                    if !known.exists(params![&r.hash[..], r.doc_id.as_bytes().as_slice()])? {
                        out.unknown += 1;
                        continue;
                    }
                    put.execute(params![&r.hash[..], device, r.reason, r.detail, now])?;
                    out.recorded += 1;
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn held_changes(&self) -> StoreResult<Vec<HeldChange>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT c.hash, c.doc_id, c.kind, c.area_key, c.seq, c.received_at, c.withheld,
                        r.device_id, r.reason, r.detail, r.reported_at
                 FROM change_reports r JOIN changes c ON c.hash = r.hash
                 WHERE c.seq IN (SELECT c2.seq FROM changes c2
                                 JOIN change_reports r2 ON r2.hash = c2.hash
                                 GROUP BY c2.seq ORDER BY c2.seq DESC LIMIT 1000)
                 ORDER BY c.seq, r.reported_at, r.device_id",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let doc: Vec<u8> = r.get(1)?;
                let kind: u8 = r.get(2)?;
                let key: String = r.get(3)?;
                let device: String = r.get(7)?;
                out.push(ReportRow {
                    hash: hash32(&r.get::<_, Vec<u8>>(0)?)?,
                    doc_id: Uuid::from_slice(&doc)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    kind: RecordKind::from_code(kind)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    area: area_from_key(&key)?,
                    seq: u64_of(r.get(4)?),
                    received_at: r.get(5)?,
                    withheld: r.get(6)?,
                    report: DeviceReport {
                        device_id: uuid_of(&device)?,
                        reason: r.get(8)?,
                        detail: r.get(9)?,
                        reported_at: r.get(10)?,
                    },
                });
            }
            Ok(group(out))
        })
        .await
    }

    async fn set_withheld(&self, hash: [u8; 32], withheld: bool) -> StoreResult<Withholding> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Option<(Vec<u8>, bool)> = tx
                .query_row(
                    "SELECT doc_id, withheld FROM changes WHERE hash = ?",
                    [&hash[..]],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((doc, was)) = found else { return Ok(Withholding::NotFound) };
            if was == withheld {
                return Ok(Withholding::Unchanged);
            }
            tx.execute(
                "UPDATE changes SET withheld = ? WHERE hash = ?",
                params![withheld, &hash[..]],
            )?;
            let (count, xor): (i64, Vec<u8>) = tx.query_row(
                "SELECT change_count, hash_xor FROM documents WHERE doc_id = ?",
                [&doc],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut xor = hash32(&xor)?;
            let count = toggle_digest(count, &mut xor, &hash, withheld);
            tx.execute(
                "UPDATE documents SET change_count = ?, hash_xor = ? WHERE doc_id = ?",
                params![count, &xor[..], &doc],
            )?;
            tx.commit()?;
            Ok(Withholding::Changed)
        })
        .await
    }

    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let e = entry.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO audit_log (at, user_id, device_id, action, count, areas, detail,
                     actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    e.at,
                    e.user_id.map(|u| u.to_string()),
                    e.device_id.map(|u| u.to_string()),
                    e.action.as_str(),
                    i64_of(e.count),
                    e.areas.join(","),
                    e.detail,
                    e.actor_id.map(|u| u.to_string())
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_audit(&self, limit: u32, device: Option<Uuid>) -> StoreResult<Vec<AuditEntry>> {
        self.read(move |c| {
            let base = "SELECT id, at, user_id, device_id, action, count, areas, detail, actor_id
                 FROM audit_log";
            let mut values = Vec::new();
            let filter = match device {
                Some(d) => {
                    values.push(Value::Text(d.to_string()));
                    "WHERE device_id = ?"
                }
                None => "",
            };
            values.push(Value::Integer(i64::from(limit)));
            let mut stmt = c.prepare(&format!("{base} {filter} ORDER BY id DESC LIMIT ?"))?;
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at, user, dev, action, count, areas, detail, actor) = row?;
                out.push(AuditEntry {
                    id,
                    at,
                    user_id: user.as_deref().map(uuid_of).transpose()?,
                    device_id: dev.as_deref().map(uuid_of).transpose()?,
                    action: AuditAction::parse(&action)?,
                    count: u64_of(count),
                    areas: split_areas(&areas),
                    detail,
                    actor_id: actor.as_deref().map(uuid_of).transpose()?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn sync_health(&self) -> StoreResult<Vec<DeviceHealth>> {
        self.read(|c| {
            let head = head(c)?;
            let mut stmt = c.prepare(&format!("SELECT {DEVICE_COLS} ORDER BY enrolled_at, id"))?;
            let rows = stmt.query_map([], device_row)?;
            let mut out = Vec::new();
            for row in rows {
                let d = finish_device(row?)?;
                out.push(DeviceHealth {
                    device_id: d.id,
                    name: d.name,
                    user_id: d.user_id,
                    revoked: d.revoked,
                    last_seen: d.last_seen,
                    cursor: d.cursor,
                    cursor_lag: head.saturating_sub(d.cursor),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn attachment(&self, hash: [u8; 32]) -> StoreResult<Option<AttachmentInfo>> {
        self.blob_info(hash).await
    }

    async fn append_attachment(&self, chunk: &AttachmentChunk) -> StoreResult<AttachmentInfo> {
        self.blob_append(chunk).await
    }

    async fn read_attachment(&self, hash: [u8; 32], start: u64, end: u64) -> StoreResult<Vec<u8>> {
        self.blob_read(hash, start, end).await
    }

    async fn complete_attachment(&self, hash: [u8; 32], now: i64) -> StoreResult<()> {
        self.blob_complete(hash, now).await
    }

    async fn discard_attachment(&self, hash: [u8; 32]) -> StoreResult<()> {
        self.blob_discard(hash).await
    }

    async fn add_attachment_refs(&self, refs: &[AttachmentRef]) -> StoreResult<()> {
        self.blob_add_refs(refs).await
    }

    async fn attachment_referenced(
        &self,
        hash: [u8; 32],
        scopes: &[ReadScope],
    ) -> StoreResult<bool> {
        self.blob_referenced(hash, scopes).await
    }
}

/// Records that documents were dispatched to departments (idempotent), inside `tx`.
fn insert_doc_departments<'a>(
    tx: &rusqlite::Transaction<'_>,
    pairs: impl IntoIterator<Item = (Uuid, &'a str)>,
) -> StoreResult<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO doc_departments (doc_id, department) VALUES (?, ?)",
    )?;
    for (doc, department) in pairs {
        insert.execute(params![doc.as_bytes().as_slice(), department])?;
    }
    Ok(())
}

/// Splits the stored comma-joined area list.
pub(crate) fn split_areas(s: &str) -> Vec<String> {
    if s.is_empty() { Vec::new() } else { s.split(',').map(str::to_owned).collect() }
}

#[cfg(test)]
mod durability_tests {
    use super::*;

    #[test]
    fn commits_are_fsynced() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_conn(&dir.path().join("s.db")).unwrap();
        let level: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(level, 2, "synchronous = FULL");
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
