-- Two-factor sign-in (PostgreSQL). Keep in step with ../sqlite/0004_two_factor.sql.
ALTER TABLE organisations ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE user_two_factor (
    user_id     UUID PRIMARY KEY REFERENCES users (id),
    secret      TEXT NOT NULL,
    enabled_at  TIMESTAMPTZ,
    last_step   BIGINT
);

CREATE TABLE user_recovery_codes (
    user_id    UUID NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);
