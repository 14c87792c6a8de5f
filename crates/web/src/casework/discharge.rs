//! Discharge: the coded reason and the summary note; then the message back is sent.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::casework::DischargeReason;
use linkwork_domain::ports::Conflict;
use linkwork_domain::usecases::casework::DischargeInput;
use linkwork_domain::usecases::{self, Caller, Failure};

use super::{EpisodeCtx, EpisodeForm, OpenEpisode};

const DISCHARGE_FORM: EpisodeForm =
    EpisodeForm { title: "Discharge", step: "discharge", submit: "Discharge and send the summary" };

fn discharge_fields() -> Vec<Field> {
    vec![
        Field::of("radios", "reason", "Why the episode is ending").options(DischargeReason::options()),
        Field::of("textarea", "note", "Summary for the GP and the referrer")
            .hint("What mattered to the person, the support offered, what changed. Goals, connections and outcomes are added from the record."),
    ]
}

pub(crate) async fn discharge_page(cx: EpisodeCtx) -> Result<Response, AppError> {
    let EpisodeCtx { state: _, user, episode: e, person: p, .. } = cx.viewed().await?;
    if !e.is_open() {
        return Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response());
    }
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields());
    page.extras.hidden.push(("version", e.version.to_string()));
    page.respond()
}

pub(crate) async fn discharge(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let input = DischargeInput {
        version: f.get("version").parse().unwrap_or(-1),
        reason: f.get("reason"),
        note: f.get("note"),
    };
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields());
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
