//! Typed identifiers. Every entity has its own id type so a `PersonId` can never be passed where
//! an `OrgId` is expected. All ids are UUIDv7 (time-ordered, so indexes stay compact).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

typed_id!(
    /// An organisation: ICB, PCN, practice or VCSE. Also the tenant key.
    OrgId
);
typed_id!(
    /// A team of link workers employed by an organisation.
    TeamId
);
typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A person receiving (or referred for) social prescribing.
    PersonId
);
typed_id!(
    /// A referral into the social prescribing service.
    ReferralId
);
typed_id!(
    /// A service in the community directory.
    ServiceId
);
typed_id!(
    /// A background job.
    JobId
);
typed_id!(
    /// A message in the notification outbox.
    MessageId
);
typed_id!(
    /// An episode of care: from an accepted referral to discharge.
    EpisodeId
);
typed_id!(
    /// A need recorded in the "what matters to you" conversation.
    NeedId
);
typed_id!(
    /// A goal in the personalised care and support plan.
    GoalId
);
typed_id!(
    /// A contact between a link worker and a person.
    ContactId
);
typed_id!(
    /// A holding period.
    HoldingId
);
typed_id!(
    /// An appointment.
    AppointmentId
);
typed_id!(
    /// A barrier to progress.
    BarrierId
);
typed_id!(
    /// A clinical code recorded for the GP record.
    CodedEventId
);
typed_id!(
    /// One sent version of an episode's message back.
    MessageBackId
);
typed_id!(
    /// One change to a risk flag on a person (safeguarding, lone working, risk to staff).
    FlagId
);
typed_id!(
    /// A referral out from a person's record to a directory service (or a signpost to one).
    ConnectionId
);
typed_id!(
    /// A problem reported with a directory listing.
    ReportId
);
typed_id!(
    /// A request by a voluntary group to manage its directory organisation.
    ClaimId
);
typed_id!(
    /// An outcome measure recorded for a person (answers, a refusal, or an imported total).
    OutcomeId
);
typed_id!(
    /// A secure link sent to a person to answer a questionnaire.
    OutcomeLinkId
);
