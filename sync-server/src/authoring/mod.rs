//! Server-authored changes (DESIGN §8, issue 10 item 6): when a person acts on the server
//! (dispatch a work order, issue a task), the server loads the record's document from the log,
//! applies the **same core operation** a phone would, commits it as an Automerge change whose
//! actor is bound to that person, and ingests it through the same validation and log as a push
//! ([`crate::api::ingest`]). Phones receive it by pull; nothing writes projections directly.
//!
//! - **Actor.** Each person has one server actor, derived from their id ([`Author::actor`]):
//!   stable, so their server-made changes of a document carry consecutive sequence numbers and
//!   read as theirs. Two of their actions racing on one document (two tabs, two server
//!   instances) would reuse a sequence number; the log refuses the second (`duplicate_seq`) and
//!   the action is retried on the reloaded document ([`MAX_ATTEMPTS`]).
//! - **System actor.** Automatic steps (overdue escalation) are authored by
//!   [`Author::system`], a reserved person id no login holds.
//! - **Read your write.** The answer carries the record as decoded from the document just
//!   written, and the handler waits (briefly) until the read model has folded the change.

pub mod task;
pub mod work_order;

use std::collections::BTreeMap;
use std::time::Duration;

use automerge::{ActorId, AutoCommit, Change};
use axum::http::StatusCode;
use gridwork_core::{ChangeEnvelope, CoreError, RecordKind, Role};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::AppState;
use crate::api::ingest::{Pusher, SERVER_DEVICE, ingest};
use crate::error::{ApiError, ApiResult};
use crate::store::{PushOutcome, ReadScope, StoreError, User, now_ms};

/// How often an action is tried when a concurrent action of the same person took its sequence
/// number.
pub const MAX_ATTEMPTS: usize = 3;

/// How long an action waits for the read model to fold its change before answering anyway.
pub const READ_YOUR_WRITE: Duration = Duration::from_secs(2);

/// The id of the system person that authors automatic steps.
pub const SYSTEM_USER: Uuid = Uuid::from_u128(0x6772_6964_776f_726b_0000_0000_0000_0001);

/// A person acting on the server: who, with which roles and departments.
#[derive(Debug, Clone)]
pub struct Author {
    /// The person, with their role grants.
    pub user: User,
    /// The departments they belong to.
    pub departments: Vec<String>,
}

impl Author {
    /// The person `user`, belonging to `departments`.
    pub fn new(user: User, departments: Vec<String>) -> Author {
        Author { user, departments }
    }

    /// The system person, with the district centre's role over `district` (automatic steps
    /// such as overdue escalation).
    pub fn system(district: gridwork_core::AreaPath) -> Author {
        Author {
            user: User {
                id: SYSTEM_USER,
                name: "system".into(),
                roles: vec![crate::store::RoleGrant { role: Role::DistrictCentre, area: district }],
                created_at: 0,
            },
            departments: Vec::new(),
        }
    }

    /// The Automerge actor bound to this person on the server: the first 16 bytes of
    /// SHA-256 of a fixed label and the person's id (never a device's random actor).
    pub fn actor(&self) -> ActorId {
        let digest = Sha256::new()
            .chain_update(b"gridwork server author\0")
            .chain_update(self.user.id.as_bytes())
            .finalize();
        ActorId::from(&digest[..16])
    }

    /// What the person may read (a handler: their departments' work orders).
    pub fn scopes(&self) -> Vec<ReadScope> {
        crate::policy::read_scopes_with(&self.user.roles, &self.departments)
    }

    /// The roles the person holds over `area` ([`crate::policy::roles_over`]).
    pub fn roles_over(&self, area: &gridwork_core::AreaPath) -> Vec<Role> {
        crate::policy::roles_over(&self.user.roles, area)
    }
}

/// A record's document as the log holds it, with the time the server received each change.
pub struct Loaded {
    /// The document, with the author's actor set.
    pub doc: AutoCommit,
    /// Receive times (ms) by change hash: the server's clock for deadlines (DESIGN §1).
    pub received: BTreeMap<[u8; 32], i64>,
}

/// The core's error as an API answer: 400 for bad input, 403 for a role that may not, 404
/// for an unknown record, 409 for a step the record's state refuses.
pub fn core_error(e: &CoreError) -> ApiError {
    let status = match e {
        CoreError::Invalid { .. } => StatusCode::BAD_REQUEST,
        CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
        CoreError::Forbidden { .. } | CoreError::OutOfScope { .. } => StatusCode::FORBIDDEN,
        CoreError::WorkOrder(w) if w.code() == "role_not_allowed" => StatusCode::FORBIDDEN,
        CoreError::WorkOrder(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.code(), e.to_string())
}

fn not_found(kind: RecordKind, id: Uuid) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {kind} {id} within your scope"))
}

/// Loads record `id` of `kind` as `author` may read it.
///
/// # Errors
/// 404 when the log holds no such record within the author's scope; 500 for a logged change
/// that does not load (the log validated it at ingest).
pub async fn load(st: &AppState, author: &Author, kind: RecordKind, id: Uuid) -> ApiResult<Loaded> {
    let scopes: Vec<ReadScope> = author
        .scopes()
        .into_iter()
        .filter(|s| s.kinds.contains(&kind))
        .map(|s| ReadScope { kinds: vec![kind], ..s })
        .collect();
    let logged = st.store.doc_changes(&[id], &scopes).await?;
    if logged.is_empty() {
        return Err(not_found(kind, id));
    }
    let mut received = BTreeMap::new();
    let mut changes = Vec::with_capacity(logged.len());
    for c in logged {
        if c.change.kind != kind {
            return Err(not_found(kind, id));
        }
        let change = Change::from_bytes(c.change.bytes).map_err(|e| {
            ApiError::from(StoreError::Corrupt(format!("a logged change of {id}: {e}")))
        })?;
        if let Some(at) = c.received_at {
            received.insert(change.hash().0, at);
        }
        changes.push(change);
    }
    let mut doc = AutoCommit::new();
    doc.apply_changes(changes)
        .map_err(|e| ApiError::from(StoreError::Corrupt(format!("record {id}: {e}"))))?;
    doc.set_actor(author.actor());
    Ok(Loaded { doc, received })
}

/// What an authored change did.
#[derive(Debug, Clone)]
pub struct Authored {
    /// The change's seq in the log.
    pub seq: u64,
    /// When the server received it (ms).
    pub received_at: i64,
    /// Its hash.
    pub hash: [u8; 32],
    /// Whether the read model had folded it when answering.
    pub read_model_caught_up: bool,
}

/// Commits the pending edits of `doc` (a record of `kind` in `area`) as `author` doing `op`, and
/// ingests the change; waits for the read model to fold it.
///
/// # Errors
/// The ingest's refusals (the same as a push's: 403 out of scope, role, department…); 409
/// `duplicate_seq` when a concurrent action took the sequence number (the caller retries);
/// 409 `nothing_to_do` when the operation changed nothing.
pub async fn commit_and_ingest(
    st: &AppState,
    author: &Author,
    doc: &mut AutoCommit,
    envelope: (Uuid, RecordKind, gridwork_core::AreaPath),
    op: &str,
) -> ApiResult<Authored> {
    let now = now_ms();
    let user_id = author.user.id.to_string();
    let (hash, bytes) = gridwork_core::author::commit(doc, &user_id, op, now)
        .map_err(|e| core_error(&e))?
        .ok_or_else(|| {
            ApiError::new(StatusCode::CONFLICT, "nothing_to_do", "the action changes nothing")
        })?;
    let (doc_id, kind, area) = envelope;
    let actor = author.actor();
    let pusher = Pusher {
        user: &author.user,
        departments: &author.departments,
        device_id: SERVER_DEVICE,
        actor: &actor,
    };
    let PushOutcome { seqs, received_at, .. } =
        ingest(st, &pusher, vec![ChangeEnvelope { doc_id, kind, area, bytes }], now).await?;
    let (Some(&seq), Some(&received_at)) = (seqs.first(), received_at.first()) else {
        return Err(StoreError::Corrupt("the log acknowledged no change".into()).into());
    };
    let caught_up = st.read_model.reached(seq, READ_YOUR_WRITE).await;
    Ok(Authored { seq, received_at, hash: hash.0, read_model_caught_up: caught_up })
}

/// Whether an error is a lost race for a sequence number (worth retrying on a fresh load).
pub fn lost_race(e: &ApiError) -> bool {
    e.code == "duplicate_seq"
}
