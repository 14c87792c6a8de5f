-- One-time links for invitations and password resets (SQLite). Keep in step with
-- ../postgres/0005_account_tokens.sql. Only a SHA-256 hash of each token is stored.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) STRICT;
CREATE INDEX account_tokens_user ON account_tokens (user_id, created_at);
