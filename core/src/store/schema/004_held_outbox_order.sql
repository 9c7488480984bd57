-- Schema 4: changes held back until they can be applied, and the outbox in causal order.

-- The order in which this device made its own changes: the outbox is sent in this order, so a
-- record's creation always reaches the server before its edits (a peer can only apply a change
-- once it has the changes it depends on). Rows written before schema 4 are numbered by the
-- migration from each change's Automerge sequence number (store/open.rs).
ALTER TABLE change ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
DROP INDEX change_outbox;
CREATE INDEX change_outbox ON change(ord) WHERE outbox <> 0;

-- Changes received but not (yet) part of their document. `reason` is `missing_deps` for a change
-- that arrived before a change it depends on (applied as soon as that one arrives; the sync
-- client fetches the document's history for those left after a pull), or the code of why it can
-- never be applied (`corrupt_change`, `kind_mismatch`, `apply_failed`): such a change costs its
-- own document nothing and the device nothing — it is kept here, counted in the sync status.
-- A document never loads these rows, so loading never fails because of them.
CREATE TABLE held_change (
    hash     BLOB PRIMARY KEY,
    doc_id   BLOB NOT NULL,
    kind     INTEGER NOT NULL,
    area     TEXT NOT NULL,
    bytes    BLOB NOT NULL,
    reason   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    held_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX held_change_doc ON held_change(doc_id, reason);
