-- Migration 6, SQLite: named staff accounts (issue 10, item 3; `docs/architecture.md`, "Staff
-- accounts"). A person of `users` may have a web login beside their devices: a unique login
-- name, an argon2id PHC string, and the lockout counters. Browser sessions are kept by the
-- SHA-256 of their cookie token only, with the CSRF token bound to them. The audit log names
-- the person who acted (`actor_id`) beside the person concerned (`user_id`).
ALTER TABLE users ADD COLUMN login TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
CREATE UNIQUE INDEX users_login ON users (login);
CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
ALTER TABLE audit_log ADD COLUMN actor_id TEXT;
