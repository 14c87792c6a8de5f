//! The community directory and connections to it. Listings follow Open Referral UK (see
//! [`crate::directory::oruk`]); what linkwork adds on top is here: capacity, trust (verification, review
//! reminders, problem reports, claims, history), and connections (signposts and referrals out)
//! whose statuses follow the FHIR Task statuses of the Gravity closed-loop guide (domain.md 4.3).

pub mod oruk;

use crate::casework::NeedDomain;
use crate::ids::{ClaimId, ConnectionId, EpisodeId, OrgId, PersonId, ReportId, ServiceId, UserId};
use crate::values::InvalidValue;
use crate::vocabulary;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

vocabulary!(
    /// Whether a service is taking people now (Gravity capacity, ballot 3.0).
    Capacity {
        Accepting = "accepting": "Accepting referrals",
        WaitUnderMonth = "waitlist_under_1_month": "Waiting list: under 1 month",
        WaitOneToThree = "waitlist_1_to_3_months": "Waiting list: 1 to 3 months",
        WaitOverThree = "waitlist_over_3_months": "Waiting list: over 3 months",
        NotAccepting = "not_accepting": "Not accepting referrals",
    }
);

vocabulary!(
    /// What someone reports wrong with a listing (the ALISS set).
    ProblemKind {
        Unclear = "unclear": "The information is unclear",
        ContactWrong = "contact_wrong": "The contact details are wrong",
        Closed = "closed": "The service has closed",
        WrongArea = "wrong_area": "The area is wrong",
        Other = "other": "Something else",
    }
);

vocabulary!(
    /// Signpost (the person is told about the service; nothing is sent) or refer (the service
    /// receives the referral in its inbox).
    ConnectionKind {
        Refer = "refer": "Referral",
        Signpost = "signpost": "Signposted",
    }
);

vocabulary!(
    /// FHIR Task statuses of a referral out (domain.md 4.3).
    TaskStatus {
        Draft = "draft": "Draft",
        Requested = "requested": "Sent, awaiting reply",
        Accepted = "accepted": "Accepted",
        Rejected = "rejected": "Declined",
        InProgress = "in-progress": "Attending",
        OnHold = "on-hold": "On hold",
        Completed = "completed": "Completed",
        Failed = "failed": "Did not attend",
        Cancelled = "cancelled": "Cancelled",
        EnteredInError = "entered-in-error": "Entered in error",
    }
);

vocabulary!(
    /// Why a service declined a referral (domain.md 4.3).
    DeclineReason {
        AtCapacity = "at_capacity": "At capacity",
        NotEligible = "not_eligible": "Not eligible",
        OutOfArea = "out_of_area": "Out of area",
        UnableToContact = "unable_to_contact": "Unable to contact the person",
        PersonDeclined = "person_declined": "The person declined",
        MissingInformation = "missing_information": "Missing information",
        Other = "other": "Other",
    }
);

vocabulary!(
    /// Why a need went unmet: data for commissioners.
    UnmetReason {
        NoSuitableService = "no_suitable_service": "No suitable service",
        AtCapacity = "at_capacity": "Declined: the service was at capacity",
    }
);

/// Which end of a connection acts: the tenant that referred, or the organisation that owns the
/// receiving service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Referring,
    Receiving,
}

impl TaskStatus {
    /// Whether the task is over (nothing more will happen to it).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Rejected
                | TaskStatus::Completed
                | TaskStatus::Failed
                | TaskStatus::Cancelled
                | TaskStatus::EnteredInError
        )
    }

    /// The statuses a task may move to from this one. Either side may cancel an open task;
    /// entered-in-error is always available (it withdraws a record made by mistake).
    pub fn next(self) -> &'static [TaskStatus] {
        use TaskStatus::*;
        match self {
            Draft => &[Requested, Cancelled, EnteredInError],
            Requested => &[Accepted, Rejected, Cancelled, EnteredInError],
            Accepted => &[InProgress, Failed, Cancelled, EnteredInError],
            InProgress => &[OnHold, Completed, Failed, Cancelled, EnteredInError],
            OnHold => &[InProgress, Completed, Failed, Cancelled, EnteredInError],
            Rejected | Completed | Failed | Cancelled => &[EnteredInError],
            EnteredInError => &[],
        }
    }

    /// Whether `side` may set this status: the service answers (accepts, declines, records
    /// attendance and the end) and may cancel; the referring link worker cancels or withdraws
    /// a referral made by mistake. Either way the move must also be allowed from where it is.
    pub fn settable_by(self, side: Side) -> bool {
        use TaskStatus::*;
        match side {
            Side::Receiving => {
                matches!(self, Accepted | Rejected | InProgress | OnHold | Completed | Failed | Cancelled)
            }
            Side::Referring => matches!(self, Cancelled | EnteredInError),
        }
    }

    /// Whether a move from this status to `to` is allowed. Staying "in progress" is allowed: it
    /// records that the person is still attending.
    pub fn may_become(self, to: TaskStatus) -> bool {
        self.next().contains(&to) || (self == TaskStatus::InProgress && to == TaskStatus::InProgress)
    }
}

/// A listing as linkwork keeps it: the Open Referral UK document plus capacity and trust.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub id: ServiceId,
    pub organization_id: uuid::Uuid,
    pub organization_name: String,
    /// The tenant (VCSE organisation in linkwork) that manages this listing, once claimed.
    pub owner_org_id: Option<OrgId>,
    /// The tenant whose directory staff look after the listing's organisation.
    pub steward_org_id: Option<OrgId>,
    pub name: String,
    pub description: String,
    pub status: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    pub free: bool,
    pub modes: oruk::Modes,
    pub languages: Vec<String>,
    pub accessibility: String,
    pub capacity: Capacity,
    pub document: oruk::Service,
    /// Where it came from: "linkwork", a file name, or a feed's base URL.
    pub source: String,
    pub last_modified: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub review_months: i32,
    pub review_reminded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

impl Listing {
    /// When the listing is next due for review by its owner.
    pub fn review_due(&self) -> DateTime<Utc> {
        let from = self.verified_at.unwrap_or(self.created_at);
        from + Duration::days(i64::from(self.review_months.max(1)) * 30)
    }

    /// Past its review date: shown flagged, so nobody trusts an old phone number.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now > self.review_due()
    }

    /// Who the listing suits by age, in words.
    pub fn ages(&self) -> Option<String> {
        match (self.minimum_age, self.maximum_age) {
            (Some(a), Some(b)) => Some(format!("Ages {a} to {b}")),
            (Some(a), None) => Some(format!("Ages {a} and over")),
            (None, Some(b)) => Some(format!("Ages up to {b}")),
            (None, None) => None,
        }
    }

    /// The ways in, in words.
    pub fn mode_labels(&self) -> Vec<&'static str> {
        AccessMode::ALL.iter().filter(|m| m.offered_by(&self.modes)).map(|m| m.label()).collect()
    }
}

vocabulary!(
    /// How a person can take part in a service: the search filter and the listing's summary.
    AccessMode {
        InPerson = "in_person": "In person",
        Online = "online": "Online",
        Phone = "phone": "By phone",
    }
);

impl AccessMode {
    /// Whether a service with these modes offers this way in.
    pub fn offered_by(self, modes: &oruk::Modes) -> bool {
        match self {
            AccessMode::InPerson => modes.in_person,
            AccessMode::Online => modes.online,
            AccessMode::Phone => modes.phone,
        }
    }
}

/// Default months between reviews of a listing.
pub const DEFAULT_REVIEW_MONTHS: i32 = 6;

/// A search of the directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DirectoryQuery {
    pub text: String,
    pub term: Option<uuid::Uuid>,
    pub taxonomy: Option<uuid::Uuid>,
    pub organization: Option<uuid::Uuid>,
    /// Suits someone within these ages (inclusive); one age is `(a, a)`.
    pub ages: Option<(f64, f64)>,
    /// Open on this day (0 = Monday) ...
    pub day: Option<u8>,
    /// ... across these minutes of the day.
    pub from: Option<u16>,
    pub until: Option<u16>,
    pub free_only: bool,
    pub language: Option<String>,
    pub accessibility: Option<String>,
    pub in_person: bool,
    pub online: bool,
    pub phone: bool,
    pub capacity: Vec<Capacity>,
    /// Only active services (the default for link workers).
    pub active_only: bool,
    /// Within `radius_km` of this point.
    pub near: Option<(f64, f64)>,
    pub radius_km: f64,
    pub modified_after: Option<DateTime<Utc>>,
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub listing: Listing,
    pub score: i64,
    /// Kilometres to the nearest place it is delivered, when searched by distance.
    pub distance_km: Option<f64>,
}

/// A search by distance weighs at most this many of the nearest matches: the total it reports
/// stops there (a wide radius over a dense city with a broad query); the order never misses a
/// nearer one.
pub const NEAREST_CANDIDATES: i64 = 5000;

/// Great-circle distance in kilometres.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// A problem reported with a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemReport {
    pub id: ReportId,
    pub service_id: ServiceId,
    pub kind: ProblemKind,
    pub details: String,
    /// How to reach the reporter, if they said (optional: anyone may report).
    pub reporter: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    pub resolution: Option<String>,
}

/// One change to a listing, for its history.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingChange {
    pub service_id: ServiceId,
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
    pub who: String,
    pub what: String,
}

/// A voluntary group asking to manage its organisation's listings.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub id: ClaimId,
    pub organization_id: uuid::Uuid,
    pub organization_name: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub evidence: String,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<UserId>,
    pub approved: Option<bool>,
}

/// The minimum a service receives about a person it is referred: who, how to reach them, what
/// for, and what the link worker chose to say. Nothing else from the record leaves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedDetails {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<i64>,
    #[serde(default)]
    pub note: String,
    /// The link worker the service should talk to.
    pub link_worker: String,
    pub link_worker_email: String,
}

/// A connection of a person to a service.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub id: ConnectionId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub episode_id: Option<EpisodeId>,
    pub service_id: ServiceId,
    pub service_name: String,
    pub kind: ConnectionKind,
    pub status: TaskStatus,
    pub need: NeedDomain,
    pub shared: SharedDetails,
    /// When the person agreed to share their details with this service (refer only).
    pub consent_at: Option<DateTime<Utc>>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The service's first answer (accept or decline).
    pub answered_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    /// Marked not answered after the reminder went unanswered too: the link worker acts.
    pub unanswered_at: Option<DateTime<Utc>>,
    pub reason: Option<DeclineReason>,
    pub version: i32,
}

/// A status change of a connection, with who made it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionEvent {
    pub connection_id: ConnectionId,
    pub status: TaskStatus,
    pub reason: Option<DeclineReason>,
    pub note: String,
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub by_name: String,
}

/// A recorded unmet need.
#[derive(Clone, Debug, PartialEq)]
pub struct UnmetNeed {
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub need: NeedDomain,
    pub reason: UnmetReason,
    pub service_id: Option<ServiceId>,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: UserId,
}

/// How a service answers link workers, over the last year.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Responsiveness {
    pub referrals: i64,
    pub answered: i64,
    pub accepted: i64,
    pub median_reply_hours: Option<f64>,
}

impl Responsiveness {
    /// From each referral's reply time (None when unanswered) and whether it was accepted.
    pub fn from_replies(replies: &[(Option<f64>, bool)]) -> Self {
        let mut times: Vec<f64> = replies.iter().filter_map(|r| r.0).collect();
        times.sort_by(f64::total_cmp);
        let median = match times.len() {
            0 => None,
            n if n % 2 == 1 => Some(times[n / 2]),
            n => Some((times[n / 2 - 1] + times[n / 2]) / 2.0),
        };
        Responsiveness {
            referrals: i64::try_from(replies.len()).unwrap_or(0),
            answered: i64::try_from(times.len()).unwrap_or(0),
            accepted: i64::try_from(replies.iter().filter(|r| r.1).count()).unwrap_or(0),
            median_reply_hours: median,
        }
    }

    /// Accepted as a share of answered, in whole percent.
    pub fn acceptance_percent(&self) -> Option<i64> {
        (self.answered > 0).then(|| (self.accepted * 100 + self.answered / 2) / self.answered)
    }

    /// The median reply, in words.
    pub fn median_reply(&self) -> Option<String> {
        self.median_reply_hours
            .map(|h| if h < 48.0 { format!("{} hours", h.round()) } else { format!("{} days", (h / 24.0).round()) })
    }
}

/// Days before an unanswered referral reminds the service (and as long again before it is
/// marked not answered).
pub const DEFAULT_NUDGE_DAYS: i64 = 14;

/// What the nudge rule says of an open, unanswered referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nudge {
    Nothing,
    Remind,
    MarkUnanswered,
}

/// The nudge rule: remind the service after `days` unanswered; mark it not answered `days`
/// after the reminder.
pub fn nudge(c: &Connection, now: DateTime<Utc>, days: i64) -> Nudge {
    if c.kind != ConnectionKind::Refer || c.status != TaskStatus::Requested || c.unanswered_at.is_some() {
        return Nudge::Nothing;
    }
    let wait = Duration::days(days);
    match c.reminded_at {
        None if now - c.created_at >= wait => Nudge::Remind,
        Some(r) if now - r >= wait => Nudge::MarkUnanswered,
        _ => Nudge::Nothing,
    }
}

/// A postcode as stored for lookups: upper case, no spaces.
pub fn postcode_key(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// The outward part of a postcode (the district), for a centroid when the full postcode is
/// not known.
pub fn outward(s: &str) -> String {
    let key = postcode_key(s);
    if key.len() > 3 { key[..key.len() - 3].to_owned() } else { key }
}

/// Check a listing's editable fields (an owner or staff edit).
pub fn check_edit(name: &str, description: &str, status: &str) -> Result<(), InvalidValue> {
    if name.trim().is_empty() {
        return Err(InvalidValue("Enter the service's name".into()));
    }
    if description.chars().count() > 5000 {
        return Err(InvalidValue("Keep the description to 5,000 characters".into()));
    }
    if !oruk::STATUSES.contains(&status) {
        return Err(InvalidValue("Choose a status".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_end_of_a_connection_sets_only_its_own_statuses() {
        use TaskStatus::*;
        for s in [Accepted, Rejected, InProgress, OnHold, Completed, Failed] {
            assert!(s.settable_by(Side::Receiving) && !s.settable_by(Side::Referring), "{s:?} is the service's to say");
        }
        assert!(Cancelled.settable_by(Side::Receiving) && Cancelled.settable_by(Side::Referring), "either may cancel");
        assert!(EnteredInError.settable_by(Side::Referring) && !EnteredInError.settable_by(Side::Receiving));
        assert!(!Requested.settable_by(Side::Referring) && !Draft.settable_by(Side::Receiving));
    }

    #[test]
    fn task_statuses_follow_the_closed_loop() {
        use TaskStatus::*;
        assert!(Requested.may_become(Accepted) && Requested.may_become(Rejected));
        assert!(!Requested.may_become(Completed));
        assert!(Accepted.may_become(InProgress) && InProgress.may_become(OnHold) && OnHold.may_become(InProgress));
        assert!(InProgress.may_become(InProgress), "still attending");
        assert!(!Completed.may_become(InProgress) && Completed.may_become(EnteredInError));
        assert!(EnteredInError.next().is_empty());
        for s in TaskStatus::ALL {
            assert_eq!(
                s.is_final(),
                !s.next().iter().any(|n| *n != EnteredInError && *n != Cancelled) || *s == EnteredInError,
                "{s:?}"
            );
        }
    }

    #[test]
    fn responsiveness_median_and_acceptance() {
        let r =
            Responsiveness::from_replies(&[(Some(10.0), true), (Some(30.0), false), (None, false), (Some(20.0), true)]);
        assert_eq!((r.referrals, r.answered, r.accepted), (4, 3, 2));
        assert_eq!(r.median_reply_hours, Some(20.0));
        assert_eq!(r.acceptance_percent(), Some(67));
        assert_eq!(Responsiveness::from_replies(&[]).acceptance_percent(), None);
    }

    #[test]
    fn postcodes_and_distance() {
        assert_eq!(postcode_key(" ls8 1ab "), "LS81AB");
        assert_eq!(outward("LS8 1AB"), "LS8");
        let leeds = (53.7997, -1.5492);
        let york = (53.9600, -1.0873);
        let d = distance_km(leeds, york);
        assert!((d - 34.5).abs() < 1.5, "{d}");
    }
}
