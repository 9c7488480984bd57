-- Gridwork device store, schema version 2: attachments (photos), DESIGN §5.
-- Blobs live in the store itself, so SQLCipher encrypts them at rest like every record.

-- One row per attachment held (wholly or partly) on this device.
CREATE TABLE attachment (
    hash        BLOB PRIMARY KEY,        -- SHA-256 of the content, 32 bytes
    size        INTEGER NOT NULL,
    mime        TEXT NOT NULL,
    have        INTEGER NOT NULL,        -- bytes held here (= size when complete)
    complete    INTEGER NOT NULL,        -- 1: whole and hash-verified
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The bytes, in chunks of at most 256 KiB (a rowid table: large blobs stay out of the b-tree).
CREATE TABLE attachment_chunk (
    id    INTEGER PRIMARY KEY,
    hash  BLOB NOT NULL,
    pos   INTEGER NOT NULL,
    bytes BLOB NOT NULL
);
CREATE UNIQUE INDEX attachment_chunk_pos ON attachment_chunk(hash, pos);

-- Upload queue: attachments made here that the server does not yet hold whole.
CREATE TABLE attachment_upload (
    hash        BLOB PRIMARY KEY,
    sent        INTEGER NOT NULL DEFAULT 0, -- bytes the server confirmed receiving
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    queued_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Download queue: attachments that records on this device refer to and it lacks.
CREATE TABLE attachment_download (
    hash        BLOB PRIMARY KEY,
    size        INTEGER NOT NULL,
    mime        TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    queued_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Documents whose photo references were scanned, and at which heads.
CREATE TABLE attachment_scan (
    doc_id  BLOB PRIMARY KEY,
    heads   BLOB NOT NULL
) WITHOUT ROWID;
