//! Barriers in the way of the person's goals, structural or personal.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::response::Response;
use linkwork_domain::casework::{Barrier, BarrierCode, BarrierKind};
use linkwork_domain::ids::BarrierId;
use linkwork_domain::people::optional_text;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, back_to, created};

const BARRIER_FORM: EpisodeForm = EpisodeForm { title: "Record a barrier", step: "barrier", submit: "Save" };

fn barrier_fields() -> Vec<Field> {
    vec![
        Field::of("select", "code", "What is in the way").options(BarrierCode::options()),
        Field::of("radios", "kind", "Is it outside the person's control?").options(vec![
            (
                BarrierKind::Structural.as_str(),
                "Structural: outside the person's control (housing, work, money, transport, no service)",
            ),
            (BarrierKind::Personal.as_str(), "Personal: the person's own situation or readiness"),
        ]),
        Field::of("textarea", "note", "Note (optional)"),
    ]
}

pub(crate) async fn barrier_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state: _, user, episode: e, person: p, .. } = cx.viewed().await?;
    BARRIER_FORM.page(&user, &e, &p, barrier_fields()).respond()
}

pub(crate) async fn add_barrier(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let mut page = BARRIER_FORM.page(&user, &e, &p, barrier_fields());
    f.refill(&mut page.fields);
    let code = page.take("code", f.get("code").parse::<BarrierCode>());
    // Unsaid, a barrier is of its code's usual kind.
    let kind = match (f.get("kind").as_str(), code) {
        ("", Some(c)) => Some(c.usual_kind()),
        ("", None) => None,
        (kind, _) => page.take("kind", kind.parse::<BarrierKind>()),
    };
    let note = page.take("note", optional_text(&f.get("note"), 2000, "note"));
    let (Some(code), Some(kind), Some(note)) = (code, kind, note) else { return page.respond() };
    let b = Barrier {
        id: BarrierId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        kind,
        code,
        note: note.unwrap_or_default(),
        recorded_at: state.clock.now(),
    };
    state.store.add_barrier(&b).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "barrier", b.id.to_string())]).await?;
    Ok(back_to(&p))
}
