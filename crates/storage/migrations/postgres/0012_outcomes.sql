-- (PostgreSQL)
-- Outcome measures (issue 14). Keep in step with the other backend's 0012_outcomes.sql: the
-- schema-parity test compares the two.

-- Which measures a team uses and when reviews fall due (comma-separated instrument codes).
ALTER TABLE team_settings ADD COLUMN outcome_instruments TEXT NOT NULL DEFAULT 'ons4,ucla3';
ALTER TABLE team_settings ADD COLUMN outcome_review_weeks INTEGER NOT NULL DEFAULT 12;

-- One administration of an instrument: completed, declined or not able to complete; answered
-- with the worker, from a secure link, or an imported total with its source. Scores are not
-- stored: they are recomputed from the answers by the instrument's version.
CREATE TABLE outcome_records (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES organisations (id),
    person_id     UUID NOT NULL REFERENCES people (id),
    episode_id    UUID NOT NULL REFERENCES episodes (id),
    instrument    TEXT NOT NULL,
    version       TEXT NOT NULL,
    point         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('completed', 'declined', 'not_able')),
    via           TEXT NOT NULL CHECK (via IN ('with_worker', 'link', 'imported')),
    source        TEXT,
    total         DOUBLE PRECISION,
    language      TEXT,
    completed_on  DATE NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL,
    recorded_by   UUID REFERENCES users (id)
);
CREATE INDEX outcome_records_person ON outcome_records (org_id, person_id, completed_on);
CREATE INDEX outcome_records_episode ON outcome_records (episode_id, completed_on);
CREATE INDEX outcome_records_day ON outcome_records (org_id, completed_on);

-- The answers, item by item.
CREATE TABLE outcome_answers (
    record_id  UUID NOT NULL REFERENCES outcome_records (id),
    org_id     UUID NOT NULL REFERENCES organisations (id),
    item       TEXT NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (record_id, item)
);

-- Questionnaires sent to people to answer alone: only the tokens' hashes are kept; a link is
-- answered once (used_at, record_id) and expires.
CREATE TABLE outcome_links (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organisations (id),
    person_id      UUID NOT NULL REFERENCES people (id),
    episode_id     UUID NOT NULL REFERENCES episodes (id),
    instrument     TEXT NOT NULL,
    point          TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    reminder_hash  TEXT UNIQUE,
    channel        TEXT NOT NULL,
    language       TEXT NOT NULL,
    created_by     UUID NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    reminded_at    TIMESTAMPTZ,
    used_at        TIMESTAMPTZ,
    record_id      UUID REFERENCES outcome_records (id)
);
CREATE INDEX outcome_links_person ON outcome_links (org_id, person_id, created_at);
CREATE INDEX outcome_links_waiting ON outcome_links (created_at) WHERE used_at IS NULL AND reminded_at IS NULL;

-- Wording a deployer is licensed to use, per instrument and language (installation-wide: the
-- licence is the deployer's). The document is the wording file as loaded.
CREATE TABLE instrument_wordings (
    instrument  TEXT NOT NULL,
    language    TEXT NOT NULL,
    document    TEXT NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (instrument, language)
);
