//! Subject access requests: an administrator finds the person a request is about (a search for
//! that purpose only, recorded as such) and reads or downloads every access to their record,
//! however many. The operations issue builds the full subject access export on this report.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry, AuditEvent};
use linkwork_domain::casework::parse_date;
use linkwork_domain::ids::PersonId;
use linkwork_domain::people::Person;
use linkwork_domain::ports::PeopleQuery;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::NhsNumber;

fn lookup_form(user: &User) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title: "Find the person a subject access request is about",
        intro: vec![
            "Use this only for a subject access request. Each search is recorded as one, with the people it found.",
            "Enter their NHS number, or their last name and date of birth.",
        ],
        action: "/admin/subject-access".into(),
        submit: "Find",
        fields: vec![
            Field::of("text", "nhs_number", "NHS number").hint("10 digits, like 943 476 5919"),
            Field::of("text", "family_name", "Last name"),
            Field::of("date", "date_of_birth", "Date of birth"),
        ],
        errors: vec![],
        extras: FormExtras::default(),
    }
}

pub(crate) async fn lookup_page(CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    lookup_form(&user).respond()
}

#[derive(Template)]
#[template(path = "access/subject_found.html")]
struct FoundPage {
    nav: Nav,
    /// Id, name, NHS number, date of birth.
    people: Vec<(String, String, String, String)>,
}

pub(crate) async fn lookup(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    f: FormData,
) -> Result<Response, AppError> {
    let mut page = lookup_form(&user);
    f.refill(&mut page.fields);
    let nhs = match f.get("nhs_number").trim() {
        "" => None,
        n => page.take("nhs_number", NhsNumber::parse(n)),
    };
    let family = f.get("family_name").trim().to_owned();
    let born = match f.get("date_of_birth").trim() {
        "" => None,
        d => page.take("date_of_birth", parse_date(d, "date of birth")),
    };
    if !page.errors.is_empty() {
        return page.respond();
    }
    let query = match (nhs, family.is_empty(), born) {
        (Some(n), _, _) => PeopleQuery { nhs_number: Some(n), ..PeopleQuery::default() },
        (None, false, Some(d)) => PeopleQuery { name: Some(family), date_of_birth: Some(d), ..PeopleQuery::default() },
        _ => {
            page.error("nhs_number", "Enter the NHS number, or the last name and the date of birth");
            return page.respond();
        }
    };
    let found = state.store.search_people(user.org_id, &query, 20).await?;
    state
        .audit(vec![AuditEntry {
            source,
            reason: Some("subject access request".into()),
            ..AuditEntry::new(state.clock.now(), AuditAction::Search, "subject_access_lookup")
                .by(&user)
                .listing(found.iter().map(|p| p.id))
        }])
        .await?;
    let people = found
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.full_name(),
                p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
                p.date_of_birth.format("%d %B %Y").to_string(),
            )
        })
        .collect();
    Ok(Html(FoundPage { nav: Nav::for_user(&user), people }.render()?).into_response())
}

#[derive(Template)]
#[template(path = "access/subject_report.html")]
struct ReportPage {
    nav: Nav,
    person_id: String,
    name: String,
    nhs_number: String,
    events: Vec<AuditEvent>,
}

/// The person (within the administrator's organisation) and every access to their record,
/// after recording this reading of it (so the report includes itself).
async fn trail(
    state: &AppState,
    user: &User,
    source: Option<String>,
    id: &str,
    action: AuditAction,
    what: &str,
) -> Result<(Person, Vec<AuditEvent>), AppError> {
    let id = id.parse::<PersonId>().map_err(|_| AppError::NotFound)?;
    let person = state.store.get_person(user.org_id, id).await?;
    state
        .audit(vec![AuditEntry {
            source,
            person_id: Some(person.id),
            record_id: Some(person.id.to_string()),
            reason: Some("subject access request".into()),
            ..AuditEntry::new(state.clock.now(), action, what).by(user)
        }])
        .await?;
    let events = linkwork_domain::usecases::access::person_trail(state.services(), user.org_id, person.id).await?;
    Ok((person, events))
}

pub(crate) async fn report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (p, events) = trail(&state, &user, source, &id, AuditAction::View, "subject_access_report").await?;
    let page = ReportPage {
        nav: Nav::for_user(&user),
        person_id: p.id.to_string(),
        name: p.full_name(),
        nhs_number: p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
        events,
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn report_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (p, events) = trail(&state, &user, source, &id, AuditAction::Export, "subject_access_report_csv").await?;
    let mut csv = crate::export::Csv::new(&[
        "when_uk",
        "who",
        "roles",
        "action",
        "record_type",
        "record_id",
        "in_a_list_of",
        "from_address",
        "reason",
    ])?;
    for e in &events {
        let x = &e.entry;
        let listed = if x.people.is_empty() { String::new() } else { x.people.len().to_string() };
        csv.row(&[
            x.at.uk().format("%Y-%m-%d %H:%M:%S").to_string(),
            x.actor.clone(),
            x.roles.clone(),
            x.action.as_str().to_owned(),
            x.record_type.clone(),
            x.record_id.clone().unwrap_or_default(),
            listed,
            x.source.clone().unwrap_or_default(),
            x.reason.clone().unwrap_or_default(),
        ])?;
    }
    csv.download(&format!("access-report-{}.csv", p.id))
}
