-- Team membership (PostgreSQL). Keep in step with ../sqlite/0006_team_members.sql.
-- A link worker's legitimate relationship with a person comes through their team's caseload.
CREATE TABLE team_members (
    team_id  UUID NOT NULL REFERENCES teams (id),
    user_id  UUID NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
