//! Applying changes that came from elsewhere (the server's pull pages, a repair fetch, a peer):
//! idempotent, in any order, duplicates harmless, projections kept exact.
//!
//! Changes arrive out of order in ordinary use — a pull page can end between a record's creation
//! and its edit, a record moved into this device's scope arrives as its latest change only — and
//! Automerge cannot load a document whose history has gaps. So a change is applied only once
//! every change it depends on is in its document; until then it is *held* (`held_change`,
//! persisted) and applied in the same transaction as the change that completes it. A document
//! never contains a gap, so loading it never fails, and nothing ever blocks the cursor.
//!
//! From the server (lenient mode), a change that can never be applied — corrupt bytes, a kind
//! that contradicts its document — is held too, with the reason: one bad change costs one
//! document, never the whole device. Direct callers ([`Store::apply_changes`]) get a
//! [`CoreError::BadChange`] for those instead, and nothing is stored.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use automerge::{AutoCommit, Change, ChangeHash};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::docs::{persist, take_doc};
use super::forget::forget_docs;
use super::outbox::{self, state};
use super::{DOC_CACHE, Store, write_txn};
use crate::area::{AreaPath, path_contains};
use crate::doc::{self, common};
use crate::envelope::ChangeEnvelope;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;

/// `held_change.reason` of a change waiting for the changes it depends on.
pub(crate) const MISSING_DEPS: &str = "missing_deps";

/// What applying a batch of changes did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Changes that became part of their documents (new ones, and held ones they released).
    pub applied: usize,
    /// Changes this device already had (duplicates are harmless).
    pub duplicates: usize,
    /// Documents whose state changed.
    pub documents: usize,
    /// Changes newly held back because a change they depend on has not arrived yet.
    pub held: usize,
    /// Changes newly set aside because they can never be applied (lenient mode only).
    pub refused: usize,
    /// Documents dropped because they moved out of the signed-in user's scope.
    pub moved_out: usize,
}

/// One change received from elsewhere, with the server's receive time when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The change and its addressing.
    pub envelope: ChangeEnvelope,
    /// When the server stored it (ms since the epoch, server clock), if known.
    pub received_at: Option<i64>,
}

/// A server acknowledgement of one of this device's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The change's hash.
    pub hash: [u8; 32],
    /// When the server stored it (ms since the epoch, server clock), if the server said.
    pub received_at: Option<i64>,
}

/// Everything a pull round trip brings, applied in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Incoming<'a> {
    /// The pulled changes.
    pub changes: Vec<Received>,
    /// Acknowledgements of this device's pushed changes.
    pub acks: Vec<Ack>,
    /// Device settings to set in the same transaction (the cursor).
    pub meta: Vec<(&'a str, &'a [u8])>,
}

/// The changes of one document in a batch.
struct DocBatch {
    kind: RecordKind,
    area: AreaPath,
    changes: Vec<Change>,
}

/// A change that cannot be applied, and why.
struct Refusal {
    envelope: ChangeEnvelope,
    key: Vec<u8>,
    code: &'static str,
    detail: String,
}

impl Refusal {
    fn new(
        envelope: ChangeEnvelope,
        key: Option<ChangeHash>,
        code: &'static str,
        detail: String,
    ) -> Self {
        // A change too corrupt to have an Automerge hash is keyed by the SHA-256 of its bytes.
        let key = key.map_or_else(|| Sha256::digest(&envelope.bytes).to_vec(), |h| h.0.to_vec());
        Refusal { envelope, key, code, detail }
    }

    fn error(&self) -> CoreError {
        CoreError::BadChange {
            doc_id: self.envelope.doc_id.to_string(),
            reason: self.detail.clone(),
        }
    }
}

impl Store {
    /// Applies changes received from the server or another phone: idempotent, in any order,
    /// duplicates harmless; projections are kept exact. A change whose dependencies have not
    /// arrived is held and applied when they do. If any change is corrupt or does not fit its
    /// document, nothing is stored.
    ///
    /// # Errors
    /// [`CoreError::BadChange`] naming the document and the problem (corrupt bytes, kind
    /// mismatch); storage errors.
    pub fn apply_changes(&mut self, changes: &[ChangeEnvelope]) -> Result<ApplyReport> {
        self.apply_changes_with_meta(changes, &[])
    }

    /// [`Store::apply_changes`] and, in the same transaction, setting device settings (the sync
    /// cursor): a dropped connection then loses nothing and repeats nothing (DESIGN §2).
    ///
    /// # Errors
    /// As [`Store::apply_changes`].
    pub fn apply_changes_with_meta(
        &mut self,
        changes: &[ChangeEnvelope],
        meta: &[(&str, &[u8])],
    ) -> Result<ApplyReport> {
        let incoming = Incoming {
            changes: changes
                .iter()
                .map(|e| Received { envelope: e.clone(), received_at: None })
                .collect(),
            acks: Vec::new(),
            meta: meta.to_vec(),
        };
        self.apply(incoming, true)
    }

    /// Applies what one round trip with the server brought — acknowledgements with their
    /// receive times, the pulled changes with theirs, the new cursor — in one transaction. A
    /// change that can never be applied is set aside (listed by [`Store::held_changes`]) and
    /// the rest applied: one bad change never stalls the device.
    ///
    /// # Errors
    /// Storage errors (nothing is applied then).
    pub fn apply_incoming(&mut self, incoming: Incoming<'_>) -> Result<ApplyReport> {
        self.apply(incoming, false)
    }

    fn apply(&mut self, incoming: Incoming<'_>, strict: bool) -> Result<ApplyReport> {
        let mut report = ApplyReport::default();
        let mut refusals = Vec::new();
        let mut received: Vec<([u8; 32], i64)> = Vec::new();
        let mut by_doc: BTreeMap<(Uuid, u8), DocBatch> = BTreeMap::new();
        for r in incoming.changes {
            let change = match r.envelope.decode() {
                Ok(c) => c,
                Err(e) => {
                    let refusal = Refusal::new(r.envelope, None, "corrupt_change", e.to_string());
                    if strict {
                        return Err(refusal.error());
                    }
                    refusals.push(refusal);
                    continue;
                }
            };
            if let Some(at) = r.received_at
                && crate::kinds::reads_receive_times(r.envelope.kind)
            {
                received.push((change.hash().0, at));
            }
            let env = r.envelope;
            // Grouped by document *and* kind: a change whose kind contradicts its document is
            // refused on its own when its group is applied, without taking the others along.
            by_doc
                .entry((env.doc_id, env.kind.code()))
                .or_insert_with(|| DocBatch {
                    kind: env.kind,
                    area: env.area.clone(),
                    changes: Vec::new(),
                })
                .changes
                .push(change);
        }
        let timed_acks: Vec<([u8; 32], i64)> =
            incoming.acks.iter().filter_map(|a| Some((a.hash, a.received_at?))).collect();
        let user_scope = self.user.as_ref().map(|u| u.scope.clone());
        // From the server, an envelope carries its record's *current* area: a record now on
        // another branch of the area tree has left this device's scope (this change is the move
        // that took it away), whatever the device's copy still says — even when the move itself
        // cannot be applied here for lack of changes the device was never sent.
        let left: Vec<Uuid> = match (&user_scope, strict) {
            (Some(scope), false) => by_doc
                .iter()
                .filter(|(_, b)| elsewhere(scope, b.area.as_str()))
                .map(|((id, _), _)| *id)
                .collect(),
            _ => Vec::new(),
        };
        // Only the last few documents go back into the cache: a large page must not hold
        // thousands of loaded documents in memory.
        let mut touched: VecDeque<(Uuid, AutoCommit)> = VecDeque::new();
        let mut forgotten: Vec<Uuid> = Vec::new();
        let (actor, cache) = (&self.actor, &mut self.cache);
        write_txn(&mut self.conn, self.batch.as_mut(), |tx| {
            // Receive times first: the projections written below read them.
            record_received(tx, &received)?;
            record_received(tx, &own_timed(tx, &timed_acks)?)?;
            let acked: Vec<[u8; 32]> = incoming.acks.iter().map(|a| a.hash).collect();
            // Looked up first: acknowledging drops the rows of changes already in a snapshot.
            let acked_docs = docs_of(tx, &acked)?;
            outbox::acknowledge(tx, &acked)?;
            let mut cx = DocApply {
                tx,
                cache,
                actor,
                strict,
                report: &mut report,
                refusals: &mut refusals,
                // One query for the page: without held rows (the usual case) no document needs
                // its own look-up, only those that get some in this page.
                held_before: any_held(tx)?,
                held_now: HashSet::new(),
                created: HashMap::new(),
            };
            // Every document this page changed (the cache keeps only the last few of them).
            let mut changed: Vec<Uuid> = Vec::new();
            for ((id, _), batch) in by_doc {
                if let Some(doc) = cx.apply_doc(id, batch)? {
                    changed.push(id);
                    keep(&mut touched, id, doc);
                }
            }
            // Own changes the server just timed: their documents' projections read the new
            // receive times (a work order's deadline and fold order do).
            for &id in &acked_docs {
                if changed.contains(&id) {
                    continue;
                }
                if let Some((kind, doc)) = take_doc(tx, cx.cache, id, actor)? {
                    crate::kinds::project(tx, kind, id, &doc)?;
                    keep(&mut touched, id, doc);
                }
            }
            let (held_before, held_now) = (cx.held_before, std::mem::take(&mut cx.held_now));
            let mut known = std::mem::take(&mut cx.created);
            for r in &refusals {
                hold(tx, &r.envelope, &r.key, r.code, &r.detail)?;
            }
            report.refused = refusals.len();
            if let Some(scope) = &user_scope {
                // Documents this page changed, and those whose last unsent change the server just
                // acknowledged (an edit made before a move out, now delivered).
                let mut candidates: Vec<Uuid> = changed;
                candidates.extend(acked_docs.iter().copied());
                candidates.sort_unstable();
                candidates.dedup();
                // A document this page created has only the row it just wrote — no own
                // changes, and held rows only if this page held some: its scope check needs no
                // query.
                if held_before {
                    known.clear();
                }
                for id in held_now.iter().chain(refusals.iter().map(|r| &r.envelope.doc_id)) {
                    known.remove(id);
                }
                forgotten = moved_out(tx, scope, candidates.into_iter(), &left, &known)?;
                report.moved_out = forgotten.len();
            }
            for (k, v) in &incoming.meta {
                tx.prepare_cached(
                    "INSERT INTO meta(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![k, v])?;
            }
            Ok(())
        })?;
        for (id, doc) in touched {
            if !forgotten.contains(&id) {
                self.cache.put(id, doc);
            }
        }
        Ok(report)
    }
}

/// The state one transaction's per-document applies share.
struct DocApply<'t, 'c> {
    tx: &'t super::WriteTxn<'t>,
    cache: &'c mut lru::LruCache<Uuid, AutoCommit>,
    actor: &'c automerge::ActorId,
    strict: bool,
    report: &'c mut ApplyReport,
    refusals: &'c mut Vec<Refusal>,
    /// Whether `held_change` had any row when the page began.
    held_before: bool,
    /// Documents this page held changes of (waiting for dependencies).
    held_now: HashSet<Uuid>,
    /// Documents this page created, with their kind and the area their row got.
    created: HashMap<Uuid, (RecordKind, String)>,
}

impl DocApply<'_, '_> {
    /// Applies one document's changes and whatever they release of its held ones. Returns the
    /// document to cache, if it exists.
    fn apply_doc(&mut self, id: Uuid, batch: DocBatch) -> Result<Option<AutoCommit>> {
        let held = if self.held_before || self.held_now.contains(&id) {
            held_for(self.tx, id)?
        } else {
            Vec::new()
        };
        let row = stored_row(self.tx, id)?;
        let stored = row.as_ref().map(|(k, _)| *k);
        if held.is_empty()
            && let Some((kind, heads)) = &row
            && *kind == batch.kind.code()
            && all_stored(self.tx, id, heads, &batch.changes)?
        {
            self.report.duplicates += batch.changes.len();
            return Ok(None);
        }
        let existed;
        // A document the database lacks is made from its first changes: nothing to load (a
        // cached copy cannot exist without its row).
        let found = match stored {
            Some(_) => take_doc(self.tx, self.cache, id, self.actor)?,
            None => {
                self.cache.pop(&id);
                None
            }
        };
        let mut doc = match found {
            Some((k, d)) if k == batch.kind => {
                existed = true;
                d
            }
            Some((k, d)) => {
                self.cache.put(id, d);
                let detail = format!("document is a {k}, change says {}", batch.kind);
                return self.refuse_all(id, batch, "kind_mismatch", &detail).map(|()| None);
            }
            None => {
                existed = false;
                AutoCommit::new().with_actor(self.actor.clone())
            }
        };
        let was_held: HashSet<ChangeHash> = held.iter().map(Change::hash).collect();
        let mut seen = HashSet::new();
        let mut fresh = Vec::new();
        for c in batch.changes.iter().cloned().chain(held) {
            let h = c.hash();
            if !seen.insert(h) || has_change(&doc, &h) {
                if !was_held.contains(&h) {
                    self.report.duplicates += 1;
                }
            } else {
                fresh.push(c);
            }
        }
        let (ready, waiting) = split_ready(&mut doc, fresh);
        for c in &waiting {
            if !was_held.contains(&c.hash()) {
                let env = envelope_of(id, &batch, c);
                hold(self.tx, &env, &c.hash().0, MISSING_DEPS, "waiting for earlier changes")?;
                self.held_now.insert(id);
                self.report.held += 1;
            }
        }
        if ready.is_empty() {
            // Nothing changed: a loaded document goes back into the cache as it was.
            return Ok(existed.then_some(doc));
        }
        let stored: Vec<(ChangeHash, Vec<u8>)> =
            ready.iter().map(|c| (c.hash(), c.raw_bytes().to_vec())).collect();
        // Automerge may panic on a change that decoded but names things its header lacks (see
        // `envelope::expand_ops`); such a change is refused like one that fails to apply.
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            doc.apply_changes(ready.clone())
        }))
        .unwrap_or_else(|_| Err(automerge::AutomergeError::Fail));
        let kind_ok = match applied {
            Ok(()) => doc::get_str(&doc, common::KIND).is_none_or(|k| k == batch.kind.as_str()),
            Err(e) => {
                let detail = format!("cannot apply: {e}");
                return self
                    .refuse_ready(id, &batch, ready, "apply_failed", &detail)
                    .map(|()| None);
            }
        };
        if !kind_ok {
            let says = doc::get_str(&doc, common::KIND).unwrap_or_default();
            let detail = format!("document says it is a {says}, envelope says {}", batch.kind);
            return self.refuse_ready(id, &batch, ready, "kind_mismatch", &detail).map(|()| None);
        }
        self.report.applied += stored.len();
        self.report.documents += 1;
        if !was_held.is_empty() {
            release(self.tx, stored.iter().map(|(h, _)| h).filter(|h| was_held.contains(h)))?;
        }
        persist(self.tx, id, batch.kind, Some(&batch.area), &mut doc, &stored, None)?;
        if !existed {
            // The area `persist` gave the new row.
            let area = doc::get_str(&doc, common::AREA).unwrap_or_else(|| batch.area.to_string());
            self.created.insert(id, (batch.kind, area));
        }
        Ok(Some(doc))
    }

    /// Every change of the batch is refused (strict: the whole apply fails).
    fn refuse_all(
        &mut self,
        id: Uuid,
        batch: DocBatch,
        code: &'static str,
        detail: &str,
    ) -> Result<()> {
        let envs: Vec<(ChangeEnvelope, ChangeHash)> =
            batch.changes.iter().map(|c| (envelope_of(id, &batch, c), c.hash())).collect();
        self.refuse(envs, code, detail)
    }

    /// The ready changes are refused; the document is reloaded from the database by the next
    /// reader (the half-applied copy is dropped here).
    fn refuse_ready(
        &mut self,
        id: Uuid,
        batch: &DocBatch,
        ready: Vec<Change>,
        code: &'static str,
        detail: &str,
    ) -> Result<()> {
        self.cache.pop(&id);
        let envs = ready.iter().map(|c| (envelope_of(id, batch, c), c.hash())).collect();
        self.refuse(envs, code, detail)
    }

    fn refuse(
        &mut self,
        envs: Vec<(ChangeEnvelope, ChangeHash)>,
        code: &'static str,
        detail: &str,
    ) -> Result<()> {
        for (env, hash) in envs {
            let r = Refusal::new(env, Some(hash), code, detail.to_owned());
            if self.strict {
                return Err(r.error());
            }
            // A held change that turns out bad stops waiting.
            release(self.tx, std::iter::once(&hash))?;
            self.refusals.push(r);
        }
        Ok(())
    }
}

/// Splits `fresh` into the changes whose dependencies are all in `doc` or among the ready ones
/// (in an order Automerge can apply) and those still waiting for some.
pub(super) fn split_ready(doc: &mut AutoCommit, fresh: Vec<Change>) -> (Vec<Change>, Vec<Change>) {
    let mut have: HashSet<ChangeHash> = HashSet::new();
    let mut ready = Vec::with_capacity(fresh.len());
    let mut pending = fresh;
    loop {
        let before = pending.len();
        let mut rest = Vec::new();
        for c in pending {
            if c.deps().iter().all(|d| have.contains(d) || has_change(doc, d)) {
                have.insert(c.hash());
                ready.push(c);
            } else {
                rest.push(c);
            }
        }
        pending = rest;
        if pending.is_empty() || pending.len() == before {
            return (ready, pending);
        }
    }
}

fn envelope_of(id: Uuid, batch: &DocBatch, c: &Change) -> ChangeEnvelope {
    ChangeEnvelope {
        doc_id: id,
        kind: batch.kind,
        area: batch.area.clone(),
        bytes: c.raw_bytes().to_vec(),
    }
}

/// Whether `doc` holds change `hash` (a look-up in its change graph; unlike
/// `get_change_by_hash`, which rebuilds the change from the document's columns).
fn has_change(doc: &AutoCommit, hash: &ChangeHash) -> bool {
    automerge::ReadDoc::get_missing_deps(doc, std::slice::from_ref(hash)).is_empty()
}

/// Whether any change is held at all (waiting or refused).
fn any_held(tx: &Connection) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM held_change)")?
        .query_row([], |r| r.get(0))?)
}

/// The kind code and heads of document `id` as stored, if the database has it.
fn stored_row(conn: &Connection, id: Uuid) -> Result<Option<(u8, Vec<[u8; 32]>)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT d.kind, d.heads, {} FROM doc d WHERE d.id = ?1",
        super::docs::ONE_CHANGE_BYTES
    ))?;
    let mut rows = stmt.query([id.as_bytes()])?;
    let Some(r) = rows.next()? else { return Ok(None) };
    // A one-change document waiting in the outbox has no heads here: its change has a row.
    Ok(Some((r.get(0)?, super::docs::heads_of(r.get(1)?, r.get(2)?)?)))
}

/// Whether every change is already stored for document `id` (so applying them would change
/// nothing), told without loading it: a change is stored when it waits in its own row, is one
/// of the document's heads, or is an ancestor (through the batch) of a stored change — a page
/// delivered again, the usual duplicate, is found this way. Anything else takes the full path,
/// which finds an older change in the loaded document. The caller has checked the kind.
fn all_stored(conn: &Connection, id: Uuid, heads: &[[u8; 32]], changes: &[Change]) -> Result<bool> {
    // Grows from the heads down through the batch's own dependency links.
    let by_hash: HashMap<[u8; 32], &Change> = changes.iter().map(|c| (c.hash().0, c)).collect();
    let mut known: HashSet<[u8; 32]> = heads.iter().copied().collect();
    let mut todo: Vec<[u8; 32]> = heads.to_vec();
    while let Some(h) = todo.pop() {
        for d in by_hash.get(&h).map(|c| c.deps()).unwrap_or_default() {
            if known.insert(d.0) {
                todo.push(d.0);
            }
        }
    }
    let mut stmt = conn.prepare_cached("SELECT 1 FROM change WHERE hash = ?1 AND doc_id = ?2")?;
    for c in changes {
        let hash = c.hash().0;
        if known.contains(&hash) {
            continue;
        }
        if !stmt.exists(params![hash, id.as_bytes()])? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The held changes of document `id` that wait for dependencies.
fn held_for(tx: &Connection, id: Uuid) -> Result<Vec<Change>> {
    let mut stmt =
        tx.prepare_cached("SELECT bytes FROM held_change WHERE doc_id = ?1 AND reason = ?2")?;
    let rows = stmt.query_map(params![id.as_bytes(), MISSING_DEPS], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for bytes in rows {
        // Held rows were decoded before they were stored.
        if let Ok(c) = Change::from_bytes(bytes?) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Stores a change that is not (yet) part of its document.
fn hold(
    tx: &Connection,
    env: &ChangeEnvelope,
    key: &[u8],
    reason: &str,
    detail: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO held_change(hash, doc_id, kind, area, bytes, reason, detail, held_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(hash) DO UPDATE SET reason = excluded.reason, detail = excluded.detail",
    )?
    .execute(params![
        key,
        env.doc_id.as_bytes(),
        env.kind.code(),
        env.area.as_str(),
        env.bytes,
        reason,
        detail,
        Utc::now().timestamp_millis()
    ])?;
    Ok(())
}

/// Removes held rows that are now part of their document (or refused).
fn release<'h>(tx: &Connection, hashes: impl Iterator<Item = &'h ChangeHash>) -> Result<()> {
    let mut del = tx.prepare_cached("DELETE FROM held_change WHERE hash = ?1")?;
    for h in hashes {
        del.execute([h.0.as_slice()])?;
    }
    Ok(())
}

/// Stores the server's receive time of each change (first word wins: it never changes).
fn record_received(tx: &Connection, received: &[([u8; 32], i64)]) -> Result<()> {
    let mut ins = tx.prepare_cached(
        "INSERT INTO change_received(hash, received_at) VALUES (?1, ?2)
         ON CONFLICT(hash) DO NOTHING",
    )?;
    for (h, at) in received {
        ins.execute(params![h.as_slice(), at])?;
    }
    Ok(())
}

/// The acknowledged own changes among `acks` whose kind reads receive times
/// ([`crate::spec::RecordSpec::READS_RECEIVE_TIMES`]).
fn own_timed(tx: &Connection, acks: &[([u8; 32], i64)]) -> Result<Vec<([u8; 32], i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT d.kind FROM change c JOIN doc d ON d.id = c.doc_id WHERE c.hash = ?1",
    )?;
    let mut out = Vec::new();
    for (hash, at) in acks {
        let kind: Option<u8> = stmt.query_row([hash.as_slice()], |r| r.get(0)).optional()?;
        if let Some(k) = kind
            && crate::kinds::reads_receive_times(RecordKind::from_code(k)?)
        {
            out.push((*hash, *at));
        }
    }
    Ok(out)
}

/// The documents the changes `hashes` belong to.
fn docs_of(tx: &Connection, hashes: &[[u8; 32]]) -> Result<Vec<Uuid>> {
    let mut stmt = tx.prepare_cached("SELECT doc_id FROM change WHERE hash = ?1")?;
    let mut out: Vec<Uuid> = Vec::new();
    for h in hashes {
        let id: Option<Vec<u8>> = stmt.query_row([h.as_slice()], |r| r.get(0)).optional()?;
        if let Some(id) = id.and_then(|b| Uuid::from_slice(&b).ok())
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// Forgets the documents among `ids` that now lie outside `scope` on another branch of the area
/// tree (moved away by someone who may), unless they hold unsent work. A record for an area
/// containing the scope (a town-wide task) stays.
fn moved_out(
    tx: &super::WriteTxn<'_>,
    scope: &AreaPath,
    ids: impl Iterator<Item = Uuid>,
    left: &[Uuid],
    known: &HashMap<Uuid, (RecordKind, String)>,
) -> Result<Vec<Uuid>> {
    let mut gone = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT kind, area, EXISTS (SELECT 1 FROM change c WHERE c.doc_id = doc.id AND c.outbox <> ?2)
             FROM doc WHERE id = ?1",
        )?;
        let mut held_areas =
            tx.prepare_cached("SELECT DISTINCT area FROM held_change WHERE doc_id = ?1")?;
        for id in ids {
            // Created in this page, without held rows: its row is known, with no own changes.
            if let Some((kind, area)) = known.get(&id) {
                if !area.is_empty() && elsewhere(scope, area) {
                    gone.push((id, *kind));
                }
                continue;
            }
            let row: Option<(u8, String, bool)> = stmt
                .query_row(params![id.as_bytes(), state::SENT], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((kind, area, unsent)) = row else { continue };
            if unsent || area.is_empty() {
                continue;
            }
            // A held change carries the area the server had the record in when it was sent:
            // a move out that cannot be applied here still says the record has left.
            let held_elsewhere = held_areas
                .query_map([id.as_bytes()], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .iter()
                .any(|a| elsewhere(scope, a));
            if elsewhere(scope, &area) || held_elsewhere {
                gone.push((id, RecordKind::from_code(kind)?));
            }
        }
        for id in left {
            if gone.iter().any(|(g, _)| g == id) {
                continue;
            }
            let row: Option<(u8, String, bool)> = stmt
                .query_row(params![id.as_bytes(), state::SENT], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            match row {
                Some((kind, _, false)) => gone.push((*id, RecordKind::from_code(kind)?)),
                Some((_, _, true)) => {}
                // Only held changes of a record that has left: they will never be completed.
                None => {
                    tx.prepare_cached("DELETE FROM held_change WHERE doc_id = ?1")?
                        .execute([id.as_bytes()])?;
                }
            }
        }
    }
    forget_docs(tx, &gone)?;
    Ok(gone.into_iter().map(|(id, _)| id).collect())
}

/// Whether `area` lies on another branch of the area tree than `scope`: neither inside it nor
/// one of its enclosing areas (a town-wide task stays with a grid's phones).
fn elsewhere(scope: &AreaPath, area: &str) -> bool {
    !path_contains(scope.as_str(), area) && !path_contains(area, scope.as_str())
}

/// Remembers a document for the cache, dropping the oldest beyond the cache's size.
fn keep(touched: &mut VecDeque<(Uuid, AutoCommit)>, id: Uuid, doc: AutoCommit) {
    touched.retain(|(t, _)| *t != id);
    touched.push_back((id, doc));
    if touched.len() > DOC_CACHE {
        touched.pop_front();
    }
}
