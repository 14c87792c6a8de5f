//! Connections from a person's record to directory services: signposts, and referrals out
//! whose statuses follow the FHIR Task statuses of the Gravity closed-loop guide (domain.md
//! 4.3), what a service is sent, unmet need, the nudge rule, and how a service answers.

use crate::casework::NeedDomain;
use crate::ids::{ConnectionId, EpisodeId, OrgId, PersonId, ServiceId, UserId};
use crate::vocabulary;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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
    /// The last change the service made (an answer, attending, completed…).
    pub service_said_at: Option<DateTime<Utc>>,
    /// When the referring team last read the person's record after it.
    pub seen_at: Option<DateTime<Utc>>,
    pub reason: Option<DeclineReason>,
    pub version: i32,
}

impl Connection {
    /// How it stands, in words: "Signposted" for a signpost, the referral's status otherwise.
    /// The service has said something the referring team has not read yet.
    pub fn has_news(&self) -> bool {
        self.service_said_at.is_some_and(|said| self.seen_at.is_none_or(|seen| said > seen))
    }

    pub fn outcome(&self) -> &'static str {
        if self.kind == ConnectionKind::Signpost { ConnectionKind::Signpost.label() } else { self.status.label() }
    }
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
}
