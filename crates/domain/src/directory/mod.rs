//! The community directory. Listings follow Open Referral UK (see [`crate::directory::oruk`]);
//! what linkwork adds on top is here: capacity, trust (verification, review reminders, problem
//! reports, claims, history), the ways in, search and distance. Connections from people's records
//! to these services are their own area: [`crate::connections`].

pub mod oruk;

use crate::ids::{ClaimId, OrgId, ReportId, ServiceId, UserId};
use crate::values::InvalidValue;
use crate::vocabulary;
use chrono::{DateTime, Duration, Utc};

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

/// A service's weekly hours, one slot per day (Monday first): opening and closing times as
/// "HH:MM", from its weekly schedules (the first for each day).
pub fn weekly_hours(doc: &oruk::Service) -> [Option<(String, String)>; 7] {
    let mut out: [Option<(String, String)>; 7] = Default::default();
    for o in oruk::openings(doc) {
        let slot = &mut out[usize::from(o.day.min(6))];
        if slot.is_none() {
            let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            *slot = Some((hm(o.opens), hm(o.closes)));
        }
    }
    out
}

/// Replace a service's weekly schedules with `hours` (one slot per day, Monday first; `None`
/// is closed). Schedules that are not weekly by day (a monthly meeting, a description) stay.
pub fn set_weekly_hours(doc: &mut oruk::Service, hours: &[Option<(chrono::NaiveTime, chrono::NaiveTime)>; 7]) {
    const CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    doc.schedules.retain(|sc| {
        let weekly = sc.freq.as_deref().is_none_or(|f| f.eq_ignore_ascii_case("WEEKLY"));
        !(weekly && sc.byday.as_deref().is_some_and(|d| !d.trim().is_empty()))
    });
    for (day, slot) in hours.iter().enumerate() {
        if let Some((opens, closes)) = slot {
            doc.schedules.push(oruk::Schedule {
                id: uuid::Uuid::now_v7(),
                freq: Some("WEEKLY".into()),
                byday: Some(CODES[day].into()),
                opens_at: Some(opens.format("%H:%M:00").to_string()),
                closes_at: Some(closes.format("%H:%M:00").to_string()),
                ..Default::default()
            });
        }
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
    fn postcodes_and_distance() {
        assert_eq!(postcode_key(" ls8 1ab "), "LS81AB");
        assert_eq!(outward("LS8 1AB"), "LS8");
        let leeds = (53.7997, -1.5492);
        let york = (53.9600, -1.0873);
        let d = distance_km(leeds, york);
        assert!((d - 34.5).abs() < 1.5, "{d}");
    }
}

#[cfg(test)]
mod hours_tests {
    use super::*;
    use chrono::NaiveTime;

    #[test]
    fn weekly_hours_round_trip_and_leave_other_schedules_alone() {
        let mut doc = oruk::Service {
            schedules: vec![oruk::Schedule {
                id: uuid::Uuid::now_v7(),
                freq: Some("MONTHLY".into()),
                description: Some("First Saturday of the month".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0);
        let mut hours: [Option<(NaiveTime, NaiveTime)>; 7] = Default::default();
        hours[1] = t(10).zip(t(12));
        hours[4] = t(13).zip(t(16));
        set_weekly_hours(&mut doc, &hours);
        assert_eq!(doc.schedules.len(), 3, "the monthly one stays");
        let read = weekly_hours(&doc);
        assert_eq!(read[1], Some(("10:00".into(), "12:00".into())));
        assert_eq!(read[4], Some(("13:00".into(), "16:00".into())));
        assert!(read[0].is_none() && read[6].is_none());
        set_weekly_hours(&mut doc, &Default::default());
        assert_eq!(doc.schedules.len(), 1, "closed every day: only the monthly one is left");
    }
}
