//! Outcome measures: records with their answers, the secure links that collect them, and the
//! wording deployers load.

use super::StoreResult;
use crate::ids::{EpisodeId, OrgId, OutcomeLinkId, PersonId};
use crate::notifications::OutboxMessage;
use crate::outcomes::{Instrument, OutcomeLink, OutcomeRecord, Wording};
use chrono::{DateTime, Utc};

/// Outcome records and links are person-identifiable: every read names the tenant, except the
/// link found by its token's hash (the person answering has no account; the hash is the key,
/// and the link names its tenant) and the worker's reminder sweep (across tenants, writing
/// messages stamped with each link's tenant).
#[async_trait::async_trait]
pub trait OutcomeStore: Send + Sync {
    /// Store a record and its answers, in one transaction. A record in a closed episode is
    /// `Conflict::EpisodeClosed`.
    async fn record_outcome(&self, r: &OutcomeRecord) -> StoreResult<()>;
    /// Records written in bulk (demo data, records brought from another system), in one
    /// transaction, in episodes open or closed.
    async fn import_outcomes(&self, records: &[OutcomeRecord]) -> StoreResult<()>;
    /// A person's records, oldest first.
    async fn person_outcomes(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<OutcomeRecord>>;
    /// The records of these episodes (a caseload page's), oldest first.
    async fn episode_outcomes(&self, org: OrgId, episodes: &[EpisodeId]) -> StoreResult<Vec<OutcomeRecord>>;
    /// A tenant's records completed on days in `[from, to)`, oldest first (exports, coverage).
    async fn outcomes_between(
        &self,
        org: OrgId,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> StoreResult<Vec<OutcomeRecord>>;

    /// The episodes of `teams` open at any time since `since`, with their worker: what
    /// recording coverage is measured over.
    async fn coverage_episodes(
        &self,
        org: OrgId,
        teams: &[crate::ids::TeamId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(EpisodeId, Option<crate::ids::UserId>)>>;

    /// Store a link and the message that carries it, in one transaction.
    async fn create_link(&self, link: &OutcomeLink, message: &OutboxMessage) -> StoreResult<()>;
    /// The link whose token (or reminder token) hashes to `hash`, in any tenant.
    async fn link_by_token(&self, hash: &str) -> StoreResult<OutcomeLink>;
    async fn person_links(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<OutcomeLink>>;
    /// Answer a link: mark it used and store the record, in one transaction. A link already
    /// used or expired at `at` is `Conflict::LinkUsed`, and nothing is stored: two answers at
    /// once store one.
    async fn answer_link(&self, link: OutcomeLinkId, record: &OutcomeRecord, at: DateTime<Utc>) -> StoreResult<()>;
    /// Unanswered, unexpired links not yet reminded and created before `before`.
    async fn links_to_remind(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutcomeLink>>;
    /// Give the link its reminder token and queue the reminder, once (a link already reminded
    /// is `Conflict::LinkUsed`).
    async fn remind_link(
        &self,
        link: OutcomeLinkId,
        reminder_hash: &str,
        at: DateTime<Utc>,
        message: &OutboxMessage,
    ) -> StoreResult<()>;

    /// Load (or replace) the wording of an instrument in a language, for the installation.
    async fn save_wording(&self, w: &Wording, at: DateTime<Utc>) -> StoreResult<()>;
    /// Every wording loaded for `instrument`.
    async fn wordings(&self, instrument: Instrument) -> StoreResult<Vec<Wording>>;
    /// The instruments with wording loaded, and in which languages.
    async fn loaded_wordings(&self) -> StoreResult<Vec<(Instrument, String)>>;
}
