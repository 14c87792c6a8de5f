//! People's records.

use super::StoreResult;
use crate::ids::{OrgId, PersonId};
use crate::people::FlagChange;
use crate::people::Person;
use crate::values::NhsNumber;
use chrono::NaiveDate;

/// People's records: person-identifiable, so every call names the tenant. A person's details
/// carry a `version`; a stale save fails with `Conflict::Version`.
#[async_trait::async_trait]
pub trait PeopleStore: Send + Sync {
    /// Insert many people in one transaction (imports and demo data).
    async fn insert_people(&self, people: &[Person]) -> StoreResult<()>;
    async fn get_person(&self, org: OrgId, id: PersonId) -> StoreResult<Person>;
    async fn count_people(&self, org: OrgId) -> StoreResult<i64>;
    /// Save a person's details; `person.version` is the version edited. Returns the new version.
    async fn update_person(&self, person: &Person) -> StoreResult<Person>;
    /// Record a change to a flag and set it on the person, in one transaction.
    async fn change_flag(&self, change: &FlagChange) -> StoreResult<()>;
    /// Every change to the person's flags, oldest first.
    async fn flag_history(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<FlagChange>>;
    /// People (not merged away) with this NHS number or born on this day: duplicate candidates.
    async fn duplicate_candidates(
        &self,
        org: OrgId,
        nhs: Option<&NhsNumber>,
        born: NaiveDate,
    ) -> StoreResult<Vec<Person>>;
    async fn search_people(&self, org: OrgId, query: &PeopleQuery, limit: i64) -> StoreResult<Vec<Person>>;
    /// Merge `plan.merged` into `plan.kept`, in one transaction: the kept record takes the
    /// details chosen (`plan.kept`, at the version read); everything that names the merged
    /// person moves to it; the merged record stays, marked as merged. When both have an open
    /// episode, `plan.open_episodes` says what happens (none is `Conflict::BothEpisodesOpen`).
    async fn merge_people(&self, plan: &MergePlan) -> StoreResult<()>;
}

/// What to do when both records of a merge have an open episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenEpisodes {
    /// The merged record's episode is combined into the kept one: its contacts, needs, goals,
    /// holding, appointments, barriers and connections move; it is closed, saying so.
    Combine,
    /// The merged record's episode is closed as a duplicate (holding ends, booked
    /// appointments are cancelled); no summary is sent.
    CloseOther,
}

/// A merge as the worker chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergePlan {
    /// The surviving record with the details chosen for it; `version` is the one read.
    pub kept: Person,
    pub merged: PersonId,
    pub open_episodes: Option<OpenEpisodes>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What to search people by; any one is enough.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Part of a name: matches the start of the given or family name, or the full name.
    pub name: Option<String>,
    pub nhs_number: Option<NhsNumber>,
    pub date_of_birth: Option<NaiveDate>,
}
