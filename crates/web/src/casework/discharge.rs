//! Discharge: the coded reason and the summary note; then the message back is sent and kept as
//! sent. Reopening a discharged episode, with the reason; its next discharge sends a corrected
//! version of the summary that says what changed.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::casework::DischargeReason;
use linkwork_domain::casework::message_back::SentMessageBack;
use linkwork_domain::ports::Conflict;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::casework::{DischargeInput, ReopenInput};
use linkwork_domain::usecases::{self, Caller, Failure};

use super::{EpisodeCtx, EpisodeForm, OpenEpisode};

const DISCHARGE_FORM: EpisodeForm =
    EpisodeForm { title: "Discharge", step: "discharge", submit: "Discharge and send the summary" };

const REOPEN_FORM: EpisodeForm =
    EpisodeForm { title: "Reopen the episode", step: "reopen", submit: "Reopen the episode" };

/// The form; after an earlier discharge, it starts from the summary sent then and asks what
/// changed, for the corrected version.
fn discharge_fields(last: Option<&SentMessageBack>) -> Vec<Field> {
    let mut fields = vec![
        Field::of("radios", "reason", "Why the episode is ending").options(DischargeReason::options()),
        Field::of("textarea", "note", "Summary for the GP and the referrer")
            .hint("What mattered to the person, the support offered, what changed. Goals, connections and outcomes are added from the record."),
    ];
    if let Some(last) = last {
        fields[1].value = last.document.summary.clone();
        fields.push(
            Field::of("textarea", "changes", "What changed since the last summary was sent")
                .hint("The GP and the referrer get a corrected version that says this. The version sent before is kept as it was."),
        );
    }
    fields
}

pub(crate) async fn discharge_page(cx: EpisodeCtx) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    if !e.is_open() {
        return Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response());
    }
    let sent = state.store.message_backs(e.org_id, e.id).await?;
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields(sent.last()));
    page.extras.hidden.push(("version", e.version.to_string()));
    // The team's outcome measures, asked at discharge before the summary is sent, so the GP
    // gets the change from baseline.
    let (offered, _) = crate::outcomes::offered(&state).await?;
    let plan = state.store.team_settings(e.org_id, e.team_id).await?.outcome_plan();
    let taken = state.store.episode_outcomes(e.org_id, &[e.id]).await?;
    let today = state.clock.now().uk_date();
    for i in plan.instruments.iter().filter(|i| offered.contains(i)) {
        let done_today = taken.iter().any(|r| r.instrument == *i && r.completed_on == today);
        if !done_today {
            page.extras.links.push((
                format!("Ask {} at discharge first", linkwork_domain::outcomes::short_name(*i)),
                format!("/episodes/{}/outcomes/new?instrument={}&point=discharge", e.id, i.as_str()),
            ));
        }
    }
    if !page.extras.links.is_empty() {
        page.intro = vec![
            "Outcome measures asked now go into the summary with the change from baseline. The summary lists what was recorded.",
        ];
    }
    page.respond()
}

pub(crate) async fn discharge(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let input = DischargeInput {
        version: f.get("version").parse().unwrap_or(-1),
        reason: f.get("reason"),
        note: f.get("note"),
        changes: f.get("changes"),
    };
    let sent = state.store.message_backs(e.org_id, e.id).await?;
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields(sent.last()));
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", input.version.to_string()));
    let caller = Caller::user(&user, source);
    match usecases::casework::discharge(state.services(), &caller, &e, &input, &state.config.public_url).await {
        Ok(()) => Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response()),
        Err(Failure::Invalid(errors)) => {
            page.field_errors(errors);
            page.respond()
        }
        Err(Failure::Conflict(Conflict::Version)) => page.conflict("this episode"),
        Err(f) => Err(f.into()),
    }
}

fn reopen_fields() -> Vec<Field> {
    vec![
        Field::of("textarea", "reason", "Why the episode is being reopened")
            .hint("For example: the person asked for more support, or the summary needs correcting. The summary already sent is kept as it was; discharging again sends a corrected version."),
    ]
}

pub(crate) async fn reopen_page(cx: EpisodeCtx) -> Result<Response, AppError> {
    let EpisodeCtx { user, episode: e, person: p, .. } = cx.viewed().await?;
    if e.is_open() {
        return Ok(super::back_to(&p));
    }
    let mut page = REOPEN_FORM.page(&user, &e, &p, reopen_fields());
    page.extras.hidden.push(("version", e.version.to_string()));
    page.respond()
}

pub(crate) async fn reopen(cx: EpisodeCtx, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let input = ReopenInput { version: f.get("version").parse().unwrap_or(-1), reason: f.get("reason") };
    let mut page = REOPEN_FORM.page(&user, &e, &p, reopen_fields());
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", input.version.to_string()));
    let caller = Caller::user(&user, source);
    match usecases::casework::reopen(state.services(), &caller, &e, &input).await {
        Ok(()) => Ok(crate::pages::after(&format!("/people/{}", p.id), "reopened").into_response()),
        Err(Failure::Invalid(errors)) => {
            page.field_errors(errors);
            page.respond()
        }
        Err(Failure::Conflict(Conflict::Version)) => page.conflict("this episode"),
        Err(Failure::Conflict(Conflict::AnotherEpisodeOpen)) => {
            page.error("reason", "This person has another open episode: add to that one instead of reopening this");
            page.respond()
        }
        Err(f) => Err(f.into()),
    }
}
