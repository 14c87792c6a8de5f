//! Outcome measures: the instruments and their scoring ([`instruments`], [`scoring`]), the
//! wording a deployer loads ([`wording`]), what is recorded for a person, when measures fall
//! due, change from baseline, and how complete recording is. Recording rises when results are
//! fed back (domain.md section 5), so everything here exists to be shown where it is used.

pub mod instruments;
pub mod scoring;
pub mod wording;

pub use instruments::{Instrument, Licence, Respondent, ScaleDef, Spec, spec};
pub use scoring::{Answer, Score};
pub use wording::{Questionnaire, Wording};

use crate::ids::{EpisodeId, OrgId, OutcomeId, OutcomeLinkId, PersonId, UserId};
use crate::vocabulary;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

vocabulary!(
    /// When in the episode a measure is taken.
    MeasurePoint {
        Baseline = "baseline": "Baseline",
        Review = "review": "Review",
        Discharge = "discharge": "Discharge",
    }
);

vocabulary!(
    /// What came of asking. Declining and not being able count as not recorded in reports,
    /// with the reason.
    RecordStatus {
        Completed = "completed": "Completed",
        Declined = "declined": "Declined to answer",
        NotAble = "not_able": "Not able to complete today",
    }
);

vocabulary!(
    /// How the answers came in.
    Via {
        WithWorker = "with_worker": "With the link worker",
        Link = "link": "By the person, from a secure link",
        Imported = "imported": "Imported total",
    }
);

/// One administration of an instrument for a person in an episode: the answers item by item
/// with the instrument's version (so scores can be recomputed), or a refusal, or an imported
/// total with its source.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeRecord {
    pub id: OutcomeId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub episode_id: EpisodeId,
    pub instrument: Instrument,
    pub version: String,
    pub point: MeasurePoint,
    pub status: RecordStatus,
    pub via: Via,
    /// Where an imported total came from ("Star Online export, March").
    pub source: Option<String>,
    pub answers: Vec<Answer>,
    /// An imported total.
    pub total: Option<f64>,
    /// The language of the wording answered.
    pub language: Option<String>,
    /// The day the person answered.
    pub completed_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    /// The worker who recorded it; none when the person answered a link.
    pub recorded_by: Option<UserId>,
}

impl OutcomeRecord {
    pub fn spec(&self) -> &'static Spec {
        spec(self.instrument)
    }

    /// The scores, recomputed from the answers by the instrument's rules (none for a refusal).
    pub fn scores(&self) -> Vec<Score> {
        let spec = self.spec();
        match (self.status, self.total) {
            (RecordStatus::Completed, Some(total)) => {
                spec.scales.first().map(|scale| Score { scale, value: total, raw: None }).into_iter().collect()
            }
            (RecordStatus::Completed, None) => spec.score(&self.answers),
            _ => vec![],
        }
    }

    pub fn is_completed(&self) -> bool {
        self.status == RecordStatus::Completed
    }
}

/// A team's outcome plan, from its settings: which instruments and when reviews fall due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomePlan {
    pub instruments: Vec<Instrument>,
    /// Weeks from the last measure to the next review.
    pub review_weeks: i32,
}

/// How long past its day a due measure becomes overdue.
pub const GRACE_DAYS: i64 = 14;

/// A measure that falls due in an episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub instrument: Instrument,
    pub point: MeasurePoint,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

impl Due {
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.instrument_short(),
            self.point.label().to_lowercase(),
            if self.overdue { "overdue" } else { "due" }
        )
    }

    pub fn instrument_short(&self) -> &'static str {
        short_name(self.instrument)
    }
}

/// The instrument's short name, for tags and table headings.
pub fn short_name(i: Instrument) -> &'static str {
    match i {
        Instrument::Ons4 => "ONS4",
        Instrument::Ucla3 => "UCLA-3",
        Instrument::Swemwbs => "SWEMWBS",
        Instrument::Wemwbs => "WEMWBS",
        Instrument::CbiWork => "CBI",
        Instrument::Ose6 => "OSE-6",
        Instrument::Pam => "PAM",
        Instrument::Eq5d5l => "EQ-5D-5L",
        Instrument::WellbeingStar => "Wellbeing Star",
        Instrument::Mycaw => "MYCaW",
    }
}

/// Which of the plan's measures are due in an open episode on `today`: the baseline from the
/// first contact (the first conversations are when it is taken), then a review every
/// `review_weeks` after the latest measure of that instrument. Any record clears what was
/// due, a refusal included (asking again at once would not be kind); overdue after
/// [`GRACE_DAYS`]. Discharge measures are asked on the discharge page.
pub fn due(
    plan: &OutcomePlan,
    first_contact_on: Option<NaiveDate>,
    records: &[&OutcomeRecord],
    today: NaiveDate,
) -> Vec<Due> {
    let Some(first) = first_contact_on else { return vec![] };
    let mut out = vec![];
    for &instrument in &plan.instruments {
        let mine: Vec<&&OutcomeRecord> = records.iter().filter(|r| r.instrument == instrument).collect();
        let (point, due_on) = match mine.iter().map(|r| r.completed_on).max() {
            None => (MeasurePoint::Baseline, first),
            Some(last) => (MeasurePoint::Review, last + Duration::weeks(i64::from(plan.review_weeks.max(1)))),
        };
        if due_on <= today {
            out.push(Due { instrument, point, due_on, overdue: today > due_on + Duration::days(GRACE_DAYS) });
        }
    }
    out
}

/// Whether `instrument` may be taken again on `on`: the last completed administration in the
/// episode is at least the instrument's interval before. `Err` names the first day it may be.
pub fn check_interval(instrument: Instrument, records: &[&OutcomeRecord], on: NaiveDate) -> Result<(), NaiveDate> {
    let gap = spec(instrument).min_interval_days;
    let last = records.iter().filter(|r| r.instrument == instrument && r.is_completed()).map(|r| r.completed_on).max();
    match last {
        Some(last) if gap > 0 && (on - last).num_days().abs() < gap => Err(last + Duration::days(gap)),
        _ => Ok(()),
    }
}

/// One scale's scores over time in an episode or a person's record, with the change from the
/// baseline to the latest.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub instrument: Instrument,
    pub scale: &'static ScaleDef,
    /// Day, point and score, oldest first.
    pub points: Vec<(NaiveDate, MeasurePoint, f64)>,
}

impl Series {
    /// The baseline: the first measure taken at baseline, else the first.
    pub fn baseline(&self) -> Option<(NaiveDate, MeasurePoint, f64)> {
        self.points.iter().find(|p| p.1 == MeasurePoint::Baseline).or(self.points.first()).copied()
    }

    pub fn latest(&self) -> Option<(NaiveDate, MeasurePoint, f64)> {
        self.points.last().copied()
    }

    /// Latest minus baseline, when there are two measures.
    pub fn change(&self) -> Option<f64> {
        let (b, l) = (self.baseline()?, self.latest()?);
        (self.points.len() > 1 && l.0 > b.0).then_some(l.2 - b.2)
    }

    /// The change in words: "up 4 (better)", "down 1.5 (worse)", "no change".
    pub fn change_words(&self) -> Option<String> {
        let c = self.change()?;
        if c.abs() < 1e-9 {
            return Some("No change".into());
        }
        let better = (c > 0.0) == self.scale.higher_is_better;
        Some(format!(
            "{} {} ({})",
            if c > 0.0 { "Up" } else { "Down" },
            scoring::shown(c.abs()),
            if better { "better" } else { "worse" }
        ))
    }
}

/// Completed scores grouped by instrument and scale, oldest first within each.
pub fn series(records: &[OutcomeRecord]) -> Vec<Series> {
    let mut sorted: Vec<&OutcomeRecord> = records.iter().filter(|r| r.is_completed()).collect();
    sorted.sort_by_key(|r| (r.completed_on, r.recorded_at));
    let mut out: Vec<Series> = vec![];
    for r in sorted {
        for s in r.scores() {
            match out.iter_mut().find(|x| x.instrument == r.instrument && x.scale.code == s.scale.code) {
                Some(x) => x.points.push((r.completed_on, r.point, s.value)),
                None => out.push(Series {
                    instrument: r.instrument,
                    scale: s.scale,
                    points: vec![(r.completed_on, r.point, s.value)],
                }),
            }
        }
    }
    out.sort_by_key(|s| Instrument::ALL.iter().position(|i| *i == s.instrument));
    out
}

/// How complete recording is over a set of episodes: the gap made visible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub episodes: usize,
    /// Episodes with a completed baseline.
    pub baseline: usize,
    /// Episodes with a completed measure after their baseline.
    pub follow_up: usize,
    /// Episodes with a baseline and a later measure of the same instrument: a before and after.
    pub paired: usize,
    /// Episodes where a measure was declined, or could not be completed (not recorded, with
    /// the reason).
    pub declined: usize,
    pub not_able: usize,
}

impl Coverage {
    /// `part` of the episodes as a whole percentage.
    pub fn percent(&self, part: usize) -> u32 {
        if self.episodes == 0 { 0 } else { ((part * 100) as f64 / self.episodes as f64).round() as u32 }
    }
}

/// Coverage of `episodes` from their outcome records.
pub fn coverage(episodes: &[EpisodeId], records: &[OutcomeRecord]) -> Coverage {
    let mut c = Coverage { episodes: episodes.len(), ..Coverage::default() };
    for e in episodes {
        let mine: Vec<&OutcomeRecord> = records.iter().filter(|r| r.episode_id == *e).collect();
        let done: Vec<&&OutcomeRecord> = mine.iter().filter(|r| r.is_completed()).collect();
        let baselines: Vec<&&&OutcomeRecord> = done.iter().filter(|r| r.point == MeasurePoint::Baseline).collect();
        let first = baselines.iter().map(|r| r.completed_on).min();
        if let Some(first) = first {
            c.baseline += 1;
            if done.iter().any(|r| r.point != MeasurePoint::Baseline && r.completed_on > first) {
                c.follow_up += 1;
            }
            if baselines.iter().any(|b| {
                done.iter().any(|r| {
                    r.instrument == b.instrument && r.point != MeasurePoint::Baseline && r.completed_on > b.completed_on
                })
            }) {
                c.paired += 1;
            }
        }
        if mine.iter().any(|r| r.status == RecordStatus::Declined) {
            c.declined += 1;
        }
        if mine.iter().any(|r| r.status == RecordStatus::NotAble) {
            c.not_able += 1;
        }
    }
    c
}

/// How long a questionnaire link works.
pub const LINK_DAYS: i64 = 14;
/// When an unanswered link is reminded, once.
pub const REMIND_AFTER_DAYS: i64 = 7;

/// A questionnaire sent to a person to answer on their own: a random single-use token stored
/// only as its hash, which expires and can be answered once. A reminder carries a second
/// token (the first is never stored), and either opens the same questionnaire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeLink {
    pub id: OutcomeLinkId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub episode_id: EpisodeId,
    pub instrument: Instrument,
    pub point: MeasurePoint,
    pub token_hash: String,
    pub reminder_hash: Option<String>,
    /// `email` or `sms`.
    pub channel: String,
    /// The language of the wording sent.
    pub language: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
    pub record_id: Option<OutcomeId>,
}

impl OutcomeLink {
    /// Whether the link can still be answered at `now`.
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }

    /// Whether the one reminder is due: unanswered, not reminded, a week old, not expired.
    pub fn reminder_due(&self, now: DateTime<Utc>) -> bool {
        self.usable(now) && self.reminded_at.is_none() && now >= self.created_at + Duration::days(REMIND_AFTER_DAYS)
    }

    /// Where the link stands, for the record page.
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        match (self.used_at, self.usable(now)) {
            (Some(_), _) => "Answered",
            (None, true) => "Waiting for an answer",
            (None, false) => "Expired without an answer",
        }
    }
}

/// A new link token: 244 random bits from the operating system (two version 4 UUIDs), as 64
/// hex characters.
pub fn new_token() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    format!("{}{}", a.simple(), b.simple())
}

/// What is stored of a token: its SHA-256. A token that is not 64 hex characters hashes to
/// something no link has, so a malformed one is answered like an unknown one.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(instrument: Instrument, point: MeasurePoint, on: NaiveDate, values: &[i32]) -> OutcomeRecord {
        let s = spec(instrument);
        OutcomeRecord {
            id: OutcomeId::new(),
            org_id: OrgId::new(),
            person_id: PersonId::new(),
            episode_id: EpisodeId(uuid::Uuid::nil()),
            instrument,
            version: s.version.into(),
            point,
            status: RecordStatus::Completed,
            via: Via::WithWorker,
            source: None,
            answers: s.items.iter().zip(values).map(|(i, v)| Answer { item: i.code.into(), value: *v }).collect(),
            total: None,
            language: None,
            completed_on: on,
            recorded_at: on.and_hms_opt(12, 0, 0).unwrap().and_utc(),
            recorded_by: None,
        }
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn baseline_falls_due_at_the_first_contact_then_reviews_follow() {
        let plan = OutcomePlan { instruments: vec![Instrument::Ons4, Instrument::Ucla3], review_weeks: 12 };
        assert!(due(&plan, None, &[], d(5, 1)).is_empty(), "nothing before a first contact");
        let due_now = due(&plan, Some(d(3, 1)), &[], d(3, 10));
        assert_eq!(due_now.len(), 2);
        assert!(due_now.iter().all(|x| x.point == MeasurePoint::Baseline && !x.overdue));
        assert!(due(&plan, Some(d(3, 1)), &[], d(3, 16)).iter().all(|x| x.overdue));
        let ons = rec(Instrument::Ons4, MeasurePoint::Baseline, d(3, 2), &[5, 5, 5, 5]);
        let mut declined = rec(Instrument::Ucla3, MeasurePoint::Baseline, d(3, 2), &[]);
        declined.status = RecordStatus::Declined;
        assert!(due(&plan, Some(d(3, 1)), &[&ons, &declined], d(3, 10)).is_empty());
        let review = due(&plan, Some(d(3, 1)), &[&ons, &declined], d(5, 25));
        assert_eq!(review.len(), 2);
        assert_eq!(
            review[0],
            Due { instrument: Instrument::Ons4, point: MeasurePoint::Review, due_on: d(5, 25), overdue: false }
        );
        assert_eq!(review[0].describe(), "ONS4 review due");
    }

    #[test]
    fn an_instrument_is_not_repeated_inside_its_interval() {
        let first = rec(Instrument::Swemwbs, MeasurePoint::Baseline, d(3, 2), &[3; 7]);
        assert_eq!(check_interval(Instrument::Swemwbs, &[&first], d(3, 10)), Err(d(3, 16)));
        assert_eq!(check_interval(Instrument::Swemwbs, &[&first], d(3, 16)), Ok(()));
        assert_eq!(check_interval(Instrument::Ons4, &[&first], d(3, 3)), Ok(()));
    }

    #[test]
    fn series_show_change_from_baseline_in_the_scale_s_direction() {
        let rs = vec![
            rec(Instrument::Ucla3, MeasurePoint::Review, d(6, 1), &[1, 2, 1]),
            rec(Instrument::Ucla3, MeasurePoint::Baseline, d(3, 1), &[3, 3, 2]),
            rec(Instrument::Ons4, MeasurePoint::Baseline, d(3, 1), &[4, 5, 5, 7]),
            rec(Instrument::Ons4, MeasurePoint::Discharge, d(7, 1), &[7, 5, 6, 3]),
        ];
        let s = series(&rs);
        assert_eq!(s.len(), 5);
        assert_eq!(s[0].scale.code, "life_satisfaction");
        assert_eq!(s[0].change_words().as_deref(), Some("Up 3 (better)"));
        assert_eq!(s[1].change_words().as_deref(), Some("No change"));
        assert_eq!(s[3].change_words().as_deref(), Some("Down 4 (better)"), "less anxious is better");
        assert_eq!(s[4].points.len(), 2);
        assert_eq!(s[4].change(), Some(-4.0));
        assert_eq!(s[4].change_words().as_deref(), Some("Down 4 (better)"), "less lonely is better");
    }

    #[test]
    fn coverage_counts_baselines_follow_ups_pairs_and_refusals() {
        let (a, b, c) = (EpisodeId::new(), EpisodeId::new(), EpisodeId::new());
        let mut rs = vec![
            rec(Instrument::Ons4, MeasurePoint::Baseline, d(3, 1), &[4, 5, 5, 7]),
            rec(Instrument::Ucla3, MeasurePoint::Review, d(6, 1), &[1, 2, 1]),
            rec(Instrument::Ons4, MeasurePoint::Baseline, d(3, 1), &[4, 5, 5, 7]),
            rec(Instrument::Ons4, MeasurePoint::Review, d(6, 1), &[4, 5, 5, 7]),
            rec(Instrument::Swemwbs, MeasurePoint::Baseline, d(3, 1), &[]),
        ];
        rs[0].episode_id = a;
        rs[1].episode_id = a;
        rs[2].episode_id = b;
        rs[3].episode_id = b;
        rs[4].episode_id = c;
        rs[4].status = RecordStatus::Declined;
        let cov = coverage(&[a, b, c, EpisodeId::new()], &rs);
        assert_eq!(cov, Coverage { episodes: 4, baseline: 2, follow_up: 2, paired: 1, declined: 1, not_able: 0 });
        assert_eq!(cov.percent(cov.paired), 25);
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (t1, t2) = (new_token(), new_token());
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, t2);
        assert_eq!(hash_token(&t1), hash_token(&format!(" {t1} ")));
        assert_ne!(hash_token(&t1), t1);
    }
}
