-- no-transaction
-- (SQLite) Agencies refer too (issue 12 item 10): social services, housing, the police,
-- schools. Keep in step with the other backend's 0011_agencies.sql.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt, the documented way
-- (https://sqlite.org/lang_altertable.html#otheralter), with foreign keys off so the tables
-- that point at organisations keep their rows, all in one transaction, checked before commit.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE organisations_rebuilt (
    id                  BLOB PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('icb', 'pcn', 'practice', 'vcse', 'agency')),
    ods_code            TEXT UNIQUE,
    parent_id           BLOB REFERENCES organisations (id),
    created_at          TEXT NOT NULL,
    require_two_factor  INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO organisations_rebuilt (id, name, kind, ods_code, parent_id, created_at, require_two_factor)
    SELECT id, name, kind, ods_code, parent_id, created_at, require_two_factor FROM organisations;
DROP TABLE organisations;
ALTER TABLE organisations_rebuilt RENAME TO organisations;
CREATE UNIQUE INDEX organisations_name ON organisations (name);
CREATE INDEX organisations_parent ON organisations (parent_id);
COMMIT;
PRAGMA foreign_keys = ON;
