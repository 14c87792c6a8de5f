-- One-time links for invitations and password resets (PostgreSQL). Keep in step with
-- ../sqlite/0005_account_tokens.sql. Only a SHA-256 hash of each token is stored.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, created_at);
