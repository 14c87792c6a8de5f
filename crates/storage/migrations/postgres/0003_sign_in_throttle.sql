-- Sign-in throttling (PostgreSQL). Keep in step with ../sqlite/0003_sign_in_throttle.sql.
-- One row per account (normalised email, existing or not) or client address.
CREATE TABLE sign_in_throttle (
    key                TEXT PRIMARY KEY,
    failures           INTEGER NOT NULL,
    window_started_at  TIMESTAMPTZ NOT NULL,
    locked_until       TIMESTAMPTZ
);
