-- Migration 11, SQLite: the 12345 exchange across several server processes on one database,
-- and the daily reconciliation (issue 13, docs/12345-exchange.md).
-- A hotline order's inbound messages are handled under a lease on the order (one row per
-- order, taken by INSERT … ON CONFLICT DO UPDATE … WHERE the lease expired), not a process lock.
CREATE TABLE hotline_claims (
    platform TEXT NOT NULL,
    order_number TEXT NOT NULL,
    holder TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, order_number)
);
-- An outbox step being delivered is leased by one process until lease_until.
ALTER TABLE hotline_outbox ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE hotline_outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
-- Reconciliation runs (one per platform and schedule slot: the unique key makes one process
-- run it) and the mismatches each found.
CREATE TABLE hotline_reconciliations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    slot TEXT NOT NULL,
    run_by TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    compared INTEGER NOT NULL DEFAULT 0,
    mismatches INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, slot)
);
CREATE TABLE hotline_mismatches (
    run_id INTEGER NOT NULL REFERENCES hotline_reconciliations (id),
    platform TEXT NOT NULL,
    order_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    gridwork_state TEXT,
    platform_state TEXT,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, order_number)
);
