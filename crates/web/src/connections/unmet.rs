//! The team's unmet-need report: needs for which no suitable service was found.

use crate::access::auth::CurrentUser;
use crate::pages::{Nav, html};
use crate::{AppError, AppState};
use askama::Template;
use axum::extract::State;
use axum::response::Response;

#[derive(Template)]
#[template(path = "connections/unmet.html")]
pub(super) struct UnmetPage {
    nav: Nav,
    rows: Vec<(&'static str, &'static str, usize)>,
    notes: Vec<String>,
}

/// `GET /team/unmet`: the organisation's unmet need of the last year, counted by need and
/// reason (no names: a count and what was looked for).
pub(crate) async fn unmet_report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    let since = state.clock.now() - chrono::Duration::days(365);
    let list = state.store.unmet_needs(user.org_id, since).await?;
    let mut rows: Vec<(&'static str, &'static str, usize)> = vec![];
    for u in &list {
        match rows.iter_mut().find(|r| r.0 == u.need.label() && r.1 == u.reason.label()) {
            Some(r) => r.2 += 1,
            None => rows.push((u.need.label(), u.reason.label(), 1)),
        }
    }
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let mut notes: Vec<String> = list.iter().map(|u| u.note.trim().to_owned()).filter(|n| !n.is_empty()).collect();
    notes.sort();
    notes.dedup();
    notes.truncate(50);
    html(&UnmetPage { nav: Nav::for_user(&user), rows, notes })
}
