//! Rows of the casework tables as both backends return them, and each table's columns and
//! values for writing ([`Table`]), written once.

use crate::access::rows::corrupt;
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::StoreError;
use linkwork_domain::casework::coding::CodedEvent;
use linkwork_domain::casework::{Appointment, Contact, Episode, Goal};
use linkwork_domain::ports::StoreResult;
use uuid::Uuid;

pub(crate) const EPISODE_COLUMNS: &str = "SELECT id, org_id, person_id, referral_id, team_id, worker_id, work, opened_at, \
     follow_up_on, closed_at, discharge_reason, discharge_note, version FROM episodes";

#[derive(sqlx::FromRow)]
pub(crate) struct EpisodeRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub person_id: Uuid,
    pub referral_id: Uuid,
    pub team_id: Uuid,
    pub worker_id: Option<Uuid>,
    pub work: String,
    pub opened_at: DateTime<Utc>,
    pub follow_up_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub discharge_reason: Option<String>,
    pub discharge_note: Option<String>,
    pub version: i32,
}

impl TryFrom<EpisodeRow> for Episode {
    type Error = StoreError;
    fn try_from(r: EpisodeRow) -> StoreResult<Self> {
        Ok(Episode {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            referral_id: r.referral_id.into(),
            team_id: r.team_id.into(),
            worker_id: r.worker_id.map(Into::into),
            work: r.work.parse().map_err(|e| corrupt("episode work", e))?,
            opened_at: r.opened_at,
            follow_up_on: r.follow_up_on,
            closed_at: r.closed_at,
            discharge_reason: r
                .discharge_reason
                .map(|d| d.parse())
                .transpose()
                .map_err(|e| corrupt("discharge reason", e))?,
            discharge_note: r.discharge_note,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CaseloadRow {
    #[sqlx(flatten)]
    pub episode: EpisodeRow,
    pub given_name: String,
    pub family_name: String,
    pub nhs_number: Option<String>,
    pub safeguarding: Option<String>,
    pub lone_working: Option<String>,
    pub holding_since: Option<NaiveDate>,
    pub holding_review_on: Option<NaiveDate>,
    pub contacts: i64,
    pub last_contact: Option<NaiveDate>,
    pub first_contact: Option<NaiveDate>,
    pub new_answers: i64,
    pub next_appointment: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CodedRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub person_id: Uuid,
    pub referral_id: Uuid,
    pub episode_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub code: String,
    pub term: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
}

/// A code with the contact it came from, if any.
#[derive(sqlx::FromRow)]
pub(crate) struct CodedAtRow {
    #[sqlx(flatten)]
    pub coded: CodedRow,
    pub contact_on: Option<NaiveDate>,
    pub contact_at: Option<DateTime<Utc>>,
    pub contact_mode: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct NeedRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub domain: String,
    pub own_words: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct GoalRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub domain: String,
    pub own_words: String,
    pub steps: String,
    pub status: String,
    pub progress: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl TryFrom<GoalRow> for Goal {
    type Error = StoreError;
    fn try_from(r: GoalRow) -> StoreResult<Self> {
        Ok(Goal {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            domain: r.domain.parse().map_err(|e| corrupt("goal domain", e))?,
            own_words: r.own_words,
            steps: r.steps,
            status: r.status.parse().map_err(|e| corrupt("goal status", e))?,
            progress: r.progress,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReviewRow {
    pub goal_id: Uuid,
    pub org_id: Uuid,
    pub status: String,
    pub progress: i32,
    pub note: String,
    pub at: DateTime<Utc>,
    pub by_user: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub worker_id: Option<Uuid>,
    pub happened_on: NaiveDate,
    pub happened_at: Option<DateTime<Utc>>,
    pub minutes: i32,
    pub mode: String,
    pub location: String,
    pub present: String,
    pub notes: String,
    pub outside_usual: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> StoreResult<Self> {
        Ok(Contact {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            worker_id: r.worker_id.map(Into::into),
            happened_on: r.happened_on,
            happened_at: r.happened_at,
            minutes: r.minutes,
            mode: r.mode.parse().map_err(|e| corrupt("contact mode", e))?,
            location: r.location.parse().map_err(|e| corrupt("contact location", e))?,
            present: r.present,
            notes: r.notes,
            outside_usual: r.outside_usual,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HoldingRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub reason: String,
    pub started_on: NaiveDate,
    pub review_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub ended_how: Option<String>,
    pub note: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AppointmentRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub person_id: Uuid,
    pub worker_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub minutes: i32,
    pub mode: String,
    pub location: String,
    pub status: String,
    pub remind: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = StoreError;
    fn try_from(r: AppointmentRow) -> StoreResult<Self> {
        Ok(Appointment {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            person_id: r.person_id.into(),
            worker_id: r.worker_id.map(Into::into),
            starts_at: r.starts_at,
            minutes: r.minutes,
            mode: r.mode.parse().map_err(|e| corrupt("appointment mode", e))?,
            location: r.location.parse().map_err(|e| corrupt("appointment location", e))?,
            status: r.status.parse().map_err(|e| corrupt("appointment status", e))?,
            remind: r.remind,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct BarrierRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub episode_id: Uuid,
    pub kind: String,
    pub code: String,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SettingsRow {
    pub team_id: Uuid,
    pub org_id: Uuid,
    pub accepted_needs: String,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub areas: String,
    pub exclusions: String,
    pub default_minutes: i32,
    pub default_mode: String,
    pub default_location: String,
    pub usual_contacts: i32,
    pub allowed_locations: String,
    pub follow_up_days: i32,
    pub outcome_instruments: String,
    pub outcome_review_weeks: i32,
    pub version: i32,
}

pub(crate) fn coded(r: CodedRow) -> CodedEvent {
    CodedEvent {
        id: r.id.into(),
        org_id: r.org_id.into(),
        person_id: r.person_id.into(),
        referral_id: r.referral_id.into(),
        episode_id: r.episode_id.map(Into::into),
        contact_id: r.contact_id.map(Into::into),
        code: r.code,
        term: r.term,
        recorded_at: r.recorded_at,
        recorded_by: r.recorded_by.map(Into::into),
    }
}

pub(crate) fn split_words(s: &str) -> Vec<String> {
    s.split('\n').map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}
