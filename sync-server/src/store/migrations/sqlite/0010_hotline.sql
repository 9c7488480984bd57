-- Migration 10, SQLite: the 12345 hotline exchange (issue 13, docs/12345-exchange.md).
-- Platforms with their signing secret, delivery endpoint and mapping (JSON); the signatures seen
-- within the replay window; the hotline orders made into work orders; every inbound message
-- (idempotent by platform + order number + message id), with its status (applied, waiting for
-- its create, held for mapping, refused); and the durable outbox of steps going back up.
CREATE TABLE hotline_platforms (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE hotline_signatures (
    platform TEXT NOT NULL,
    signature TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (platform, signature)
);
CREATE INDEX hotline_signatures_seen ON hotline_signatures (seen_at);
CREATE TABLE hotline_orders (
    platform TEXT NOT NULL,
    order_number TEXT NOT NULL,
    doc_id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, order_number)
);
CREATE TABLE hotline_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    order_number TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    UNIQUE (platform, order_number, message_id)
);
CREATE INDEX hotline_messages_status ON hotline_messages (status, platform, order_number);
CREATE TABLE hotline_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    order_number TEXT NOT NULL,
    step_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (platform, step_id)
);
CREATE INDEX hotline_outbox_pending ON hotline_outbox (status, platform, order_number, id);
