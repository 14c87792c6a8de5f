-- The audit trail (PostgreSQL). Keep in step with ../sqlite/0002_audit.sql.
-- Append-only: a trigger refuses UPDATE and DELETE. seq is assigned by linkwork under an advisory
-- lock (last + 1), so the hash chain is contiguous even with several instances.

CREATE TABLE audit_events (
    seq            BIGINT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  UUID,
    actor          TEXT NOT NULL,
    roles          TEXT NOT NULL,
    org_id         UUID,
    action         TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    record_id      TEXT,
    person_id      UUID,
    source         TEXT,
    reason         TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);
CREATE INDEX audit_events_person ON audit_events (person_id, at);
CREATE INDEX audit_events_actor ON audit_events (actor, at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
