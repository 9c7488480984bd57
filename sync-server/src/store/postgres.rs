//! The PostgreSQL store, for scale: a connection pool, batched statements, and seq assignment
//! serialised by a one-row counter locked for the whole push transaction (DESIGN §2's trap: with
//! plain sequences a lower seq could commit after a pull already passed it).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use gridwork_core::protocol::{DocDigest, PulledChange};
use gridwork_core::{Area, AreaPath, ChangeEnvelope, RecordKind, Role};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, NoTls, Row};
use uuid::Uuid;

use super::held::{
    DeviceReport, HeldChange, HeldReport, ReportOutcome, ReportRow, Withholding, group,
    toggle_digest,
};
use super::{
    AttachmentChunk, AttachmentInfo, AttachmentRef, AuditAction, AuditEntry, Device, DeviceAuth,
    DeviceHealth, DocArea, EPOCH_KEY, EnrolmentProblem, NewChange, NewDevice, NewEnrolmentCode,
    PULL_BATCH_ROWS, PullPage, PullQuery, PushOutcome, ReadScope, Redeemed, Redemption, RoleGrant,
    ScopeCols, Store, StoreError, StoreResult, StoredCode, User, area_after, area_from_key,
    area_key, area_range, migrations, page_of, pull_scope_sql, scope_sql, scope_sql_on,
    sqlite::split_areas,
};

mod blobs;
mod departments;
mod hotline;
pub use hotline::OUTBOX_LOCK;
mod ledger;
mod query;
mod read_model;
mod staff;

/// Advisory lock key taken by every migration transaction, so that several servers starting at
/// once do not race.
const MIGRATION_LOCK: i64 = 0x6772_6964_776b;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

type Param = Box<dyn ToSql + Sync + Send>;

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}

/// Records that documents were dispatched to departments (idempotent), inside `tx`.
async fn insert_doc_departments(
    tx: &deadpool_postgres::Transaction<'_>,
    pairs: &[(Uuid, &str)],
) -> StoreResult<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let docs: Vec<&[u8]> = pairs.iter().map(|(d, _)| &d.as_bytes()[..]).collect();
    let departments: Vec<&str> = pairs.iter().map(|(_, c)| *c).collect();
    tx.execute(
        "INSERT INTO doc_departments (doc_id, department)
         SELECT * FROM UNNEST($1::bytea[], $2::text[]) ON CONFLICT DO NOTHING",
        &[&docs, &departments],
    )
    .await?;
    Ok(())
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uuid_of(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s}: {e}")))
}

fn hash32(v: &[u8]) -> StoreResult<[u8; 32]> {
    <[u8; 32]>::try_from(v).map_err(|_| StoreError::Corrupt("hash length".into()))
}

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names and brings its schema up to date
    /// ([`super::migrations`]).
    ///
    /// # Errors
    /// [`StoreError::Postgres`] / [`StoreError::Pool`] when the server cannot be reached;
    /// [`StoreError::SchemaTooNew`], [`StoreError::SchemaHistory`] for a database this server
    /// must not use; [`StoreError::MigrationFailed`] when a migration fails (the database keeps
    /// the version before it).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_in_schema(url, None).await
    }

    /// As [`PgStore::connect`], keeping every table in the named PostgreSQL schema (created if
    /// needed). Tests use one schema each; deployments may share a database this way.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let mut cfg: tokio_postgres::Config = url.parse()?;
        if let Some(schema) = schema {
            if !schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(StoreError::Pool(format!("invalid schema name {schema}")));
            }
            let (client, conn) = cfg.connect(NoTls).await?;
            let task = tokio::spawn(conn);
            // Under the migration lock: two `CREATE SCHEMA IF NOT EXISTS` at once can collide.
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
                     CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT;"
                ))
                .await?;
            drop(client);
            let _ = task.await;
            cfg.options(format!("-c search_path={schema}"));
        }
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(mgr).max_size(16).build().map_err(pool_err)?;
        let store = PgStore { pool };
        let mut client = store.pool.get().await.map_err(pool_err)?;
        migrations::migrate_postgres(
            &mut client,
            migrations::POSTGRES,
            MIGRATION_LOCK,
            super::now_ms(),
        )
        .await?
        .log("postgres");
        Ok(store)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(pool_err)
    }
}

async fn load_roles(c: &impl GenericClient, user_id: &str) -> StoreResult<Vec<RoleGrant>> {
    let rows = c
        .query(
            "SELECT role, area FROM user_roles WHERE user_id = $1 ORDER BY area, role",
            &[&user_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RoleGrant {
                role: Role::parse(r.get(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                area: AreaPath::parse(r.get(1)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .collect()
}

/// Grants `roles` to user `id` (inside the caller's transaction).
async fn insert_grants(
    tx: &tokio_postgres::Transaction<'_>,
    id: &str,
    roles: &[RoleGrant],
) -> StoreResult<()> {
    for g in roles {
        tx.execute(
            "INSERT INTO user_roles (user_id, role, area) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&id, &g.role.as_str(), &g.area.as_str()],
        )
        .await?;
    }
    Ok(())
}

async fn load_user(c: &impl GenericClient, id: &str) -> StoreResult<Option<User>> {
    let Some(row) =
        c.query_opt("SELECT id, name, created_at FROM users WHERE id = $1", &[&id]).await?
    else {
        return Ok(None);
    };
    Ok(Some(User {
        id: uuid_of(row.get(0))?,
        name: row.get(1),
        created_at: row.get(2),
        roles: load_roles(c, id).await?,
    }))
}

const DEVICE_COLS: &str =
    "id, user_id, name, actor, revoked, enrolled_at, last_seen, cursor FROM devices";

fn device_of(r: &Row) -> StoreResult<Device> {
    Ok(Device {
        id: uuid_of(r.get(0))?,
        user_id: uuid_of(r.get(1))?,
        name: r.get(2),
        actor_hex: r.get(3),
        revoked: r.get(4),
        enrolled_at: r.get(5),
        last_seen: r.get(6),
        cursor: u64_of(r.get(7)),
    })
}

/// The columns [`pulled_of`] reads, over `changes c JOIN documents d`: the record's current
/// area, not the one the change was pushed under.
const CHANGE_COLS: &str = "c.seq, c.doc_id, c.kind, d.area_key, c.bytes, c.received_at";

fn pulled_of(r: &Row) -> StoreResult<PulledChange> {
    let doc: &[u8] = r.get(1);
    let kind: i16 = r.get(2);
    let kind = u8::try_from(kind)
        .ok()
        .and_then(|k| RecordKind::from_code(k).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?;
    Ok(PulledChange {
        seq: u64_of(r.get(0)),
        received_at: Some(r.get(5)),
        change: ChangeEnvelope {
            doc_id: Uuid::from_slice(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            kind,
            area: area_from_key(r.get(3))?,
            bytes: r.get(4),
        },
    })
}

async fn head(c: &impl GenericClient) -> StoreResult<u64> {
    Ok(u64_of(c.query_one("SELECT seq FROM seq_counter WHERE id = 1", &[]).await?.get(0)))
}

/// Appends the scope predicate with `$n` placeholders numbered after the existing params.
fn push_scope(params: &mut Vec<Param>, scopes: &[ReadScope]) -> String {
    push_pred(params, |ph| scope_sql(scopes, ph))
}

/// As [`push_scope`] for any of the shared scope builders.
fn push_pred(
    params: &mut Vec<Param>,
    build: impl FnOnce(&mut dyn FnMut() -> String) -> (String, Vec<String>),
) -> String {
    let mut n = params.len();
    let (pred, binds) = build(&mut || {
        n += 1;
        format!("${n}")
    });
    params.extend(binds.into_iter().map(|b| Box::new(b) as Param));
    pred
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute("LOCK TABLE admin_tokens IN EXCLUSIVE MODE", &[]).await?;
        let n: i64 = tx.query_one("SELECT count(*) FROM admin_tokens", &[]).await?.get(0);
        if n > 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO admin_tokens (hash, created_at) VALUES ($1, $2)",
            &[&&hash[..], &now],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn check_admin_token(&self, hash: [u8; 32]) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.query_opt("SELECT 1 FROM admin_tokens WHERE hash = $1", &[&&hash[..]])
            .await?
            .is_some())
    }

    async fn put_area(&self, path: &AreaPath, name: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO areas (path, name) VALUES ($1, $2)
             ON CONFLICT (path) DO UPDATE SET name = excluded.name",
            &[&path.as_str(), &name],
        )
        .await?;
        Ok(())
    }

    async fn list_areas(&self) -> StoreResult<Vec<Area>> {
        let c = self.client().await?;
        let rows = c.query("SELECT path, name FROM areas ORDER BY path", &[]).await?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    path: AreaPath::parse(r.get(0))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    name: r.get(1),
                })
            })
            .collect()
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = user.id.to_string();
        let n = tx
            .execute(
                "INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&id, &user.name, &user.created_at],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict { what: "user", id });
        }
        insert_grants(&tx, &id, &user.roles).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let c = self.client().await?;
        let rows = c.query("SELECT id FROM users ORDER BY created_at, id", &[]).await?;
        let mut out = Vec::new();
        for r in rows {
            out.extend(load_user(&**c, r.get(0)).await?);
        }
        Ok(out)
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let c = self.client().await?;
        load_user(&**c, &id.to_string()).await
    }

    async fn set_user_roles(&self, id: Uuid, roles: &[RoleGrant]) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let id = id.to_string();
        // Locks the user's row so concurrent replacements apply one after the other.
        if tx.query_opt("SELECT id FROM users WHERE id = $1 FOR UPDATE", &[&id]).await?.is_none() {
            return Ok(false);
        }
        tx.execute("DELETE FROM user_roles WHERE user_id = $1", &[&id]).await?;
        insert_grants(&tx, &id, roles).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_enrolment_code(&self, code: &NewEnrolmentCode) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO enrolment_codes (code_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[&&code.code_hash[..], &code.user_id.to_string(), &code.created_at, &code.expires_at],
        )
        .await?;
        Ok(())
    }

    async fn redeem_enrolment_code(
        &self,
        code_hash: [u8; 32],
        device: &NewDevice,
    ) -> StoreResult<Redeemed> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let code = tx
            .query_opt(
                "SELECT user_id, expires_at, used_at, device_id FROM enrolment_codes
                 WHERE code_hash = $1 FOR UPDATE",
                &[&&code_hash[..]],
            )
            .await?
            .map(|row| {
                Ok::<_, StoreError>(StoredCode {
                    user_id: uuid_of(row.get(0))?,
                    expires_at: row.get(1),
                    used: row.get::<_, Option<i64>>(2).is_some(),
                    used_by: row.get::<_, Option<&str>>(3).map(uuid_of).transpose()?,
                })
            })
            .transpose()?;
        let bound = tx
            .query_opt(
                &format!("SELECT {DEVICE_COLS} WHERE actor = $1 FOR UPDATE"),
                &[&device.actor_hex],
            )
            .await?
            .map(|row| device_of(&row))
            .transpose()?;
        let plan = super::redemption(code, bound, device.now).map_err(StoreError::Enrolment)?;
        let (id, consume_code) = match &plan {
            Redemption::Create { user_id } => {
                let inserted = tx
                    .execute(
                        "INSERT INTO devices (id, user_id, name, actor, credential_hash, enrolled_at)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (actor) DO NOTHING",
                        &[
                            &device.id.to_string(),
                            &user_id.to_string(),
                            &device.name,
                            &device.actor_hex,
                            &&device.credential_hash[..],
                            &device.now,
                        ],
                    )
                    .await?;
                // A concurrent first enrolment of the same actor won the race; a retry
                // completes this one.
                if inserted == 0 {
                    return Err(StoreError::Enrolment(EnrolmentProblem::ActorTaken));
                }
                (device.id, true)
            }
            Redemption::Renew { device: d, consume_code } => {
                tx.execute(
                    "UPDATE devices SET credential_hash = $1, name = $2 WHERE id = $3",
                    &[&&device.credential_hash[..], &device.name, &d.id.to_string()],
                )
                .await?;
                (d.id, *consume_code)
            }
        };
        if consume_code {
            tx.execute(
                "UPDATE enrolment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3",
                &[&device.now, &id.to_string(), &&code_hash[..]],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(plan.outcome(device))
    }

    async fn device_by_credential(&self, hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>> {
        let c = self.client().await?;
        let Some(row) = c
            .query_opt(&format!("SELECT {DEVICE_COLS} WHERE credential_hash = $1"), &[&&hash[..]])
            .await?
        else {
            return Ok(None);
        };
        let device = device_of(&row)?;
        let user = load_user(&**c, &device.user_id.to_string())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("device {} has no user", device.id)))?;
        Ok(Some(DeviceAuth { device, user }))
    }

    async fn list_devices(&self) -> StoreResult<Vec<Device>> {
        let c = self.client().await?;
        let rows = c.query(&format!("SELECT {DEVICE_COLS} ORDER BY enrolled_at, id"), &[]).await?;
        rows.iter().map(device_of).collect()
    }

    async fn revoke_device(&self, id: Uuid) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute("UPDATE devices SET revoked = TRUE WHERE id = $1", &[&id.to_string()]).await?
            > 0)
    }

    async fn touch_device(&self, id: Uuid, cursor: u64, now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE devices SET last_seen = $1, cursor = $2 WHERE id = $3",
            &[&now, &i64_of(cursor), &id.to_string()],
        )
        .await?;
        Ok(())
    }

    async fn push(
        &self,
        device_id: Uuid,
        now: i64,
        changes: &[NewChange],
    ) -> StoreResult<PushOutcome> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // The row lock is held until commit: pushes serialise here, so seqs commit in order.
        let start: i64 =
            tx.query_one("SELECT seq FROM seq_counter WHERE id = 1 FOR UPDATE", &[]).await?.get(0);
        let hashes: Vec<&[u8]> = changes.iter().map(|c| &c.hash[..]).collect();
        let mut known: HashMap<[u8; 32], (i64, i64)> = HashMap::new();
        for r in tx
            .query("SELECT hash, seq, received_at FROM changes WHERE hash = ANY($1)", &[&hashes])
            .await?
        {
            known.insert(hash32(r.get(0))?, (r.get(1), r.get(2)));
        }
        let doc_ids: Vec<&[u8]> =
            changes.iter().map(|c| &c.envelope.doc_id.as_bytes()[..]).collect();
        let mut docs: HashMap<Uuid, (RecordKind, DocDigest, Option<DocArea>, i64)> = HashMap::new();
        for r in tx
            .query(
                "SELECT doc_id, kind, change_count, hash_xor, area_key, last_seq, area_op
                 FROM documents WHERE doc_id = ANY($1)",
                &[&doc_ids],
            )
            .await?
        {
            let id = Uuid::from_slice(r.get(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let kind: i16 = r.get(1);
            let kind = u8::try_from(kind)
                .ok()
                .and_then(|k| RecordKind::from_code(k).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?;
            let digest = DocDigest {
                doc_id: id,
                change_count: u64_of(r.get(2)),
                hash_xor: hash32(r.get(3))?,
            };
            docs.insert(id, (kind, digest, Some((r.get(4), r.get(6))), r.get(5)));
        }

        // (document, actor, seq) already used: a second change with one of them and other
        // content is refused (a phone restored from a backup recording again).
        let (o_doc, o_actor, o_seq): (Vec<&[u8]>, Vec<&[u8]>, Vec<i64>) = changes
            .iter()
            .filter(|c| !known.contains_key(&c.hash))
            .filter_map(|c| {
                let (a, s) = c.origin.as_ref()?;
                Some((&c.envelope.doc_id.as_bytes()[..], a.as_slice(), i64_of(*s)))
            })
            .fold((vec![], vec![], vec![]), |mut acc, (d, a, s)| {
                acc.0.push(d);
                acc.1.push(a);
                acc.2.push(s);
                acc
            });
        let mut origins: HashSet<(Vec<u8>, Vec<u8>, i64)> = HashSet::new();
        if !o_doc.is_empty() {
            for r in tx
                .query(
                    "SELECT c.doc_id, c.actor, c.actor_seq FROM changes c
                     JOIN UNNEST($1::bytea[], $2::bytea[], $3::bigint[]) AS t(d, a, s)
                       ON c.doc_id = t.d AND c.actor = t.a AND c.actor_seq = t.s",
                    &[&o_doc, &o_actor, &o_seq],
                )
                .await?
            {
                origins.insert((r.get(0), r.get(1), r.get(2)));
            }
        }
        let mut seq = start;
        let mut seqs = Vec::with_capacity(changes.len());
        let mut received = Vec::with_capacity(changes.len());
        let (mut c_seq, mut c_hash, mut c_doc, mut c_kind, mut c_area, mut c_sens, mut c_bytes) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut c_prev: Vec<Option<String>> = vec![];
        let mut c_actor: Vec<Option<&[u8]>> = vec![];
        let mut c_actor_seq: Vec<Option<i64>> = vec![];
        let mut dispatched: Vec<(Uuid, &str)> = vec![];
        for (index, ch) in changes.iter().enumerate() {
            if let Some((s, at)) = known.get(&ch.hash) {
                seqs.push(u64_of(*s));
                received.push(*at);
                continue;
            }
            let e = &ch.envelope;
            let entry = docs
                .entry(e.doc_id)
                .or_insert_with(|| (e.kind, DocDigest::from_hashes(e.doc_id, []), None, 0));
            if entry.0 != e.kind {
                return Err(StoreError::KindMismatch {
                    index,
                    doc_id: e.doc_id,
                    stored: entry.0,
                    pushed: e.kind,
                });
            }
            if let Some((actor, actor_seq)) = &ch.origin
                && !origins.insert((
                    e.doc_id.as_bytes().to_vec(),
                    actor.clone(),
                    i64_of(*actor_seq),
                ))
            {
                return Err(StoreError::DuplicateSeq {
                    index,
                    doc_id: e.doc_id,
                    actor: hex::encode(actor),
                    seq: *actor_seq,
                });
            }
            seq += 1;
            entry.1.add(&ch.hash);
            let (doc_area, moved_from) = area_after(entry.2.take(), ch);
            entry.2 = Some(doc_area);
            entry.3 = seq;
            known.insert(ch.hash, (seq, now));
            seqs.push(u64_of(seq));
            received.push(now);
            c_prev.push(moved_from);
            c_actor.push(ch.origin.as_ref().map(|o| o.0.as_slice()));
            c_actor_seq.push(ch.origin.as_ref().map(|o| i64_of(o.1)));
            c_seq.push(seq);
            c_hash.push(&ch.hash[..]);
            c_doc.push(&e.doc_id.as_bytes()[..]);
            c_kind.push(i16::from(e.kind.code()));
            c_area.push(area_key(e.area.as_str()));
            c_sens.push(e.kind.is_sensitive());
            c_bytes.push(&e.bytes[..]);
            dispatched.extend(ch.departments.iter().map(|d| (e.doc_id, d.as_str())));
        }
        insert_doc_departments(&tx, &dispatched).await?;
        if seq > start {
            tx.execute(
                "INSERT INTO changes (seq, hash, doc_id, kind, area_key, sensitive, device_id,
                   received_at, bytes, prev_area_key, actor, actor_seq)
                 SELECT s, h, d, k, a, se, $8, $9, b, p, ac, aq FROM UNNEST(
                   $1::bigint[], $2::bytea[], $3::bytea[], $4::smallint[], $5::text[],
                   $6::bool[], $7::bytea[], $10::text[], $11::bytea[], $12::bigint[])
                   AS t(s, h, d, k, a, se, b, p, ac, aq)",
                &[
                    &c_seq,
                    &c_hash,
                    &c_doc,
                    &c_kind,
                    &c_area,
                    &c_sens,
                    &c_bytes,
                    &device_id.to_string(),
                    &now,
                    &c_prev,
                    &c_actor,
                    &c_actor_seq,
                ],
            )
            .await?;
            let touched: Vec<_> = docs.values().filter(|d| d.3 > start).collect();
            let d_id: Vec<&[u8]> = touched.iter().map(|d| &d.1.doc_id.as_bytes()[..]).collect();
            let d_kind: Vec<i16> = touched.iter().map(|d| i16::from(d.0.code())).collect();
            let d_area: Vec<&str> =
                touched.iter().map(|d| d.2.as_ref().map_or("", |a| a.0.as_str())).collect();
            let d_op: Vec<Option<&[u8]>> =
                touched.iter().map(|d| d.2.as_ref().and_then(|a| a.1.as_deref())).collect();
            let d_count: Vec<i64> = touched.iter().map(|d| i64_of(d.1.change_count)).collect();
            let d_xor: Vec<&[u8]> = touched.iter().map(|d| &d.1.hash_xor[..]).collect();
            let d_last: Vec<i64> = touched.iter().map(|d| d.3).collect();
            tx.execute(
                "INSERT INTO documents
                   (doc_id, kind, area_key, change_count, hash_xor, last_seq, area_op)
                 SELECT * FROM UNNEST($1::bytea[], $2::smallint[], $3::text[], $4::bigint[],
                   $5::bytea[], $6::bigint[], $7::bytea[])
                 ON CONFLICT (doc_id) DO UPDATE SET area_key = excluded.area_key,
                   change_count = excluded.change_count, hash_xor = excluded.hash_xor,
                   last_seq = excluded.last_seq, area_op = excluded.area_op",
                &[&d_id, &d_kind, &d_area, &d_count, &d_xor, &d_last, &d_op],
            )
            .await?;
            tx.execute("UPDATE seq_counter SET seq = $1 WHERE id = 1", &[&seq]).await?;
        }
        tx.commit().await?;
        Ok(PushOutcome {
            seqs,
            received_at: received,
            stored: usize::try_from(seq - start).unwrap_or(0),
        })
    }

    async fn pull(&self, q: &PullQuery) -> StoreResult<PullPage> {
        let c = self.client().await?;
        // Read the head first: every seq up to it is committed (pushes commit in seq order), so
        // the rows read next are complete up to it.
        let head = head(&**c).await?;
        if q.cursor >= head {
            return Ok(PullPage {
                changes: vec![],
                next_cursor: head.max(q.cursor),
                more: false,
                head_seq: head,
            });
        }
        let mut params: Vec<Param> = vec![Box::new(i64_of(q.cursor)), Box::new(i64_of(head))];
        let pred = push_pred(&mut params, |ph| pull_scope_sql(&q.scopes, ph));
        let own = match q.exclude_device {
            Some(d) => {
                params.push(Box::new(d.to_string()));
                format!("AND c.device_id <> ${}", params.len())
            }
            None => String::new(),
        };
        params.push(Box::new(PULL_BATCH_ROWS));
        let limit = params.len();
        params.push(Box::new(i64::from(q.max_bytes)));
        let max = params.len();
        let sql = format!(
            "SELECT seq, doc_id, kind, area_key, bytes, received_at, n FROM (
               SELECT seq, doc_id, kind, area_key, bytes, received_at,
                 sum(octet_length(bytes)) OVER (ORDER BY seq) - octet_length(bytes) AS before,
                 count(*) OVER () AS n
               FROM (SELECT {CHANGE_COLS} FROM changes c JOIN documents d ON d.doc_id = c.doc_id
                     WHERE c.seq > $1 AND c.seq <= $2 AND NOT c.withheld AND ({pred}) {own}
                     ORDER BY c.seq LIMIT ${limit}) AS c
             ) AS t WHERE before <= ${max} ORDER BY seq"
        );
        let rows = c.query(&sql, &refs(&params)).await?;
        let fetched: i64 = rows.first().map_or(0, |r| r.get(6));
        let changes = rows.iter().map(pulled_of).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(changes, fetched == PULL_BATCH_ROWS, q.max_bytes, head))
    }

    async fn head_seq(&self) -> StoreResult<u64> {
        let c = self.client().await?;
        head(&**c).await
    }

    async fn epoch(&self) -> StoreResult<Uuid> {
        let c = self.client().await?;
        let row = c.query_one("SELECT value FROM log_meta WHERE key = $1", &[&EPOCH_KEY]).await?;
        Uuid::from_slice(row.get(0)).map_err(|e| StoreError::Corrupt(format!("epoch: {e}")))
    }

    async fn new_epoch(&self) -> StoreResult<Uuid> {
        let c = self.client().await?;
        let epoch = Uuid::new_v4();
        c.execute(
            "INSERT INTO log_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&EPOCH_KEY, &epoch.as_bytes().as_slice()],
        )
        .await?;
        Ok(epoch)
    }

    async fn doc_areas(&self, doc_ids: &[Uuid]) -> StoreResult<Vec<(Uuid, RecordKind, AreaPath)>> {
        let c = self.client().await?;
        let ids: Vec<&[u8]> = doc_ids.iter().map(|d| &d.as_bytes()[..]).collect();
        let rows = c
            .query("SELECT doc_id, kind, area_key FROM documents WHERE doc_id = ANY($1)", &[&ids])
            .await?;
        rows.iter()
            .map(|r| {
                let kind: i16 = r.get(1);
                let kind = u8::try_from(kind)
                    .ok()
                    .and_then(|k| RecordKind::from_code(k).ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?;
                Ok((
                    Uuid::from_slice(r.get(0)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    kind,
                    area_from_key(r.get(2))?,
                ))
            })
            .collect()
    }

    async fn digests(&self, area: &AreaPath, scopes: &[ReadScope]) -> StoreResult<Vec<DocDigest>> {
        let c = self.client().await?;
        let (lo, hi) = area_range(area.as_str());
        let mut params: Vec<Param> = vec![Box::new(lo), Box::new(hi)];
        let pred = push_scope(&mut params, scopes);
        let rows = c
            .query(
                &format!(
                    "SELECT doc_id, change_count, hash_xor FROM documents
                     WHERE area_key >= $1 AND area_key < $2 AND ({pred}) ORDER BY doc_id"
                ),
                &refs(&params),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DocDigest {
                    doc_id: Uuid::from_slice(r.get(0))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    change_count: u64_of(r.get(1)),
                    hash_xor: hash32(r.get(2))?,
                })
            })
            .collect()
    }

    async fn doc_changes(
        &self,
        doc_ids: &[Uuid],
        scopes: &[ReadScope],
    ) -> StoreResult<Vec<PulledChange>> {
        let c = self.client().await?;
        let ids: Vec<&[u8]> = doc_ids.iter().map(|d| &d.as_bytes()[..]).collect();
        let mut params: Vec<Param> =
            vec![Box::new(ids.iter().map(|i| i.to_vec()).collect::<Vec<_>>())];
        let pred = push_pred(&mut params, |ph| scope_sql_on(scopes, ScopeCols::PULL, ph));
        let rows = c
            .query(
                &format!(
                    "SELECT {CHANGE_COLS} FROM changes c JOIN documents d ON d.doc_id = c.doc_id
                     WHERE c.doc_id = ANY($1) AND NOT c.withheld AND ({pred}) ORDER BY c.seq"
                ),
                &refs(&params),
            )
            .await?;
        let mut by_doc: HashMap<Uuid, Vec<PulledChange>> = HashMap::new();
        for r in &rows {
            let p = pulled_of(r)?;
            by_doc.entry(p.change.doc_id).or_default().push(p);
        }
        Ok(doc_ids.iter().flat_map(|d| by_doc.remove(d).unwrap_or_default()).collect())
    }

    async fn change_count(&self) -> StoreResult<u64> {
        let c = self.client().await?;
        Ok(u64_of(c.query_one("SELECT count(*) FROM changes", &[]).await?.get(0)))
    }

    async fn report_held(
        &self,
        device_id: Uuid,
        now: i64,
        reports: &[HeldReport],
    ) -> StoreResult<ReportOutcome> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let known =
            tx.prepare_cached("SELECT 1 FROM changes WHERE hash = $1 AND doc_id = $2").await?;
        let put = tx
            .prepare_cached(
                "INSERT INTO change_reports (hash, device_id, reason, detail, reported_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (hash, device_id) DO UPDATE SET reason = excluded.reason,
                   detail = excluded.detail, reported_at = excluded.reported_at",
            )
            .await?;
        let device = device_id.to_string();
        let mut out = ReportOutcome { recorded: 0, unknown: 0 };
        for r in reports {
            let hash = &r.hash[..];
            let doc = &r.doc_id.as_bytes()[..];
            if tx.query_opt(&known, &[&hash, &doc]).await?.is_none() {
                out.unknown += 1;
                continue;
            }
            tx.execute(&put, &[&hash, &device, &r.reason, &r.detail, &now]).await?;
            out.recorded += 1;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn held_changes(&self) -> StoreResult<Vec<HeldChange>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT c.hash, c.doc_id, c.kind, c.area_key, c.seq, c.received_at, c.withheld,
                        r.device_id, r.reason, r.detail, r.reported_at
                 FROM change_reports r JOIN changes c ON c.hash = r.hash
                 WHERE c.seq IN (SELECT c2.seq FROM changes c2
                                 JOIN change_reports r2 ON r2.hash = c2.hash
                                 GROUP BY c2.seq ORDER BY c2.seq DESC LIMIT 1000)
                 ORDER BY c.seq, r.reported_at, r.device_id",
                &[],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: i16 = r.get(2);
            let kind = u8::try_from(kind)
                .ok()
                .and_then(|k| RecordKind::from_code(k).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?;
            out.push(ReportRow {
                hash: hash32(r.get(0))?,
                doc_id: Uuid::from_slice(r.get(1))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                kind,
                area: area_from_key(r.get(3))?,
                seq: u64_of(r.get(4)),
                received_at: r.get(5),
                withheld: r.get(6),
                report: DeviceReport {
                    device_id: uuid_of(r.get(7))?,
                    reason: r.get(8),
                    detail: r.get(9),
                    reported_at: r.get(10),
                },
            });
        }
        Ok(group(out))
    }

    async fn set_withheld(&self, hash: [u8; 32], withheld: bool) -> StoreResult<Withholding> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // Serialised with pushes (which rewrite the document's digest) by the counter's lock.
        tx.execute("SELECT seq FROM seq_counter WHERE id = 1 FOR UPDATE", &[]).await?;
        let h = &hash[..];
        let Some(row) =
            tx.query_opt("SELECT doc_id, withheld FROM changes WHERE hash = $1", &[&h]).await?
        else {
            return Ok(Withholding::NotFound);
        };
        let doc: Vec<u8> = row.get(0);
        let was: bool = row.get(1);
        if was == withheld {
            return Ok(Withholding::Unchanged);
        }
        tx.execute("UPDATE changes SET withheld = $1 WHERE hash = $2", &[&withheld, &h]).await?;
        let d = tx
            .query_one("SELECT change_count, hash_xor FROM documents WHERE doc_id = $1", &[&doc])
            .await?;
        let mut xor = hash32(d.get(1))?;
        let count = toggle_digest(d.get(0), &mut xor, &hash, withheld);
        tx.execute(
            "UPDATE documents SET change_count = $1, hash_xor = $2 WHERE doc_id = $3",
            &[&count, &&xor[..], &doc],
        )
        .await?;
        tx.commit().await?;
        Ok(Withholding::Changed)
    }

    async fn audit(&self, e: &AuditEntry) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO audit_log (at, user_id, device_id, action, count, areas, detail,
                 actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &e.at,
                &e.user_id.map(|u| u.to_string()),
                &e.device_id.map(|u| u.to_string()),
                &e.action.as_str(),
                &i64_of(e.count),
                &e.areas.join(","),
                &e.detail,
                &e.actor_id.map(|u| u.to_string()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_audit(&self, limit: u32, device: Option<Uuid>) -> StoreResult<Vec<AuditEntry>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, at, user_id, device_id, action, count, areas, detail, actor_id
                 FROM audit_log
                 WHERE ($1::text IS NULL OR device_id = $1) ORDER BY id DESC LIMIT $2",
                &[&device.map(|d| d.to_string()), &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let user: Option<&str> = r.get(2);
                let dev: Option<&str> = r.get(3);
                Ok(AuditEntry {
                    id: r.get(0),
                    at: r.get(1),
                    user_id: user.map(uuid_of).transpose()?,
                    device_id: dev.map(uuid_of).transpose()?,
                    action: AuditAction::parse(r.get(4))?,
                    count: u64_of(r.get(5)),
                    areas: split_areas(r.get(6)),
                    detail: r.get(7),
                    actor_id: r.get::<_, Option<&str>>(8).map(uuid_of).transpose()?,
                })
            })
            .collect()
    }

    async fn sync_health(&self) -> StoreResult<Vec<DeviceHealth>> {
        let c = self.client().await?;
        let head = head(&**c).await?;
        let rows = c.query(&format!("SELECT {DEVICE_COLS} ORDER BY enrolled_at, id"), &[]).await?;
        rows.iter()
            .map(|r| {
                let d = device_of(r)?;
                Ok(DeviceHealth {
                    device_id: d.id,
                    name: d.name,
                    user_id: d.user_id,
                    revoked: d.revoked,
                    last_seen: d.last_seen,
                    cursor: d.cursor,
                    cursor_lag: head.saturating_sub(d.cursor),
                })
            })
            .collect()
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
