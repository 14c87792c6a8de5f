//! People referred to social prescribing: the PRSB minimum demographics (NHS number as primary
//! identifier; name, date of birth and address mandatory; gender and ethnicity "must have"),
//! how they want to be contacted, the safeguarding flag, and duplicate detection.

use crate::ids::{OrgId, PersonId};
use crate::values::{InvalidValue, NhsNumber, Postcode};
use crate::vocabulary;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

vocabulary!(
    /// Gender as the person describes it (PRSB "must have").
    Gender {
        NotKnown = "not_known": "Not known",
        Female = "female": "Female",
        Male = "male": "Male",
        NonBinary = "non_binary": "Non-binary",
        Other = "other": "In another way",
        NotStated = "not_stated": "Prefers not to say",
    }
);

vocabulary!(
    /// NHS ethnic categories (NHS Data Model and Dictionary, 2001 census categories).
    Ethnicity {
        NotStated = "Z": "Not stated",
        WhiteBritish = "A": "White: British",
        WhiteIrish = "B": "White: Irish",
        WhiteOther = "C": "White: any other White background",
        MixedCaribbean = "D": "Mixed: White and Black Caribbean",
        MixedAfrican = "E": "Mixed: White and Black African",
        MixedAsian = "F": "Mixed: White and Asian",
        MixedOther = "G": "Mixed: any other mixed background",
        Indian = "H": "Asian or Asian British: Indian",
        Pakistani = "J": "Asian or Asian British: Pakistani",
        Bangladeshi = "K": "Asian or Asian British: Bangladeshi",
        AsianOther = "L": "Asian or Asian British: any other Asian background",
        Caribbean = "M": "Black or Black British: Caribbean",
        African = "N": "Black or Black British: African",
        BlackOther = "P": "Black or Black British: any other Black background",
        Chinese = "R": "Other ethnic groups: Chinese",
        AnyOther = "S": "Other ethnic groups: any other ethnic group",
    }
);

vocabulary!(
    /// How the person wants to be contacted, and reminded.
    ContactChannel {
        Phone = "phone": "Phone call",
        Text = "text": "Text message",
        Email = "email": "Email",
        Letter = "letter": "Letter",
    }
);

/// A person, always held by exactly one tenant organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    /// The tenant that holds this record.
    pub org_id: OrgId,
    /// The primary identifier; absent for some self-referrals until it is traced.
    pub nhs_number: Option<NhsNumber>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: Option<Postcode>,
    /// The GP practice the person is registered with: one of the tenant PCN's practices.
    pub practice_id: Option<OrgId>,
    /// Address lines, without the postcode.
    pub address: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub contact_by: ContactChannel,
    pub language: String,
    pub interpreter: bool,
    pub gender: Gender,
    pub ethnicity: Ethnicity,
    /// A safeguarding concern, in words; shown as a banner on every page of the person.
    pub safeguarding: Option<String>,
    /// A risk to a worker visiting alone (a dog, a hostile relative, the address itself).
    pub lone_working: Option<String>,
    /// Any other risk to staff.
    pub staff_risk: Option<String>,
    /// Set when this record was merged into another; the record is kept, never deleted.
    pub merged_into: Option<PersonId>,
    /// Optimistic concurrency: bumped on every change, so an edit made from a stale page is
    /// detected instead of silently overwriting someone else's.
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl Person {
    /// Where automatic messages to the person go: `("email", address)` or `("sms", number)`
    /// when they chose email or text and gave the address; none for phone or letter.
    pub fn message_channel(&self) -> Option<(&'static str, String)> {
        match (self.contact_by, &self.email, &self.phone) {
            (ContactChannel::Email, Some(e), _) => Some(("email", e.clone())),
            (ContactChannel::Text, _, Some(n)) => Some(("sms", n.clone())),
            _ => None,
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        let mut age = on.year() - self.date_of_birth.year();
        if (on.month(), on.day()) < (self.date_of_birth.month(), self.date_of_birth.day()) {
            age -= 1;
        }
        age
    }
}

/// A name: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(input: &str, what: &str) -> Result<String, InvalidValue> {
    let s = input.trim();
    if s.is_empty() {
        return Err(InvalidValue(format!("Enter the person's {what}")));
    }
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(InvalidValue(format!("Enter a {what} of 100 characters or fewer")));
    }
    Ok(s.to_owned())
}

/// A date of birth typed as `YYYY-MM-DD` (the date input) or `DD/MM/YYYY`: in the past and
/// within 125 years.
pub fn parse_date_of_birth(input: &str, today: NaiveDate) -> Result<NaiveDate, InvalidValue> {
    let s = input.trim();
    if s.is_empty() {
        return Err(InvalidValue("Enter the person's date of birth".into()));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| InvalidValue("Enter a real date of birth: the day, month and year, like 31 3 1958".into()))?;
    if d > today {
        return Err(InvalidValue("Date of birth must be in the past".into()));
    }
    if today.year() - d.year() > 125 {
        return Err(InvalidValue("Check the year of birth: that would make the person over 125".into()));
    }
    Ok(d)
}

/// Free text of at most `max` characters, trimmed; empty gives `None`.
pub fn optional_text(input: &str, max: usize, what: &str) -> Result<Option<String>, InvalidValue> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(InvalidValue(format!("Keep the {what} to {max} characters or fewer")));
    }
    Ok(Some(s.to_owned()))
}

/// Damerau–Levenshtein distance (optimal string alignment) between two short strings, by
/// characters: a typo, a missing letter or two swapped letters each count one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Why two records may be the same person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DuplicateReason {
    /// The same NHS number, date of birth and (within a typo) name: the same person.
    SameNhsNumber,
    /// The same NHS number but another name or date of birth: a mistyped number, or someone
    /// probing with a known number. Never joined up automatically; a worker reconciles it.
    SameNhsNumberIdentityDiffers,
    /// The same date of birth and a name within a typo or two (or given and family swapped).
    SimilarNameAndBirthDate,
}

impl DuplicateReason {
    pub fn label(self) -> &'static str {
        match self {
            DuplicateReason::SameNhsNumber => "Same NHS number",
            DuplicateReason::SameNhsNumberIdentityDiffers => {
                "Same NHS number, but the name or date of birth differ: check who this is before merging"
            }
            DuplicateReason::SimilarNameAndBirthDate => "Same date of birth and a similar name",
        }
    }
}

/// Whether `a` and `b` look like the same person. Different known NHS numbers mean different
/// people, whatever the names say.
pub fn likely_duplicate(a: &Person, b: &Person) -> Option<DuplicateReason> {
    if a.id == b.id {
        return None;
    }
    let same_identity = a.date_of_birth == b.date_of_birth && names_close(a, b);
    match (&a.nhs_number, &b.nhs_number) {
        (Some(x), Some(y)) if x == y && same_identity => return Some(DuplicateReason::SameNhsNumber),
        (Some(x), Some(y)) if x == y => return Some(DuplicateReason::SameNhsNumberIdentityDiffers),
        (Some(_), Some(_)) => return None,
        _ => {}
    }
    same_identity.then_some(DuplicateReason::SimilarNameAndBirthDate)
}

/// Whether two names are one within a typo or two (or with given and family swapped).
fn names_close(a: &Person, b: &Person) -> bool {
    let (ag, af, bg, bf) = (norm(&a.given_name), norm(&a.family_name), norm(&b.given_name), norm(&b.family_name));
    let straight = edit_distance(&ag, &bg) + edit_distance(&af, &bf);
    let swapped = edit_distance(&ag, &bf) + edit_distance(&af, &bg);
    // Allow one edit per five letters of the full name, at least one and at most three.
    let allowed = ((ag.len() + af.len()) / 5).clamp(1, 3);
    straight.min(swapped) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(given: &str, family: &str, dob: (i32, u32, u32), nhs: Option<&str>) -> Person {
        Person {
            id: PersonId::new(),
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap_or_default(),
            nhs_number: nhs.map(|n| NhsNumber::parse(n).unwrap_or_else(|e| panic!("{e}"))),
            ..Person::default()
        }
    }

    #[test]
    fn edit_distance_counts_typos_and_swaps() {
        assert_eq!(edit_distance("smith", "smith"), 0);
        assert_eq!(edit_distance("smith", "smyth"), 1);
        assert_eq!(edit_distance("smith", "smtih"), 1, "a swap is one edit");
        assert_eq!(edit_distance("okafor", "okafo"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kowalski", "nowak"), 4);
    }

    #[test]
    fn duplicates_by_nhs_number_and_by_similar_name() {
        let a = p("Margaret", "Okafor", (1948, 5, 2), Some("9434765919"));
        assert_eq!(
            likely_duplicate(&a, &p("Margaret", "Okafor", (1948, 5, 2), Some("943 476 5919"))),
            Some(DuplicateReason::SameNhsNumber)
        );
        // The same number with another name or birth date is never taken as the same person.
        assert_eq!(
            likely_duplicate(&a, &p("Peggy", "Smith", (1950, 1, 1), Some("943 476 5919"))),
            Some(DuplicateReason::SameNhsNumberIdentityDiffers)
        );
        assert_eq!(
            likely_duplicate(&a, &p("Margaret", "Okafor", (1950, 1, 1), Some("943 476 5919"))),
            Some(DuplicateReason::SameNhsNumberIdentityDiffers)
        );
        assert_eq!(
            likely_duplicate(&a, &p("Margret", "Okafor", (1948, 5, 2), None)),
            Some(DuplicateReason::SimilarNameAndBirthDate)
        );
        assert_eq!(
            likely_duplicate(&a, &p("Okafor", "Margaret", (1948, 5, 2), None)),
            Some(DuplicateReason::SimilarNameAndBirthDate),
            "given and family names swapped"
        );
        assert_eq!(likely_duplicate(&a, &p("Margaret", "Okafor", (1948, 5, 3), None)), None, "another birthday");
        assert_eq!(likely_duplicate(&a, &p("Mary", "Oliver", (1948, 5, 2), None)), None, "a different name");
        assert_eq!(
            likely_duplicate(&a, &p("Margaret", "Okafor", (1948, 5, 2), Some("4010232137"))),
            None,
            "different NHS numbers are different people"
        );
    }

    #[test]
    fn dates_of_birth_and_ages() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(parse_date_of_birth("1958-03-31", today).ok(), NaiveDate::from_ymd_opt(1958, 3, 31));
        assert_eq!(parse_date_of_birth("31/03/1958", today).ok(), NaiveDate::from_ymd_opt(1958, 3, 31));
        assert!(parse_date_of_birth("31/02/1958", today).is_err());
        assert!(parse_date_of_birth("2027-01-01", today).is_err());
        assert!(parse_date_of_birth("1880-01-01", today).is_err());
        let mut x = p("A", "B", (1958, 11, 25), None);
        assert_eq!(x.age_on(today), 67);
        x.date_of_birth = NaiveDate::from_ymd_opt(1958, 11, 24).unwrap_or_default();
        assert_eq!(x.age_on(today), 68);
    }

    #[test]
    fn vocabularies_round_trip() {
        for e in Ethnicity::ALL {
            assert_eq!(e.as_str().parse::<Ethnicity>().ok(), Some(*e));
        }
        assert!("Q".parse::<Ethnicity>().is_err());
        assert_eq!(Ethnicity::ALL.len(), 17);
    }
}

vocabulary!(
    /// A risk flag on a person. Each is shown on every page of their record; its history (who
    /// raised, changed or cleared it, and when) is kept.
    FlagKind {
        Safeguarding = "safeguarding": "Safeguarding concern",
        LoneWorking = "lone_working": "Lone-working risk",
        StaffRisk = "staff_risk": "Other risk to staff",
    }
);

vocabulary!(
    /// What a change did to a flag.
    FlagAction {
        Raised = "raised": "Raised",
        Changed = "changed": "Changed",
        Cleared = "cleared": "Cleared",
    }
);

impl FlagKind {
    /// The flag as it stands on `p`.
    pub fn on(self, p: &Person) -> Option<&str> {
        match self {
            FlagKind::Safeguarding => p.safeguarding.as_deref(),
            FlagKind::LoneWorking => p.lone_working.as_deref(),
            FlagKind::StaffRisk => p.staff_risk.as_deref(),
        }
    }
}

impl FlagAction {
    /// What setting a flag from `now` to `new` does: nothing when nothing changes.
    pub fn of(now: Option<&str>, new: Option<&str>) -> Option<FlagAction> {
        match (now, new) {
            (None, None) => None,
            (None, Some(_)) => Some(FlagAction::Raised),
            (Some(_), None) => Some(FlagAction::Cleared),
            (Some(a), Some(b)) if a == b => None,
            (Some(_), Some(_)) => Some(FlagAction::Changed),
        }
    }
}

/// One change to a flag on a person: the history the banner is the latest of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagChange {
    pub id: crate::ids::FlagId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub kind: FlagKind,
    pub action: FlagAction,
    /// The flag's words after the change (none once cleared).
    pub text: Option<String>,
    pub at: DateTime<Utc>,
    pub by: Option<crate::ids::UserId>,
}

#[cfg(test)]
mod flag_tests {
    use super::FlagAction;

    #[test]
    fn a_flag_change_is_raised_changed_or_cleared_and_nothing_else_is_recorded() {
        assert_eq!(FlagAction::of(None, Some("dog")), Some(FlagAction::Raised));
        assert_eq!(FlagAction::of(Some("dog"), Some("two dogs")), Some(FlagAction::Changed));
        assert_eq!(FlagAction::of(Some("dog"), None), Some(FlagAction::Cleared));
        assert_eq!(FlagAction::of(Some("dog"), Some("dog")), None);
        assert_eq!(FlagAction::of(None, None), None);
    }
}
