//! Each casework table's columns and values, once: the single inserts and the bulk load use the
//! same declaration (see [`crate::table`]).

use crate::table::{Table, Value};
use linkwork_domain::casework::coding::CodedEvent;
use linkwork_domain::casework::{Appointment, Barrier, Contact, Episode, Goal, GoalReview, HoldingPeriod, Need};

impl Table for Episode {
    const TABLE: &'static str = "episodes";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "person_id",
        "referral_id",
        "team_id",
        "worker_id",
        "work",
        "opened_at",
        "follow_up_on",
        "closed_at",
        "discharge_reason",
        "discharge_note",
        "version",
    ];
    fn values(&self) -> Vec<Value> {
        let Episode {
            id,
            org_id,
            person_id,
            referral_id,
            team_id,
            worker_id,
            work,
            opened_at,
            follow_up_on,
            closed_at,
            discharge_reason,
            discharge_note,
            version,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(person_id.0),
            Value::uuid(referral_id.0),
            Value::uuid(team_id.0),
            Value::uuid(worker_id.map(|w| w.0)),
            Value::text(work.as_str()),
            Value::time(*opened_at),
            Value::date(*follow_up_on),
            Value::time(*closed_at),
            Value::opt_text(discharge_reason.map(|r| r.as_str())),
            Value::opt_text(discharge_note.as_deref()),
            Value::int(*version),
        ]
    }
}

impl Table for CodedEvent {
    const TABLE: &'static str = "coded_events";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "person_id",
        "referral_id",
        "episode_id",
        "contact_id",
        "code",
        "term",
        "recorded_at",
        "recorded_by",
    ];
    fn values(&self) -> Vec<Value> {
        let CodedEvent {
            id,
            org_id,
            person_id,
            referral_id,
            episode_id,
            contact_id,
            code,
            term,
            recorded_at,
            recorded_by,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(person_id.0),
            Value::uuid(referral_id.0),
            Value::uuid(episode_id.map(|e| e.0)),
            Value::uuid(contact_id.map(|c| c.0)),
            Value::text(code),
            Value::text(term),
            Value::time(*recorded_at),
            Value::uuid(recorded_by.map(|u| u.0)),
        ]
    }
}

impl Table for Need {
    const TABLE: &'static str = "needs";
    const COLUMNS: &'static [&'static str] =
        &["id", "org_id", "episode_id", "domain", "own_words", "recorded_at", "recorded_by"];
    fn values(&self) -> Vec<Value> {
        let Need { id, org_id, episode_id, domain, own_words, recorded_at, recorded_by } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::text(domain.as_str()),
            Value::text(own_words),
            Value::time(*recorded_at),
            Value::uuid(recorded_by.map(|u| u.0)),
        ]
    }
}

impl Table for Goal {
    const TABLE: &'static str = "goals";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "episode_id",
        "domain",
        "own_words",
        "steps",
        "status",
        "progress",
        "created_at",
        "updated_at",
        "version",
    ];
    fn values(&self) -> Vec<Value> {
        let Goal {
            id,
            org_id,
            episode_id,
            domain,
            own_words,
            steps,
            status,
            progress,
            created_at,
            updated_at,
            version,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::text(domain.as_str()),
            Value::text(own_words),
            Value::text(steps),
            Value::text(status.as_str()),
            Value::int(*progress),
            Value::time(*created_at),
            Value::time(*updated_at),
            Value::int(*version),
        ]
    }
}

impl Table for GoalReview {
    const TABLE: &'static str = "goal_reviews";
    const COLUMNS: &'static [&'static str] = &["goal_id", "org_id", "status", "progress", "note", "at", "by_user"];
    fn values(&self) -> Vec<Value> {
        let GoalReview { goal_id, org_id, status, progress, note, at, by } = self;
        vec![
            Value::uuid(goal_id.0),
            Value::uuid(org_id.0),
            Value::text(status.as_str()),
            Value::int(*progress),
            Value::text(note),
            Value::time(*at),
            Value::uuid(by.map(|u| u.0)),
        ]
    }
}

impl Table for Contact {
    const TABLE: &'static str = "contacts";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "episode_id",
        "worker_id",
        "happened_on",
        "happened_at",
        "minutes",
        "mode",
        "location",
        "present",
        "notes",
        "outside_usual",
        "created_at",
    ];
    fn values(&self) -> Vec<Value> {
        let Contact {
            id,
            org_id,
            episode_id,
            worker_id,
            happened_on,
            happened_at,
            minutes,
            mode,
            location,
            present,
            notes,
            outside_usual,
            created_at,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::uuid(worker_id.map(|u| u.0)),
            Value::date(*happened_on),
            Value::time(*happened_at),
            Value::int(*minutes),
            Value::text(mode.as_str()),
            Value::text(location.as_str()),
            Value::text(present),
            Value::text(notes),
            Value::bool(*outside_usual),
            Value::time(*created_at),
        ]
    }
}

impl Table for HoldingPeriod {
    const TABLE: &'static str = "holding_periods";
    const COLUMNS: &'static [&'static str] =
        &["id", "org_id", "episode_id", "reason", "started_on", "review_on", "ended_on", "ended_how", "note"];
    fn values(&self) -> Vec<Value> {
        let HoldingPeriod { id, org_id, episode_id, reason, started_on, review_on, ended_on, ended_how, note } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::text(reason.as_str()),
            Value::date(*started_on),
            Value::date(*review_on),
            Value::date(*ended_on),
            Value::opt_text(ended_how.map(|h| h.as_str())),
            Value::text(note),
        ]
    }
}

impl Table for Appointment {
    const TABLE: &'static str = "appointments";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "episode_id",
        "person_id",
        "worker_id",
        "starts_at",
        "minutes",
        "mode",
        "location",
        "status",
        "remind",
        "created_at",
    ];
    fn values(&self) -> Vec<Value> {
        let Appointment {
            id,
            org_id,
            episode_id,
            person_id,
            worker_id,
            starts_at,
            minutes,
            mode,
            location,
            status,
            remind,
            created_at,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::uuid(person_id.0),
            Value::uuid(worker_id.map(|u| u.0)),
            Value::time(*starts_at),
            Value::int(*minutes),
            Value::text(mode.as_str()),
            Value::text(location.as_str()),
            Value::text(status.as_str()),
            Value::bool(*remind),
            Value::time(*created_at),
        ]
    }
}

impl Table for Barrier {
    const TABLE: &'static str = "barriers";
    const COLUMNS: &'static [&'static str] = &["id", "org_id", "episode_id", "kind", "code", "note", "recorded_at"];
    fn values(&self) -> Vec<Value> {
        let Barrier { id, org_id, episode_id, kind, code, note, recorded_at } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::text(kind.as_str()),
            Value::text(code.as_str()),
            Value::text(note),
            Value::time(*recorded_at),
        ]
    }
}
