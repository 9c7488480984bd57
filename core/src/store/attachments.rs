//! The device's attachment store (DESIGN §5): photo blobs kept in the store itself, in chunks,
//! so SQLCipher encrypts them at rest; an upload queue of attachments made here and a download
//! queue of attachments that records refer to and this device lacks. Every byte is
//! content-addressed: a downloaded blob that does not hash to its id is discarded.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Store;
use crate::attachment::PhotoRef;
use crate::error::{CoreError, Result};
use crate::kind::RecordKind;
use crate::sync::attachment::{
    DownloadProgress, MAX_CHUNK_BYTES, PendingDownload, PendingUpload, UploadChunk,
};

/// Size of the chunk rows blobs are stored in.
const STORE_CHUNK: usize = 256 * 1024;

/// Parses a hex SHA-256.
fn parse_hash(hash: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if hash.len() != 64 || hex::decode_to_slice(hash, &mut out).is_err() {
        return Err(CoreError::invalid("hash", "an attachment hash is 64 hex digits (SHA-256)"));
    }
    Ok(out)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Appends `bytes` at `pos` as chunk rows.
fn put_chunks(tx: &Connection, hash: &[u8; 32], pos: u64, bytes: &[u8]) -> Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT INTO attachment_chunk(hash, pos, bytes) VALUES (?1, ?2, ?3)")?;
    let mut at = pos;
    for piece in bytes.chunks(STORE_CHUNK) {
        stmt.execute(params![&hash[..], i64_of(at), piece])?;
        at += piece.len() as u64;
    }
    Ok(())
}

/// The bytes `start..end` held of an attachment.
fn read_range(conn: &Connection, hash: &[u8; 32], start: u64, end: u64) -> Result<Vec<u8>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pos, bytes FROM attachment_chunk
         WHERE hash = ?1 AND pos < ?2 AND pos + length(bytes) > ?3 ORDER BY pos",
    )?;
    let mut rows = stmt.query(params![&hash[..], i64_of(end), i64_of(start)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let pos = u64_of(r.get(0)?);
        let bytes: Vec<u8> = r.get(1)?;
        let from = usize::try_from(start.saturating_sub(pos)).unwrap_or(usize::MAX);
        let to = usize::try_from(end.min(pos + bytes.len() as u64) - pos).unwrap_or(0);
        if let Some(part) = bytes.get(from..to) {
            out.extend_from_slice(part);
        }
    }
    Ok(out)
}

fn delete_blob(tx: &Connection, hash: &[u8; 32]) -> Result<()> {
    tx.execute("DELETE FROM attachment_chunk WHERE hash = ?1", [&hash[..]])?;
    tx.execute("DELETE FROM attachment WHERE hash = ?1", [&hash[..]])?;
    Ok(())
}

/// `(size, mime, have, complete)` of a held attachment.
fn held(conn: &Connection, hash: &[u8; 32]) -> Result<Option<(u64, String, u64, bool)>> {
    Ok(conn
        .prepare_cached("SELECT size, mime, have, complete FROM attachment WHERE hash = ?1")?
        .query_row([&hash[..]], |r| {
            Ok((u64_of(r.get(0)?), r.get(1)?, u64_of(r.get(2)?), r.get(3)?))
        })
        .optional()?)
}

impl Store {
    /// Stores a photo taken on this device and queues it for upload; returns the reference to
    /// put into a record. Adding the same bytes again returns the same reference.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `photos` when empty, over
    /// [`crate::attachment::MAX_ATTACHMENT_BYTES`] or not an `image/*` MIME type; storage errors.
    pub fn add_attachment(&mut self, bytes: &[u8], mime: &str) -> Result<PhotoRef> {
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        let photo = PhotoRef {
            hash: hex::encode(hash),
            size: bytes.len() as u64,
            mime: mime.trim().to_ascii_lowercase(),
        };
        photo.validate()?;
        let now = Utc::now().timestamp_millis();
        self.in_write(|tx| {
            match held(tx, &hash)? {
                Some((_, _, _, true)) => return Ok(()),
                Some(_) => delete_blob(tx, &hash)?,
                None => {}
            }
            tx.execute(
                "INSERT INTO attachment(hash, size, mime, have, complete, created_at)
                 VALUES (?1, ?2, ?3, ?2, 1, ?4)",
                params![&hash[..], i64_of(photo.size), photo.mime, now],
            )?;
            put_chunks(tx, &hash, 0, bytes)?;
            tx.execute("DELETE FROM attachment_download WHERE hash = ?1", [&hash[..]])?;
            tx.execute(
                "INSERT OR IGNORE INTO attachment_upload(hash, queued_at) VALUES (?1, ?2)",
                params![&hash[..], now],
            )?;
            Ok(())
        })?;
        Ok(photo)
    }

    /// Throws away a photo taken on this device for a record that was never saved (the form
    /// was cancelled): its bytes and its place in the upload queue, so it neither stays on the
    /// phone nor goes to the server. A photo a record on this device refers to is kept. Returns
    /// whether the photo was thrown away. Reads every record that references photos, so it is
    /// for a person's action, not a loop.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage and document errors.
    pub fn discard_photo(&mut self, hash: &str) -> Result<bool> {
        let h = parse_hash(&hash.to_ascii_lowercase())?;
        let actor = self.actor.clone();
        self.in_write(|tx| {
            let held = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachment WHERE hash = ?1)")?
                .query_row([&h[..]], |r| r.get::<_, bool>(0))?;
            if !held || referenced_photos(tx, &actor)?.contains(&h) {
                return Ok(false);
            }
            tx.execute("DELETE FROM attachment_upload WHERE hash = ?1", [&h[..]])?;
            tx.execute("DELETE FROM attachment_download WHERE hash = ?1", [&h[..]])?;
            delete_blob(tx, &h)?;
            Ok(true)
        })
    }

    /// Whether this device holds the whole attachment.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn has_attachment(&self, hash: &str) -> Result<bool> {
        Ok(held(self.conn(), &parse_hash(hash)?)?.is_some_and(|h| h.3))
    }

    /// The bytes of a whole attachment held here (`None` when absent or incomplete).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn attachment_bytes(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        let h = parse_hash(hash)?;
        match held(self.conn(), &h)? {
            Some((size, _, _, true)) => Ok(Some(read_range(self.conn(), &h, 0, size)?)),
            _ => Ok(None),
        }
    }

    /// The upload queue, oldest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.hash, a.size, a.mime, u.sent, u.attempts, u.last_error
             FROM attachment_upload u JOIN attachment a ON a.hash = u.hash
             WHERE a.complete = 1 ORDER BY u.queued_at, u.hash",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingUpload {
                photo: PhotoRef {
                    hash: hex::encode(r.get::<_, Vec<u8>>(0)?),
                    size: u64_of(r.get(1)?),
                    mime: r.get(2)?,
                },
                sent: u64_of(r.get(3)?),
                attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
                last_error: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The next chunk of a queued upload, from the offset the server last confirmed, of at most
    /// `max_bytes` (clamped to 1 byte – 1 MiB). `None` when the attachment is not queued or
    /// the server has every byte.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn next_upload_chunk(&self, hash: &str, max_bytes: usize) -> Result<Option<UploadChunk>> {
        let Some(p) = self.pending_uploads()?.into_iter().find(|p| p.photo.hash == hash) else {
            parse_hash(hash)?;
            return Ok(None);
        };
        if p.sent >= p.photo.size {
            return Ok(None);
        }
        let h = parse_hash(hash)?;
        let end = (p.sent + max_bytes.clamp(1, MAX_CHUNK_BYTES) as u64).min(p.photo.size);
        let bytes = read_range(self.conn(), &h, p.sent, end)?;
        Ok(Some(UploadChunk { photo: p.photo, offset: p.sent, bytes }))
    }

    /// Records what the server said about an upload: the bytes it holds (the next chunk
    /// starts there, even if that is behind what was sent — the server is the truth) and
    /// whether it holds the whole, verified blob (then the upload leaves the queue).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn record_upload_offset(
        &mut self,
        hash: &str,
        server_received: u64,
        complete: bool,
    ) -> Result<()> {
        let h = parse_hash(hash)?;
        self.in_write(|tx| {
            if complete {
                tx.execute("DELETE FROM attachment_upload WHERE hash = ?1", [&h[..]])?;
            } else {
                tx.execute(
                    "UPDATE attachment_upload SET sent = ?2 WHERE hash = ?1",
                    params![&h[..], i64_of(server_received)],
                )?;
            }
            Ok(())
        })
    }

    /// Records a failed upload attempt (kept in the queue; the caller backs off).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn record_upload_error(&mut self, hash: &str, error: &str) -> Result<()> {
        let h = parse_hash(hash)?;
        self.in_write(|tx| {
            tx.execute(
                "UPDATE attachment_upload SET attempts = attempts + 1, last_error = ?2
                 WHERE hash = ?1",
                params![&h[..], error],
            )?;
            Ok(())
        })
    }

    /// Queues an attachment for download unless it is held whole already; returns whether it
    /// was queued now.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] for a malformed reference; storage errors.
    pub fn queue_download(&mut self, photo: &PhotoRef) -> Result<bool> {
        photo.validate()?;
        let h = parse_hash(&photo.hash)?;
        let now = Utc::now().timestamp_millis();
        self.in_write(|tx| queue_download_tx(tx, &h, photo, now))
    }

    /// Scans the records changed since the last scan that reference photos (of every kind
    /// that carries photos, see [`crate::kinds::carries_photos`]) and queues the photos this
    /// device lacks; returns how many were queued. Cheap when nothing changed: only documents
    /// whose heads moved are read.
    ///
    /// # Errors
    /// Storage and document errors.
    pub fn queue_referenced_downloads(&mut self) -> Result<usize> {
        let todo: Vec<(Uuid, u8, Vec<u8>)> = {
            let heads = super::docs::HEADS;
            let mut stmt = self.conn().prepare(&format!(
                "SELECT d.id, d.kind, {heads} FROM doc d
                 LEFT JOIN attachment_scan s ON s.doc_id = d.id
                 WHERE d.photos > 0 AND (s.heads IS NULL OR s.heads <> {heads})"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut queued = 0;
        let now = Utc::now().timestamp_millis();
        for (id, kind, heads) in todo {
            let kind = RecordKind::from_code(kind)?;
            let photos = match self.read_doc(id, kind, |d| crate::kinds::photos(kind, id, d)) {
                Ok(Ok(photos)) => photos,
                Ok(Err(_)) | Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            queued += self.in_write(|tx| {
                let mut n = 0;
                for p in &photos {
                    if p.validate().is_err() {
                        continue;
                    }
                    let Ok(h) = parse_hash(&p.hash) else { continue };
                    if queue_download_tx(tx, &h, p, now)? {
                        n += 1;
                    }
                }
                tx.execute(
                    "INSERT INTO attachment_scan(doc_id, heads) VALUES (?1, ?2)
                     ON CONFLICT(doc_id) DO UPDATE SET heads = excluded.heads",
                    params![id, heads],
                )?;
                Ok(n)
            })?;
        }
        Ok(queued)
    }

    /// The download queue, oldest first, each with the bytes already held.
    ///
    /// # Errors
    /// Storage errors.
    pub fn pending_downloads(&self) -> Result<Vec<PendingDownload>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT q.hash, q.size, q.mime, coalesce(a.have, 0), q.attempts, q.last_error
             FROM attachment_download q LEFT JOIN attachment a ON a.hash = q.hash
             ORDER BY q.queued_at, q.hash",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingDownload {
                photo: PhotoRef {
                    hash: hex::encode(r.get::<_, Vec<u8>>(0)?),
                    size: u64_of(r.get(1)?),
                    mime: r.get(2)?,
                },
                have: u64_of(r.get(3)?),
                attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
                last_error: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores downloaded bytes of a queued attachment at `offset` (which must be the bytes
    /// held so far). When the blob is whole its SHA-256 is checked: on a match it is complete
    /// and leaves the queue; otherwise every byte is discarded (and the attempt counted).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash` (malformed), `attachment` (not queued) or `offset`
    /// (not where the held bytes end, or past the size); storage errors.
    pub fn store_download_chunk(
        &mut self,
        hash: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<DownloadProgress> {
        let h = parse_hash(hash)?;
        let now = Utc::now().timestamp_millis();
        self.in_write(|tx| {
            let queued: Option<(i64, String)> = tx
                .prepare_cached("SELECT size, mime FROM attachment_download WHERE hash = ?1")?
                .query_row([&h[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((size, mime)) = queued else {
                return Err(CoreError::invalid("attachment", "not in the download queue"));
            };
            let size = u64_of(size);
            let have = match held(tx, &h)? {
                Some((_, _, have, _)) => have,
                None => {
                    tx.execute(
                        "INSERT INTO attachment(hash, size, mime, have, complete, created_at)
                         VALUES (?1, ?2, ?3, 0, 0, ?4)",
                        params![&h[..], i64_of(size), mime, now],
                    )?;
                    0
                }
            };
            if offset != have || offset + bytes.len() as u64 > size {
                return Err(CoreError::invalid(
                    "offset",
                    format!("{have} of {size} bytes are held; got {} at {offset}", bytes.len()),
                ));
            }
            put_chunks(tx, &h, offset, bytes)?;
            let have = have + bytes.len() as u64;
            if have < size {
                tx.execute(
                    "UPDATE attachment SET have = ?2 WHERE hash = ?1",
                    params![&h[..], i64_of(have)],
                )?;
                return Ok(DownloadProgress::Partial { have });
            }
            let whole = read_range(tx, &h, 0, size)?;
            let actual: [u8; 32] = Sha256::digest(&whole).into();
            if actual != h {
                delete_blob(tx, &h)?;
                tx.execute(
                    "UPDATE attachment_download SET attempts = attempts + 1,
                       last_error = 'downloaded bytes do not match the hash' WHERE hash = ?1",
                    [&h[..]],
                )?;
                return Ok(DownloadProgress::Discarded);
            }
            tx.execute(
                "UPDATE attachment SET have = ?2, complete = 1 WHERE hash = ?1",
                params![&h[..], i64_of(have)],
            )?;
            tx.execute("DELETE FROM attachment_download WHERE hash = ?1", [&h[..]])?;
            Ok(DownloadProgress::Complete)
        })
    }

    /// Records a failed download attempt (kept in the queue, with the bytes held so far).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `hash`; storage errors.
    pub fn record_download_error(&mut self, hash: &str, error: &str) -> Result<()> {
        let h = parse_hash(hash)?;
        self.in_write(|tx| {
            tx.execute(
                "UPDATE attachment_download SET attempts = attempts + 1, last_error = ?2
                 WHERE hash = ?1",
                params![&h[..], error],
            )?;
            Ok(())
        })
    }
}

/// Queues a download in an open transaction unless the blob is held whole.
fn queue_download_tx(tx: &Connection, h: &[u8; 32], photo: &PhotoRef, now: i64) -> Result<bool> {
    if held(tx, h)?.is_some_and(|x| x.3) {
        return Ok(false);
    }
    let n = tx.execute(
        "INSERT OR IGNORE INTO attachment_download(hash, size, mime, queued_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![&h[..], i64_of(photo.size), photo.mime.to_ascii_lowercase(), now],
    )?;
    Ok(n > 0)
}

/// Deletes the photos no document on this device refers to any more — their bytes, and their
/// place in the download queue — except those still waiting to be uploaded (the server needs
/// them). Run after forgetting documents that carried photos (a worker moved to another grid
/// must not keep the old grid's photos); returns how many photos were deleted. Reads every
/// document that references photos, so it is for those rare moments, not for each sync.
///
/// # Errors
/// Storage and document errors.
pub(super) fn drop_unreferenced(tx: &Connection, actor: &automerge::ActorId) -> Result<usize> {
    let referenced = referenced_photos(tx, actor)?;
    let held: Vec<Vec<u8>> = tx
        .prepare_cached(
            "SELECT hash FROM attachment WHERE hash NOT IN (SELECT hash FROM attachment_upload)
             UNION SELECT hash FROM attachment_download",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut dropped = 0;
    for h in held {
        let Ok(hash) = <[u8; 32]>::try_from(h.as_slice()) else { continue };
        if referenced.contains(&hash) {
            continue;
        }
        tx.execute("DELETE FROM attachment_download WHERE hash = ?1", [&hash[..]])?;
        if held_in(tx, &hash)? {
            delete_blob(tx, &hash)?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// Every photo the documents on this device refer to (reads each document that references
/// photos).
fn referenced_photos(
    tx: &Connection,
    actor: &automerge::ActorId,
) -> Result<std::collections::HashSet<[u8; 32]>> {
    let docs: Vec<(Uuid, u8)> = tx
        .prepare_cached("SELECT id, kind FROM doc WHERE photos > 0")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut referenced = std::collections::HashSet::new();
    for (id, kind) in docs {
        let kind = RecordKind::from_code(kind)?;
        let Some((_, doc)) = super::docs::load_from_db(tx, id, actor)? else { continue };
        // A document that does not decode refers to nothing the device could show.
        for p in crate::kinds::photos(kind, id, &doc).unwrap_or_default() {
            if let Ok(h) = parse_hash(&p.hash.to_ascii_lowercase()) {
                referenced.insert(h);
            }
        }
    }
    Ok(referenced)
}

/// Whether the device holds bytes (some or all) of attachment `hash`, and none of them wait to
/// be uploaded.
fn held_in(tx: &Connection, hash: &[u8; 32]) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM attachment WHERE hash = ?1)
               AND NOT EXISTS (SELECT 1 FROM attachment_upload WHERE hash = ?1)",
        )?
        .query_row([&hash[..]], |r| r.get(0))?)
}
