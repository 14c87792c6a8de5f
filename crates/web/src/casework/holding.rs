//! Holding periods: ongoing support while the person waits, prepares for change or has no one else.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::extract::Path;
use axum::response::Response;
use chrono::NaiveDate;
use linkwork_domain::casework::{HoldingEnd, HoldingPeriod, HoldingReason, parse_date};
use linkwork_domain::ids::HoldingId;
use linkwork_domain::people::optional_text;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::InvalidValue;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, back_to, changed, created};

const HOLDING_FORM: EpisodeForm = EpisodeForm { title: "Start holding", step: "holding", submit: "Start holding" };

fn holding_fields(today: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("radios", "reason", "Why you are holding the person").options(HoldingReason::options()),
        Field::of("date", "started_on", "Started").value(today.format("%Y-%m-%d").to_string()),
        Field::of("date", "review_on", "Review by")
            .value((today + chrono::Duration::days(28)).format("%Y-%m-%d").to_string()),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn holding_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    let mut page = HOLDING_FORM.page(&user, &e, &p, holding_fields(state.clock.now().uk_date()));
    page.intro = vec![
        "Holding is legitimate work: ongoing support while the person waits, prepares for change, or has no one else. Long holding is brought to supervision, not counted against you.",
    ];
    page.respond()
}

pub(crate) async fn start_holding(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = HOLDING_FORM.page(&user, &e, &p, holding_fields(state.clock.now().uk_date()));
    f.refill(&mut page.fields);
    let today = state.clock.now().uk_date();
    let reason = page
        .take("reason", f.get("reason").parse::<HoldingReason>().map_err(|_| "Choose why you are holding the person"));
    let started = page.take(
        "started_on",
        parse_date(&f.get("started_on"), "start date").and_then(|d| e.check_happened(d, today, "start of holding")),
    );
    let review = page.take(
        "review_on",
        parse_date(&f.get("review_on"), "review date").and_then(|r| match started {
            Some(s) if r <= s => Err(InvalidValue("The review date must be after the start".into())),
            _ => Ok(r),
        }),
    );
    let note = page.take("note", optional_text(&f.get("note"), 2000, "note"));
    let (Some(reason), Some(started_on), Some(review_on), Some(note)) = (reason, started, review, note) else {
        return page.respond();
    };
    let h = HoldingPeriod {
        id: HoldingId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        reason,
        started_on,
        review_on,
        ended_on: None,
        ended_how: None,
        note: note.unwrap_or_default(),
    };
    state.store.start_holding(&h).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "holding", h.id.to_string())]).await?;
    Ok(back_to(&p))
}

pub(crate) async fn end_holding(
    OpenEpisode(cx): OpenEpisode,
    Path((_, hid)): Path<(String, String)>,
    f: FormData,
) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let hid = hid.parse::<HoldingId>().map_err(|_| AppError::NotFound)?;
    let how =
        f.get("how").parse::<HoldingEnd>().map_err(|_| AppError::BadRequest("Choose how the holding ended.".into()))?;
    // Only a holding period of this episode: the audit then names the right person.
    state.store.end_holding(user.org_id, e.id, hid, state.clock.now().uk_date(), how).await?;
    state.audit(vec![changed(&state, &user, &source, p.id, "holding", hid.to_string())]).await?;
    Ok(back_to(&p))
}
