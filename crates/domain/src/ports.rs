//! Storage ports: the narrow traits the web layer and the binary use to reach the database.
//! `linkwork-storage` implements them on SQLite and PostgreSQL; one contract suite tests both.
//!
//! Every method touching person-identifiable data takes the tenant `OrgId` and is scoped by it.

use crate::accounts::{AccountToken, RoleGrant, SessionRecord, TwoFactor, User};
use crate::audit::{AuditEntry, AuditEvent, AuditFilter};
use crate::casework::{
    Appointment, AppointmentStatus, Barrier, CaseloadItem, Contact, DischargeReason, Episode, Goal, GoalReview,
    HoldingEnd, HoldingPeriod, Need, TeamSettings,
};
use crate::coding::CodedEvent;
use crate::directory::{
    Claim, Connection, ConnectionEvent, DirectoryQuery, Hit, Listing, ListingChange, ProblemReport, Responsiveness,
    UnmetNeed,
};
use crate::ids::{AppointmentId, EpisodeId, GoalId, HoldingId, ReferralId};
use crate::ids::{ClaimId, ConnectionId, ReportId, ServiceId};
use crate::ids::{JobId, MessageId, OrgId, PersonId, TeamId, UserId};
use crate::jobs::{Job, JobCounts, NewJob};
use crate::notifications::{MessageStatus, OutboxMessage};
use crate::organisations::{Organisation, Team};
use crate::oruk;
use crate::people::Person;
use crate::referrals::Referral;
use crate::referrals::ReferralStatus;
use crate::throttle::ThrottleState;
use crate::values::NhsNumber;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};

/// A storage failure, in terms the callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names the rule (e.g. `users.email`).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The database could not be reached or failed; details are for the log only.
    #[error("database error: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The result of a create request that carried an `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created<T> {
    /// Created now.
    New(T),
    /// The same key was used before for the same request: this is what it created.
    Replayed(T),
}

/// An idempotency key scoped to whoever sent it, with a hash of the request it was used for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

#[async_trait::async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, org: &Organisation, idem: Option<&IdempotencyKey>)
    -> StoreResult<Created<Organisation>>;
    async fn get_org(&self, id: OrgId) -> StoreResult<Organisation>;
    /// Find by ODS code (case-insensitive) or else by exact name.
    async fn find_org(&self, ods_or_name: &str) -> StoreResult<Organisation>;
    async fn list_orgs(&self) -> StoreResult<Vec<Organisation>>;
    /// The organisations directly under `parent` (a PCN's practices), by name.
    async fn child_orgs(&self, parent: OrgId) -> StoreResult<Vec<Organisation>>;
    async fn create_team(&self, team: &Team) -> StoreResult<()>;
    async fn list_teams(&self, org: OrgId) -> StoreResult<Vec<Team>>;
    async fn add_team_member(&self, team: TeamId, user: UserId) -> StoreResult<()>;
    /// The teams a user belongs to.
    async fn user_teams(&self, user: UserId) -> StoreResult<Vec<TeamId>>;
}

#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// Create a user with their role grants.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    async fn find_user_by_email(&self, email: &str) -> StoreResult<User>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// The users whose home organisation is `org`.
    async fn list_org_users(&self, org: OrgId) -> StoreResult<Vec<User>>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()>;
    async fn add_role(&self, user: UserId, grant: RoleGrant) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a new session; `Ok(false)` if the id is taken (the caller picks another).
    async fn create_session(&self, s: &SessionRecord) -> StoreResult<bool>;
    /// Insert or replace.
    async fn save_session(&self, s: &SessionRecord) -> StoreResult<()>;
    /// A session that has not expired at `now`.
    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRecord>>;
    async fn delete_session(&self, id: &str) -> StoreResult<()>;
    /// Revoke every session of a user; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

/// People's records: person-identifiable, so every call names the tenant. A person's details
/// carry a `version`; a stale save fails with `Conflict("version")`.
#[async_trait::async_trait]
pub trait PeopleStore: Send + Sync {
    /// Insert many people in one transaction (imports and demo data).
    async fn insert_people(&self, people: &[Person]) -> StoreResult<()>;
    async fn get_person(&self, org: OrgId, id: PersonId) -> StoreResult<Person>;
    async fn count_people(&self, org: OrgId) -> StoreResult<i64>;
    /// Save a person's details; `person.version` is the version edited. Returns the new version.
    async fn update_person(&self, person: &Person) -> StoreResult<Person>;
    async fn set_safeguarding(&self, org: OrgId, person: PersonId, concern: Option<String>) -> StoreResult<()>;
    /// People (not merged away) with this NHS number or born on this day: duplicate candidates.
    async fn duplicate_candidates(
        &self,
        org: OrgId,
        nhs: Option<&NhsNumber>,
        born: NaiveDate,
    ) -> StoreResult<Vec<Person>>;
    async fn search_people(&self, org: OrgId, query: &PeopleQuery, limit: i64) -> StoreResult<Vec<Person>>;
    /// Merge `merged` into `kept`: its referrals, episodes, appointments and codes move; the
    /// merged record stays, marked as merged. `Conflict("episodes.open")` if both have an open
    /// episode.
    async fn merge_people(&self, org: OrgId, kept: PersonId, merged: PersonId) -> StoreResult<()>;
}

/// What to search people by; any one is enough.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Part of a name: matches the start of the given or family name, or the full name.
    pub name: Option<String>,
    pub nhs_number: Option<NhsNumber>,
    pub date_of_birth: Option<NaiveDate>,
}

/// A triage decision, applied in one transaction: the referral's new status, the episode it
/// opens (or joins) and the codes it records. Fails with `Conflict("referral.decided")` if the
/// referral was decided by someone else meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageDecision {
    pub org_id: OrgId,
    pub referral_id: ReferralId,
    pub status: ReferralStatus,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub by: UserId,
    pub at: DateTime<Utc>,
    pub open_episode: Option<Episode>,
    pub codes: Vec<CodedEvent>,
}

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
}

/// Casework written in bulk (demo data, migrations from other systems), in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseworkBatch {
    pub episodes: Vec<Episode>,
    pub codes: Vec<CodedEvent>,
    pub needs: Vec<Need>,
    pub goals: Vec<Goal>,
    pub contacts: Vec<Contact>,
    pub holdings: Vec<HoldingPeriod>,
    pub appointments: Vec<Appointment>,
}

/// Referrals in and triage: every call names the tenant (or the referrer, for their own list).
#[async_trait::async_trait]
pub trait IntakeStore: Send + Sync {
    /// Insert many referrals in one transaction (demo data); their people exist already.
    async fn insert_referrals(&self, referrals: &[Referral]) -> StoreResult<()>;
    /// The most recent referrals of a tenant, newest first.
    async fn recent_referrals(&self, org: OrgId, limit: i64) -> StoreResult<Vec<(Referral, Person)>>;
    async fn count_referrals(&self, org: OrgId) -> StoreResult<i64>;
    /// A person's referrals, newest first.
    async fn person_referrals(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Referral>>;
    /// The most recent referrals to any of `teams`, with their people, newest first.
    async fn team_referrals(&self, org: OrgId, teams: &[TeamId], limit: i64) -> StoreResult<Vec<(Referral, Person)>>;
    /// Create a referral, and its person when new, in one transaction.
    async fn create_referral(
        &self,
        new_person: Option<&Person>,
        referral: &Referral,
        idem: Option<&IdempotencyKey>,
    ) -> StoreResult<Created<Referral>>;
    /// Create many referrals and new people in one transaction: all or nothing.
    async fn import_referrals(&self, people: &[Person], referrals: &[Referral]) -> StoreResult<()>;
    async fn get_referral(&self, org: OrgId, id: ReferralId) -> StoreResult<Referral>;
    /// Referrals waiting for triage for any of `teams` or for no team yet, oldest first.
    async fn waiting_referrals(&self, org: OrgId, teams: &[TeamId]) -> StoreResult<Vec<(Referral, Person)>>;
    /// How many referrals wait for triage for any of `teams` or for no team yet.
    async fn count_waiting(&self, org: OrgId, teams: &[TeamId]) -> StoreResult<i64>;
    /// The referrals a user made, newest first.
    async fn referrals_made_by(&self, user: UserId, limit: i64) -> StoreResult<Vec<(Referral, Person)>>;
    async fn decide_referral(&self, decision: &TriageDecision) -> StoreResult<()>;
}

/// Episodes: opening and closing them, the caseload, their codes, the team settings that guide
/// them, and casework written in bulk. Every call names the tenant; an episode's work carries a
/// `version`.
#[async_trait::async_trait]
pub trait EpisodeStore: Send + Sync {
    async fn coded_events(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<CodedEvent>>;
    /// A tenant's codes recorded in `[from, to)`, oldest first, with their people: for the GP
    /// record.
    async fn coded_events_between(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(CodedEvent, Person)>>;

    async fn get_episode(&self, org: OrgId, id: EpisodeId) -> StoreResult<Episode>;
    /// A person's episodes, newest first.
    async fn person_episodes(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Episode>>;
    /// Save an episode's work and follow-up; `episode.version` is the version edited.
    async fn update_episode(&self, episode: &Episode) -> StoreResult<Episode>;
    async fn discharge(&self, d: &Discharge) -> StoreResult<()>;
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
    async fn add_contact(&self, contact: &Contact, follow_up_on: Option<NaiveDate>) -> StoreResult<()>;
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

/// One import's worth of directory records, written in one transaction (each record was
/// checked on its own before; a record that failed is not here).
#[derive(Clone, Debug, Default)]
pub struct DirectoryBatch {
    pub organizations: Vec<oruk::Organization>,
    pub taxonomies: Vec<oruk::Taxonomy>,
    pub terms: Vec<oruk::TaxonomyTerm>,
    pub services: Vec<oruk::ServiceEntry>,
    /// Organisations that linkwork tenants manage (demo data and claims made elsewhere).
    pub owners: Vec<(uuid::Uuid, OrgId)>,
    /// The tenant whose directory staff look after the batch's organisations, when the import
    /// names one (`linkwork import oruk --steward`, the demo's PCNs).
    pub steward: Option<OrgId>,
    /// Capacity to set on new services (imports leave it alone; the demo varies it).
    pub capacities: Vec<(uuid::Uuid, crate::directory::Capacity)>,
    /// Where the records came from (a file name or a feed's base URL).
    pub source: String,
    pub at: DateTime<Utc>,
}

/// What an import wrote: new and updated records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: i64,
    pub updated: i64,
    /// Records identical to what the directory already held (a re-run of the same feed).
    pub unchanged: i64,
}

/// A postcode centroid, with the deprivation decile of its area when known.
#[derive(Clone, Debug, PartialEq)]
pub struct PostcodePoint {
    pub postcode: String,
    pub latitude: f64,
    pub longitude: f64,
    pub lsoa: Option<String>,
}

/// The community directory (not person-identifiable).
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Insert or update (by id) organisations, taxonomies, terms and services. A service's
    /// places, openings, terms and search words are replaced with the record's; its capacity,
    /// owner and trust fields are kept. Each changed service gets a history line.
    async fn upsert_directory(&self, batch: &DirectoryBatch) -> StoreResult<ImportCounts>;
    /// Which of these taxonomy term ids the directory holds.
    async fn known_terms(&self, ids: &[uuid::Uuid]) -> StoreResult<Vec<uuid::Uuid>>;
    async fn count_services(&self) -> StoreResult<i64>;
    async fn get_listing(&self, id: ServiceId) -> StoreResult<Listing>;
    /// Search: relevance to the words, then name; with a point, nearest first within the radius
    /// (of the `NEAREST_CANDIDATES` nearest matches).
    async fn search_directory(&self, q: &DirectoryQuery, offset: i64, limit: i64) -> StoreResult<(Vec<Hit>, i64)>;
    /// The places of these services (service-at-location documents with their locations).
    async fn service_places(&self, ids: &[ServiceId]) -> StoreResult<Vec<(ServiceId, oruk::ServiceAtLocation)>>;
    /// Service-at-locations of services matching the query (the public API's list).
    async fn search_places(
        &self,
        q: &DirectoryQuery,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(ServiceId, oruk::ServiceAtLocation)>, i64)>;
    async fn get_place(&self, id: uuid::Uuid) -> StoreResult<(ServiceId, oruk::ServiceAtLocation)>;
    async fn directory_orgs(&self, ids: &[uuid::Uuid]) -> StoreResult<Vec<(oruk::Organization, Option<OrgId>)>>;
    async fn taxonomies(&self, offset: i64, limit: i64) -> StoreResult<(Vec<oruk::Taxonomy>, i64)>;
    async fn get_taxonomy(&self, id: uuid::Uuid) -> StoreResult<oruk::Taxonomy>;
    async fn taxonomy_terms(
        &self,
        taxonomy: Option<uuid::Uuid>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<oruk::TaxonomyTerm>, i64)>;
    async fn get_taxonomy_term(&self, id: uuid::Uuid) -> StoreResult<oruk::TaxonomyTerm>;
    /// Save an edit (`listing.version` is the version edited; a stale one is a conflict).
    async fn update_listing(&self, listing: &Listing, change: &ListingChange) -> StoreResult<Listing>;
    async fn listing_history(&self, id: ServiceId, limit: i64) -> StoreResult<Vec<ListingChange>>;
    /// Listings past their review date that have not been reminded since it passed.
    async fn listings_due_review(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Listing>>;
    async fn mark_review_reminded(&self, id: ServiceId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn add_report(&self, report: &ProblemReport) -> StoreResult<()>;
    /// Open reports on listings stewarded by one of `stewards`, oldest first, with the
    /// service's name.
    async fn open_reports(&self, stewards: &[OrgId], limit: i64) -> StoreResult<Vec<(ProblemReport, String)>>;
    async fn service_reports(&self, id: ServiceId) -> StoreResult<Vec<ProblemReport>>;
    /// Resolve an open report on a listing stewarded by one of `stewards`; `NotFound` if it is
    /// not open or not theirs.
    async fn resolve_report(
        &self,
        id: ReportId,
        stewards: &[OrgId],
        by: UserId,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> StoreResult<()>;
    async fn add_claim(&self, claim: &Claim) -> StoreResult<()>;
    /// Open claims on organisations stewarded by one of `stewards`.
    async fn open_claims(&self, stewards: &[OrgId]) -> StoreResult<Vec<Claim>>;
    /// A claim on an organisation stewarded by one of `stewards` (`NotFound` otherwise).
    async fn get_claim(&self, id: ClaimId, stewards: &[OrgId]) -> StoreResult<Claim>;
    /// Decide an open claim; approving makes `owner` manage the organisation's listings, and is
    /// a `Conflict("directory_organizations.owned")` if someone already manages them.
    async fn decide_claim(&self, id: ClaimId, owner: Option<OrgId>, by: UserId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Load postcode centroids (replacing any with the same postcode) and LSOA deciles.
    async fn import_postcodes(&self, points: &[PostcodePoint], deciles: &[(String, i16)]) -> StoreResult<()>;
    /// A postcode's centroid and deprivation decile; for an unknown full postcode, the mean of
    /// its district's known postcodes (no decile).
    async fn locate_postcode(&self, postcode: &str) -> StoreResult<Option<((f64, f64), Option<i16>)>>;
    /// Remember a feed to keep in sync, and when it last was.
    async fn save_feed(&self, url: &str, synced_at: Option<DateTime<Utc>>, result: &str) -> StoreResult<()>;
    async fn feeds(&self) -> StoreResult<Vec<(String, Option<DateTime<Utc>>)>>;
}

/// Whose view of a connection a read is for: the tenant that made it, or the organisations that
/// own the receiving service (a voluntary group's inbox). A connection outside the scope is
/// `NotFound`, so the rule is kept in the query and not only by the caller.
#[derive(Clone, Copy, Debug)]
pub enum ConnectionScope<'a> {
    Tenant(OrgId),
    Receiving(&'a [OrgId]),
}

/// Connections from people's records to directory services (person-identifiable: scoped by the
/// tenant, or by the receiving VCSE organisation for its inbox).
#[async_trait::async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn create_connection(&self, c: &Connection, first: &ConnectionEvent) -> StoreResult<()>;
    async fn get_connection(&self, scope: ConnectionScope<'_>, id: ConnectionId) -> StoreResult<Connection>;
    async fn person_connections(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Connection>>;
    /// Referrals to services managed by these organisations, newest first.
    async fn inbox(&self, owners: &[OrgId], open_only: bool, limit: i64) -> StoreResult<Vec<Connection>>;
    async fn connection_events(
        &self,
        scope: ConnectionScope<'_>,
        id: ConnectionId,
    ) -> StoreResult<Vec<ConnectionEvent>>;
    /// Move a connection to `event.status` from `version`; a stale version is a conflict. The
    /// first accept or decline stamps `answered_at`; a decline at capacity records unmet need.
    async fn change_connection(&self, c: &Connection, event: &ConnectionEvent) -> StoreResult<Connection>;
    /// Open referrals still waiting for a first answer, oldest first.
    async fn unanswered(&self, limit: i64) -> StoreResult<Vec<Connection>>;
    async fn mark_nudged(
        &self,
        id: ConnectionId,
        reminded: Option<DateTime<Utc>>,
        unanswered: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn record_unmet(&self, u: &UnmetNeed) -> StoreResult<()>;
    async fn unmet_needs(&self, org: OrgId, since: DateTime<Utc>) -> StoreResult<Vec<UnmetNeed>>;
    /// Reply times (hours, None when unanswered) and acceptances of referrals since `since`.
    async fn responsiveness(
        &self,
        ids: &[ServiceId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ServiceId, Responsiveness)>>;
}

#[async_trait::async_trait]
pub trait JobStore: Send + Sync {
    /// Enqueue; `Ok(false)` if a job with the same dedupe key already exists.
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<bool>;
    /// Claim the next due job for `lease`; a job whose lease ran out is due again.
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>, lease: chrono::Duration) -> StoreResult<Option<Job>>;
    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Record a failure: retried at `retry_at`, or dead if attempts are used up.
    async fn fail_job(&self, id: JobId, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()>;
    async fn job_counts(&self) -> StoreResult<JobCounts>;
}

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    /// Store a message and the job that delivers it, atomically.
    async fn enqueue_message(&self, msg: &OutboxMessage) -> StoreResult<()>;
    async fn get_message(&self, id: MessageId) -> StoreResult<OutboxMessage>;
    async fn mark_message(&self, id: MessageId, status: MessageStatus, at: DateTime<Utc>) -> StoreResult<()>;
    /// A tenant's newest messages (the outbox page: messages name people and say they are in
    /// social prescribing, so an administrator sees only their own organisation's).
    async fn recent_messages(&self, org: OrgId, limit: i64) -> StoreResult<Vec<OutboxMessage>>;
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Append entries in one transaction, chaining each to the last stored event. Callers
    /// should go through an [`crate::audit::AuditLog`], which batches concurrent entries.
    async fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()>;
    /// Events in sequence order after `after_seq`, for verification.
    async fn audit_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;
    /// Events matching `filter`, newest first.
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// The last event's sequence number and hash (`None` for an empty trail).
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Whether an event of `action` on this record was ever written (a replayed create checks
    /// that the first attempt's event exists before answering).
    async fn audited(&self, action: crate::audit::AuditAction, record_type: &str, record_id: &str)
    -> StoreResult<bool>;
}

#[async_trait::async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The stored state of each key that has one.
    async fn throttle_states(&self, keys: &[String]) -> StoreResult<Vec<ThrottleState>>;
    /// Reserve one attempt against every key, atomically, before doing the work it guards
    /// ([`ThrottleState::admit`]): `false`, counting nothing, if any key is locked. Concurrent
    /// reservations queue on a lock, so no more attempts go ahead than the limit allows.
    async fn reserve_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<bool>;
    /// Give back the attempts a success reserved ([`ThrottleState::released`]).
    async fn release_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<()>;
    /// Forget a key: after a successful sign-in, or when an administrator unlocks an account.
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait TwoFactorStore: Send + Sync {
    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactor>>;
    /// Store a new secret awaiting confirmation; `Conflict` if one is already confirmed.
    async fn begin_two_factor(&self, user: UserId, secret: &str) -> StoreResult<()>;
    /// Confirm the secret and replace the recovery codes (stored as hashes).
    async fn enable_two_factor(&self, user: UserId, recovery_hashes: &[String], at: DateTime<Utc>) -> StoreResult<()>;
    /// Accept a code's time step once: `false` if it (or a later one) was already used.
    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Spend a recovery code: `false` if it is unknown or already spent.
    async fn use_recovery_code(&self, user: UserId, hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64>;
    /// Forget a user's authenticator and recovery codes (lost phone): they set up again.
    async fn reset_two_factor(&self, user: UserId) -> StoreResult<()>;
    async fn org_requires_two_factor(&self, org: OrgId) -> StoreResult<bool>;
    async fn set_org_requires_two_factor(&self, org: OrgId, required: bool) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &AccountToken) -> StoreResult<()>;
    /// A token that is unused and unexpired at `now`.
    async fn find_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AccountToken>>;
    /// Spend a token: `false` if it was used already or has expired. Spending one voids every
    /// other outstanding token of the same user.
    async fn use_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// How many tokens of `purpose` were made for `user` since `since` (to limit reset emails).
    async fn tokens_since(&self, user: UserId, purpose: &str, since: DateTime<Utc>) -> StoreResult<i64>;
    /// Set a user's password hash and void every token of theirs still outstanding.
    async fn set_password(&self, user: UserId, password_hash: &str) -> StoreResult<()>;
}

/// The state of the schema, for `linkwork check` and start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations applied.
    pub applied: Vec<i64>,
    /// Migrations this build knows.
    pub known: Vec<i64>,
    /// A migration that started but did not finish.
    pub dirty: Option<i64>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.dirty.is_none() && self.applied == self.known
    }
    pub fn pending(&self) -> Vec<i64> {
        self.known.iter().filter(|v| !self.applied.contains(v)).copied().collect()
    }
    /// Applied migrations this build does not know: the database is newer than the binary.
    pub fn unknown(&self) -> Vec<i64> {
        self.applied.iter().filter(|v| !self.known.contains(v)).copied().collect()
    }
}

/// Everything the application needs from storage.
#[async_trait::async_trait]
pub trait Store:
    OrgStore
    + UserStore
    + SessionStore
    + PeopleStore
    + IntakeStore
    + EpisodeStore
    + CaseworkStore
    + DirectoryStore
    + ConnectionStore
    + JobStore
    + OutboxStore
    + AuditStore
    + ThrottleStore
    + TwoFactorStore
    + TokenStore
{
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for `/health`.
    async fn ping(&self) -> StoreResult<()>;
    async fn schema_status(&self) -> StoreResult<SchemaStatus>;
    /// Refresh the query planner's statistics after a bulk load (demo data, imports).
    async fn analyze(&self) -> StoreResult<()>;
}
