-- (SQLite)
-- The link worker's journey (issue 4): people's full details, referrals with triage, episodes and
-- their casework, team settings. Keep in step with ../postgres/0007_journey.sql: the
-- schema-parity test compares the two.

ALTER TABLE people ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN phone TEXT;
ALTER TABLE people ADD COLUMN email TEXT;
ALTER TABLE people ADD COLUMN contact_by TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE people ADD COLUMN language TEXT NOT NULL DEFAULT 'English';
ALTER TABLE people ADD COLUMN interpreter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN gender TEXT NOT NULL DEFAULT 'not_known';
ALTER TABLE people ADD COLUMN ethnicity TEXT NOT NULL DEFAULT 'Z';
ALTER TABLE people ADD COLUMN safeguarding TEXT;
ALTER TABLE people ADD COLUMN merged_into BLOB REFERENCES people (id);
ALTER TABLE people ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- The GP practice the person is registered with (within the tenant PCN).
ALTER TABLE people ADD COLUMN practice_id BLOB REFERENCES organisations (id);
CREATE INDEX people_org_born ON people (org_id, date_of_birth);
-- A PCN's practices (referral forms offer them).
CREATE INDEX organisations_parent ON organisations (parent_id);
-- Name search: a case-insensitive prefix is a range on these (see storage::casework::search_people).
CREATE INDEX people_org_family_lower ON people (org_id, lower(family_name));
CREATE INDEX people_org_given_lower ON people (org_id, lower(given_name));

ALTER TABLE referrals ADD COLUMN needs TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN urgency TEXT NOT NULL DEFAULT 'routine';
ALTER TABLE referrals ADD COLUMN consent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN tried TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN referred_by BLOB REFERENCES users (id);
ALTER TABLE referrals ADD COLUMN referrer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN decided_at TEXT;
ALTER TABLE referrals ADD COLUMN decided_by BLOB REFERENCES users (id);
ALTER TABLE referrals ADD COLUMN decision_reason TEXT;
ALTER TABLE referrals ADD COLUMN decision_note TEXT;
CREATE INDEX referrals_waiting ON referrals (org_id, status, received_at);
CREATE INDEX referrals_referred_by ON referrals (referred_by, received_at);

CREATE TABLE episodes (
    id                BLOB PRIMARY KEY NOT NULL,
    org_id            BLOB NOT NULL REFERENCES organisations (id),
    person_id         BLOB NOT NULL REFERENCES people (id),
    referral_id       BLOB NOT NULL UNIQUE REFERENCES referrals (id),
    team_id           BLOB NOT NULL REFERENCES teams (id),
    worker_id         BLOB REFERENCES users (id),
    work              TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    follow_up_on      TEXT,
    closed_at         TEXT,
    discharge_reason  TEXT,
    discharge_note    TEXT,
    version           INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX episodes_person ON episodes (org_id, person_id);
CREATE INDEX episodes_open ON episodes (org_id, team_id, closed_at);

-- SNOMED codes for the GP record. The referral code is recorded once per episode.
CREATE TABLE coded_events (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    person_id    BLOB NOT NULL REFERENCES people (id),
    referral_id  BLOB NOT NULL REFERENCES referrals (id),
    episode_id   BLOB REFERENCES episodes (id),
    code         TEXT NOT NULL,
    term         TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    recorded_by  BLOB REFERENCES users (id),
    UNIQUE (referral_id, code)
) STRICT;
CREATE UNIQUE INDEX coded_events_once_per_episode ON coded_events (episode_id, code) WHERE episode_id IS NOT NULL;
CREATE INDEX coded_events_person ON coded_events (org_id, person_id);

CREATE TABLE needs (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    episode_id   BLOB NOT NULL REFERENCES episodes (id),
    domain       TEXT NOT NULL,
    own_words    TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    recorded_by  BLOB REFERENCES users (id)
) STRICT;
CREATE INDEX needs_episode ON needs (episode_id);

CREATE TABLE goals (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    episode_id  BLOB NOT NULL REFERENCES episodes (id),
    domain      TEXT NOT NULL,
    own_words   TEXT NOT NULL,
    steps       TEXT NOT NULL,
    status      TEXT NOT NULL,
    progress    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX goals_episode ON goals (episode_id);

CREATE TABLE goal_reviews (
    goal_id   BLOB NOT NULL REFERENCES goals (id),
    org_id    BLOB NOT NULL REFERENCES organisations (id),
    status    TEXT NOT NULL,
    progress  INTEGER NOT NULL,
    note      TEXT NOT NULL,
    at        TEXT NOT NULL,
    by_user   BLOB REFERENCES users (id)
) STRICT;
CREATE INDEX goal_reviews_goal ON goal_reviews (goal_id, at);

CREATE TABLE contacts (
    id             BLOB PRIMARY KEY NOT NULL,
    org_id         BLOB NOT NULL REFERENCES organisations (id),
    episode_id     BLOB NOT NULL REFERENCES episodes (id),
    worker_id      BLOB REFERENCES users (id),
    happened_on    TEXT NOT NULL,
    minutes        INTEGER NOT NULL,
    mode           TEXT NOT NULL,
    location       TEXT NOT NULL,
    present        TEXT NOT NULL,
    notes          TEXT NOT NULL,
    outside_usual  INTEGER NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX contacts_episode ON contacts (episode_id, happened_on);
CREATE INDEX contacts_worker ON contacts (org_id, worker_id, happened_on);

CREATE TABLE holding_periods (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    episode_id  BLOB NOT NULL REFERENCES episodes (id),
    reason      TEXT NOT NULL,
    started_on  TEXT NOT NULL,
    review_on   TEXT NOT NULL,
    ended_on    TEXT,
    ended_how   TEXT,
    note        TEXT NOT NULL
) STRICT;
CREATE INDEX holding_periods_episode ON holding_periods (episode_id);

CREATE TABLE appointments (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organisations (id),
    episode_id  BLOB NOT NULL REFERENCES episodes (id),
    person_id   BLOB NOT NULL REFERENCES people (id),
    worker_id   BLOB REFERENCES users (id),
    starts_at   TEXT NOT NULL,
    minutes     INTEGER NOT NULL,
    mode        TEXT NOT NULL,
    location    TEXT NOT NULL,
    status      TEXT NOT NULL,
    remind      INTEGER NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX appointments_episode ON appointments (episode_id, starts_at);

CREATE TABLE barriers (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organisations (id),
    episode_id   BLOB NOT NULL REFERENCES episodes (id),
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    note         TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
) STRICT;
CREATE INDEX barriers_episode ON barriers (episode_id);

CREATE TABLE team_settings (
    team_id            BLOB PRIMARY KEY NOT NULL REFERENCES teams (id),
    org_id             BLOB NOT NULL REFERENCES organisations (id),
    accepted_needs     TEXT NOT NULL,
    min_age            INTEGER,
    max_age            INTEGER,
    areas              TEXT NOT NULL,
    exclusions         TEXT NOT NULL,
    default_minutes    INTEGER NOT NULL,
    default_mode       TEXT NOT NULL,
    default_location   TEXT NOT NULL,
    usual_contacts     INTEGER NOT NULL,
    allowed_locations  TEXT NOT NULL,
    follow_up_days     INTEGER NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1
) STRICT;

-- The people an audit event showed, for list views (caseload, waiting list, search results):
-- one event per list, still found by a subject access search for any of them. Append-only, as
-- the events are; the people are part of the event's hash, which `linkwork audit verify`
-- checks. No foreign key to audit_events: a key check per row cost every list view more than
-- the rest of its audit write (see docs/PERFORMANCE.md), and the hash already ties each row
-- to its event.
CREATE TABLE audit_event_people (
    seq        INTEGER NOT NULL,
    person_id  BLOB NOT NULL,
    PRIMARY KEY (seq, person_id)
) STRICT;
CREATE INDEX audit_event_people_person ON audit_event_people (person_id, seq);

CREATE TRIGGER audit_event_people_no_update BEFORE UPDATE ON audit_event_people
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_event_people_no_delete BEFORE DELETE ON audit_event_people
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
