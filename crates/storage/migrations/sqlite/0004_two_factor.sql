-- Two-factor sign-in (SQLite). Keep in step with ../postgres/0004_two_factor.sql.
ALTER TABLE organisations ADD COLUMN require_two_factor INTEGER NOT NULL DEFAULT 1;

-- The TOTP secret (base32). enabled_at is set once the user has proved their authenticator
-- works; last_step is the last 30-second step accepted, so a code is never accepted twice.
CREATE TABLE user_two_factor (
    user_id     BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    secret      TEXT NOT NULL,
    enabled_at  TEXT,
    last_step   INTEGER
) STRICT;

-- One-time recovery codes, stored as SHA-256 hashes.
CREATE TABLE user_recovery_codes (
    user_id    BLOB NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT;
