-- linkwork foundation schema (PostgreSQL). Keep in step with ../sqlite/0001_foundation.sql:
-- the schema-parity test compares the two.

CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('icb', 'pcn', 'practice', 'vcse')),
    ods_code    TEXT UNIQUE,
    parent_id   UUID REFERENCES organisations (id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX organisations_name ON organisations (name);

CREATE TABLE teams (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organisations (id),
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES organisations (id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    is_demo       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_roles (
    user_id  UUID NOT NULL REFERENCES users (id),
    org_id   UUID NOT NULL REFERENCES organisations (id),
    role     TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id, role)
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     UUID REFERENCES users (id),
    data        TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE people (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organisations (id),
    nhs_number     TEXT,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    date_of_birth  DATE NOT NULL,
    postcode       TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX people_org_nhs ON people (org_id, nhs_number);
CREATE INDEX people_org_name ON people (org_id, family_name, given_name);

CREATE TABLE referrals (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organisations (id),
    person_id    UUID NOT NULL REFERENCES people (id),
    team_id      UUID REFERENCES teams (id),
    source       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX referrals_org_received ON referrals (org_id, received_at);
CREATE INDEX referrals_person ON referrals (org_id, person_id);

CREATE TABLE services (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organisations (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL,
    url          TEXT,
    email        TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX services_org ON services (org_id);

CREATE TABLE jobs (
    id            UUID PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued',
    run_at        TIMESTAMPTZ NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    locked_by     TEXT,
    locked_until  TIMESTAMPTZ,
    last_error    TEXT,
    dedupe_key    TEXT UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE outbox (
    id          UUID PRIMARY KEY,
    org_id      UUID REFERENCES organisations (id),
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE idempotency_keys (
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    UUID NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
