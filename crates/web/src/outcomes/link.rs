//! The secure link a person answers on their own, on any phone: no account, nothing of them
//! shown beyond their first name, answered once. Unknown, expired and used links get the same
//! page, in the same words, after the same lookup, and failed openings are throttled per
//! address, so the pages cannot be used to find links.

use super::questionnaire::QuestionnairePage;
use crate::forms::{FormData, MessagePage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use linkwork_domain::usecases::outcomes::LinkPage;
use linkwork_domain::usecases::{self, Actor, Caller, Failure};

const CANNOT_USE: &str = "This link cannot be used. Links work once, for 14 days, so it may have been answered already or have expired; or part of it may be missing. If you would like to answer the questions, ask your link worker for a new link.";

fn cannot_use() -> Result<Response, AppError> {
    MessagePage::new("This link cannot be used", CANNOT_USE).respond(StatusCode::NOT_FOUND)
}

fn too_many() -> Result<Response, AppError> {
    MessagePage::new(
        "Too many tries",
        "Too many links that cannot be used were opened from here. Wait half an hour, then open the link from your message again.",
    )
    .respond(StatusCode::TOO_MANY_REQUESTS)
}

/// Reserve a try for this address; a link that opens gives it back.
async fn reserve(state: &AppState, source: &Option<String>) -> Result<Option<String>, AppError> {
    let key = format!("qlink:{}", source.as_deref().unwrap_or("unknown"));
    Ok(state.throttle_public(&key).await?.then_some(key))
}

async fn release(state: &AppState, key: String) -> Result<(), AppError> {
    state.store.release_attempt(&[key], state.clock.now()).await?;
    Ok(())
}

fn page(token: &str, l: &LinkPage, f: Option<&FormData>) -> QuestionnairePage {
    let q = &l.questionnaire;
    QuestionnairePage {
        nav: Nav::anonymous(),
        context: None,
        back: None,
        title: if l.first_name.is_empty() { "A few questions".to_owned() } else { format!("{}, a few questions", l.first_name) },
        intro: vec![
            "Your link worker would like to know how you are. Choose the answer closest to how you feel: there are no right or wrong answers.".into(),
            format!("Your answers go to your link worker. This link works once, until {}.", l.expires_on.format("%-d %B %Y")),
        ],
        action: format!("/q/{token}"),
        hidden: vec![],
        points: vec![],
        point: String::new(),
        preamble: q.preamble.clone(),
        questions: QuestionnairePage::questions(q, f),
        errors: vec![],
        credit: q.credit.clone(),
        worker: false,
        submit: "Send my answers",
    }
}

/// The questionnaire, for the person the link was sent to.
pub(crate) async fn link_page(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(key) = reserve(&state, &source).await? else { return too_many() };
    let caller = Caller { actor: Actor::Link, source };
    match usecases::outcomes::open_link(state.services(), &caller, &token).await {
        Ok(l) => {
            release(&state, key).await?;
            page(&token, &l, None).respond()
        }
        Err(Failure::NotFound) => cannot_use(),
        Err(f) => Err(f.into()),
    }
}

/// The person's answers: stored once, with the link marked used in the same transaction.
pub(crate) async fn answer_link(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(token): Path<String>,
    f: FormData,
) -> Result<Response, AppError> {
    let Some(key) = reserve(&state, &source).await? else { return too_many() };
    let caller = Caller { actor: Actor::Link, source };
    match usecases::outcomes::answer_link(state.services(), &caller, &token, &f.0).await {
        Ok(_) => {
            release(&state, key).await?;
            MessagePage::new("Thank you", "Your answers have been sent to your link worker. You can close this page.")
                .respond(StatusCode::OK)
        }
        Err(Failure::Invalid(errors)) => match usecases::outcomes::open_link(state.services(), &caller, &token).await {
            Ok(l) => {
                release(&state, key).await?;
                let mut p = page(&token, &l, Some(&f));
                p.problems(errors);
                p.respond()
            }
            Err(Failure::NotFound) => cannot_use(),
            Err(f) => Err(f.into()),
        },
        Err(Failure::NotFound) => cannot_use(),
        Err(f) => Err(f.into()),
    }
}
