//! SNOMED CT codes for the GP record (domain.md 4.1), with the coding rule enforced here rather
//! than left to the user:
//!
//! - `871731000000106` *Referral to social prescribing service* is recorded at the first
//!   interaction with the person in an episode: their first contact, not the team's acceptance
//!   (nobody has spoken to them then, and a duplicate record accepted by mistake would carry a
//!   code of its own). Once per episode: a referral accepted while the person already has an
//!   open episode joins that episode and is not coded again (PC-01 counts this code, so a second
//!   one would double-count). The code names the contact it came from.
//! - `871711000000103` *Social prescribing declined* is recorded when the person declines. A
//!   referral the team declines for other reasons (not eligible, out of area…) is not the person
//!   declining, so it is not coded with this concept: its coded decline reason is kept instead.
//!
//! Storage backs the rule with a unique index on (episode, code).

use crate::casework::{Contact, Episode};
use crate::ids::{CodedEventId, ContactId, EpisodeId, OrgId, PersonId, ReferralId, UserId};
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
    /// The contact it was recorded at, for codes recorded at an interaction with the person.
    pub contact_id: Option<ContactId>,
    pub code: String,
    pub term: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
}

/// The codes a contact records: the referral code, once per episode. Every contact offers it;
/// the store keeps the first and skips it for every later contact of the episode, atomically.
pub fn codes_for_contact(contact: &Contact, episode: &Episode, by: Option<UserId>) -> Vec<CodedEvent> {
    let (code, term) = REFERRAL_TO_SOCIAL_PRESCRIBING;
    vec![CodedEvent {
        id: CodedEventId::new(),
        org_id: episode.org_id,
        person_id: episode.person_id,
        referral_id: episode.referral_id,
        episode_id: Some(episode.id),
        contact_id: Some(contact.id),
        code: code.into(),
        term: term.into(),
        recorded_at: contact.created_at,
        recorded_by: by,
    }]
}

/// The contact a code was recorded at, as the GP export names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedContact {
    pub happened_on: chrono::NaiveDate,
    pub happened_at: Option<DateTime<Utc>>,
    pub mode: crate::casework::ContactMode,
}

impl CodedContact {
    /// "Contact on 12 Nov 2026, 14:45 (phone)", in UK time.
    pub fn describe(&self) -> String {
        use crate::uktime::UkTime;
        let day = self.happened_on.format("%d %b %Y");
        match self.happened_at {
            Some(at) => format!("Contact on {day}, {} ({})", at.uk().format("%H:%M"), self.mode.label().to_lowercase()),
            None => format!("Contact on {day} ({})", self.mode.label().to_lowercase()),
        }
    }
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
        // The referral code waits for the first contact: see `codes_for_contact`.
        Outcome::Declined(DeclineReason::PersonDeclined) => vec![SOCIAL_PRESCRIBING_DECLINED],
        Outcome::AcceptedNewEpisode | Outcome::AcceptedIntoOpenEpisode | Outcome::Declined(_) | Outcome::Redirected => {
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptance_records_no_referral_code_and_declined_only_when_the_person_declines() {
        assert!(codes_for(Outcome::AcceptedNewEpisode).is_empty(), "the referral code waits for the first contact");
        assert!(codes_for(Outcome::AcceptedIntoOpenEpisode).is_empty(), "a second referral in an open episode");
        assert_eq!(
            codes_for(Outcome::Declined(DeclineReason::PersonDeclined)),
            vec![("871711000000103", "Social prescribing declined")]
        );
        assert!(codes_for(Outcome::Declined(DeclineReason::OutOfArea)).is_empty());
        assert!(codes_for(Outcome::Redirected).is_empty());
    }
}
