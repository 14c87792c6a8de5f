//! Finding a person by name, date of birth or NHS number (by POST, so they stay out of URLs and logs).

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::parse_date;
use linkwork_domain::ports::PeopleQuery;
use linkwork_domain::values::{NhsNumber, Postcode};

fn search_fields() -> Vec<Field> {
    vec![
        Field::of("text", "name", "Name").hint("The start of a first or last name, or the full name"),
        Field::of("text", "nhs_number", "NHS number"),
        Field::of("date", "date_of_birth", "Date of birth"),
    ]
}

#[derive(Template)]
#[template(path = "people/search.html")]
struct SearchPage {
    nav: Nav,
    errors: Vec<crate::forms::SummaryError>,
    fields: Vec<Field>,
    searched: bool,
    results: Vec<(String, String, String, String, String)>,
}

impl SearchPage {
    fn of(form: FormPage, searched: bool, results: Vec<(String, String, String, String, String)>) -> Self {
        Self { nav: form.nav, errors: form.errors, fields: form.fields, searched, results }
    }
}

fn search_form(user: &User) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title: "Find a person",
        intro: vec![
            "Search your organisation's records by any of these. Every search and every person shown is recorded in the audit trail.",
        ],
        action: "/people/search".into(),
        submit: "Search",
        fields: search_fields(),
        errors: vec![],
        extras: FormExtras::default(),
    }
}

pub(crate) async fn search_page(CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    Ok(Html(SearchPage::of(search_form(&user), false, vec![]).render()?).into_response())
}

/// Search by POST, so names and NHS numbers stay out of URLs and logs.
pub(crate) async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    f: FormData,
) -> Result<Response, AppError> {
    let mut form = search_form(&user);
    f.refill(&mut form.fields);
    let name = f.get("name").trim().to_owned();
    let nhs =
        if f.get("nhs_number").trim().is_empty() { Ok(None) } else { NhsNumber::parse(&f.get("nhs_number")).map(Some) };
    let dob = if f.get("date_of_birth").trim().is_empty() {
        Ok(None)
    } else {
        parse_date(&f.get("date_of_birth"), "date of birth").map(Some)
    };
    if let Err(e) = &nhs {
        form.error("nhs_number", e.0.clone());
    }
    if let Err(e) = &dob {
        form.error("date_of_birth", e.0.clone());
    }
    if name.chars().count() > 100 {
        form.error("name", "Enter 100 characters or fewer");
    }
    let (Ok(nhs_number), Ok(date_of_birth)) = (nhs, dob) else {
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    };
    if name.is_empty() && nhs_number.is_none() && date_of_birth.is_none() {
        form.error("name", "Enter a name, an NHS number or a date of birth");
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    }
    if !form.errors.is_empty() {
        return Ok(
            (axum::http::StatusCode::BAD_REQUEST, Html(SearchPage::of(form, false, vec![]).render()?)).into_response()
        );
    }
    let query = PeopleQuery { name: (!name.is_empty()).then_some(name), nhs_number, date_of_birth };
    let found = state.store.search_people(user.org_id, &query, 50).await?;
    // The search, with everyone it showed.
    let entry = AuditEntry {
        source: source.clone(),
        reason: Some(format!("{} found", found.len())),
        ..AuditEntry::new(state.clock.now(), AuditAction::Search, "people")
            .by(&user)
            .listing(found.iter().map(|p| p.id))
    };
    state.audit(vec![entry]).await?;
    let results = found
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.full_name(),
                p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
                p.date_of_birth.format("%d %b %Y").to_string(),
                p.postcode.as_ref().map(Postcode::to_string).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Html(SearchPage::of(form, true, results).render()?).into_response())
}
