-- Migration 1 (the baseline), PostgreSQL: the schema as the server made it before numbered
-- migrations. A database made then has these tables but no `schema_migrations`: it is taken to
-- be at this version without running this file (`store::migrations`, "Baseline").
CREATE TABLE admin_tokens (
    hash BYTEA PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE TABLE areas (
    path TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    area TEXT NOT NULL,
    PRIMARY KEY (user_id, role, area)
);
CREATE TABLE enrolment_codes (
    code_hash BYTEA PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    device_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    actor TEXT NOT NULL UNIQUE,
    credential_hash BYTEA NOT NULL UNIQUE,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    enrolled_at BIGINT NOT NULL,
    last_seen BIGINT,
    cursor BIGINT NOT NULL DEFAULT 0
);
-- One row; pushes lock it for their whole transaction, so seqs are assigned and committed in
-- order and a pull can never pass over a change that commits later with a lower seq.
-- The log's identity (`epoch`): devices remember it with their cursor; a log restored from a
-- backup gets a new one (`gridwork-server --restored`), so every device learns that the seqs it
-- saw may be gone (see `docs/sync-protocol.md`, "Restore").
CREATE TABLE log_meta (
    key TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
INSERT INTO log_meta (key, value)
    VALUES ('epoch', decode(replace(gen_random_uuid()::text, '-', ''), 'hex'))
    ON CONFLICT (key) DO NOTHING;
CREATE TABLE seq_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO seq_counter (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL UNIQUE,
    doc_id BYTEA NOT NULL,
    kind SMALLINT NOT NULL,
    area_key TEXT COLLATE "C" NOT NULL,
    sensitive BOOLEAN NOT NULL,
    device_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    -- For a change that moved its record: the area key it moved from (its devices learn it left).
    prev_area_key TEXT COLLATE "C",
    -- The change's Automerge actor and sequence number: unique per document (migration 2).
    actor BYTEA,
    actor_seq BIGINT
);
CREATE INDEX changes_doc ON changes (doc_id, seq);
CREATE TABLE documents (
    doc_id BYTEA PRIMARY KEY,
    kind SMALLINT NOT NULL,
    area_key TEXT COLLATE "C" NOT NULL,
    change_count BIGINT NOT NULL,
    hash_xor BYTEA NOT NULL,
    last_seq BIGINT NOT NULL,
    -- The operation that wrote `area_key` (see `store::AreaWrite`); NULL when not known.
    area_op BYTEA
);
CREATE INDEX documents_area ON documents (area_key);
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    action TEXT NOT NULL,
    count BIGINT NOT NULL,
    areas TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_device ON audit_log (device_id, id);
-- Attachments (photos), content-addressed by SHA-256; bytes in chunks of at most 1 MiB.
CREATE TABLE attachments (
    hash BYTEA PRIMARY KEY,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    received BIGINT NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE TABLE attachment_chunks (
    hash BYTEA NOT NULL,
    pos BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (hash, pos)
);
-- Records referring to attachments: a device may download what a record in its scope names.
CREATE TABLE attachment_refs (
    hash BYTEA NOT NULL,
    doc_id BYTEA NOT NULL,
    kind SMALLINT NOT NULL,
    area_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (hash, doc_id)
);
