//! Persistence of record documents: loading, local writes, applying remote changes, compaction,
//! the outbox and digests. Every mutation here runs inside one SQLite transaction together with
//! the projection rows it implies.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use chrono::Utc;
use lru::LruCache;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::outbox::state;
use super::{SignedInUser, Store};
use crate::area::{AreaPath, path_contains};
use crate::doc::{self, common};
use crate::envelope::ChangeEnvelope;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;

/// Compact a document once its loose changes reach this many bytes or the snapshot's size,
/// whichever is larger (DESIGN §1).
const COMPACT_MIN_BYTES: i64 = 2048;

/// A document's identity and heads: what a peer store compares to find what it lacks
/// ([`Store::changes_missing_from`]). Not the wire protocol's repair digest, which counts and
/// XORs change hashes instead ([`crate::protocol::DocDigest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    /// The record id.
    pub id: Uuid,
    /// The document's heads (32-byte change hashes).
    pub heads: Vec<[u8; 32]>,
}

fn heads_blob(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// A document's heads in SQL, for a query over `doc d`. A document that is one change keeps no
/// heads (`doc.heads` is NULL, schema 10): its head is that change's hash, read here from its row
/// while it waits in the outbox. Once the change is in the document's stored bytes this gives
/// NULL, and [`heads_of`] reads the hash from those bytes; documents that reference photos
/// always keep their heads there (the photo scan compares them in SQL).
pub(super) const HEADS: &str =
    "coalesce(d.heads, (SELECT c.hash FROM change c WHERE c.doc_id = d.id))";

/// SQL for the stored bytes [`heads_of`] needs: only those of a document that keeps no heads.
pub(super) const ONE_CHANGE_BYTES: &str = "CASE WHEN d.heads IS NULL THEN d.snapshot END";

/// A document's heads from what a query read: [`HEADS`], and [`ONE_CHANGE_BYTES`] for a
/// document that is one change stored in its bytes.
///
/// # Errors
/// [`CoreError::Corrupt`] or [`CoreError::BadChange`] when those bytes are damaged.
pub(super) fn heads_of(
    heads: Option<Vec<u8>>,
    one_change: Option<Vec<u8>>,
) -> Result<Vec<[u8; 32]>> {
    if let Some(h) = heads {
        return Ok(blob_heads(&h));
    }
    let Some(stored) = one_change else { return Ok(Vec::new()) };
    let change = Change::from_bytes(super::change_bytes::unpack(stored)?)
        .map_err(|e| CoreError::Corrupt { what: "document".into(), reason: e.to_string() })?;
    Ok(vec![change.hash().0])
}

fn blob_heads(blob: &[u8]) -> Vec<[u8; 32]> {
    blob.chunks_exact(32).filter_map(|c| <[u8; 32]>::try_from(c).ok()).collect()
}

/// Loads a document from its stored bytes and loose changes, with `actor` set for local edits.
///
/// A document's stored bytes (`doc.snapshot`, packed by `change_bytes`) are a sequence of
/// Automerge chunks: an optional saved document followed by the changes it received or had
/// acknowledged since (`persist`, `outbox::acknowledge`). Its loose rows (`compacted = 0`) are
/// its own changes the server has not acknowledged yet, and, in stores written before that
/// layout, changes of every kind. Together they are the whole document.
pub(super) fn load_from_db(
    conn: &Connection,
    id: Uuid,
    actor: &ActorId,
) -> Result<Option<(RecordKind, AutoCommit)>> {
    let row: Option<(u8, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT kind, snapshot FROM doc WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, stored)) = row else { return Ok(None) };
    let kind = RecordKind::from_code(kind)?;
    let stored = stored.map(super::change_bytes::unpack).transpose()?.unwrap_or_default();
    let mut loose: Vec<Vec<u8>> = Vec::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT bytes FROM change WHERE doc_id = ?1 AND compacted = 0")?;
        let mut rows = stmt.query([id.as_bytes()])?;
        while let Some(r) = rows.next()? {
            loose.push(super::change_bytes::unpack(r.get(0)?)?);
        }
    }
    // Our own database is trusted: skip re-verifying the heads' hashes on every load.
    let trusted =
        || automerge::LoadOptions::new().verification_mode(automerge::VerificationMode::DontCheck);
    // One load of everything: Automerge applies each change once the ones it depends on are
    // in, whatever their order in the bytes (a received change may depend on an own change
    // still waiting in its row).
    let all: Vec<u8> = [stored.as_slice()]
        .into_iter()
        .chain(loose.iter().map(Vec::as_slice))
        .collect::<Vec<_>>()
        .concat();
    let fast = || -> Result<AutoCommit> {
        let mut d = AutoCommit::load_with_options(&all, trusted())?;
        if d.get_missing_deps(&[]).is_empty() {
            Ok(d)
        } else {
            Err(CoreError::BadChange { doc_id: id.to_string(), reason: "history has gaps".into() })
        }
    };
    let mut doc = match fast() {
        Ok(d) => d,
        // A store written before held changes existed may hold a change whose dependencies
        // never arrived: load what is complete and leave that change out, so the record stays
        // readable and editable.
        Err(_) => {
            let partial = trusted().on_partial_load(automerge::OnPartialLoad::Ignore);
            let mut d = AutoCommit::load_with_options(&stored, partial)?;
            let changes = loose.into_iter().filter_map(|b| Change::from_bytes(b).ok()).collect();
            let (ready, _gaps) = super::apply::split_ready(&mut d, changes);
            d.apply_changes(ready)?;
            d
        }
    };
    doc.set_actor(actor.clone());
    Ok(Some((kind, doc)))
}

/// Takes a document out of the cache or loads it. The caller puts it back after a successful
/// commit, so a failed transaction never leaves an unpersisted state in memory.
pub(super) fn take_doc(
    conn: &Connection,
    cache: &mut LruCache<Uuid, AutoCommit>,
    id: Uuid,
    actor: &ActorId,
) -> Result<Option<(RecordKind, AutoCommit)>> {
    if let Some(doc) = cache.pop(&id) {
        let kind: Option<u8> = conn
            .prepare_cached("SELECT kind FROM doc WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?;
        if let Some(k) = kind {
            return Ok(Some((RecordKind::from_code(k)?, doc)));
        }
    }
    load_from_db(conn, id, actor)
}

/// Writes the projections and the document row after `new_changes` were added to `doc`, and
/// compacts when the changes since the last saved document have grown large enough.
///
/// An own change (`outbox_ord` given) gets its row in the outbox. A received change needs no
/// row: it is appended to the document's stored bytes, where a change goes once the server
/// has it (`outbox::acknowledge` moves an own change there too). Only changes someone still
/// waits for cost a row, its hash and its index entries.
pub(super) fn persist(
    tx: &super::WriteTxn<'_>,
    id: Uuid,
    kind: RecordKind,
    fallback_area: Option<&AreaPath>,
    doc: &mut AutoCommit,
    new_changes: &[(ChangeHash, Vec<u8>)],
    outbox_ord: Option<i64>,
) -> Result<()> {
    let area = doc::get_str(doc, common::AREA)
        .or_else(|| fallback_area.map(|a| a.as_str().to_owned()))
        .unwrap_or_default();
    let added: i64 = new_changes.iter().map(|(_, b)| b.len() as i64).sum();
    let mut inserted = 0;
    let mut stored = None;
    if let Some(ord) = outbox_ord {
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO change(hash, doc_id, bytes, outbox, ord, area)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        // A change made here is addressed to the record's area as it is now, after the change.
        for (hash, bytes) in new_changes {
            inserted += ins.execute(params![
                hash.0,
                id.as_bytes(),
                super::change_bytes::pack(bytes),
                state::WAITING,
                ord,
                area.as_str()
            ])?;
        }
    } else if !new_changes.is_empty() {
        stored = Some(append_stored(tx, id, new_changes.iter().map(|(_, b)| b.as_slice()))?);
    }
    let photos = crate::kinds::project(tx, kind, id, doc)?;
    let head_hashes = doc.get_heads();
    let heads = heads_blob(&head_hashes);
    // A new document made of this one change keeps no heads: its head is that change's hash
    // (see `HEADS`), in its row or, received, in its stored bytes (unless it references photos:
    // see `HEADS`). A document that already had a row gets its heads written.
    let one_change = match outbox_ord {
        Some(_) => inserted == 1,
        None => photos == 0,
    } && matches!((new_changes, head_hashes.as_slice()), ([(h, _)], [head]) if h == head);
    let new_heads = if one_change { None } else { Some(heads.as_slice()) };
    let (snapshot_len, pending_len): (i64, i64) = tx
        .prepare_cached(
            "INSERT INTO doc(id, kind, area, heads, pending_len, photos, snapshot)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8)
             ON CONFLICT(id) DO UPDATE SET area = coalesce(nullif(excluded.area, ''), area),
               heads = ?7, pending_len = pending_len + excluded.pending_len,
               photos = excluded.photos, snapshot = coalesce(excluded.snapshot, snapshot)
             RETURNING snapshot_len, pending_len",
        )?
        .query_row(
            params![
                id.as_bytes(),
                kind.code(),
                area,
                new_heads,
                added,
                photos as i64,
                heads,
                stored
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    if pending_len >= snapshot_len.max(COMPACT_MIN_BYTES) && doc.get_missing_deps(&[]).is_empty() {
        compact(tx, id, doc, &heads)?;
    }
    Ok(())
}

/// Document `id`'s stored bytes with `changes` appended, packed: what its `snapshot` column
/// holds next (see [`load_from_db`]). The document may not have a row yet.
pub(super) fn append_stored<'b>(
    tx: &Connection,
    id: Uuid,
    changes: impl Iterator<Item = &'b [u8]>,
) -> Result<Vec<u8>> {
    let old: Option<Vec<u8>> = tx
        .prepare_cached("SELECT snapshot FROM doc WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| r.get(0))
        .optional()?
        .flatten();
    let mut raw = old.map(super::change_bytes::unpack).transpose()?.unwrap_or_default();
    changes.for_each(|c| raw.extend_from_slice(c));
    Ok(super::change_bytes::pack(&raw))
}

/// Replaces a document's stored bytes by one saved document. Own changes still waiting for the
/// server keep their rows (never throw away unsent work) but are marked as inside it. The
/// heads are written out: the rows they could be read from may go.
fn compact(tx: &Connection, id: Uuid, doc: &mut AutoCommit, heads: &[u8]) -> Result<()> {
    let saved = super::change_bytes::pack(&doc.save());
    tx.prepare_cached(
        "UPDATE doc SET snapshot = ?2, snapshot_len = ?3, pending_len = 0, heads = ?4
         WHERE id = ?1",
    )?
    .execute(params![id.as_bytes(), saved, saved.len() as i64, heads])?;
    tx.prepare_cached("DELETE FROM change WHERE doc_id = ?1 AND outbox = ?2")?
        .execute(params![id.as_bytes(), state::SENT])?;
    tx.prepare_cached("UPDATE change SET compacted = 1 WHERE doc_id = ?1")?
        .execute([id.as_bytes()])?;
    Ok(())
}

impl Store {
    /// The kind of record `id`, if this device has it.
    ///
    /// # Errors
    /// Storage errors.
    pub fn record_kind(&self, id: Uuid) -> Result<Option<RecordKind>> {
        let k: Option<u8> = self
            .conn
            .prepare_cached("SELECT kind FROM doc WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?;
        k.map(RecordKind::from_code).transpose()
    }

    /// Record `id` decoded by its kind's spec `S`.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when the device lacks the record, it is of another kind or not
    /// complete yet; [`CoreError::BadChange`] when its document is malformed; storage errors.
    pub(crate) fn read_record<S: crate::spec::RecordSpec>(
        &mut self,
        id: Uuid,
    ) -> Result<S::Record> {
        self.read_doc_conn(id, S::KIND, |_, d| decoded::<S>(id, d).map(|r| r.record))
    }

    /// Runs `read` on the current document of record `id` (loading it into the cache).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when the device lacks the record or it is of another kind.
    pub(crate) fn read_doc<T>(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        read: impl FnOnce(&mut AutoCommit) -> T,
    ) -> Result<T> {
        self.read_doc_conn(id, kind, |_, d| Ok(read(d)))
    }

    /// [`Store::read_doc`] for readers that also query projections or receive times.
    ///
    /// # Errors
    /// As [`Store::read_doc`], and whatever `read` returns.
    pub(crate) fn read_doc_conn<T>(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        read: impl FnOnce(&Connection, &mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        let Some((k, mut doc)) = take_doc(&self.conn, &mut self.cache, id, &self.actor)? else {
            return Err(not_found(kind, id));
        };
        // A document whose creating change has not arrived yet is not visible.
        if k != kind || doc::get_str(&doc, common::KIND).is_none() {
            self.cache.put(id, doc);
            return Err(not_found(kind, id));
        }
        let out = read(&self.conn, &mut doc);
        self.cache.put(id, doc);
        out
    }

    /// Creates (when `create` names the area) or edits record `id` of `kind`: runs `edit` on the
    /// document, commits the change as the signed-in user, and stores change, outbox entry and
    /// projections in one transaction. Returns whether anything changed.
    ///
    /// # Errors
    /// [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`] when the area lies outside the
    /// user's scope; [`CoreError::NotFound`] when editing a record this device lacks; whatever
    /// `edit` returns (nothing is then stored); storage errors.
    pub(crate) fn write_doc(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        create: Option<&AreaPath>,
        op: &str,
        edit: impl FnOnce(&mut AutoCommit, &SignedInUser) -> Result<()>,
    ) -> Result<bool> {
        self.write_doc_in(id, kind, create, op, false, edit)
    }

    /// Edits the signed-in user's own part of record `id`, issued for an area containing their
    /// scope (a grid's completion of a town-wide task): as [`Store::write_doc`], but the record's
    /// area must contain the user's scope and its kind reach sub-areas. `edit` must write only
    /// the user's part — the server accepts nothing else from a sub-area.
    ///
    /// # Errors
    /// As [`Store::write_doc`]; [`CoreError::OutOfScope`] when the record's area does not
    /// contain the user's scope or its kind does not reach sub-areas.
    pub(crate) fn write_doc_part(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        op: &str,
        edit: impl FnOnce(&mut AutoCommit, &SignedInUser) -> Result<()>,
    ) -> Result<bool> {
        self.write_doc_in(id, kind, None, op, true, edit)
    }

    fn write_doc_in(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        create: Option<&AreaPath>,
        op: &str,
        part: bool,
        edit: impl FnOnce(&mut AutoCommit, &SignedInUser) -> Result<()>,
    ) -> Result<bool> {
        let user = self.require_user()?.clone();
        let now = Utc::now().timestamp_millis();
        let mut doc = match create {
            Some(area) => {
                self.check_area(area, &user)?;
                if self.record_kind(id)?.is_some() {
                    return Err(CoreError::invalid("id", format!("record {id} already exists")));
                }
                crate::author::new_document(kind, area, &user.user_id, &self.actor, now)?
            }
            None => match take_doc(&self.conn, &mut self.cache, id, &self.actor)? {
                // A document whose creating change has not arrived yet cannot be edited.
                Some((k, d)) if k == kind && doc::get_str(&d, common::KIND).is_some() => d,
                Some((_, d)) => {
                    self.cache.put(id, d);
                    return Err(not_found(kind, id));
                }
                None => return Err(not_found(kind, id)),
            },
        };
        // On any error below, `doc` is dropped rather than cached: memory never runs ahead of
        // the database.
        edit(&mut doc, &user)?;
        if create.is_none()
            && let Some(area) = doc::get_str(&doc, common::AREA)
        {
            if part {
                if !(crate::kinds::reaches_sub_areas(kind)
                    && path_contains(&area, user.scope.as_str()))
                {
                    return Err(CoreError::OutOfScope { area, scope: user.scope.to_string() });
                }
            } else {
                self.check_area(&AreaPath::parse(&area)?, &user)?;
            }
        }
        let Some((hash, bytes)) = crate::author::commit(&mut doc, &user.user_id, op, now)? else {
            self.cache.put(id, doc);
            return Ok(false);
        };
        let ord = self.take_ord();
        self.in_write(|conn| {
            persist(conn, id, kind, create, &mut doc, &[(hash, bytes)], Some(ord))
        })?;
        self.cache.put(id, doc);
        Ok(true)
    }

    /// Checks that `area` is known reference data and inside the user's scope.
    pub(crate) fn check_area(&self, area: &AreaPath, user: &SignedInUser) -> Result<()> {
        if !self.area_exists(area)? {
            return Err(CoreError::NotFound { kind: "area".into(), id: area.to_string() });
        }
        if !path_contains(user.scope.as_str(), area.as_str()) {
            return Err(CoreError::OutOfScope {
                area: area.to_string(),
                scope: user.scope.to_string(),
            });
        }
        Ok(())
    }

    /// The hashes of every change of each document within `area` (all documents when `None`),
    /// by document: what the repair path's digests are made of. Loads every document in the
    /// area, so it is for a daily check, not for each sync.
    ///
    /// # Errors
    /// Storage and document errors.
    pub fn change_hashes(&mut self, area: Option<&AreaPath>) -> Result<Vec<(Uuid, Vec<[u8; 32]>)>> {
        let mut out = Vec::new();
        for (d, _) in self.doc_rows(area)? {
            let Some((_, mut doc)) = take_doc(&self.conn, &mut self.cache, d.id, &self.actor)?
            else {
                continue;
            };
            let hashes = doc.get_changes(&[]).iter().map(|c| c.hash().0).collect();
            // Only recently used documents stay cached: a daily pass over the area must not
            // push out what the user is working on for long, nor hold the area in memory.
            self.cache.put(d.id, doc);
            out.push((d.id, hashes));
        }
        Ok(out)
    }

    /// Each document's heads within `area` (all documents when `None`): the digest a peer
    /// compares to find divergence (DESIGN §2, repair path).
    ///
    /// # Errors
    /// Storage errors.
    pub fn digest(&self, area: Option<&AreaPath>) -> Result<Vec<DocHeads>> {
        Ok(self.doc_rows(area)?.into_iter().map(|(d, _)| d).collect())
    }

    /// Heads of the documents within `area`, each with its stored area path.
    fn doc_rows(&self, area: Option<&AreaPath>) -> Result<Vec<(DocHeads, String)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT d.id, d.area, {HEADS}, d.kind, {ONE_CHANGE_BYTES} FROM doc d ORDER BY d.id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let a: String = r.get(1)?;
            if let Some(scope) = area
                && !path_contains(scope.as_str(), &a)
                // A town-wide task is part of a grid's scope, as the server serves it.
                && !(crate::kinds::reaches_sub_areas(RecordKind::from_code(r.get(3)?)?)
                    && path_contains(&a, scope.as_str()))
            {
                continue;
            }
            let id: Uuid = r.get(0)?;
            out.push((DocHeads { id, heads: heads_of(r.get(2)?, r.get(4)?)? }, a));
        }
        Ok(out)
    }

    /// The changes a peer with digest `peer` lacks, for documents within `area`: everything of
    /// documents it does not have, and the changes since its heads of those that differ.
    ///
    /// # Errors
    /// Storage and document errors.
    pub fn changes_missing_from(
        &mut self,
        peer: &[DocHeads],
        area: Option<&AreaPath>,
    ) -> Result<Vec<ChangeEnvelope>> {
        let theirs: BTreeMap<Uuid, &Vec<[u8; 32]>> =
            peer.iter().map(|d| (d.id, &d.heads)).collect();
        let mut out = Vec::new();
        for (mine, stored_area) in self.doc_rows(area)? {
            let their_heads = theirs.get(&mine.id);
            if their_heads.is_some_and(|h| **h == mine.heads) {
                continue;
            }
            let Some((kind, mut doc)) =
                take_doc(&self.conn, &mut self.cache, mine.id, &self.actor)?
            else {
                continue;
            };
            let have: Vec<ChangeHash> = their_heads
                .map(|h| {
                    h.iter()
                        .map(|x| ChangeHash(*x))
                        .filter(|x| doc.get_change_by_hash(x).is_some())
                        .collect()
                })
                .unwrap_or_default();
            let area_path =
                AreaPath::parse(&doc::get_str(&doc, common::AREA).unwrap_or(stored_area))?;
            for c in doc.get_changes(&have) {
                out.push(ChangeEnvelope {
                    doc_id: mine.id,
                    kind,
                    area: area_path.clone(),
                    bytes: c.raw_bytes().to_vec(),
                });
            }
            self.cache.put(mine.id, doc);
        }
        Ok(out)
    }
}

/// Document `id` decoded by `S`, with decoding failures as the store's errors.
///
/// # Errors
/// [`CoreError::NotFound`] for a document not complete yet or of another kind;
/// [`CoreError::BadChange`] for a malformed one.
pub(crate) fn decoded<S: crate::spec::RecordSpec>(
    id: Uuid,
    d: &AutoCommit,
) -> Result<crate::spec::Decoded<S::Record>> {
    crate::spec::decode::<S>(id, d).map_err(|e| match e {
        crate::spec::DecodeError::Incomplete { .. } => not_found(S::KIND, id),
        e @ crate::spec::DecodeError::Invalid { .. } => {
            CoreError::BadChange { doc_id: id.to_string(), reason: e.to_string() }
        }
    })
}

/// The not-found error for a record of `kind`.
pub(crate) fn not_found(kind: RecordKind, id: Uuid) -> CoreError {
    CoreError::NotFound { kind: kind.as_str().into(), id: id.to_string() }
}
