-- The audit trail (SQLite). Keep in step with ../postgres/0002_audit.sql.
-- Append-only: triggers refuse UPDATE and DELETE. seq is assigned by linkwork under the write
-- lock (last + 1), so the hash chain is contiguous.

CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY NOT NULL,
    at             TEXT NOT NULL,
    actor_user_id  BLOB,
    actor          TEXT NOT NULL,
    roles          TEXT NOT NULL,
    org_id         BLOB,
    action         TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    record_id      TEXT,
    person_id      BLOB,
    source         TEXT,
    reason         TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);
CREATE INDEX audit_events_person ON audit_events (person_id, at);
CREATE INDEX audit_events_actor ON audit_events (actor, at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
