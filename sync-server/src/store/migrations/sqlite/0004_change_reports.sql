-- Migration 4, SQLite: changes devices could not apply and set aside, as they report them
-- (`POST /v1/held`), and the sync admin's withholding of a logged change (`docs/sync-protocol.md`,
-- "Held changes"). A withheld change stays in the log but no pull, fetch or digest serves it.
CREATE TABLE change_reports (
    hash BLOB NOT NULL,
    device_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (hash, device_id)
);
ALTER TABLE changes ADD COLUMN withheld INTEGER NOT NULL DEFAULT 0;
