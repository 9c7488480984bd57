-- Migration 2, PostgreSQL: the columns servers added to existing databases before numbered
-- migrations (with `ADD COLUMN IF NOT EXISTS` at every start). A database from before them gets
-- them here; one made by the baseline has them and is left as it is.
-- For a change that moved its record: the area key it moved from (its devices learn it left).
ALTER TABLE changes ADD COLUMN IF NOT EXISTS prev_area_key TEXT COLLATE "C";
-- The change's Automerge actor and sequence number, unique per document (changes stored before
-- these columns have none and are not checked).
ALTER TABLE changes ADD COLUMN IF NOT EXISTS actor BYTEA;
ALTER TABLE changes ADD COLUMN IF NOT EXISTS actor_seq BIGINT;
CREATE UNIQUE INDEX IF NOT EXISTS changes_actor_seq ON changes (doc_id, actor, actor_seq)
    WHERE actor IS NOT NULL;
-- The operation that wrote a record's `area_key` (see `store::AreaWrite`); NULL when not known.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS area_op BYTEA;
