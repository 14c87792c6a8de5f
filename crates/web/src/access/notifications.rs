//! A signed-in user's email notifications: a link worker may ask to be emailed when a service
//! answers one of their referrals (the caseload and the record show it either way).

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use linkwork_domain::access::accounts::User;

fn notifications_form(user: &User, on: bool, done: &crate::pages::Done) -> FormPage {
    FormPage {
        nav: Nav::for_user(user).done(done),
        title: "Email notifications",
        intro: vec![
            "New answers from services always show on your caseload and on the person's record. You can also be told by email: the email names the service, never the person.",
        ],
        action: "/account/notifications".into(),
        submit: "Save",
        fields: vec![
            Field::of("checkbox", "email_on_answer", "Email me when a service answers a referral I made")
                .value(if on { "yes" } else { "" }),
        ],
        errors: vec![],
        extras: FormExtras::default(),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(done): Query<crate::pages::Done>,
) -> Result<Response, AppError> {
    let on = state.store.email_on_answer(user.id).await?;
    notifications_form(&user, on, &done).respond()
}

pub(crate) async fn save(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    f: FormData,
) -> Result<Response, AppError> {
    state.store.set_email_on_answer(user.id, f.checked("email_on_answer")).await?;
    Ok(crate::pages::after("/account/notifications", "saved").into_response())
}
