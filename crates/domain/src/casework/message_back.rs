//! The message back to the GP and the referrer (PRSB Social Prescribing Information Standard):
//! person, referral, needs and concerns, support offered, outcomes, connections and codes.
//!
//! What was sent is kept as sent. Each discharge freezes the document as a numbered version,
//! with when and by whom; reopening the episode and discharging it again sends a new version
//! that says what changed. Nothing rewrites a version once stored.

use crate::ids::{EpisodeId, MessageBackId, OrgId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A day in a document that leaves the system: read as "24 November 2026" on the page and in
/// the PDF, written as ISO 8601 ("2026-11-24") in JSON, so systems reading it need not parse
/// English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%-d %B %Y"))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Day).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub nhs_number: Option<String>,
    pub name: String,
    pub date_of_birth: Day,
    pub address: String,
    pub postcode: Option<String>,
    pub gender: String,
    pub ethnicity: String,
    /// The GP practice: name and ODS code.
    pub gp_practice: Option<(String, Option<String>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralPart {
    pub received: Day,
    pub source: String,
    pub referrer: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalPart {
    pub goal: String,
    pub area: String,
    pub status: String,
    pub progress_out_of_10: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportPart {
    pub contacts: usize,
    pub minutes: i64,
    pub modes: Vec<String>,
    pub holding: Vec<String>,
    pub barriers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePart {
    pub code: String,
    pub term: String,
    pub date: Day,
}

/// A service the person was connected to in the episode, and how it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionPart {
    pub service: String,
    pub need: String,
    /// Signposted, or the referral's status (accepted, attending, completed, declined…).
    pub outcome: String,
    pub date: Day,
}

/// An outcome measure's baseline and latest score in the episode, with the change (the PRSB
/// "outcomes" section).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurePart {
    /// The instrument, by its name.
    pub instrument: String,
    /// The scale reported ("Life satisfaction", "Loneliness").
    pub scale: String,
    pub baseline: String,
    pub baseline_on: Day,
    pub baseline_band: Option<String>,
    pub latest: Option<String>,
    pub latest_on: Option<Day>,
    pub latest_band: Option<String>,
    /// "Up 3 (better)", "No change".
    pub change: Option<String>,
}

/// The message back, in the PRSB model's sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBack {
    pub standard: String,
    pub person: Demographics,
    pub referral: ReferralPart,
    pub opened: Day,
    pub discharged: Option<Day>,
    pub discharge_reason: Option<String>,
    pub link_worker: String,
    pub needs_and_concerns: Vec<String>,
    pub support_offered: SupportPart,
    pub outcomes: Vec<GoalPart>,
    /// Outcome measures: baseline and latest scores (absent from summaries sent before
    /// outcomes were recorded).
    #[serde(default)]
    pub measures: Vec<MeasurePart>,
    /// Services the person was connected to in this episode.
    pub connections: Vec<ConnectionPart>,
    pub summary: String,
    pub codes: Vec<CodePart>,
}

/// One version of the message back, as it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessageBack {
    pub id: MessageBackId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    /// 1 for the first summary; each correction one more.
    pub version: i32,
    pub document: MessageBack,
    /// For a correction: what changed since the version before, in the worker's words.
    pub changes: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub sent_by: Option<UserId>,
}

/// Reopening a discharged episode: who, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reopening {
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    /// The version of the episode the worker saw.
    pub version: i32,
    pub reason: String,
    /// When it had been closed (kept, since reopening clears it from the episode).
    pub closed_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_reads_as_english_and_travels_as_iso_8601() {
        let d = Day(NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
        assert_eq!(d.to_string(), "4 November 2026");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-11-04\"");
        assert_eq!(serde_json::from_str::<Day>("\"2026-11-04\"").unwrap(), d);
        assert!(serde_json::from_str::<Day>("\"4 November 2026\"").is_err());
    }
}
