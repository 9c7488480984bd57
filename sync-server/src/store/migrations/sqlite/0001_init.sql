-- Migration 1 (the baseline), SQLite: the schema as the server made it before numbered
-- migrations. A database made then has these tables but no `schema_migrations`: it is taken to
-- be at this version without running this file (`store::migrations`, "Baseline").
-- `IF NOT EXISTS` lets a database whose very first start stopped half-way complete here.
CREATE TABLE IF NOT EXISTS admin_tokens (
    hash BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS areas (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    area TEXT NOT NULL,
    PRIMARY KEY (user_id, role, area)
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    device_id TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    actor TEXT NOT NULL UNIQUE,
    credential_hash BLOB NOT NULL UNIQUE,
    revoked INTEGER NOT NULL DEFAULT 0,
    enrolled_at INTEGER NOT NULL,
    last_seen INTEGER,
    cursor INTEGER NOT NULL DEFAULT 0
);
-- The log's identity (`epoch`): devices remember it with their cursor; a log restored from a
-- backup gets a new one, so every device learns that the seqs it saw may be gone (see
-- `docs/sync-protocol.md`, "Restore").
CREATE TABLE IF NOT EXISTS log_meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS seq_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO seq_counter (id, seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    doc_id BLOB NOT NULL,
    kind INTEGER NOT NULL,
    area_key TEXT NOT NULL,
    sensitive INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    -- For a change that moved its record: the area key it moved from (its devices learn it left).
    prev_area_key TEXT,
    -- The change's Automerge actor and sequence number: unique per document (migration 2).
    actor BLOB,
    actor_seq INTEGER
);
CREATE INDEX IF NOT EXISTS changes_doc ON changes (doc_id, seq);
CREATE TABLE IF NOT EXISTS documents (
    doc_id BLOB PRIMARY KEY,
    kind INTEGER NOT NULL,
    area_key TEXT NOT NULL,
    change_count INTEGER NOT NULL,
    hash_xor BLOB NOT NULL,
    last_seq INTEGER NOT NULL,
    -- The operation that wrote `area_key` (see `store::AreaWrite`); NULL when not known.
    area_op BLOB
);
CREATE INDEX IF NOT EXISTS documents_area ON documents (area_key);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    user_id TEXT,
    device_id TEXT,
    action TEXT NOT NULL,
    count INTEGER NOT NULL,
    areas TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_device ON audit_log (device_id, id);
-- Attachments (photos), content-addressed by SHA-256; bytes in chunks of at most 1 MiB.
CREATE TABLE IF NOT EXISTS attachments (
    hash BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    received INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE TABLE IF NOT EXISTS attachment_chunks (
    hash BLOB NOT NULL,
    pos INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (hash, pos)
);
-- Records referring to attachments: a device may download what a record in its scope names.
CREATE TABLE IF NOT EXISTS attachment_refs (
    hash BLOB NOT NULL,
    doc_id BLOB NOT NULL,
    kind INTEGER NOT NULL,
    area_key TEXT NOT NULL,
    PRIMARY KEY (hash, doc_id)
);
