//! SNOMED CT codes for the GP record (domain.md 4.1), with the coding rule enforced here rather
//! than left to the user:
//!
//! - `871731000000106` *Referral to social prescribing service* is recorded when a referral is
//!   accepted and opens a new episode: once per episode, at its first interaction. A referral
//!   accepted while the person already has an open episode joins that episode and is not coded
//!   again (PC-01 counts this code, so a second one would double-count).
//! - `871711000000103` *Social prescribing declined* is recorded when the person declines. A
//!   referral the team declines for other reasons (not eligible, out of area…) is not the person
//!   declining, so it is not coded with this concept: its coded decline reason is kept instead.
//!
//! Storage backs the rule with a unique index on (episode, code).

use crate::ids::{CodedEventId, EpisodeId, OrgId, PersonId, ReferralId, UserId};
use crate::intake::referrals::DeclineReason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Referral to social prescribing service.
pub const REFERRAL_TO_SOCIAL_PRESCRIBING: (&str, &str) = ("871731000000106", "Referral to social prescribing service");
/// Social prescribing declined.
pub const SOCIAL_PRESCRIBING_DECLINED: (&str, &str) = ("871711000000103", "Social prescribing declined");

/// A code recorded for export to the GP record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodedEvent {
    pub id: CodedEventId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub referral_id: ReferralId,
    pub episode_id: Option<EpisodeId>,
    pub code: String,
    pub term: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
}

/// The triage outcome, as far as coding cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted, opening a new episode.
    AcceptedNewEpisode,
    /// Accepted into the person's episode that was already open.
    AcceptedIntoOpenEpisode,
    Declined(DeclineReason),
    Redirected,
}

/// The codes a triage outcome records: the rule in one place.
pub fn codes_for(outcome: Outcome) -> Vec<(&'static str, &'static str)> {
    match outcome {
        Outcome::AcceptedNewEpisode => vec![REFERRAL_TO_SOCIAL_PRESCRIBING],
        Outcome::Declined(DeclineReason::PersonDeclined) => vec![SOCIAL_PRESCRIBING_DECLINED],
        Outcome::AcceptedIntoOpenEpisode | Outcome::Declined(_) | Outcome::Redirected => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referral_code_is_recorded_once_per_episode_and_declined_only_when_the_person_declines() {
        assert_eq!(
            codes_for(Outcome::AcceptedNewEpisode),
            vec![("871731000000106", "Referral to social prescribing service")]
        );
        assert!(codes_for(Outcome::AcceptedIntoOpenEpisode).is_empty(), "a second referral in an open episode");
        assert_eq!(
            codes_for(Outcome::Declined(DeclineReason::PersonDeclined)),
            vec![("871711000000103", "Social prescribing declined")]
        );
        assert!(codes_for(Outcome::Declined(DeclineReason::OutOfArea)).is_empty());
        assert!(codes_for(Outcome::Redirected).is_empty());
    }
}
