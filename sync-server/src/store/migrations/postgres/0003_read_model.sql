-- Schema 3 (PostgreSQL): the read model (DESIGN §8; sync-server/src/read_model/). Rows are derived from the
-- change log by the projector with the core's decoders; `rm_docs` keeps each document's saved state
-- and its changes' receive times, `rm_cursor` the log position folded, committed with the rows.
CREATE TABLE rm_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
CREATE TABLE rm_docs (
    doc_id BYTEA PRIMARY KEY, kind INTEGER NOT NULL, state BYTEA NOT NULL, received BYTEA NOT NULL
);
CREATE TABLE rm_records (
    doc_id BYTEA PRIMARY KEY, kind INTEGER NOT NULL, area_key TEXT COLLATE "C" NOT NULL,
    deleted BOOLEAN NOT NULL, created_at BIGINT NOT NULL, record TEXT NOT NULL
);
CREATE INDEX rm_records_area ON rm_records (kind, area_key);
CREATE TABLE rm_households (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, head_name TEXT NOT NULL,
    address TEXT NOT NULL, tags TEXT NOT NULL, deleted BOOLEAN NOT NULL
);
CREATE TABLE rm_residents (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, household_id BYTEA NOT NULL,
    name TEXT NOT NULL, deleted BOOLEAN NOT NULL
);
CREATE TABLE rm_sensitive (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, resident_id BYTEA NOT NULL,
    household_id BYTEA NOT NULL, key_population TEXT, deleted BOOLEAN NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE rm_visits (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, household_id BYTEA NOT NULL,
    visitor TEXT NOT NULL, visited_at BIGINT NOT NULL, outcome TEXT NOT NULL,
    satisfaction BIGINT, knows_worker BOOLEAN, deleted BOOLEAN NOT NULL
);
CREATE INDEX rm_visits_household ON rm_visits (household_id, visited_at);
CREATE TABLE rm_patrols (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, worker TEXT NOT NULL,
    started_at BIGINT NOT NULL, ended_at BIGINT, points BIGINT NOT NULL,
    distance_m DOUBLE PRECISION NOT NULL, duration_s DOUBLE PRECISION NOT NULL, deleted BOOLEAN NOT NULL
);
CREATE TABLE rm_work_orders (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, category TEXT NOT NULL,
    severity TEXT NOT NULL, state TEXT NOT NULL, reported_at BIGINT NOT NULL,
    deadline_at BIGINT, closed_at BIGINT, closed_on_time BOOLEAN, is_open BOOLEAN NOT NULL,
    escalated BOOLEAN NOT NULL, departments TEXT NOT NULL, conflicts BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL
);
CREATE INDEX rm_work_orders_open ON rm_work_orders (is_open, area_key);
CREATE TABLE rm_tasks (
    doc_id BYTEA PRIMARY KEY, area_key TEXT COLLATE "C" NOT NULL, title TEXT NOT NULL, due_at BIGINT,
    completed_at BIGINT, deleted BOOLEAN NOT NULL
);
