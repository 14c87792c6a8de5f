//! The casework of an episode, from acceptance to discharge: the "what matters to you"
//! conversation (needs in the person's own words), the personalised care and support plan
//! (goals and their progress), contacts, holding periods, appointments, barriers and discharge.
//! Also the team settings that make each team's micro-discretions explicit, and the practice
//! profile computed from a worker's contacts. domain.md sections 1 and 3 are the source.

pub mod coding;
pub mod message_back;
mod practice;

pub use practice::{
    NORM_CONTACTS_PER_PERSON, NORM_PEOPLE_PER_YEAR, PracticeProfile, Share, TeamSettings, practice_profile,
};

use crate::ids::{
    AppointmentId, BarrierId, ContactId, EpisodeId, GoalId, HoldingId, NeedId, OrgId, PersonId, ReferralId, TeamId,
    UserId,
};
use crate::uktime::UkTime;
use crate::values::InvalidValue;
use crate::vocabulary;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

vocabulary!(
    /// Need domains for the "what matters to you" conversation and for referral reasons.
    NeedDomain {
        Loneliness = "loneliness": "Loneliness and isolation",
        MentalWellbeing = "mental_wellbeing": "Mental well-being",
        PhysicalActivity = "physical_activity": "Physical activity",
        Money = "money": "Money and debt",
        Housing = "housing": "Housing",
        Work = "work": "Work and skills",
        Caring = "caring": "Caring",
        Bereavement = "bereavement": "Bereavement",
        LongTermConditions = "long_term_conditions": "Long-term conditions",
        Digital = "digital": "Digital inclusion",
        Other = "other": "Other",
    }
);

vocabulary!(
    /// What the link worker is doing in an episode. Holding is legitimate work, not a failure
    /// to connect (domain.md 3.1).
    EpisodeWork {
        Connecting = "connecting": "Connecting",
        Holding = "holding": "Holding",
        Both = "both": "Connecting and holding",
    }
);

vocabulary!(
    /// Why a person is being held: the four functions found by Westlake et al. (2024).
    HoldingReason {
        Waiting = "waiting": "Supporting while waiting for another service",
        Preparing = "preparing": "Sustaining while preparing for change",
        EasingLoad = "easing_load": "Easing the load on primary care",
        BearingWitness = "bearing_witness": "Bearing witness to distress",
    }
);

vocabulary!(
    /// How a holding period ended.
    HoldingEnd {
        ConnectedOnward = "connected_onward": "Connected onward",
        ServiceStarted = "service_started": "The awaited service started",
        ReadyForChange = "ready": "Ready to move on",
        Closed = "closed": "Episode closed",
    }
);

vocabulary!(
    /// Where a goal stands.
    GoalStatus {
        NotStarted = "not_started": "Not started",
        InProgress = "in_progress": "In progress",
        Achieved = "achieved": "Achieved",
        PartlyAchieved = "partly_achieved": "Partly achieved",
        Stopped = "stopped": "Stopped",
    }
);

vocabulary!(
    /// How a contact happened.
    ContactMode {
        FaceToFace = "face_to_face": "Face to face",
        Phone = "phone": "Phone",
        Video = "video": "Video",
        Text = "text": "Text or email",
        HomeVisit = "home_visit": "Home visit",
    }
);

vocabulary!(
    /// Where a contact happened.
    ContactLocation {
        Practice = "practice": "GP practice",
        Home = "home": "The person's home",
        Community = "community": "Community venue",
        Remote = "remote": "Remote (phone, video or text)",
        Other = "other": "Somewhere else",
    }
);

vocabulary!(
    /// Where an appointment stands.
    AppointmentStatus {
        Booked = "booked": "Booked",
        Attended = "attended": "Attended",
        DidNotAttend = "did_not_attend": "Did not attend",
        Cancelled = "cancelled": "Cancelled",
    }
);

vocabulary!(
    /// Whether a barrier is outside the person's control (structural) or their own.
    BarrierKind {
        Structural = "structural": "Structural",
        Personal = "personal": "Personal",
    }
);

vocabulary!(
    /// Coded barriers (domain.md 3.3): structural ones become unmet-need data for commissioners.
    BarrierCode {
        Housing = "housing": "Housing",
        Work = "work": "Work",
        Money = "money": "Money",
        Transport = "transport": "Transport",
        ServiceCapacity = "service_capacity": "Service capacity (waiting lists, no service)",
        Health = "health": "Health or disability",
        Confidence = "confidence": "Confidence or motivation",
        Caring = "caring": "Caring responsibilities",
        Language = "language": "Language",
        Digital = "digital": "Digital access",
        Other = "other": "Other",
    }
);

impl BarrierCode {
    /// The usual kind of this barrier; the worker may record it otherwise.
    pub fn usual_kind(self) -> BarrierKind {
        match self {
            BarrierCode::Housing
            | BarrierCode::Work
            | BarrierCode::Money
            | BarrierCode::Transport
            | BarrierCode::ServiceCapacity
            | BarrierCode::Digital => BarrierKind::Structural,
            _ => BarrierKind::Personal,
        }
    }
}

vocabulary!(
    /// Why an episode ended.
    DischargeReason {
        GoalsMet = "goals_met": "Goals met",
        ConnectedOnward = "connected": "Connected to support and no longer needs the link worker",
        PersonEnded = "person_ended": "The person chose to end support",
        NoContact = "no_contact": "Lost contact",
        Moved = "moved": "Moved away or changed practice",
        Referred = "referred": "Referred to a more suitable service",
        Died = "died": "Died",
        Other = "other": "Other",
    }
);

/// An episode of care with a link worker: opened when a referral is accepted, closed at
/// discharge. A person has at most one open episode at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    pub id: EpisodeId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    /// The referral that opened it.
    pub referral_id: ReferralId,
    pub team_id: TeamId,
    /// The link worker who holds the case.
    pub worker_id: Option<UserId>,
    pub work: EpisodeWork,
    pub opened_at: DateTime<Utc>,
    /// When the next contact is due (set with each contact).
    pub follow_up_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub discharge_reason: Option<DischargeReason>,
    /// The discharge summary's free-text part, in the worker's words.
    pub discharge_note: Option<String>,
    pub version: i32,
}

impl Episode {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// The UK day the episode opened: nothing recorded in it happened before.
    pub fn opened_on(&self) -> NaiveDate {
        self.opened_at.uk_date()
    }

    /// A day something in the episode happened or began (a contact, a holding period): not
    /// before the episode opened, and not after `today`.
    pub fn check_happened(&self, day: NaiveDate, today: NaiveDate, what: &str) -> Result<NaiveDate, InvalidValue> {
        if day < self.opened_on() {
            return Err(InvalidValue(format!(
                "The {what} cannot be before the episode opened on {}",
                self.opened_on().format("%-d %B %Y")
            )));
        }
        if day > today {
            return Err(InvalidValue(format!("The {what} cannot be in the future")));
        }
        Ok(day)
    }
}

/// A day something is due (a follow-up, a review): today or later. `kept` is the value already
/// saved, which may stay as it is (an overdue follow-up is left alone when something else is
/// changed).
pub fn check_due(
    day: NaiveDate,
    today: NaiveDate,
    kept: Option<NaiveDate>,
    what: &str,
) -> Result<NaiveDate, InvalidValue> {
    if day < today && kept != Some(day) {
        return Err(InvalidValue(format!("The {what} must be today or later")));
    }
    Ok(day)
}

impl Episode {}

/// Something that matters to the person, in their own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub id: NeedId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub domain: NeedDomain,
    pub own_words: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
}

/// A goal in the personalised care and support plan, in the person's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub id: GoalId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub domain: NeedDomain,
    pub own_words: String,
    /// Steps agreed: who does what.
    pub steps: String,
    pub status: GoalStatus,
    /// How far along, as the person sees it, 0–10.
    pub progress: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// One review of a goal: progress over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalReview {
    pub goal_id: GoalId,
    pub org_id: OrgId,
    pub status: GoalStatus,
    pub progress: i32,
    pub note: String,
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
}

/// A contact with the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub worker_id: Option<UserId>,
    /// The day it happened (UK).
    pub happened_on: NaiveDate,
    /// The moment it started, when the worker gave a time of day (contacts recorded before
    /// times were kept have their day only).
    pub happened_at: Option<DateTime<Utc>>,
    pub minutes: i32,
    pub mode: ContactMode,
    pub location: ContactLocation,
    /// Who else was there, in words.
    pub present: String,
    pub notes: String,
    /// Outside the team's usual criteria (length, place, number of contacts): a micro-discretion
    /// made visible, not a fault.
    pub outside_usual: bool,
    pub created_at: DateTime<Utc>,
}

/// A period of holding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingPeriod {
    pub id: HoldingId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub reason: HoldingReason,
    pub started_on: NaiveDate,
    pub review_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub ended_how: Option<HoldingEnd>,
    pub note: String,
}

/// Holding longer than this is brought to supervision for review (never counted as failure).
pub const LONG_HOLDING_DAYS: i64 = 84;

impl HoldingPeriod {
    pub fn days(&self, today: NaiveDate) -> i64 {
        (self.ended_on.unwrap_or(today) - self.started_on).num_days()
    }
    /// Long enough to talk about at supervision.
    pub fn for_supervision(&self, today: NaiveDate) -> bool {
        self.ended_on.is_none() && self.days(today) >= LONG_HOLDING_DAYS
    }
    pub fn review_due(&self, today: NaiveDate) -> bool {
        self.ended_on.is_none() && self.review_on <= today
    }
}

/// An appointment with the person; reminders go by their chosen channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub person_id: PersonId,
    pub worker_id: Option<UserId>,
    pub starts_at: DateTime<Utc>,
    pub minutes: i32,
    pub mode: ContactMode,
    pub location: ContactLocation,
    pub status: AppointmentStatus,
    /// Send a reminder the day before.
    pub remind: bool,
    pub created_at: DateTime<Utc>,
}

/// How long before an appointment its reminder goes.
pub const REMINDER_BEFORE: chrono::Duration = chrono::Duration::hours(24);

/// A barrier to the person's progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Barrier {
    pub id: BarrierId,
    pub org_id: OrgId,
    pub episode_id: EpisodeId,
    pub kind: BarrierKind,
    pub code: BarrierCode,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
}

/// Parse a number typed into a form, within `min..=max`.
pub fn parse_number(input: &str, min: i32, max: i32, what: &str) -> Result<i32, InvalidValue> {
    let n: i32 = input.trim().parse().map_err(|_| InvalidValue(format!("Enter the {what} as a whole number")))?;
    if n < min || n > max {
        return Err(InvalidValue(format!("Enter a {what} between {min} and {max}")));
    }
    Ok(n)
}

/// Parse a date typed as `YYYY-MM-DD` or `DD/MM/YYYY`.
pub fn parse_date(input: &str, what: &str) -> Result<NaiveDate, InvalidValue> {
    let s = input.trim();
    if s.is_empty() {
        return Err(InvalidValue(format!("Enter the {what}")));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| InvalidValue(format!("Enter a real {what}: the day, month and year, like 31 3 2027")))
}

/// Text in the person's own words: required, at most `max` characters.
pub fn parse_words(input: &str, max: usize, what: &str) -> Result<String, InvalidValue> {
    let s = input.trim();
    if s.is_empty() {
        return Err(InvalidValue(format!("Enter {what}")));
    }
    if s.chars().count() > max {
        return Err(InvalidValue(format!("Keep {what} to {max} characters or fewer")));
    }
    Ok(s.to_owned())
}

/// One open episode in a worker's caseload, with what the day needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseloadItem {
    pub episode: Episode,
    pub person_name: String,
    pub nhs_number: Option<String>,
    pub safeguarding: bool,
    /// A lone-working risk is flagged: plan visits with it in mind.
    pub lone_working: bool,
    /// Answers from services to the person's referrals that the team has not read.
    pub new_answers: i64,
    pub holding_since: Option<NaiveDate>,
    pub holding_review_on: Option<NaiveDate>,
    pub contacts: i64,
    pub last_contact: Option<NaiveDate>,
    pub first_contact: Option<NaiveDate>,
    pub next_appointment: Option<DateTime<Utc>>,
}

impl CaseloadItem {
    /// Holding now (an open holding period).
    pub fn holding(&self) -> bool {
        self.holding_since.is_some()
    }
    /// A follow-up or holding review whose date has passed.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.follow_up_overdue(today) || self.review_overdue(today).is_some()
    }
    /// The next follow-up date has passed.
    pub fn follow_up_overdue(&self, today: NaiveDate) -> bool {
        self.episode.follow_up_on.is_some_and(|d| d < today)
    }
    /// The open holding period's review date, when it has passed. Shown as its own tag beside
    /// the holding, never as "Overdue" beside a follow-up date still to come.
    pub fn review_overdue(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.holding_review_on.filter(|d| *d < today)
    }
    pub fn appointment_today(&self, today: NaiveDate) -> bool {
        self.next_appointment.is_some_and(|t| t.uk_date() == today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(episode: EpisodeId, day: u32, minutes: i32, mode: ContactMode, location: ContactLocation) -> Contact {
        Contact {
            id: ContactId::new(),
            org_id: OrgId::new(),
            episode_id: episode,
            worker_id: None,
            happened_on: NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default(),
            happened_at: None,
            minutes,
            mode,
            location,
            present: String::new(),
            notes: String::new(),
            outside_usual: minutes > 90,
            created_at: DateTime::default(),
        }
    }

    #[test]
    fn practice_profile_from_contacts() {
        let (a, b) = (EpisodeId::new(), EpisodeId::new());
        let cs = vec![
            contact(a, 1, 30, ContactMode::Phone, ContactLocation::Remote),
            contact(a, 8, 60, ContactMode::FaceToFace, ContactLocation::Practice),
            contact(a, 22, 120, ContactMode::HomeVisit, ContactLocation::Home),
            contact(b, 3, 45, ContactMode::FaceToFace, ContactLocation::Practice),
        ];
        let p = practice_profile(&cs);
        assert_eq!((p.contacts, p.people, p.total_minutes), (4, 2, 255));
        assert_eq!(p.mean_minutes, 63);
        assert_eq!(p.median_minutes, 52);
        assert_eq!(p.contacts_per_person(), "2.0");
        assert_eq!(p.mean_days_between, Some(10), "gaps of 7 and 14 days");
        assert_eq!(p.modes[0], Share { label: "Face to face", count: 2, percent: 50 });
        assert_eq!(p.outside_usual, 1);
        let empty = practice_profile(&[]);
        assert_eq!((empty.mean_minutes, empty.median_minutes, empty.mean_days_between), (0, 0, None));
    }

    #[test]
    fn contacts_outside_the_teams_usual_criteria() {
        let mut s = TeamSettings::defaults(TeamId::new(), OrgId::new());
        assert!(s.outside_usual(45, ContactLocation::Home, 0).is_empty());
        s.allowed_locations = vec![ContactLocation::Practice, ContactLocation::Remote];
        assert_eq!(s.outside_usual(100, ContactLocation::Home, 6).len(), 3);
    }

    #[test]
    fn long_holding_goes_to_supervision() {
        let start = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap_or_default();
        let h = HoldingPeriod {
            id: HoldingId::new(),
            org_id: OrgId::new(),
            episode_id: EpisodeId::new(),
            reason: HoldingReason::Waiting,
            started_on: start,
            review_on: start + chrono::Duration::days(28),
            ended_on: None,
            ended_how: None,
            note: String::new(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(h.days(today), 115);
        assert!(h.for_supervision(today) && h.review_due(today));
        assert!(!h.for_supervision(start + chrono::Duration::days(83)));
    }
}
