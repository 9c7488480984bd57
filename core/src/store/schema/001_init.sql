-- Gridwork device store, schema version 1.
-- Documents are the source of truth; every other table is a projection rebuilt from them.

-- Device-level settings: actor id, signed-in user, sync cursor, server URL…
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Area reference data (district › town › community › grid › micro-grid).
CREATE TABLE area (
    path  TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    level INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per record document.
CREATE TABLE doc (
    id           BLOB PRIMARY KEY,       -- UUIDv7, 16 bytes
    kind         INTEGER NOT NULL,       -- RecordKind code
    area         TEXT NOT NULL,
    snapshot     BLOB,                   -- Automerge save(); NULL until first compaction
    snapshot_len INTEGER NOT NULL DEFAULT 0,
    pending_len  INTEGER NOT NULL DEFAULT 0, -- bytes of changes not yet in the snapshot
    heads        BLOB NOT NULL,          -- concatenated 32-byte head hashes
    updated_at   INTEGER NOT NULL        -- ms, device clock
) WITHOUT ROWID;

-- Changes not (yet) folded into their document's snapshot, and the outbox.
CREATE TABLE change (
    hash      BLOB PRIMARY KEY,          -- Automerge change hash, 32 bytes
    doc_id    BLOB NOT NULL,
    bytes     BLOB NOT NULL,
    compacted INTEGER NOT NULL DEFAULT 0, -- 1: already inside the snapshot (kept only for the outbox)
    outbox    INTEGER NOT NULL DEFAULT 0  -- 1: made here, not yet acknowledged by the server
) WITHOUT ROWID;
CREATE INDEX change_doc ON change(doc_id, compacted);
CREATE INDEX change_outbox ON change(outbox) WHERE outbox = 1;

-- Server receive time of changes pulled from the server (trustworthy clock, DESIGN §1).
CREATE TABLE change_received (
    hash        BLOB PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Projections ---------------------------------------------------------------------------------

CREATE TABLE household (
    rowid          INTEGER PRIMARY KEY,
    id             BLOB NOT NULL UNIQUE,
    area           TEXT NOT NULL,
    address        TEXT NOT NULL,
    building       TEXT,
    unit           TEXT,
    room           TEXT,
    head_name      TEXT NOT NULL,
    member_count   INTEGER NOT NULL,
    phone          TEXT,
    tags           TEXT NOT NULL,          -- comma-separated tag codes, sorted
    interval_days  INTEGER NOT NULL,       -- smallest interval of the tags (or override)
    created_at     INTEGER NOT NULL,
    last_visit_at  INTEGER,                -- latest visit with outcome `met`, derived from visits
    next_due_at    INTEGER NOT NULL,       -- (last_visit_at or created_at) + interval
    deleted        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX household_due ON household(next_due_at) WHERE deleted = 0;
CREATE INDEX household_area_due ON household(area, next_due_at) WHERE deleted = 0;

-- Search tokens of households (CJK unigrams/bigrams, pinyin, words, digits); rowid = household.rowid.
-- Tokenizer `ascii`: splits only on ASCII punctuation, which index tokens never contain, so every
-- token is stored exactly as `search::index_tokens` wrote it (see search/mod.rs).
CREATE VIRTUAL TABLE household_fts USING fts5(
    tokens, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);

CREATE TABLE resident (
    id            BLOB PRIMARY KEY,
    household_id  BLOB NOT NULL,
    area          TEXT NOT NULL,
    name          TEXT NOT NULL,
    gender        TEXT NOT NULL,
    birth_year    INTEGER,
    relation      TEXT NOT NULL,
    phone         TEXT,
    created_at    INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX resident_household ON resident(household_id);

CREATE TABLE sensitive (
    id              BLOB PRIMARY KEY,
    resident_id     BLOB NOT NULL,
    household_id    BLOB NOT NULL,
    area            TEXT NOT NULL,
    id_card         TEXT,
    health          TEXT,
    key_population  TEXT,
    relief_status   TEXT,
    doc_deleted     INTEGER NOT NULL DEFAULT 0, -- the sensitive document's own tombstone
    deleted         INTEGER NOT NULL DEFAULT 0  -- doc_deleted, or its resident is deleted
) WITHOUT ROWID;
CREATE INDEX sensitive_resident ON sensitive(resident_id);
CREATE INDEX sensitive_household ON sensitive(household_id);

CREATE TABLE visit (
    id             BLOB PRIMARY KEY,
    household_id   BLOB NOT NULL,
    area           TEXT NOT NULL,
    visitor        TEXT NOT NULL,
    visited_at     INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    satisfaction   INTEGER,
    knows_worker   INTEGER,
    follow_up_due  INTEGER,
    incident_id    BLOB,
    task_id        BLOB,
    photo_count    INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX visit_household ON visit(household_id, visited_at);
CREATE INDEX visit_day ON visit(visitor, visited_at);
CREATE INDEX visit_task ON visit(task_id) WHERE task_id IS NOT NULL;

CREATE TABLE patrol (
    id            BLOB PRIMARY KEY,
    area          TEXT NOT NULL,
    worker        TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    points        INTEGER NOT NULL,           -- track points recorded
    distance_m    REAL NOT NULL,              -- along the track, after the jitter filter
    duration_s    REAL NOT NULL,              -- ended_at - started_at, or the track's span if open
    checkins      INTEGER NOT NULL,
    observations  INTEGER NOT NULL,
    task_id       BLOB,
    deleted       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX patrol_day ON patrol(worker, started_at);
CREATE INDEX patrol_task ON patrol(task_id) WHERE task_id IS NOT NULL;

CREATE TABLE work_order (
    id             BLOB PRIMARY KEY,
    area           TEXT NOT NULL,
    category       TEXT NOT NULL,
    severity       TEXT NOT NULL,
    title          TEXT NOT NULL,
    state          TEXT NOT NULL,
    reporter       TEXT NOT NULL,
    reported_at    INTEGER NOT NULL,
    deadline_at    INTEGER,
    closed_at      INTEGER,
    closed_on_time INTEGER,
    escalated      INTEGER NOT NULL,
    departments    TEXT NOT NULL,
    conflicts      INTEGER NOT NULL,
    is_open        INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX work_order_open ON work_order(is_open, deadline_at);

CREATE TABLE task (
    id            BLOB PRIMARY KEY,
    area          TEXT NOT NULL,
    title         TEXT NOT NULL,
    issued_by     TEXT NOT NULL,
    assignee      TEXT,                       -- user id; NULL: anyone working in the area
    issued_at     INTEGER NOT NULL,
    due_at        INTEGER,
    targets       INTEGER NOT NULL,           -- target households named on the task (0: the whole area)
    completed_at  INTEGER,
    completed_by  TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX task_due ON task(completed_at, due_at);

-- Target households of tasks (the task document's `households` set).
CREATE TABLE task_household (
    task_id       BLOB NOT NULL,
    household_id  BLOB NOT NULL,
    PRIMARY KEY (task_id, household_id)
) WITHOUT ROWID;

-- Visit interval of each household tag (reference data; DOMAIN.md defaults, configurable).
CREATE TABLE tag_interval (
    tag  TEXT PRIMARY KEY,
    days INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tag_interval(tag, days) VALUES
    ('elderly_alone', 7), ('difficulty', 30), ('relief', 30), ('disability', 30),
    ('community_correction', 30), ('released_prisoner', 30), ('drug_rehab', 30),
    ('mental_disorder', 30), ('rental', 90), ('group_rental', 30), ('ordinary', 365);
