-- (PostgreSQL)
-- What was sent stays as sent, and what happened says when (issue 12). Keep in step with the
-- other backend's 0010_records_kept.sql: the schema-parity test compares the two.

-- A contact's time of day, as the instant it was (UK local time when read). Contacts recorded
-- before this have their day only.
ALTER TABLE contacts ADD COLUMN happened_at TIMESTAMPTZ;

-- The contact a code came from: the referral code is recorded at the first interaction with
-- the person in the episode (their first contact), not at the team's acceptance.
ALTER TABLE coded_events ADD COLUMN contact_id UUID REFERENCES contacts (id);
UPDATE coded_events e
   SET contact_id = (SELECT c.id FROM contacts c WHERE c.episode_id = e.episode_id
                      ORDER BY c.happened_on, c.created_at LIMIT 1)
 WHERE episode_id IS NOT NULL AND code = '871731000000106';

-- The message back as sent: each version a frozen document (the PRSB sections as JSON), with
-- who sent it, when, and for a correction what changed.
CREATE TABLE message_backs (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organisations (id),
    episode_id   UUID NOT NULL REFERENCES episodes (id),
    version      INTEGER NOT NULL,
    document     TEXT NOT NULL,
    changes      TEXT,
    sent_at      TIMESTAMPTZ NOT NULL,
    sent_by      UUID REFERENCES users (id),
    UNIQUE (episode_id, version)
);

-- Reopening a discharged episode, kept: who, when and why.
CREATE TABLE episode_reopenings (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organisations (id),
    episode_id   UUID NOT NULL REFERENCES episodes (id),
    reason       TEXT NOT NULL,
    closed_at    TIMESTAMPTZ NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    by_user      UUID REFERENCES users (id)
);
CREATE INDEX episode_reopenings_episode ON episode_reopenings (episode_id, at);

-- Risk flags on a person, with their history: safeguarding, lone-working risk and other risks
-- to staff. Each row is one change (raised, changed or cleared); the newest per kind is the
-- flag as it stands, kept on people too (safeguarding, lone_working, staff_risk) for the banner
-- every page of the person carries.
ALTER TABLE people ADD COLUMN lone_working TEXT;
ALTER TABLE people ADD COLUMN staff_risk TEXT;
CREATE TABLE person_flags (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organisations (id),
    person_id   UUID NOT NULL REFERENCES people (id),
    kind        TEXT NOT NULL,
    action      TEXT NOT NULL,
    text        TEXT,
    at          TIMESTAMPTZ NOT NULL,
    by_user     UUID REFERENCES users (id)
);
CREATE INDEX person_flags_person ON person_flags (org_id, person_id, at);
-- The banner as it stood before history was kept becomes its first entry.
INSERT INTO person_flags (id, org_id, person_id, kind, action, text, at, by_user)
SELECT gen_random_uuid(), org_id, id, 'safeguarding', 'raised', safeguarding, created_at, NULL
  FROM people WHERE safeguarding IS NOT NULL;

-- A service's answer is news to the referring team until they read the person's record:
-- service_said_at is the last change made by the service, seen_at when the team last read it.
ALTER TABLE connections ADD COLUMN service_said_at TIMESTAMPTZ;
ALTER TABLE connections ADD COLUMN seen_at TIMESTAMPTZ;
UPDATE connections SET service_said_at = answered_at, seen_at = answered_at WHERE answered_at IS NOT NULL;
-- A link worker may ask to be emailed when a service answers one of their referrals.
ALTER TABLE users ADD COLUMN email_on_answer BOOLEAN NOT NULL DEFAULT FALSE;
