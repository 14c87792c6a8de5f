//! Discharge: the coded reason and the summary note; then the message back is sent.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::casework::{DischargeReason, parse_words};
use linkwork_domain::ports::{Discharge, StoreError};

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, changed};

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
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = DISCHARGE_FORM.page(&user, &e, &p, discharge_fields());
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let reason = f.get("reason").parse::<DischargeReason>();
    let note = parse_words(&f.get("note"), 5000, "a summary for the GP and the referrer");
    if reason.is_err() {
        page.error("reason", "Choose why the episode is ending");
    }
    if let Err(err) = &note {
        page.error("note", err.0.clone());
    }
    let (Ok(reason), Ok(note)) = (reason, note) else { return page.respond() };
    let now = state.clock.now();
    match state
        .store
        .discharge(&Discharge { org_id: user.org_id, episode_id: e.id, version, reason, note, at: now })
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this episode"),
        Err(err) => return Err(err.into()),
    }
    let mut entry = changed(&state, &user, &source, p.id, "episode", e.id.to_string());
    entry.reason = Some(format!("discharged: {}", reason.as_str()));
    state.audit(vec![entry]).await?;
    crate::casework::summary::send_message_back(&state, &user, e.id).await?;
    Ok(Redirect::to(&format!("/episodes/{}/summary", e.id)).into_response())
}
