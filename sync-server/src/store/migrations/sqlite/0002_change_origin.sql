-- Migration 2, SQLite: what servers added to existing databases before numbered migrations.
-- SQLite has no `ADD COLUMN IF NOT EXISTS`: the columns `changes.prev_area_key`, `changes.actor`,
-- `changes.actor_seq` and `documents.area_op` are added where missing by this migration's
-- `prepare` step (`store::migrations::add_missing_columns`), in the same transaction, before
-- this file runs.
-- Changes stored before the actor columns have none and are not checked.
CREATE UNIQUE INDEX IF NOT EXISTS changes_actor_seq ON changes (doc_id, actor, actor_seq)
    WHERE actor IS NOT NULL;
