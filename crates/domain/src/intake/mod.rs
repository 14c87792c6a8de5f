//! One validation for every way a referral comes in: the referral form, the public
//! self-referral form, the JSON API and the CSV bulk import all fill a [`RawReferral`] and get
//! back either a valid person and referral or every field's problem at once.

pub mod referrals;

use crate::casework::NeedDomain;
use crate::ids::{OrgId, PersonId, ReferralId};
use crate::intake::referrals::{Referral, ReferralSource, ReferralStatus, Urgency, parse_reason};
use crate::people::{Person, optional_text, parse_date_of_birth, parse_name};
use crate::uktime::UkTime;
use crate::values::{Email, NhsNumber, Postcode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A referral as typed or sent: strings, to be parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawReferral {
    pub nhs_number: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub address: String,
    pub postcode: String,
    pub phone: String,
    pub email: String,
    pub contact_by: String,
    pub language: String,
    pub interpreter: bool,
    pub gender: String,
    pub ethnicity: String,
    pub reason: String,
    pub needs: Vec<String>,
    pub urgency: String,
    pub consent: bool,
    pub tried: String,
    pub source: String,
    pub referrer_name: String,
    /// The receiving team's id, when the referrer knows it (checked by the caller against the
    /// tenant's teams).
    pub team_id: String,
    /// The person's GP practice, by id (checked by the caller against the tenant's practices).
    pub practice_id: String,
}

/// A problem with one field, said for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// How the referral arrived: decides what is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A professional (form, API or import): consent to refer must be recorded.
    Professional,
    /// The person themselves: making the referral is their consent; contact details required.
    SelfReferral,
}

/// A valid referral and its person (ids fresh; the caller may swap in an existing person).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intake {
    pub person: Person,
    pub referral: Referral,
}

fn default_or<T: std::str::FromStr + Default>(s: &str) -> Result<T, T::Err> {
    if s.trim().is_empty() { Ok(T::default()) } else { s.trim().parse() }
}

/// Parse a raw referral for tenant `org`, received `now`.
pub fn parse_referral(
    raw: &RawReferral,
    org: OrgId,
    now: DateTime<Utc>,
    channel: Channel,
) -> Result<Intake, Vec<FieldError>> {
    let mut errors = vec![];
    macro_rules! check {
        ($field:literal, $e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(FieldError { field: $field, message: e.to_string() });
                    None
                }
            }
        };
    }
    let nhs_number = if raw.nhs_number.trim().is_empty() {
        Some(None)
    } else {
        check!("nhs_number", NhsNumber::parse(&raw.nhs_number).map(Some))
    };
    let given = check!("given_name", parse_name(&raw.given_name, "first name"));
    let family = check!("family_name", parse_name(&raw.family_name, "last name"));
    let dob = check!("date_of_birth", parse_date_of_birth(&raw.date_of_birth, now.uk_date()));
    let address = check!("address", optional_text(&raw.address, 300, "address"));
    let postcode = if raw.postcode.trim().is_empty() {
        if channel == Channel::SelfReferral {
            errors.push(FieldError { field: "postcode", message: "Enter your postcode".into() });
            None
        } else {
            Some(None)
        }
    } else {
        check!("postcode", Postcode::parse(&raw.postcode).map(Some))
    };
    let phone = check!("phone", optional_text(&raw.phone, 30, "phone number"));
    if let Some(Some(p)) = &phone
        && !p.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
    {
        errors.push(FieldError {
            field: "phone",
            message: "Enter a phone number using digits, like 0113 496 0000".into(),
        });
    }
    let email = if raw.email.trim().is_empty() {
        Some(None)
    } else {
        check!("email", Email::parse(&raw.email).map(|e| Some(e.to_string())))
    };
    let contact_by = check!("contact_by", default_or::<crate::people::ContactChannel>(&raw.contact_by));
    let language = check!("language", optional_text(&raw.language, 60, "language"));
    let gender = check!("gender", default_or::<crate::people::Gender>(&raw.gender));
    let ethnicity = check!("ethnicity", default_or::<crate::people::Ethnicity>(&raw.ethnicity));
    let reason = check!("reason", parse_reason(&raw.reason));
    let mut needs: Vec<NeedDomain> = vec![];
    for n in &raw.needs {
        if let Some(d) = check!("needs", n.trim().parse::<NeedDomain>())
            && !needs.contains(&d)
        {
            needs.push(d);
        }
    }
    let urgency = check!("urgency", default_or::<Urgency>(&raw.urgency));
    let tried = check!("tried", optional_text(&raw.tried, 2000, "what has been tried"));
    let referrer_name = check!("referrer_name", optional_text(&raw.referrer_name, 200, "referrer's details"));
    let practice_id = if raw.practice_id.trim().is_empty() {
        Some(None)
    } else {
        check!(
            "practice_id",
            raw.practice_id.trim().parse::<OrgId>().map(Some).map_err(|_| "Choose a GP practice from the list")
        )
    };
    let source = match channel {
        Channel::SelfReferral => Some(ReferralSource::SelfReferral),
        Channel::Professional if raw.source.trim().is_empty() => Some(ReferralSource::Gp),
        Channel::Professional => {
            check!("source", raw.source.trim().parse::<ReferralSource>().map_err(|_| "Choose who is referring"))
        }
    };
    if channel == Channel::Professional && !raw.consent {
        errors.push(FieldError {
            field: "consent",
            message: "Confirm the person agreed to be referred: social prescribing needs their consent".into(),
        });
    }
    if channel == Channel::SelfReferral
        && raw.phone.trim().is_empty()
        && raw.email.trim().is_empty()
        && !errors.iter().any(|e| e.field == "phone" || e.field == "email")
    {
        errors.push(FieldError {
            field: "phone",
            message: "Give a phone number or an email address so we can contact you".into(),
        });
    }
    let (
        Some(nhs_number),
        Some(given_name),
        Some(family_name),
        Some(date_of_birth),
        Some(address),
        Some(postcode),
        Some(phone),
        Some(email),
        Some(contact_by),
        Some(language),
        Some(gender),
        Some(ethnicity),
        Some(reason),
        Some(urgency),
        Some(tried),
        Some(referrer_name),
        Some(source),
        Some(practice_id),
        true,
    ) = (
        nhs_number,
        given,
        family,
        dob,
        address,
        postcode,
        phone,
        email,
        contact_by,
        language,
        gender,
        ethnicity,
        reason,
        urgency,
        tried,
        referrer_name,
        source,
        practice_id,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    let person = Person {
        id: PersonId::new(),
        org_id: org,
        nhs_number,
        given_name,
        family_name,
        date_of_birth,
        postcode,
        practice_id,
        address: address.unwrap_or_default(),
        phone,
        email,
        contact_by,
        language: language.unwrap_or_else(|| "English".into()),
        interpreter: raw.interpreter,
        gender,
        ethnicity,
        version: 1,
        created_at: now,
        ..Person::default()
    };
    let referral = Referral {
        id: ReferralId::new(),
        org_id: org,
        person_id: person.id,
        team_id: None,
        source,
        reason,
        needs,
        urgency,
        consent: raw.consent || channel == Channel::SelfReferral,
        tried: tried.unwrap_or_default(),
        referred_by: None,
        referrer_name: referrer_name.unwrap_or_default(),
        status: ReferralStatus::Received,
        received_at: now,
        ..Referral::default()
    };
    Ok(Intake { person, referral })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawReferral {
        RawReferral {
            nhs_number: "943 476 5919".into(),
            given_name: "Ada".into(),
            family_name: "Okafor".into(),
            date_of_birth: "02/05/1948".into(),
            reason: "Lonely since her husband died".into(),
            needs: vec!["loneliness".into(), "bereavement".into()],
            consent: true,
            ..RawReferral::default()
        }
    }

    #[test]
    fn a_good_referral_parses() {
        let now = chrono::DateTime::<Utc>::default() + chrono::Duration::days(20_000);
        let i = parse_referral(&raw(), OrgId::new(), now, Channel::Professional).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(i.person.full_name(), "Ada Okafor");
        assert_eq!(i.referral.needs, vec![NeedDomain::Loneliness, NeedDomain::Bereavement]);
        assert_eq!(i.referral.source, ReferralSource::Gp);
        assert_eq!(i.referral.person_id, i.person.id);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let now = chrono::DateTime::<Utc>::default() + chrono::Duration::days(20_000);
        let bad = RawReferral {
            nhs_number: "943 476 5918".into(),
            given_name: String::new(),
            date_of_birth: "31/02/1990".into(),
            needs: vec!["astrology".into()],
            consent: false,
            ..raw()
        };
        let errs = parse_referral(&bad, OrgId::new(), now, Channel::Professional).err().unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["nhs_number", "given_name", "date_of_birth", "needs", "consent"]);
        let selfref = RawReferral { consent: false, postcode: String::new(), ..raw() };
        let errs = parse_referral(&selfref, OrgId::new(), now, Channel::SelfReferral).err().unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["postcode", "phone"], "self-referrals need a postcode and a way to reach them");
    }
}
