//! A team's micro-discretions made explicit (its settings), the national norms given as context,
//! and the practice profile computed from a worker's contacts: for the worker and their
//! supervisor to discuss, never to rank.

use super::{Contact, ContactLocation, ContactMode, NeedDomain};
use crate::ids::{EpisodeId, OrgId, TeamId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A team's micro-discretions, made explicit (domain.md 3.2). Empty lists mean "no limit".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSettings {
    pub team_id: TeamId,
    pub org_id: OrgId,
    pub accepted_needs: Vec<NeedDomain>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    /// Postcode districts served (`LS8`, `LS9`).
    pub areas: Vec<String>,
    /// Words that mark a referral the team does not take (e.g. "crisis").
    pub exclusions: Vec<String>,
    pub default_minutes: i32,
    pub default_mode: ContactMode,
    pub default_location: ContactLocation,
    /// Usual number of contacts before a review.
    pub usual_contacts: i32,
    pub allowed_locations: Vec<ContactLocation>,
    /// Days to the next contact, by default.
    pub follow_up_days: i32,
    /// The outcome measures the team uses: a baseline at the first contacts, then reviews.
    pub outcome_instruments: Vec<crate::outcomes::Instrument>,
    /// Weeks from one measure to the next review.
    pub outcome_review_weeks: i32,
    pub version: i32,
}

impl TeamSettings {
    /// When the team's outcome measures fall due.
    pub fn outcome_plan(&self) -> crate::outcomes::OutcomePlan {
        crate::outcomes::OutcomePlan {
            instruments: self.outcome_instruments.clone(),
            review_weeks: self.outcome_review_weeks,
        }
    }

    /// The settings a new team starts with.
    pub fn defaults(team_id: TeamId, org_id: OrgId) -> Self {
        Self {
            team_id,
            org_id,
            accepted_needs: vec![],
            min_age: Some(18),
            max_age: None,
            areas: vec![],
            exclusions: vec![],
            default_minutes: 45,
            default_mode: ContactMode::FaceToFace,
            default_location: ContactLocation::Practice,
            usual_contacts: 6,
            allowed_locations: vec![],
            follow_up_days: 14,
            outcome_instruments: vec![crate::outcomes::Instrument::Ons4, crate::outcomes::Instrument::Ucla3],
            outcome_review_weeks: 12,
            version: 0,
        }
    }

    /// Whether a contact falls outside the team's usual criteria, and why.
    pub fn outside_usual(&self, minutes: i32, location: ContactLocation, contacts_so_far: usize) -> Vec<String> {
        let mut why = vec![];
        if minutes > self.default_minutes * 2 {
            why.push(format!("longer than twice the usual {} minutes", self.default_minutes));
        }
        if !self.allowed_locations.is_empty() && !self.allowed_locations.contains(&location) {
            why.push(format!("{} is not one of the team's usual places", location.label()));
        }
        if self.usual_contacts > 0 && contacts_so_far >= usize::try_from(self.usual_contacts).unwrap_or(usize::MAX) {
            why.push(format!("beyond the usual {} contacts before a review", self.usual_contacts));
        }
        why
    }
}

/// The usual caseload per full-time link worker per year (NHS England guidance).
pub const NORM_PEOPLE_PER_YEAR: (i64, i64) = (200, 250);
/// The usual number of contacts per person.
pub const NORM_CONTACTS_PER_PERSON: (i64, i64) = (6, 12);

/// A share of a whole, for mixes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub label: &'static str,
    pub count: usize,
    pub percent: u32,
}

fn shares(counts: BTreeMap<&'static str, usize>, total: usize) -> Vec<Share> {
    let mut v: Vec<Share> = counts
        .into_iter()
        .map(|(label, count)| Share {
            label,
            count,
            percent: (count * 100).checked_div(total).map_or(0, |p| u32::try_from(p).unwrap_or(100)),
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(b.label)));
    v
}

/// How a worker practises, computed from their contacts: time per contact, frequency, and the
/// mix of modes and places. For the worker and their supervisor to discuss, never to rank.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PracticeProfile {
    pub contacts: usize,
    pub people: usize,
    pub total_minutes: i64,
    pub mean_minutes: i64,
    pub median_minutes: i64,
    /// Contacts per person seen, in tenths (6.5 is 65), to stay exact.
    pub contacts_per_person_tenths: i64,
    /// Mean days between contacts with the same person.
    pub mean_days_between: Option<i64>,
    pub modes: Vec<Share>,
    pub locations: Vec<Share>,
    pub outside_usual: usize,
}

impl PracticeProfile {
    pub fn contacts_per_person(&self) -> String {
        format!("{}.{}", self.contacts_per_person_tenths / 10, self.contacts_per_person_tenths % 10)
    }
}

/// Compute a practice profile from contacts.
pub fn practice_profile(contacts: &[Contact]) -> PracticeProfile {
    let n = contacts.len();
    let people: HashSet<EpisodeId> = contacts.iter().map(|c| c.episode_id).collect();
    let total: i64 = contacts.iter().map(|c| i64::from(c.minutes)).sum();
    let mut minutes: Vec<i64> = contacts.iter().map(|c| i64::from(c.minutes)).collect();
    minutes.sort_unstable();
    let median = match minutes.len() {
        0 => 0,
        l if l % 2 == 1 => minutes[l / 2],
        l => (minutes[l / 2 - 1] + minutes[l / 2]) / 2,
    };
    let mut modes = BTreeMap::new();
    let mut locations = BTreeMap::new();
    for c in contacts {
        *modes.entry(c.mode.label()).or_insert(0) += 1;
        *locations.entry(c.location.label()).or_insert(0) += 1;
    }
    let mut by_episode: BTreeMap<EpisodeId, Vec<NaiveDate>> = BTreeMap::new();
    for c in contacts {
        by_episode.entry(c.episode_id).or_default().push(c.happened_on);
    }
    let (mut gaps, mut gap_count) = (0i64, 0i64);
    for dates in by_episode.values_mut() {
        dates.sort_unstable();
        for w in dates.windows(2) {
            gaps += (w[1] - w[0]).num_days();
            gap_count += 1;
        }
    }
    let n64 = i64::try_from(n).unwrap_or(i64::MAX);
    let p64 = i64::try_from(people.len()).unwrap_or(i64::MAX);
    PracticeProfile {
        contacts: n,
        people: people.len(),
        total_minutes: total,
        mean_minutes: if n == 0 { 0 } else { total / n64 },
        median_minutes: median,
        contacts_per_person_tenths: if p64 == 0 { 0 } else { n64 * 10 / p64 },
        mean_days_between: (gap_count > 0).then(|| gaps / gap_count),
        modes: shares(modes, n),
        locations: shares(locations, n),
        outside_usual: contacts.iter().filter(|c| c.outside_usual).count(),
    }
}
