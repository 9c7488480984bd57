//! The outbox: the changes this device made and the server has not acknowledged yet, kept in
//! the order they were made. Sending them in that order matters: a change can only be applied
//! by a peer that has every change it depends on, so a record's creation must reach the server
//! (and every other phone) before its edits.

use automerge::Change;
use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use super::{Store, write_txn};
use crate::area::AreaPath;
use crate::envelope::ChangeEnvelope;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;

/// `change.outbox` values: who still needs a change.
pub(crate) mod state {
    /// Acknowledged by the server (or received from it): nobody waits for it.
    pub const SENT: i64 = 0;
    /// Made here and waiting to be pushed.
    pub const WAITING: i64 = 1;
    /// Refused by the server for good and kept aside (`sync/quarantine.rs`).
    pub const QUARANTINED: i64 = 2;
}

/// The `ord` the next change made on this device gets: one above the highest among changes not
/// yet acknowledged (an empty outbox starts again at 1; order only matters among unsent ones).
pub(super) fn next_ord(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(ord), 0) + 1 FROM change WHERE outbox <> 0",
        [],
        |r| r.get(0),
    )?)
}

/// Migration step of schema 4: numbers the unsent changes written before outbox order existed.
/// All of them are this device's own, so within a document their Automerge sequence numbers
/// are their causal order; across documents any order will do.
pub(super) fn number_unordered(tx: &Transaction<'_>) -> Result<()> {
    let mut rows: Vec<(Vec<u8>, Vec<u8>, u64)> = Vec::new();
    {
        let mut stmt =
            tx.prepare("SELECT hash, doc_id, bytes FROM change WHERE outbox <> 0 AND ord = 0")?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let (hash, doc): (Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(1)?);
            let bytes = super::change_bytes::unpack(r.get(2)?)?;
            // An unreadable row keeps its place at the end; sending it will be refused and
            // quarantined as before.
            let seq = Change::from_bytes(bytes).map(|c| c.seq()).unwrap_or(u64::MAX);
            rows.push((doc, hash, seq));
        }
    }
    rows.sort_by(|a, b| (&a.0, a.2, &a.1).cmp(&(&b.0, b.2, &b.1)));
    let mut upd = tx.prepare("UPDATE change SET ord = ?2 WHERE hash = ?1")?;
    for (i, (_, hash, _)) in rows.iter().enumerate() {
        upd.execute(rusqlite::params![hash, i64::try_from(i + 1).unwrap_or(i64::MAX)])?;
    }
    Ok(())
}

impl Store {
    /// Takes the next outbox position for a change made on this device.
    pub(super) fn take_ord(&mut self) -> i64 {
        let ord = self.next_ord;
        self.next_ord += 1;
        ord
    }

    /// The changes made on this device and not yet acknowledged by the server, in the order
    /// they were made, up to about `max_bytes` (at least one). Documents with a quarantined
    /// change send nothing (their later changes depend on it).
    ///
    /// # Errors
    /// Storage errors; [`CoreError::BadChange`] if a stored row is unreadable.
    pub fn outbox(&self, max_bytes: usize) -> Result<Vec<ChangeEnvelope>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.doc_id, d.kind, coalesce(c.area, d.area), c.bytes
             FROM change c JOIN doc d ON d.id = c.doc_id
             WHERE c.outbox <> 0 AND c.outbox = ?1
               AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.doc_id = c.doc_id)
             ORDER BY c.ord",
        )?;
        let mut rows = stmt.query([state::WAITING])?;
        let mut out = Vec::new();
        let mut total = 0usize;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            let bytes = super::change_bytes::unpack(r.get(3)?)?;
            if !out.is_empty() && total + bytes.len() > max_bytes {
                break;
            }
            total += bytes.len();
            let doc_id = Uuid::from_slice(&id).map_err(|e| CoreError::BadChange {
                doc_id: hex::encode(&id),
                reason: e.to_string(),
            })?;
            out.push(ChangeEnvelope {
                doc_id,
                kind: RecordKind::from_code(r.get(1)?)?,
                area: AreaPath::parse(&r.get::<_, String>(2)?)?,
                bytes,
            });
        }
        Ok(out)
    }

    /// Puts every change this device ever made back into the outbox, in the order it made
    /// them: the server's log was restored from a backup and may have lost changes it had
    /// acknowledged. Re-sending is harmless (the server stores each change once); changes
    /// already folded into a snapshot are taken from their documents. Quarantined changes stay
    /// quarantined. Returns how many changes wait in the outbox afterwards.
    ///
    /// # Errors
    /// Storage and document errors (nothing is changed then).
    pub fn requeue_own_changes(&mut self) -> Result<u64> {
        let ids: Vec<Uuid> = self
            .conn
            .prepare("SELECT id FROM doc ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.requeue_own_changes_of(&ids)
    }

    /// [`Store::requeue_own_changes`] for some documents only (those a digest comparison found
    /// the server lacking or holding differently).
    ///
    /// # Errors
    /// As [`Store::requeue_own_changes`].
    pub fn requeue_own_changes_of(&mut self, ids: &[Uuid]) -> Result<u64> {
        let mut next = self.next_ord;
        let (actor, cache) = (&self.actor, &mut self.cache);
        write_txn(&mut self.conn, self.batch.as_mut(), |tx| {
            let mut put = tx.prepare_cached(
                "INSERT INTO change(hash, doc_id, bytes, outbox, ord, compacted)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)
                 ON CONFLICT(hash) DO UPDATE SET outbox = ?4, ord = ?5 WHERE outbox = ?6",
            )?;
            for &id in ids {
                let Some((_, mut doc)) = super::docs::take_doc(tx, cache, id, actor)? else {
                    continue;
                };
                // `get_changes` lists a document's changes in causal order.
                for c in doc.get_changes(&[]).iter().filter(|c| c.actor_id() == actor) {
                    put.execute(rusqlite::params![
                        c.hash().0,
                        id.as_bytes(),
                        super::change_bytes::pack(c.raw_bytes()),
                        state::WAITING,
                        next,
                        state::SENT
                    ])?;
                    next += 1;
                }
                cache.put(id, doc);
            }
            Ok(())
        })?;
        self.next_ord = next;
        self.outbox_len()
    }

    /// How many changes wait in the outbox to be sent: what [`Store::outbox`] would send, so a
    /// sync that loops "while something is pending" always ends (changes of a document with a
    /// quarantined change wait for its release and are not counted).
    ///
    /// # Errors
    /// Storage errors.
    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM change c WHERE c.outbox <> 0 AND c.outbox = ?1
                   AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.doc_id = c.doc_id)",
            )?
            .query_row([state::WAITING], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }

    /// Marks outbox changes as acknowledged by the server (they stay part of their document).
    ///
    /// # Errors
    /// Storage errors.
    pub fn acknowledge(&mut self, hashes: &[[u8; 32]]) -> Result<()> {
        write_txn(&mut self.conn, self.batch.as_mut(), |tx| acknowledge(tx, hashes))
    }
}

/// Marks `hashes` acknowledged. An acknowledged change needs no row of its own any more: it
/// joins its document's stored bytes (`docs::load_from_db`), or, when the document's saved
/// form already holds it (`compacted`), is simply dropped.
pub(super) fn acknowledge(tx: &Connection, hashes: &[[u8; 32]]) -> Result<()> {
    // Acknowledged changes still in their rows, by document, in the order they were written.
    let mut moving: std::collections::BTreeMap<Vec<u8>, Vec<(i64, Vec<u8>)>> = Default::default();
    {
        let mut find = tx.prepare_cached(
            "SELECT id, doc_id, compacted, bytes FROM change WHERE hash = ?1 AND outbox <> ?2",
        )?;
        let mut drop_row = tx.prepare_cached("DELETE FROM change WHERE id = ?1")?;
        for h in hashes {
            let row: Option<(i64, Vec<u8>, bool, Vec<u8>)> = find
                .query_row(rusqlite::params![h.as_slice(), state::SENT], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            match row {
                Some((row, _, true, _)) => {
                    drop_row.execute([row])?;
                }
                Some((row, doc, false, bytes)) => {
                    moving.entry(doc).or_default().push((row, bytes));
                }
                None => {}
            }
        }
    }
    for (doc, mut rows) in moving {
        rows.sort_by_key(|(row, _)| *row);
        let id = Uuid::from_slice(&doc).map_err(|e| CoreError::BadChange {
            doc_id: hex::encode(&doc),
            reason: e.to_string(),
        })?;
        let raw = rows
            .iter()
            .map(|(_, b)| super::change_bytes::unpack(b.clone()))
            .collect::<Result<Vec<_>>>()?;
        let stored = super::docs::append_stored(tx, id, raw.iter().map(Vec::as_slice))?;
        // A one-change document keeps no heads (its stored bytes are then that change), unless
        // it references photos: its heads are written before the row they are read from goes
        // (`docs::HEADS`).
        tx.prepare_cached(&format!(
            "UPDATE doc AS d SET snapshot = ?2,
               heads = CASE WHEN d.photos > 0 THEN {} ELSE d.heads END
             WHERE d.id = ?1",
            super::docs::HEADS
        ))?
        .execute(rusqlite::params![doc, stored])?;
        let mut drop_row = tx.prepare_cached("DELETE FROM change WHERE id = ?1")?;
        for (row, _) in &rows {
            drop_row.execute([row])?;
        }
    }
    Ok(())
}
