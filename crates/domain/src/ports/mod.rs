//! Storage ports: the narrow traits the web layer and the binary use to reach the database.
//! `linkwork-storage` implements them on SQLite and PostgreSQL; one contract suite tests both.
//!
//! Every method touching person-identifiable data takes the tenant `OrgId` and is scoped by it.
//!
//! One module per area, as in every crate; everything is re-exported here, so callers name
//! `linkwork_domain::ports::X`.

mod access;
mod casework;
mod connections;
mod directory;
mod intake;
mod jobs;
mod outcomes;
mod people;

pub use access::*;
pub use casework::*;
pub use connections::*;
pub use directory::*;
pub use intake::*;
pub use jobs::*;
pub use outcomes::*;
pub use people::*;

/// A storage failure, in terms the callers can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The write would break a rule that only the data can tell: see [`Conflict`].
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The database could not be reached or failed; details are for the log only.
    #[error("database error: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether trying again later can succeed: the database was unreachable or failed. A
    /// missing record or a conflict stays as it is however often it is tried.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Database(_))
    }
}

/// Why a write conflicts, as a value callers match on (never a string to compare).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Someone saved the record since it was read (optimistic concurrency): `version` moved on.
    #[error("the record changed since it was read")]
    Version,
    /// An idempotency key came back with a different request.
    #[error("the idempotency key was used for a different request")]
    IdempotencyKeyReused,
    /// The referral was decided by someone else meanwhile.
    #[error("the referral was already decided")]
    ReferralDecided,
    /// Both records to merge have an open episode.
    #[error("both records have an open episode")]
    BothEpisodesOpen,
    /// A directory organisation already has an owner.
    #[error("the organisation is already managed")]
    AlreadyManaged,
    /// The episode is closed: its summary has been sent, so it takes no more writes.
    #[error("the episode is closed")]
    EpisodeClosed,
    /// Reopening an episode while the person has another one open.
    #[error("the person has another open episode")]
    AnotherEpisodeOpen,
    /// A questionnaire link was answered already, or has expired.
    #[error("the link has been used or has expired")]
    LinkUsed,
    /// A second factor is already set up.
    #[error("two-factor is already enabled")]
    TwoFactorEnabled,
    /// A uniqueness rule of the schema; names the constraint the database reported.
    #[error("already exists ({0})")]
    Unique(String),
}

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
    + DirectoryImportStore
    + TrustStore
    + ConnectionStore
    + JobStore
    + OutboxStore
    + AuditStore
    + ThrottleStore
    + TwoFactorStore
    + TokenStore
    + OutcomeStore
{
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for `/health`.
    async fn ping(&self) -> StoreResult<()>;
    async fn schema_status(&self) -> StoreResult<SchemaStatus>;
    /// Refresh the query planner's statistics after a bulk load (demo data, imports).
    async fn analyze(&self) -> StoreResult<()>;
}
