-- (SQLite)
-- The community directory on Open Referral UK and connections to it (issue 5). Keep in step
-- with the other backend's 0008_directory.sql: the schema-parity test compares the two.

-- Open Referral UK organisations. Those that existed as VCSE tenants keep their id and manage
-- their own listings (owner_org_id); imported ones are unclaimed until a claim is approved.
CREATE TABLE directory_organizations (
    id            BLOB PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    document      TEXT NOT NULL DEFAULT '{}',
    owner_org_id  BLOB REFERENCES organisations (id),
    modified_at   TEXT NOT NULL
) STRICT;
INSERT INTO directory_organizations (id, name, description, owner_org_id, modified_at)
    SELECT id, name, '', id, created_at FROM organisations WHERE kind = 'vcse';
CREATE INDEX directory_organizations_owner ON directory_organizations (owner_org_id);

-- services grows from the foundation's minimal table into the Open Referral UK listing: rebuilt
-- (SQLite cannot drop a column's NOT NULL), its rows kept.
ALTER TABLE services RENAME TO services_0007;
DROP INDEX services_org;
CREATE TABLE services (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES directory_organizations (id),
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    status           TEXT NOT NULL,
    url              TEXT,
    email            TEXT,
    minimum_age      REAL,
    maximum_age      REAL,
    free             INTEGER NOT NULL DEFAULT 0,
    in_person        INTEGER NOT NULL DEFAULT 0,
    online           INTEGER NOT NULL DEFAULT 0,
    phone            INTEGER NOT NULL DEFAULT 0,
    languages        TEXT NOT NULL DEFAULT '',
    accessibility    TEXT NOT NULL DEFAULT '',
    capacity         TEXT NOT NULL DEFAULT 'accepting',
    source           TEXT NOT NULL DEFAULT 'linkwork',
    last_modified    TEXT NOT NULL,
    verified_at      TEXT,
    verified_by      TEXT,
    review_months    INTEGER NOT NULL DEFAULT 6,
    review_reminded_at TEXT,
    created_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO services (id, organization_id, name, description, status, url, email, last_modified, created_at)
    SELECT id, org_id, name, description, status, url, email, created_at, created_at FROM services_0007;
DROP TABLE services_0007;
CREATE INDEX services_organization ON services (organization_id);
-- Each service's Open Referral UK document, apart: searches scan and sort services' narrow rows,
-- and only the page shown reads documents.
CREATE TABLE service_documents (
    service_id  BLOB PRIMARY KEY NOT NULL REFERENCES services (id),
    document    TEXT NOT NULL
) STRICT;
CREATE INDEX services_modified ON services (last_modified);
CREATE INDEX services_name ON services (name);

CREATE TABLE taxonomies (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    uri          TEXT,
    version      TEXT
) STRICT;

-- Terms may name a parent or taxonomy the feed does not carry: no foreign keys on those.
CREATE TABLE taxonomy_terms (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    parent_id    BLOB,
    taxonomy     TEXT,
    taxonomy_id  BLOB,
    term_uri     TEXT,
    term         TEXT,
    code         TEXT
) STRICT;
CREATE INDEX taxonomy_terms_taxonomy ON taxonomy_terms (taxonomy_id, name);

CREATE TABLE service_terms (
    service_id  BLOB NOT NULL REFERENCES services (id),
    term_id     BLOB NOT NULL REFERENCES taxonomy_terms (id),
    PRIMARY KEY (service_id, term_id)
) STRICT;
CREATE INDEX service_terms_term ON service_terms (term_id, service_id);

-- Search words: an inverted index both databases query the same way (prefix ranges on word).
CREATE TABLE service_words (
    word        TEXT NOT NULL,
    service_id  BLOB NOT NULL REFERENCES services (id),
    weight      INTEGER NOT NULL,
    PRIMARY KEY (word, service_id)
) STRICT;
CREATE INDEX service_words_service ON service_words (service_id);

CREATE TABLE service_at_locations (
    id           BLOB PRIMARY KEY NOT NULL,
    service_id   BLOB NOT NULL REFERENCES services (id),
    location_id  BLOB NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    postcode     TEXT,
    latitude     REAL,
    longitude    REAL,
    document     TEXT NOT NULL
) STRICT;
CREATE INDEX service_at_locations_service ON service_at_locations (service_id);
CREATE INDEX service_at_locations_point ON service_at_locations (latitude, longitude);

-- Opening slots for the day-and-time filter: day 0 is Monday, times in minutes.
CREATE TABLE service_hours (
    service_id  BLOB NOT NULL REFERENCES services (id),
    day         INTEGER NOT NULL CHECK (day BETWEEN 0 AND 6),
    opens       INTEGER NOT NULL,
    closes      INTEGER NOT NULL
) STRICT;
CREATE INDEX service_hours_service ON service_hours (service_id, day);
CREATE INDEX service_hours_day ON service_hours (day, opens);

CREATE TABLE service_changes (
    id          BLOB PRIMARY KEY NOT NULL,
    service_id  BLOB NOT NULL REFERENCES services (id),
    changed_at  TEXT NOT NULL,
    changed_by  BLOB REFERENCES users (id),
    who         TEXT NOT NULL,
    what        TEXT NOT NULL
) STRICT;
CREATE INDEX service_changes_service ON service_changes (service_id, changed_at);

CREATE TABLE service_reports (
    id           BLOB PRIMARY KEY NOT NULL,
    service_id   BLOB NOT NULL REFERENCES services (id),
    kind         TEXT NOT NULL,
    details      TEXT NOT NULL,
    reporter     TEXT,
    reported_at  TEXT NOT NULL,
    resolved_at  TEXT,
    resolved_by  BLOB REFERENCES users (id),
    resolution   TEXT
) STRICT;
CREATE INDEX service_reports_open ON service_reports (resolved_at, reported_at);
CREATE INDEX service_reports_service ON service_reports (service_id);

CREATE TABLE directory_claims (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES directory_organizations (id),
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL,
    evidence         TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    decided_at       TEXT,
    decided_by       BLOB REFERENCES users (id),
    approved         INTEGER
) STRICT;

CREATE TABLE postcodes (
    postcode   TEXT PRIMARY KEY NOT NULL,
    outward    TEXT NOT NULL,
    latitude   REAL NOT NULL,
    longitude  REAL NOT NULL,
    lsoa       TEXT
) STRICT;
CREATE INDEX postcodes_outward ON postcodes (outward);

CREATE TABLE deprivation (
    lsoa    TEXT PRIMARY KEY NOT NULL,
    decile  INTEGER NOT NULL CHECK (decile BETWEEN 1 AND 10)
) STRICT;

CREATE TABLE directory_feeds (
    url          TEXT PRIMARY KEY NOT NULL,
    synced_at    TEXT,
    last_result  TEXT NOT NULL DEFAULT ''
) STRICT;

-- Signposts and referrals out. The shared column is all the receiving service ever sees.
CREATE TABLE connections (
    id             BLOB PRIMARY KEY NOT NULL,
    org_id         BLOB NOT NULL REFERENCES organisations (id),
    person_id      BLOB NOT NULL REFERENCES people (id),
    episode_id     BLOB REFERENCES episodes (id),
    service_id     BLOB NOT NULL REFERENCES services (id),
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    need           TEXT NOT NULL,
    shared         TEXT NOT NULL,
    consent_at     TEXT,
    created_by     BLOB NOT NULL REFERENCES users (id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    answered_at    TEXT,
    reminded_at    TEXT,
    unanswered_at  TEXT,
    reason         TEXT,
    version        INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX connections_person ON connections (org_id, person_id);
CREATE INDEX connections_service ON connections (service_id, created_at);
CREATE INDEX connections_waiting ON connections (status, created_at);

CREATE TABLE connection_events (
    id             BLOB PRIMARY KEY NOT NULL,
    connection_id  BLOB NOT NULL REFERENCES connections (id),
    status         TEXT NOT NULL,
    reason         TEXT,
    note           TEXT NOT NULL DEFAULT '',
    at             TEXT NOT NULL,
    by_user        BLOB NOT NULL REFERENCES users (id),
    by_name        TEXT NOT NULL
) STRICT;
CREATE INDEX connection_events_connection ON connection_events (connection_id, at);

CREATE TABLE unmet_needs (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    person_id    BLOB NOT NULL REFERENCES people (id),
    need         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    service_id   BLOB REFERENCES services (id),
    note         TEXT NOT NULL DEFAULT '',
    recorded_at  TEXT NOT NULL,
    recorded_by  BLOB NOT NULL REFERENCES users (id)
) STRICT;
CREATE INDEX unmet_needs_org ON unmet_needs (org_id, recorded_at);
