-- Schema 8: the alerts the signed-in user marked seen on this device (`Store::alerts`). Local
-- state, never synced: an alert's id names its kind and what raised it.
CREATE TABLE IF NOT EXISTS alert_seen (
    id      TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;
