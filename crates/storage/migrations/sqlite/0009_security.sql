-- (SQLite)
-- Security fixes (issue 11). Keep in step with the other backend's 0009_security.sql: the
-- schema-parity test compares the two.

-- A user's session generation: every session carries the generation it was signed in under,
-- and revoking a user's sessions (sign out everywhere, a new password, a two-factor reset,
-- disabling) moves it on, so a session saved again by a request in flight stays revoked.
ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0;

-- The tenant whose directory staff look after a directory organisation (problem reports,
-- claims, editing its listings). Staff of the steward, or of an organisation above it, act on
-- it; nobody else. Organisations already managed by a VCSE tenant are stewarded by that
-- tenant's parent (its ICB); imported ones by whoever the import names.
ALTER TABLE directory_organizations ADD COLUMN steward_org_id BLOB REFERENCES organisations (id);
UPDATE directory_organizations
   SET steward_org_id = (SELECT o.parent_id FROM organisations o WHERE o.id = directory_organizations.owner_org_id)
 WHERE owner_org_id IS NOT NULL;
CREATE INDEX directory_organizations_steward ON directory_organizations (steward_org_id);

-- A create retried with its idempotency key checks that its audit event was written (a crash
-- between the commit and the audit write would otherwise leave it unaudited for good).
CREATE INDEX audit_events_record ON audit_events (record_type, record_id);
