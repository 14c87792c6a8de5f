//! The public self-referral form: a honeypot, a throttle per address, and a new record always (the identity is unverified).

use super::refer::person_fields;
use super::refer::raw_from_form;
use super::refer::referral_fields;
use crate::forms::{Field, FormData, FormExtras, FormPage, MessagePage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use linkwork_domain::access::organisations::OrgKind;
use linkwork_domain::ids::OrgId;
use linkwork_domain::usecases::{self, Actor, Caller, Failure};

pub(super) async fn self_form(state: &AppState) -> Result<FormPage, AppError> {
    // The GP practice finds the service (its PCN); without one, the postcode does.
    let orgs = state.store.list_orgs().await?;
    let mut practice = Field::of("select", "practice_id", "Your GP practice")
        .hint("If you are not registered with a GP, or cannot find yours, choose \"Not registered or not listed\": your postcode finds the service for your area");
    let mut practices: Vec<(String, String)> = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Practice)
        .filter_map(|o| {
            let pcn = orgs.iter().find(|p| Some(p.id) == o.parent_id && p.kind == OrgKind::Pcn)?;
            Some((o.id.to_string(), format!("{} ({})", o.name, pcn.name)))
        })
        .collect();
    practices.sort_by(|a, b| a.1.cmp(&b.1));
    practice.options =
        std::iter::once(("none".to_owned(), "Not registered or not listed".to_owned())).chain(practices).collect();
    let mut fields = vec![practice];
    fields.extend(person_fields(true));
    fields.extend(referral_fields(true));
    Ok(FormPage {
        nav: Nav::anonymous(),
        title: "Ask for help from a social prescribing link worker",
        intro: vec![
            "A link worker can help with things that affect your health and well-being, such as loneliness, money worries, housing or caring.",
            "They will contact you within two weeks. If you need help urgently, call 111, or 999 in an emergency.",
        ],
        action: "/self-referral".into(),
        submit: "Send",
        fields,
        errors: vec![],
        extras: FormExtras { honeypot: true, ..FormExtras::default() },
    })
}

pub(crate) async fn self_page(State(state): State<AppState>) -> Result<Response, AppError> {
    self_form(&state).await?.respond()
}

pub(super) fn self_sent() -> Result<Response, AppError> {
    MessagePage {
        nav: Nav::anonymous(),
        title: "Thank you: we have your request",
        paragraphs: vec![
            "A link worker will contact you within two weeks, in the way you asked.".into(),
            "If things get worse, or you need help urgently, call 111, or 999 in an emergency.".into(),
        ],
        link: None,
    }
    .respond(StatusCode::OK)
}

pub(crate) async fn self_submit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    form: FormData,
) -> Result<Response, AppError> {
    let key = format!("selfref:{}", source.as_deref().unwrap_or("unknown"));
    // A bot filled in the field people cannot see: say thank you, keep nothing.
    if !form.get("website").is_empty() {
        tracing::info!("self-referral honeypot filled in; discarded");
        return self_sent();
    }
    let service = form.get("service").parse::<OrgId>().ok();
    let mut raw = raw_from_form(&form);
    if raw.practice_id.trim() == "none" {
        raw.practice_id.clear();
    }
    let caller = Caller { actor: Actor::Public, source };
    match usecases::intake::check_referral(state.services(), &caller, &raw, service).await {
        Ok(intake) => {
            // Requests that are accepted count (five per address in 15 minutes); corrections
            // after an error summary do not, so a person fixing their form is never locked out.
            // The place is reserved before anything is stored, so parallel posts cannot pass
            // one check (issue 11).
            if !state.store.reserve_attempt(std::slice::from_ref(&key), state.clock.now()).await? {
                // Keep what they typed: they can send it again later, or phone instead.
                let mut page = self_form(&state).await?;
                form.refill(&mut page.fields);
                page.error(
                    "reason",
                    "Too many requests have been sent from your connection. Wait 15 minutes and send this again, or phone your GP practice",
                );
                let mut r = page.respond()?;
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                return Ok(r);
            }
            usecases::intake::record_referral(state.services(), &caller, intake, None).await?;
            self_sent()
        }
        Err(Failure::Invalid(errors)) => {
            let mut page = self_form(&state).await?;
            form.refill(&mut page.fields);
            page.field_errors(errors);
            page.respond()
        }
        Err(f) => Err(f.into()),
    }
}
