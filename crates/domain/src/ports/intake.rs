//! Referrals in and triage.

use super::{Created, IdempotencyKey, StoreResult};
use crate::casework::Episode;
use crate::casework::coding::CodedEvent;
use crate::ids::ReferralId;
use crate::ids::{OrgId, PersonId, TeamId, UserId};
use crate::intake::referrals::Referral;
use crate::intake::referrals::ReferralStatus;
use crate::people::Person;
use chrono::{DateTime, Utc};

/// A triage decision, applied in one transaction: the referral's new status, the episode it
/// opens (or joins) and the codes it records. Fails with `Conflict::ReferralDecided` if the
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
