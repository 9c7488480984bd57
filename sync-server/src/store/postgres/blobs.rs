//! Attachment storage in PostgreSQL: the `attachments`, `attachment_chunks` (bytea) and
//! `attachment_refs` tables. An append locks the attachment's row (`FOR UPDATE`), so concurrent
//! uploads of one hash serialise and offsets stay exact.

use tokio_postgres::GenericClient;

use super::{Param, PgStore, i64_of, push_scope, refs, u64_of, uuid_of};
use crate::store::{
    AttachmentChunk, AttachmentInfo, AttachmentRef, ChunkProblem, ReadScope, StoreError,
    StoreResult, area_key,
};

async fn info(
    c: &impl GenericClient,
    hash: [u8; 32],
    lock: bool,
) -> StoreResult<Option<AttachmentInfo>> {
    let sql = format!(
        "SELECT size, mime, received, complete, uploaded_by FROM attachments WHERE hash = $1 {}",
        if lock { "FOR UPDATE" } else { "" }
    );
    let Some(r) = c.query_opt(&sql, &[&&hash[..]]).await? else { return Ok(None) };
    Ok(Some(AttachmentInfo {
        hash,
        size: u64_of(r.get(0)),
        mime: r.get(1),
        received: u64_of(r.get(2)),
        complete: r.get(3),
        uploaded_by: uuid_of(r.get(4))?,
    }))
}

impl PgStore {
    pub(super) async fn blob_info(&self, hash: [u8; 32]) -> StoreResult<Option<AttachmentInfo>> {
        let c = self.client().await?;
        info(&**c, hash, false).await
    }

    pub(super) async fn blob_append(&self, ch: &AttachmentChunk) -> StoreResult<AttachmentInfo> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // Create the row if absent (a concurrent first chunk loses the race harmlessly), then
        // lock it for the rest of the transaction.
        tx.execute(
            "INSERT INTO attachments (hash, size, mime, received, uploaded_by, created_at)
             VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (hash) DO NOTHING",
            &[&&ch.hash[..], &i64_of(ch.size), &ch.mime, &ch.device_id.to_string(), &ch.now],
        )
        .await?;
        let cur = info(&*tx, ch.hash, true)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "attachment", id: hex::encode(ch.hash) })?;
        if cur.complete {
            return Ok(cur);
        }
        if cur.size != ch.size || cur.mime != ch.mime {
            return Err(StoreError::Chunk(ChunkProblem::Declared {
                size: cur.size,
                mime: cur.mime,
            }));
        }
        if ch.offset != cur.received {
            // Nothing written is kept: a freshly inserted row is rolled back with the transaction.
            return Err(StoreError::Chunk(ChunkProblem::Offset { received: cur.received }));
        }
        let after = cur.received + ch.bytes.len() as u64;
        tx.execute(
            "UPDATE attachments SET received = $1 WHERE hash = $2",
            &[&i64_of(after), &&ch.hash[..]],
        )
        .await?;
        if !ch.bytes.is_empty() {
            tx.execute(
                "INSERT INTO attachment_chunks (hash, pos, bytes) VALUES ($1, $2, $3)",
                &[&&ch.hash[..], &i64_of(ch.offset), &ch.bytes],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(AttachmentInfo { received: after, ..cur })
    }

    pub(super) async fn blob_read(
        &self,
        hash: [u8; 32],
        start: u64,
        end: u64,
    ) -> StoreResult<Vec<u8>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT pos, bytes FROM attachment_chunks
                 WHERE hash = $1 AND pos < $2 AND pos + octet_length(bytes) > $3 ORDER BY pos",
                &[&&hash[..], &i64_of(end), &i64_of(start)],
            )
            .await?;
        let chunks = rows.iter().map(|r| (u64_of(r.get(0)), r.get::<_, Vec<u8>>(1)));
        Ok(crate::store::blobs::slice_chunks(chunks, start, end))
    }

    pub(super) async fn blob_complete(&self, hash: [u8; 32], now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE attachments SET complete = TRUE, completed_at = $1 WHERE hash = $2",
            &[&now, &&hash[..]],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn blob_discard(&self, hash: [u8; 32]) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute("DELETE FROM attachment_chunks WHERE hash = $1", &[&&hash[..]]).await?;
        tx.execute("DELETE FROM attachments WHERE hash = $1", &[&&hash[..]]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn blob_add_refs(&self, list: &[AttachmentRef]) -> StoreResult<()> {
        if list.is_empty() {
            return Ok(());
        }
        let c = self.client().await?;
        let hashes: Vec<&[u8]> = list.iter().map(|r| &r.hash[..]).collect();
        let docs: Vec<&[u8]> = list.iter().map(|r| &r.doc_id.as_bytes()[..]).collect();
        let kinds: Vec<i16> = list.iter().map(|r| i16::from(r.kind.code())).collect();
        let areas: Vec<String> = list.iter().map(|r| area_key(r.area.as_str())).collect();
        c.execute(
            "INSERT INTO attachment_refs (hash, doc_id, kind, area_key)
             SELECT DISTINCT ON (h, d) h, d, k, a
             FROM UNNEST($1::bytea[], $2::bytea[], $3::smallint[], $4::text[]) AS t(h, d, k, a)
             ON CONFLICT (hash, doc_id) DO UPDATE SET area_key = excluded.area_key",
            &[&hashes, &docs, &kinds, &areas],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn blob_referenced(
        &self,
        hash: [u8; 32],
        scopes: &[ReadScope],
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let mut params: Vec<Param> = vec![Box::new(hash.to_vec())];
        let pred = push_scope(&mut params, scopes);
        let row = c
            .query_opt(
                &format!("SELECT 1 FROM attachment_refs WHERE hash = $1 AND ({pred}) LIMIT 1"),
                &refs(&params),
            )
            .await?;
        Ok(row.is_some())
    }
}
