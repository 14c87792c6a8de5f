-- (PostgreSQL) Agencies refer too (issue 12 item 10): social services, housing, the police,
-- schools. Keep in step with the other backend's 0011_agencies.sql.
ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check
    CHECK (kind IN ('icb', 'pcn', 'practice', 'vcse', 'agency'));
