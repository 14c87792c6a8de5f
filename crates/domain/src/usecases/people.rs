//! Flags on a person: safeguarding, lone-working risk and other risks to staff. Each change is
//! kept (who, when, what it said), and the flag as it stands is on every page of the person.

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::ids::FlagId;
use crate::people::{FlagAction, FlagChange, FlagKind, Person, optional_text};

/// Raise, change or clear the `kind` flag on `person` (empty `text` clears it). Saving the same
/// words again changes nothing and records nothing.
pub async fn set_flag(
    s: Services<'_>,
    caller: &Caller<'_>,
    person: &Person,
    kind: &str,
    text: &str,
) -> Result<Option<FlagAction>, Failure> {
    let mut p = Problems::default();
    let kind = p.take("kind", kind.parse::<FlagKind>());
    let text = p.take("concern", optional_text(text, 1000, "the concern"));
    p.check()?;
    let (Some(kind), Some(text)) = (kind, text) else { unreachable!("checked above") };
    let Some(action) = FlagAction::of(kind.on(person), text.as_deref()) else { return Ok(None) };
    let now = s.clock.now();
    let by = match caller.actor {
        Actor::User(u) => Some(u.id),
        Actor::Operator | Actor::Public | Actor::Link => None,
    };
    s.store
        .change_flag(&FlagChange {
            id: FlagId::new(),
            org_id: person.org_id,
            person_id: person.id,
            kind,
            action,
            text,
            at: now,
            by,
        })
        .await?;
    let entry = caller.entry(AuditEntry {
        org_id: Some(person.org_id),
        person_id: Some(person.id),
        record_id: Some(person.id.to_string()),
        reason: Some(format!("{}: {}", kind.label(), action.label().to_lowercase())),
        ..AuditEntry::new(now, AuditAction::Update, "person_flag")
    });
    s.audit.record(vec![entry]).await?;
    Ok(Some(action))
}

/// A detail two records of a person can disagree on, as the merge page offers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The form field that chooses it: `keep_<detail>`.
    pub field: &'static str,
    pub label: &'static str,
    /// Each record's value, in words ("Not recorded" when empty).
    pub first: String,
    pub second: String,
    /// Both values can be kept (phone numbers).
    pub both: bool,
}

/// The details of `p`, in merge order: field, label, value in words.
fn details(p: &Person, practices: &[(crate::ids::OrgId, String)]) -> Vec<(&'static str, &'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("keep_given_name", "First name", p.given_name.clone()),
        ("keep_family_name", "Last name", p.family_name.clone()),
        ("keep_date_of_birth", "Date of birth", p.date_of_birth.format("%d %B %Y").to_string()),
        ("keep_nhs_number", "NHS number", p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_default()),
        ("keep_address", "Address", p.address.clone()),
        ("keep_postcode", "Postcode", p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_default()),
        ("keep_phone", "Phone", opt(&p.phone)),
        ("keep_email", "Email", opt(&p.email)),
        ("keep_contact_by", "Contact by", p.contact_by.label().to_owned()),
        ("keep_language", "Language", format!("{}{}", p.language, if p.interpreter { " (interpreter)" } else { "" })),
        ("keep_gender", "Gender", p.gender.label().to_owned()),
        ("keep_ethnicity", "Ethnic group", p.ethnicity.label().to_owned()),
        (
            "keep_practice_id",
            "GP practice",
            // By name where the list has it, else by id, so two practices never look alike.
            p.practice_id
                .map(|id| practices.iter().find(|(o, _)| *o == id).map_or_else(|| id.to_string(), |(_, n)| n.clone()))
                .unwrap_or_default(),
        ),
    ]
}

/// Every detail on which `first` and `second` differ.
pub fn differences(first: &Person, second: &Person, practices: &[(crate::ids::OrgId, String)]) -> Vec<Difference> {
    let words = |v: String| if v.trim().is_empty() { "Not recorded".to_owned() } else { v };
    details(first, practices)
        .into_iter()
        .zip(details(second, practices))
        .filter(|(a, b)| a.2 != b.2)
        .map(|((field, label, a), (_, _, b))| Difference {
            field,
            label,
            both: field == "keep_phone" && !a.is_empty() && !b.is_empty(),
            first: words(a),
            second: words(b),
        })
        .collect()
}

/// The surviving record: `survivor` (one of the two), with each differing detail taken from the
/// record chosen for it (`choose(field)` is "first", "second" or, for phones, "both").
pub fn survivor_with(
    first: &Person,
    second: &Person,
    survivor_is_first: bool,
    choose: impl Fn(&str) -> String,
) -> Result<Person, Failure> {
    let mut p = Problems::default();
    let mut out = if survivor_is_first { first.clone() } else { second.clone() };
    let pick = |field: &'static str, p: &mut Problems| -> Option<&Person> {
        match choose(field).as_str() {
            "first" => Some(first),
            "second" => Some(second),
            "both" if field == "keep_phone" => None,
            _ => {
                p.add(field, "Choose which value to keep");
                None
            }
        }
    };
    for d in &differences(first, second, &[]) {
        let chosen = pick(d.field, &mut p);
        match (d.field, chosen) {
            ("keep_phone", None) if choose("keep_phone") == "both" => {
                let both = format!(
                    "{} or {}",
                    first.phone.clone().unwrap_or_default(),
                    second.phone.clone().unwrap_or_default()
                );
                if both.chars().count() > 30 {
                    p.add("keep_phone", "Both numbers do not fit: choose one (the other stays on the merged record)");
                }
                out.phone = Some(both);
            }
            (_, None) => {}
            ("keep_given_name", Some(c)) => out.given_name.clone_from(&c.given_name),
            ("keep_family_name", Some(c)) => out.family_name.clone_from(&c.family_name),
            ("keep_date_of_birth", Some(c)) => out.date_of_birth = c.date_of_birth,
            ("keep_nhs_number", Some(c)) => out.nhs_number.clone_from(&c.nhs_number),
            ("keep_address", Some(c)) => out.address.clone_from(&c.address),
            ("keep_postcode", Some(c)) => out.postcode.clone_from(&c.postcode),
            ("keep_phone", Some(c)) => out.phone.clone_from(&c.phone),
            ("keep_email", Some(c)) => out.email.clone_from(&c.email),
            ("keep_contact_by", Some(c)) => out.contact_by = c.contact_by,
            ("keep_language", Some(c)) => {
                out.language.clone_from(&c.language);
                out.interpreter = c.interpreter;
            }
            ("keep_gender", Some(c)) => out.gender = c.gender,
            ("keep_ethnicity", Some(c)) => out.ethnicity = c.ethnicity,
            ("keep_practice_id", Some(c)) => out.practice_id = c.practice_id,
            (_, Some(_)) => {}
        }
    }
    p.check()?;
    Ok(out)
}
