-- Schema 7: whether a held change that can never be applied was reported to the server
-- (`POST /v1/held`), so that each is reported once (the sync client sends the unreported ones
-- after a sync; `Store::unreported_held`, `Store::mark_held_reported`).
ALTER TABLE held_change ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
