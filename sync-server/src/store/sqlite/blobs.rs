//! Attachment storage in SQLite: the `attachments`, `attachment_chunks` and `attachment_refs`
//! tables. Appends run on the single writer connection, so concurrent uploads of one hash
//! serialise.

use super::{SqliteStore, i64_of, u64_of, uuid_of};
use crate::store::{
    AttachmentChunk, AttachmentInfo, AttachmentRef, ChunkProblem, ReadScope, StoreError,
    StoreResult, area_key, scope_sql,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

const INFO_COLS: &str = "size, mime, received, complete, uploaded_by FROM attachments";

fn info(conn: &Connection, hash: [u8; 32]) -> StoreResult<Option<AttachmentInfo>> {
    let row: Option<(i64, String, i64, bool, String)> = conn
        .prepare_cached(&format!("SELECT {INFO_COLS} WHERE hash = ?"))?
        .query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    row.map(|(size, mime, received, complete, by)| {
        Ok(AttachmentInfo {
            hash,
            size: u64_of(size),
            mime,
            received: u64_of(received),
            complete,
            uploaded_by: uuid_of(&by)?,
        })
    })
    .transpose()
}

impl SqliteStore {
    pub(super) async fn blob_info(&self, hash: [u8; 32]) -> StoreResult<Option<AttachmentInfo>> {
        self.read(move |c| info(c, hash)).await
    }

    pub(super) async fn blob_append(&self, chunk: &AttachmentChunk) -> StoreResult<AttachmentInfo> {
        let ch = chunk.clone();
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = info(&tx, ch.hash)?;
            let received = match &current {
                Some(i) if i.complete => return Ok(i.clone()),
                Some(i) if i.size != ch.size || i.mime != ch.mime => {
                    return Err(StoreError::Chunk(ChunkProblem::Declared {
                        size: i.size,
                        mime: i.mime.clone(),
                    }));
                }
                Some(i) => i.received,
                None => 0,
            };
            if ch.offset != received {
                return Err(StoreError::Chunk(ChunkProblem::Offset { received }));
            }
            let after = received + ch.bytes.len() as u64;
            if current.is_none() {
                tx.execute(
                    "INSERT INTO attachments (hash, size, mime, received, uploaded_by, created_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                    params![
                        &ch.hash[..],
                        i64_of(ch.size),
                        ch.mime,
                        i64_of(after),
                        ch.device_id.to_string(),
                        ch.now
                    ],
                )?;
            } else {
                tx.execute(
                    "UPDATE attachments SET received = ? WHERE hash = ?",
                    params![i64_of(after), &ch.hash[..]],
                )?;
            }
            if !ch.bytes.is_empty() {
                tx.execute(
                    "INSERT INTO attachment_chunks (hash, pos, bytes) VALUES (?, ?, ?)",
                    params![&ch.hash[..], i64_of(ch.offset), ch.bytes],
                )?;
            }
            let out = info(&tx, ch.hash)?.ok_or_else(|| StoreError::NotFound {
                what: "attachment",
                id: hex::encode(ch.hash),
            })?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    pub(super) async fn blob_read(
        &self,
        hash: [u8; 32],
        start: u64,
        end: u64,
    ) -> StoreResult<Vec<u8>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT pos, bytes FROM attachment_chunks
                 WHERE hash = ? AND pos < ? AND pos + length(bytes) > ? ORDER BY pos",
            )?;
            let rows = stmt.query_map(params![&hash[..], i64_of(end), i64_of(start)], |r| {
                Ok((u64_of(r.get(0)?), r.get::<_, Vec<u8>>(1)?))
            })?;
            let chunks = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(crate::store::blobs::slice_chunks(chunks, start, end))
        })
        .await
    }

    pub(super) async fn blob_complete(&self, hash: [u8; 32], now: i64) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE attachments SET complete = 1, completed_at = ? WHERE hash = ?",
                params![now, &hash[..]],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn blob_discard(&self, hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM attachment_chunks WHERE hash = ?", [&hash[..]])?;
            tx.execute("DELETE FROM attachments WHERE hash = ?", [&hash[..]])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn blob_add_refs(&self, refs: &[AttachmentRef]) -> StoreResult<()> {
        let refs = refs.to_vec();
        if refs.is_empty() {
            return Ok(());
        }
        self.write(move |c| {
            let tx = c.transaction()?;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO attachment_refs (hash, doc_id, kind, area_key) VALUES (?, ?, ?, ?)
                     ON CONFLICT (hash, doc_id) DO UPDATE SET area_key = excluded.area_key",
                )?;
                for r in &refs {
                    put.execute(params![
                        &r.hash[..],
                        r.doc_id.as_bytes().as_slice(),
                        r.kind.code(),
                        area_key(r.area.as_str())
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn blob_referenced(
        &self,
        hash: [u8; 32],
        scopes: &[ReadScope],
    ) -> StoreResult<bool> {
        let scopes = scopes.to_vec();
        self.read(move |c| {
            let (pred, binds) = scope_sql(&scopes, || "?".into());
            let mut values = vec![Value::Blob(hash.to_vec())];
            values.extend(binds.into_iter().map(Value::Text));
            let found = c
                .prepare(&format!(
                    "SELECT 1 FROM attachment_refs WHERE hash = ? AND ({pred}) LIMIT 1"
                ))?
                .query_row(params_from_iter(values), |_| Ok(()))
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }
}
