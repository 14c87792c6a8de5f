//! Referrals into the social prescribing service. Triage, coding and the rest of the pathway
//! build on this; here are the referral, where it came from and where it stands.

use crate::ids::{OrgId, PersonId, ReferralId, TeamId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where a referral came from (domain.md section 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Waiting for triage.
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

/// A referral of a person to the social prescribing service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: ReferralId,
    /// The tenant: the organisation whose service received the referral.
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub team_id: Option<TeamId>,
    pub source: ReferralSource,
    pub reason: String,
    pub status: ReferralStatus,
    pub received_at: DateTime<Utc>,
}
