-- Team membership (SQLite). Keep in step with ../postgres/0006_team_members.sql.
-- A link worker's legitimate relationship with a person comes through their team's caseload.
CREATE TABLE team_members (
    team_id  BLOB NOT NULL REFERENCES teams (id),
    user_id  BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
) STRICT;
CREATE INDEX team_members_user ON team_members (user_id);
