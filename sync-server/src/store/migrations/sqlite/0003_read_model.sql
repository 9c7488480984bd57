-- Schema 3: the read model (DESIGN §8; sync-server/src/read_model/). Rows are derived from the
-- change log by the projector with the core's decoders; `rm_docs` keeps each document's saved state
-- and its changes' receive times, `rm_cursor` the log position folded, committed with the rows.
CREATE TABLE rm_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
CREATE TABLE rm_docs (
    doc_id BLOB PRIMARY KEY, kind INTEGER NOT NULL, state BLOB NOT NULL, received BLOB NOT NULL
);
CREATE TABLE rm_records (
    doc_id BLOB PRIMARY KEY, kind INTEGER NOT NULL, area_key TEXT NOT NULL,
    deleted INTEGER NOT NULL, created_at INTEGER NOT NULL, record TEXT NOT NULL
);
CREATE INDEX rm_records_area ON rm_records (kind, area_key);
CREATE TABLE rm_households (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, head_name TEXT NOT NULL,
    address TEXT NOT NULL, tags TEXT NOT NULL, deleted INTEGER NOT NULL
);
CREATE TABLE rm_residents (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, household_id BLOB NOT NULL,
    name TEXT NOT NULL, deleted INTEGER NOT NULL
);
CREATE TABLE rm_sensitive (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, resident_id BLOB NOT NULL,
    household_id BLOB NOT NULL, key_population TEXT, deleted INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE rm_visits (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, household_id BLOB NOT NULL,
    visitor TEXT NOT NULL, visited_at INTEGER NOT NULL, outcome TEXT NOT NULL,
    satisfaction INTEGER, knows_worker INTEGER, deleted INTEGER NOT NULL
);
CREATE INDEX rm_visits_household ON rm_visits (household_id, visited_at);
CREATE TABLE rm_patrols (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, worker TEXT NOT NULL,
    started_at INTEGER NOT NULL, ended_at INTEGER, points INTEGER NOT NULL,
    distance_m REAL NOT NULL, duration_s REAL NOT NULL, deleted INTEGER NOT NULL
);
CREATE TABLE rm_work_orders (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, category TEXT NOT NULL,
    severity TEXT NOT NULL, state TEXT NOT NULL, reported_at INTEGER NOT NULL,
    deadline_at INTEGER, closed_at INTEGER, closed_on_time INTEGER, is_open INTEGER NOT NULL,
    escalated INTEGER NOT NULL, departments TEXT NOT NULL, conflicts INTEGER NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX rm_work_orders_open ON rm_work_orders (is_open, area_key);
CREATE TABLE rm_tasks (
    doc_id BLOB PRIMARY KEY, area_key TEXT NOT NULL, title TEXT NOT NULL, due_at INTEGER,
    completed_at INTEGER, deleted INTEGER NOT NULL
);
