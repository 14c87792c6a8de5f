//! A person's details and their flags (safeguarding, lone-working risk, other risks to staff).

use crate::forms::{Field, FormData, FormPage};
use crate::people::PersonCtx;
use crate::people::viewed;
use crate::{AppError, AppState};
use axum::response::Response;
use linkwork_domain::access::accounts::User;
use linkwork_domain::intake::{Channel, RawReferral, parse_referral};
use linkwork_domain::people::{ContactChannel, Ethnicity, FlagKind, Gender, Person};
use linkwork_domain::ports::StoreError;
use linkwork_domain::usecases::{self, Caller, Failure};

use crate::casework::{back_to, changed, form};

async fn details_form(state: &AppState, user: &User, person: &Person) -> Result<FormPage, AppError> {
    let practices = crate::intake::practice_options(state, user.org_id).await?;
    Ok(form(
        user,
        person,
        "Change details",
        format!("/people/{}/details", person.id),
        "Save details",
        details_fields(person, practices),
    ))
}

fn details_fields(p: &Person, practices: Vec<(String, String)>) -> Vec<Field> {
    let mut practice = Field::of("select", "practice_id", "GP practice");
    practice.options = practices;
    practice.value = p.practice_id.map(|o| o.to_string()).unwrap_or_default();
    vec![
        practice,
        Field::of("text", "given_name", "First name").value(&p.given_name),
        Field::of("text", "family_name", "Last name").value(&p.family_name),
        Field::of("date", "date_of_birth", "Date of birth").value(p.date_of_birth.format("%Y-%m-%d").to_string()),
        Field::of("text", "nhs_number", "NHS number")
            .value(p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_default()),
        Field::of("textarea", "address", "Address").value(&p.address),
        Field::of("text", "postcode", "Postcode").value(p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_default()),
        Field::of("tel", "phone", "Phone number").value(p.phone.clone().unwrap_or_default()),
        Field::of("email", "email", "Email address").value(p.email.clone().unwrap_or_default()),
        Field::of("radios", "contact_by", "Contact by").options(ContactChannel::options()).value(p.contact_by.as_str()),
        Field::of("text", "language", "Preferred language").value(&p.language),
        Field::of("checkbox", "interpreter", "An interpreter is needed").value(if p.interpreter { "yes" } else { "" }),
        Field::of("select", "gender", "Gender").options(Gender::options()).value(p.gender.as_str()),
        Field::of("select", "ethnicity", "Ethnic group").options(Ethnicity::options()).value(p.ethnicity.as_str()),
    ]
}

pub(crate) async fn details_page(cx: PersonCtx) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    state.audit(vec![viewed(&state, &user, &source, person.id, "person_details")]).await?;
    let mut page = details_form(&state, &user, &person).await?;
    page.extras.hidden.push(("version", person.version.to_string()));
    page.respond()
}

pub(crate) async fn save_details(cx: PersonCtx, f: FormData) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    // The same validation as a referral's person; the referral part is not being edited.
    let raw = RawReferral {
        reason: "details".into(),
        consent: true,
        source: String::new(),
        needs: vec![],
        ..crate::intake::raw_from_form(&f)
    };
    let mut page = details_form(&state, &user, &person).await?;
    f.refill(&mut page.fields);
    if !page.offers("practice_id", f.get("practice_id").trim()) && !f.get("practice_id").trim().is_empty() {
        page.error("practice_id", "Choose a GP practice from the list");
        return page.respond();
    }
    page.extras.hidden.push(("version", version.to_string()));
    let parsed = match parse_referral(&raw, user.org_id, state.clock.now(), Channel::Professional) {
        Ok(i) => i.person,
        Err(errors) => {
            page.field_errors(errors);
            return page.respond();
        }
    };
    let updated = Person {
        id: person.id,
        org_id: person.org_id,
        version,
        created_at: person.created_at,
        safeguarding: person.safeguarding.clone(),
        merged_into: person.merged_into,
        ..parsed
    };
    match state.store.update_person(&updated).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this person's details"),
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![changed(&state, &user, &source, person.id, "person", person.id.to_string())]).await?;
    Ok(back_to(&person))
}

/// Raise, change or clear one of the person's flags (`kind`; safeguarding when not given).
pub(crate) async fn flag(cx: PersonCtx, f: FormData) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    let kind = match f.get("kind").trim() {
        "" => FlagKind::Safeguarding.as_str().to_owned(),
        k => k.to_owned(),
    };
    let caller = Caller::user(&user, source);
    match usecases::people::set_flag(state.services(), &caller, &person, &kind, &f.get("concern")).await {
        Ok(_) => Ok(back_to(&person)),
        Err(Failure::Invalid(errors)) => {
            // Keep what was typed: a safeguarding note is the last thing to lose.
            let label = kind.parse::<FlagKind>().map_or("Concern", |k| k.label());
            let mut page = form(
                &user,
                &person,
                "Record a flag",
                format!("/people/{}/flags", person.id),
                "Save",
                vec![
                    Field::of("radios", "kind", "Which flag").options(FlagKind::options()).value(kind.clone()),
                    Field::of("textarea", "concern", label).value(f.get("concern")).hint(
                        "Shown on every page of this person's record. Leave empty to clear it. Follow your organisation's safeguarding procedure as well.",
                    ),
                ],
            );
            page.field_errors(errors);
            page.respond()
        }
        Err(e) => Err(e.into()),
    }
}
