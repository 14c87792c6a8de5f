//! The episode's work (connecting, holding or both), its link worker and follow-up date.

use crate::forms::{Field, FormData};
use crate::{AppError, AppState};
use axum::response::Response;
use linkwork_domain::access::accounts::User;
use linkwork_domain::casework::{Episode, EpisodeWork, check_due, parse_date};
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, back_to, changed};

const WORK_FORM: EpisodeForm = EpisodeForm { title: "Change the episode", step: "work", submit: "Save" };

async fn episode_fields(state: &AppState, user: &User, e: &Episode) -> Result<Vec<Field>, AppError> {
    let mut worker = Field::of("select", "worker_id", "Link worker").hint("Hand the person over to a colleague here");
    worker.options = std::iter::once((String::new(), "Not assigned".to_owned()))
        .chain(
            state
                .store
                .list_org_users(user.org_id)
                .await?
                .into_iter()
                .filter(|u| u.has_role(linkwork_domain::access::accounts::Role::LinkWorker) && !u.disabled)
                .map(|u| (u.id.to_string(), u.display_name)),
        )
        .collect();
    worker.value = e.worker_id.map(|w| w.to_string()).unwrap_or_default();
    Ok(vec![
        Field::of("radios", "work", "What you are doing with the person")
            .hint("Holding is legitimate work: supporting the person yourself while they wait, prepare for change, or have no one else")
            .options(EpisodeWork::options())
            .value(e.work.as_str()),
        worker,
        Field::of("date", "follow_up_on", "Follow up by (optional)")
            .value(e.follow_up_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()),
    ])
}

pub(crate) async fn episode_page(cx: EpisodeCtx) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    if !e.is_open() {
        return Ok(back_to(&p));
    }
    let mut page = WORK_FORM.page(&user, &e, &p, episode_fields(&state, &user, &e).await?);
    page.extras.hidden.push(("version", e.version.to_string()));
    page.respond()
}

pub(crate) async fn save_episode(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let version: i32 = f.get("version").parse().unwrap_or(-1);
    let mut page = WORK_FORM.page(&user, &e, &p, episode_fields(&state, &user, &e).await?);
    f.refill(&mut page.fields);
    page.extras.hidden.push(("version", version.to_string()));
    let work = f.get("work").parse::<EpisodeWork>();
    if let Err(err) = &work {
        page.error("work", err.0.clone());
    }
    let worker = match f.get("worker_id") {
        w if w.is_empty() => Some(None),
        w if page.offers("worker_id", &w) => w.parse().ok().map(Some),
        _ => None,
    };
    if worker.is_none() {
        page.error("worker_id", "Choose a link worker from the list");
    }
    let follow = if f.get("follow_up_on").trim().is_empty() {
        Ok(None)
    } else {
        parse_date(&f.get("follow_up_on"), "follow-up date")
            .and_then(|d| check_due(d, state.clock.now().uk_date(), e.follow_up_on, "follow-up date"))
            .map(Some)
    };
    if let Err(err) = &follow {
        page.error("follow_up_on", err.0.clone());
    }
    let (Ok(work), Some(worker_id), Ok(follow_up_on), true) = (work, worker, follow, page.errors.is_empty()) else {
        return page.respond();
    };
    match state.store.update_episode(&Episode { work, worker_id, follow_up_on, version, ..e.clone() }).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this episode"),
        Err(err) => return Err(err.into()),
    }
    state.audit(vec![changed(&state, &user, &source, p.id, "episode", e.id.to_string())]).await?;
    Ok(back_to(&p))
}
