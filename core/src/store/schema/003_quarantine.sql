-- Changes the server refused for good (see sync/quarantine.rs). Their `change.outbox` is 2: kept
-- as part of their document on this device, no longer sent. A document with a quarantined change
-- sends nothing more until released: its later changes depend on the refused one.
CREATE TABLE sync_quarantine (
    hash     BLOB PRIMARY KEY,
    doc_id   BLOB NOT NULL,
    code     TEXT NOT NULL,
    message  TEXT NOT NULL,
    at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sync_quarantine_doc ON sync_quarantine(doc_id);
