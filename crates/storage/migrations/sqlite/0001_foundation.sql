-- linkwork foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql:
-- the schema-parity test compares the two.
-- STRICT tables: ids are 16-byte BLOB uuids, timestamps RFC 3339 TEXT, booleans INTEGER 0/1.

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('icb', 'pcn', 'practice', 'vcse')),
    ods_code    TEXT UNIQUE,
    parent_id   BLOB REFERENCES organisations (id),
    created_at  TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX organisations_name ON organisations (name);

CREATE TABLE teams (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    org_id        BLOB NOT NULL REFERENCES organisations (id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    is_demo       INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id  BLOB NOT NULL REFERENCES users (id),
    org_id   BLOB NOT NULL REFERENCES organisations (id),
    role     TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id, role)
) STRICT;

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     BLOB REFERENCES users (id),
    data        TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Person-identifiable tables carry their tenant (org_id) and every query filters by it.
CREATE TABLE people (
    id             BLOB PRIMARY KEY NOT NULL,
    org_id         BLOB NOT NULL REFERENCES organisations (id),
    nhs_number     TEXT,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    date_of_birth  TEXT NOT NULL,
    postcode       TEXT,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX people_org_nhs ON people (org_id, nhs_number);
CREATE INDEX people_org_name ON people (org_id, family_name, given_name);

CREATE TABLE referrals (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    person_id    BLOB NOT NULL REFERENCES people (id),
    team_id      BLOB REFERENCES teams (id),
    source       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    received_at  TEXT NOT NULL
) STRICT;
CREATE INDEX referrals_org_received ON referrals (org_id, received_at);
CREATE INDEX referrals_person ON referrals (org_id, person_id);

CREATE TABLE services (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL,
    url          TEXT,
    email        TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX services_org ON services (org_id);

CREATE TABLE jobs (
    id            BLOB PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued',
    run_at        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    locked_by     TEXT,
    locked_until  TEXT,
    last_error    TEXT,
    dedupe_key    TEXT UNIQUE,
    created_at    TEXT NOT NULL,
    finished_at   TEXT
) STRICT;
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE outbox (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB REFERENCES organisations (id),
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
) STRICT;
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE idempotency_keys (
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;
