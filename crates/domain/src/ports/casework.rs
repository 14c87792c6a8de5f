//! Episodes and what happens in them.

use super::StoreResult;
use crate::casework::coding::{CodedContact, CodedEvent};
use crate::casework::message_back::{Reopening, SentMessageBack};
use crate::casework::{
    Appointment, AppointmentStatus, Barrier, CaseloadItem, Contact, DischargeReason, Episode, Goal, GoalReview,
    HoldingEnd, HoldingPeriod, Need, TeamSettings,
};
use crate::ids::{AppointmentId, EpisodeId, GoalId, HoldingId};
use crate::ids::{OrgId, PersonId, TeamId, UserId};
use crate::jobs::NewJob;
use crate::people::Person;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};

/// Discharge an episode: close it, end any holding, in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discharge {
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    /// The version the worker saw.
    pub version: i32,
    pub reason: DischargeReason,
    pub note: String,
    pub at: DateTime<Utc>,
    /// The message back as it is sent, stored with the discharge (one transaction).
    pub message_back: SentMessageBack,
}

/// Casework written in bulk (demo data, migrations from other systems), in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseworkBatch {
    pub episodes: Vec<Episode>,
    /// Message backs as sent, for episodes discharged before the batch (after the episodes).
    pub message_backs: Vec<SentMessageBack>,
    pub codes: Vec<CodedEvent>,
    pub needs: Vec<Need>,
    pub goals: Vec<Goal>,
    pub contacts: Vec<Contact>,
    pub holdings: Vec<HoldingPeriod>,
    pub appointments: Vec<Appointment>,
}

/// Episodes: opening and closing them, the caseload, their codes, the team settings that guide
/// them, and casework written in bulk. Every call names the tenant; an episode's work carries a
/// `version`.
#[async_trait::async_trait]
pub trait EpisodeStore: Send + Sync {
    async fn coded_events(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<CodedEvent>>;
    /// A tenant's codes recorded in `[from, to)`, oldest first, with their people and the
    /// contact each came from: for the GP record.
    async fn coded_events_between(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(CodedEvent, Person, Option<CodedContact>)>>;

    async fn get_episode(&self, org: OrgId, id: EpisodeId) -> StoreResult<Episode>;
    /// A person's episodes, newest first.
    async fn person_episodes(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Episode>>;
    /// Save an episode's work and follow-up; `episode.version` is the version edited.
    async fn update_episode(&self, episode: &Episode) -> StoreResult<Episode>;
    /// Close the episode and keep its message back as sent; a stale version, or an episode
    /// already closed, is `Conflict::Version`.
    async fn discharge(&self, d: &Discharge) -> StoreResult<()>;
    /// Every version of the episode's message back, oldest first.
    async fn message_backs(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<SentMessageBack>>;
    /// Open a discharged episode again and keep why. `Conflict::Version` when it changed or is
    /// not closed; `Conflict::AnotherEpisodeOpen` when the person has an open episode already.
    async fn reopen(&self, r: &Reopening) -> StoreResult<()>;
    /// The times the episode was reopened, oldest first.
    async fn reopenings(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Reopening>>;
    /// Open episodes of `teams` (optionally one worker's), with the day's indicators.
    async fn caseload(
        &self,
        org: OrgId,
        teams: &[TeamId],
        worker: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseloadItem>>;

    /// Write a batch of casework in one transaction.
    async fn insert_casework(&self, batch: &CaseworkBatch) -> StoreResult<()>;

    /// A team's settings (the defaults if never saved).
    async fn team_settings(&self, org: OrgId, team: TeamId) -> StoreResult<TeamSettings>;
    /// Save settings; `settings.version` is the version edited.
    async fn save_team_settings(&self, settings: &TeamSettings) -> StoreResult<TeamSettings>;
}

/// What happens in an episode: needs, goals and their reviews, contacts, holding,
/// appointments and barriers. Every call names the tenant; a nested id is checked against its
/// episode.
#[async_trait::async_trait]
pub trait CaseworkStore: Send + Sync {
    async fn add_need(&self, need: &Need) -> StoreResult<()>;
    async fn needs(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Need>>;
    async fn add_goal(&self, goal: &Goal) -> StoreResult<()>;
    async fn get_goal(&self, org: OrgId, id: GoalId) -> StoreResult<Goal>;
    /// Record a review of a goal; `version` is the goal version the worker saw.
    async fn review_goal(&self, review: &GoalReview, version: i32) -> StoreResult<Goal>;
    async fn goals(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Goal>>;
    async fn goal_reviews(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<GoalReview>>;
    /// Record a contact and set the episode's next follow-up date.
    /// Save a contact, move the follow-up date if one is given, and record `codes` (the
    /// interaction's SNOMED codes) unless the episode already has them, in one transaction.
    async fn add_contact(
        &self,
        contact: &Contact,
        follow_up_on: Option<NaiveDate>,
        codes: &[CodedEvent],
    ) -> StoreResult<()>;
    async fn contacts(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Contact>>;
    /// A worker's contacts on or after `since`, for their practice profile.
    async fn worker_contacts(&self, org: OrgId, worker: UserId, since: NaiveDate) -> StoreResult<Vec<Contact>>;
    /// Start holding; the episode's work becomes holding (or both, if it was connecting).
    async fn start_holding(&self, holding: &HoldingPeriod) -> StoreResult<()>;
    /// End a holding period of `episode` (`NotFound` if it belongs to another episode, so a
    /// nested id in a path can never reach another person's record).
    async fn end_holding(
        &self,
        org: OrgId,
        episode: EpisodeId,
        id: HoldingId,
        on: NaiveDate,
        how: HoldingEnd,
    ) -> StoreResult<()>;
    async fn holdings(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<HoldingPeriod>>;
    /// Book an appointment, with its reminder job when there is one, in one transaction.
    async fn add_appointment(&self, appointment: &Appointment, reminder: Option<&NewJob>) -> StoreResult<()>;
    async fn get_appointment(&self, org: OrgId, id: AppointmentId) -> StoreResult<Appointment>;
    /// Set the status of an appointment of `episode` (`NotFound` if it belongs to another).
    async fn set_appointment_status(
        &self,
        org: OrgId,
        episode: EpisodeId,
        id: AppointmentId,
        status: AppointmentStatus,
    ) -> StoreResult<()>;
    async fn appointments(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Appointment>>;
    async fn add_barrier(&self, barrier: &Barrier) -> StoreResult<()>;
    async fn barriers(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Barrier>>;
}
