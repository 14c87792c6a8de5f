//! "What matters to you" and the plan: needs, goals and their reviews.

use crate::AppError;
use crate::forms::{Field, FormData, FormPage};
use axum::response::Response;
use linkwork_domain::access::accounts::User;
use linkwork_domain::casework::{Goal, GoalReview, GoalStatus, Need, NeedDomain, parse_number, parse_words};
use linkwork_domain::ids::{GoalId, NeedId};
use linkwork_domain::people::{Person, optional_text};
use linkwork_domain::ports::StoreError;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, OpenGoal, back_to, changed, created, form};

const NEED_FORM: EpisodeForm = EpisodeForm { title: "What matters to you", step: "need", submit: "Save" };
const GOAL_FORM: EpisodeForm = EpisodeForm { title: "Add a goal to the plan", step: "goal", submit: "Add goal" };

fn need_fields() -> Vec<Field> {
    vec![
        Field::of("radios", "domain", "What is it about?").options(NeedDomain::options()),
        Field::of("textarea", "own_words", "What matters to the person, in their own words")
            .hint("Write what they said, as they said it"),
    ]
}

pub(crate) async fn need_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state: _, user, episode: e, person: p, .. } = cx.viewed().await?;
    NEED_FORM.page(&user, &e, &p, need_fields()).respond()
}

pub(crate) async fn add_need(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = NEED_FORM.page(&user, &e, &p, need_fields());
    f.refill(&mut page.fields);
    let domain = page.take(
        "domain",
        f.get("domain")
            .parse::<NeedDomain>()
            .map_err(|e| if f.get("domain").is_empty() { "Choose what it is about".to_owned() } else { e.0 }),
    );
    let own_words = page.take("own_words", parse_words(&f.get("own_words"), 2000, "what matters to the person"));
    let (Some(domain), Some(own_words)) = (domain, own_words) else { return page.respond() };
    let need = Need {
        id: NeedId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        domain,
        own_words,
        recorded_at: state.clock.now(),
        recorded_by: Some(user.id),
    };
    state.store.add_need(&need).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "need", need.id.to_string())]).await?;
    Ok(back_to(&p))
}

fn goal_fields() -> Vec<Field> {
    vec![
        Field::of("select", "domain", "Area of life").options(NeedDomain::options()),
        Field::of("textarea", "own_words", "The goal, in the person's own words")
            .hint("For example: \"I want to get out of the house twice a week\""),
        Field::of("textarea", "steps", "Steps agreed (optional)").hint("Who will do what, and by when"),
    ]
}

pub(crate) async fn goal_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state: _, user, episode: e, person: p, .. } = cx.viewed().await?;
    GOAL_FORM.page(&user, &e, &p, goal_fields()).respond()
}

pub(crate) async fn add_goal(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = GOAL_FORM.page(&user, &e, &p, goal_fields());
    f.refill(&mut page.fields);
    let domain = page.take("domain", f.get("domain").parse::<NeedDomain>());
    let own_words = page.take("own_words", parse_words(&f.get("own_words"), 1000, "the goal"));
    let steps = page.take("steps", optional_text(&f.get("steps"), 2000, "steps"));
    let (Some(domain), Some(own_words), Some(steps)) = (domain, own_words, steps) else { return page.respond() };
    let now = state.clock.now();
    let goal = Goal {
        id: GoalId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        domain,
        own_words,
        steps: steps.unwrap_or_default(),
        status: GoalStatus::NotStarted,
        progress: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    state.store.add_goal(&goal).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "goal", goal.id.to_string())]).await?;
    Ok(back_to(&p))
}

fn review_form(user: &User, p: &Person, g: &Goal) -> FormPage {
    let mut page = form(user, p, "Review a goal", format!("/goals/{}/review", g.id), "Save review", review_fields(g));
    page.extras.summary = vec![("Goal".into(), g.own_words.clone())];
    page
}

fn review_fields(g: &Goal) -> Vec<Field> {
    vec![
        Field::of("radios", "status", "Where the goal stands").options(GoalStatus::options()).value(g.status.as_str()),
        Field::of("number", "progress", "How far along, as the person sees it (0 to 10)").value(g.progress.to_string()),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn review_page(OpenGoal(cx, g): OpenGoal) -> Result<Response, AppError> {
    let EpisodeCtx { state: _, user, person: p, .. } = cx.viewed().await?;
    let mut page = review_form(&user, &p, &g);
    page.extras.hidden.push(("version", g.version.to_string()));
    page.respond()
}

pub(crate) async fn review_goal(OpenGoal(cx, g): OpenGoal, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, person: p, .. } = cx;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = review_form(&user, &p, &g);
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let status = page.take("status", f.get("status").parse::<GoalStatus>());
    let progress = page.take("progress", parse_number(&f.get("progress"), 0, 10, "progress"));
    let note = page.take("note", optional_text(&f.get("note"), 2000, "note"));
    let (Some(status), Some(progress), Some(note)) = (status, progress, note) else { return page.respond() };
    let review = GoalReview {
        goal_id: g.id,
        org_id: user.org_id,
        status,
        progress,
        note: note.unwrap_or_default(),
        at: state.clock.now(),
        by: Some(user.id),
    };
    match state.store.review_goal(&review, version).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this goal"),
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![changed(&state, &user, &source, p.id, "goal", g.id.to_string())]).await?;
    Ok(back_to(&p))
}
