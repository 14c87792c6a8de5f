-- Sign-in throttling (SQLite). Keep in step with ../postgres/0003_sign_in_throttle.sql.
-- One row per account (normalised email, existing or not) or client address.
CREATE TABLE sign_in_throttle (
    key                TEXT PRIMARY KEY NOT NULL,
    failures           INTEGER NOT NULL,
    window_started_at  TEXT NOT NULL,
    locked_until       TEXT
) STRICT;
