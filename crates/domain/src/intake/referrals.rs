//! Referrals into the social prescribing service: where they came from, what they ask for, and
//! triage (accept, decline with a coded reason, or redirect) against the team's settings.

use crate::casework::{NeedDomain, TeamSettings};
use crate::ids::{OrgId, PersonId, ReferralId, TeamId, UserId};
use crate::people::Person;
use crate::values::InvalidValue;
use crate::vocabulary;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where a referral came from (domain.md section 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    Gp,
    PracticeStaff,
    Pharmacist,
    HospitalDischarge,
    LocalAuthority,
    Housing,
    Vcse,
    SelfReferral,
    #[default]
    Other,
}

impl ReferralSource {
    pub const ALL: [ReferralSource; 9] = [
        ReferralSource::Gp,
        ReferralSource::PracticeStaff,
        ReferralSource::Pharmacist,
        ReferralSource::HospitalDischarge,
        ReferralSource::LocalAuthority,
        ReferralSource::Housing,
        ReferralSource::Vcse,
        ReferralSource::SelfReferral,
        ReferralSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralSource::Gp => "gp",
            ReferralSource::PracticeStaff => "practice_staff",
            ReferralSource::Pharmacist => "pharmacist",
            ReferralSource::HospitalDischarge => "hospital_discharge",
            ReferralSource::LocalAuthority => "local_authority",
            ReferralSource::Housing => "housing",
            ReferralSource::Vcse => "vcse",
            ReferralSource::SelfReferral => "self",
            ReferralSource::Other => "other",
        }
    }
}

impl FromStr for ReferralSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown referral source {s:?}"))
    }
}

/// Where a referral stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Waiting for triage.
    #[default]
    Received,
    Accepted,
    Declined,
    /// Sent elsewhere as more suitable.
    Redirected,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 4] =
        [ReferralStatus::Received, ReferralStatus::Accepted, ReferralStatus::Declined, ReferralStatus::Redirected];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Received => "received",
            ReferralStatus::Accepted => "accepted",
            ReferralStatus::Declined => "declined",
            ReferralStatus::Redirected => "redirected",
        }
    }
}

impl FromStr for ReferralStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown referral status {s:?}"))
    }
}

impl ReferralSource {
    pub fn label(self) -> &'static str {
        match self {
            ReferralSource::Gp => "GP",
            ReferralSource::PracticeStaff => "Practice staff",
            ReferralSource::Pharmacist => "Pharmacist",
            ReferralSource::HospitalDischarge => "Hospital discharge team",
            ReferralSource::LocalAuthority => "Local authority",
            ReferralSource::Housing => "Housing",
            ReferralSource::Vcse => "Voluntary or community group",
            ReferralSource::SelfReferral => "Self-referral",
            ReferralSource::Other => "Other agency",
        }
    }

    pub fn options() -> Vec<(&'static str, &'static str)> {
        Self::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
    }
}

impl ReferralStatus {
    pub fn label(self) -> &'static str {
        match self {
            ReferralStatus::Received => "Waiting for triage",
            ReferralStatus::Accepted => "Accepted",
            ReferralStatus::Declined => "Declined",
            ReferralStatus::Redirected => "Redirected",
        }
    }
}

vocabulary!(
    /// How soon the referrer asks for contact.
    Urgency {
        Routine = "routine": "Routine (within 2 weeks)",
        Soon = "soon": "Soon (within a week)",
        Urgent = "urgent": "Urgent (within 2 working days)",
    }
);

vocabulary!(
    /// Why a referral was declined (coded, for reports of unmet need).
    DeclineReason {
        PersonDeclined = "person_declined": "The person declined social prescribing",
        NotEligible = "not_eligible": "Not eligible under the team's criteria",
        OutOfArea = "out_of_area": "Lives outside the area served",
        NeedsClinicalCare = "needs_clinical": "Needs are clinical or too urgent for social prescribing",
        UnableToContact = "unable_to_contact": "Unable to contact the person",
        MissingInformation = "missing_information": "Missing information; referrer asked to resend",
        Duplicate = "duplicate": "Duplicate of a referral already open",
        Other = "other": "Other (explained in the note)",
    }
);

vocabulary!(
    /// Where a referral was redirected to, as more suitable.
    RedirectTarget {
        MentalHealth = "mental_health": "Mental health service (talking therapies, crisis team)",
        AdultSocialCare = "adult_social_care": "Adult social care",
        HealthCoach = "health_coach": "Health and wellbeing coach",
        CareCoordinator = "care_coordinator": "Care coordinator",
        OtherTeam = "other_team": "Another social prescribing team",
        Other = "other": "Somewhere else (explained in the note)",
    }
);

/// A referral of a person to the social prescribing service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: ReferralId,
    /// The tenant: the organisation whose service received the referral.
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub team_id: Option<TeamId>,
    pub source: ReferralSource,
    /// Why, in the referrer's words.
    pub reason: String,
    /// The need domains the referrer ticked.
    pub needs: Vec<NeedDomain>,
    pub urgency: Urgency,
    /// The person agreed to be referred (required for every channel but self-referral, where
    /// making the referral is the consent).
    pub consent: bool,
    /// What has been tried already.
    pub tried: String,
    /// The user who made it, if made by someone signed in; the referrer sees its status.
    pub referred_by: Option<UserId>,
    /// Who referred, in words (name, role, organisation, contact), for referrals from outside.
    pub referrer_name: String,
    pub status: ReferralStatus,
    pub received_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<UserId>,
    /// The decline reason or redirect target code.
    pub decision_reason: Option<String>,
    pub decision_note: Option<String>,
}

/// The reason for referral, in words: 3 to 2,000 characters.
pub fn parse_reason(input: &str) -> Result<String, InvalidValue> {
    let s = input.trim();
    match s.chars().count() {
        0 => Err(InvalidValue("Say why you are referring the person".into())),
        1..=2 => Err(InvalidValue("Give a fuller reason for the referral".into())),
        2001.. => Err(InvalidValue("Keep the reason to 2,000 characters or fewer".into())),
        _ => Ok(s.to_owned()),
    }
}

/// Something about a referral that the team's settings say it does not usually accept. Shown at
/// triage as advice: the link worker decides, and may accept outside the usual criteria.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageFlag(pub String);

/// Check a referral against the team's settings (accepted needs, ages, areas, exclusions).
pub fn triage_flags(
    settings: &TeamSettings,
    referral: &Referral,
    person: &Person,
    today: NaiveDate,
) -> Vec<TriageFlag> {
    let mut flags = vec![];
    if !settings.accepted_needs.is_empty() {
        let outside: Vec<&str> =
            referral.needs.iter().filter(|n| !settings.accepted_needs.contains(n)).map(|n| n.label()).collect();
        if !outside.is_empty() {
            flags.push(TriageFlag(format!("Needs the team does not usually accept: {}", outside.join(", "))));
        }
    }
    let age = person.age_on(today);
    if settings.min_age.is_some_and(|m| age < m) || settings.max_age.is_some_and(|m| age > m) {
        flags.push(TriageFlag(format!(
            "Age {age} is outside the team's accepted ages ({}–{})",
            settings.min_age.map_or("any".into(), |m| m.to_string()),
            settings.max_age.map_or("any".into(), |m| m.to_string())
        )));
    }
    if !settings.areas.is_empty() {
        match &person.postcode {
            Some(pc) if settings.areas.iter().any(|a| pc.outward() == a.as_str()) => {}
            Some(pc) => flags.push(TriageFlag(format!(
                "Postcode area {} is outside the areas served ({})",
                pc.outward(),
                settings.areas.join(", ")
            ))),
            None => flags.push(TriageFlag("No postcode: check the person lives in the area served".into())),
        }
    }
    let text = format!("{} {}", referral.reason, referral.tried).to_lowercase();
    for ex in &settings.exclusions {
        if !ex.trim().is_empty() && text.contains(&ex.trim().to_lowercase()) {
            flags.push(TriageFlag(format!("Mentions \"{}\", which the team lists as an exclusion", ex.trim())));
        }
    }
    if !referral.consent && referral.source != ReferralSource::SelfReferral {
        flags.push(TriageFlag("The referrer did not record the person's consent to be referred".into()));
    }
    flags
}
