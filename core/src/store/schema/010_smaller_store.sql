-- Schema 10 (issue 9 part 2): the same records in fewer bytes (docs/BENCHMARKS.md, "Issue 9
-- part 2, second round (size)").
--
-- `change` becomes a rowid table. Keyed by its 32-byte hash, every row was inserted at a random
-- place (pages split and stayed about two-thirds full) and both of its indexes repeated the hash;
-- now rows are appended in the order they are written and the indexes point at the rowid. The
-- hash stays unique (duplicate checks and acknowledgements look changes up by it), and every
-- statement that worked on the old table works on this one.
ALTER TABLE change RENAME TO change_v9;
CREATE TABLE change (
    id        INTEGER PRIMARY KEY,
    hash      BLOB NOT NULL UNIQUE,      -- Automerge change hash, 32 bytes
    doc_id    BLOB NOT NULL,
    compacted INTEGER NOT NULL DEFAULT 0, -- 1: already inside the snapshot (kept only for the outbox)
    outbox    INTEGER NOT NULL DEFAULT 0, -- see store/outbox.rs `state`
    ord       INTEGER NOT NULL DEFAULT 0, -- the order this device made its own changes in
    area      TEXT,                       -- own changes: the record's area when made
    bytes     BLOB NOT NULL               -- store/change_bytes.rs
);
INSERT INTO change(hash, doc_id, compacted, outbox, ord, area, bytes)
    SELECT hash, doc_id, compacted, outbox, ord, area, bytes FROM change_v9
    ORDER BY doc_id, ord, hash;
DROP TABLE change_v9;
CREATE INDEX change_doc ON change(doc_id);
CREATE INDEX change_outbox ON change(ord) WHERE outbox <> 0;
-- Acknowledging drops the rows of sent changes already inside a snapshot: found without a scan.
CREATE INDEX change_compacted ON change(doc_id) WHERE compacted = 1;

-- `doc` loses `updated_at` (written, never read) and keeps no heads for a document that is its
-- one loose change (most records are never edited): its head is that change's hash
-- (`store/docs.rs`, `HEADS`). A snapshot or a second change writes the heads again.
ALTER TABLE doc RENAME TO doc_v9;
CREATE TABLE doc (
    id           BLOB PRIMARY KEY,            -- UUIDv7, 16 bytes
    kind         INTEGER NOT NULL,            -- RecordKind code
    area         TEXT NOT NULL,
    heads        BLOB,                        -- concatenated 32-byte head hashes; NULL: see above
    photos       INTEGER NOT NULL DEFAULT 0,  -- photo references (schema 5)
    pending_len  INTEGER NOT NULL DEFAULT 0,  -- bytes of changes not yet in the snapshot
    snapshot_len INTEGER NOT NULL DEFAULT 0,
    snapshot     BLOB                         -- Automerge save(); NULL until first compaction
) WITHOUT ROWID;
INSERT INTO doc(id, kind, area, heads, photos, pending_len, snapshot_len, snapshot)
    SELECT d.id, d.kind, d.area,
           CASE WHEN d.snapshot IS NULL
                 AND (SELECT count(*) FROM change c WHERE c.doc_id = d.id) = 1
                 AND d.heads = (SELECT c.hash FROM change c WHERE c.doc_id = d.id)
                THEN NULL ELSE d.heads END,
           d.photos, d.pending_len, d.snapshot_len, d.snapshot
    FROM doc_v9 d ORDER BY d.id;
DROP TABLE doc_v9;
