-- Schema 9 (issue 11): the district's reference record as this device knows it (categories,
-- deadline policy, tag intervals, departments), written by the `reference` kind's projection.
-- `data` is the decoded record as JSON; a record that does not decode keeps `data` NULL and the
-- reason in `error`, and the device uses the defaults. `tag_interval` (schema 1) stays the table
-- household due dates are computed from, rewritten from the record whenever it changes.
CREATE TABLE reference_data (
    id     BLOB PRIMARY KEY,
    area   TEXT NOT NULL,
    data   TEXT,
    error  TEXT,
    at     INTEGER NOT NULL
) WITHOUT ROWID;

-- What a work order's deadline is computed from, so that a changed deadline policy re-derives
-- every order's deadline without loading documents.
ALTER TABLE work_order ADD COLUMN clock_started_at INTEGER;
ALTER TABLE work_order ADD COLUMN extension_hours INTEGER NOT NULL DEFAULT 0;
