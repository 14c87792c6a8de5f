//! SNOMED CT codes for the GP record (domain.md 4.1): the codes the service recorded in a date
//! range, to check and to load into the GP system, as a page and as CSV. PCNs must record link
//! worker referrals in GP systems with these codes; the system records them by rule
//! (`domain::coding`), so what is exported is consistent. Every export is an audited export
//! naming everyone in it.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::coding::{CodedContact, CodedEvent};
use linkwork_domain::casework::parse_date;
use linkwork_domain::people::Person;
use linkwork_domain::uktime::{UkTime, from_uk};

/// The range asked for: `from` and `to` as ISO dates (links, the CSV) or typed in the GOV.UK
/// day, month and year pattern (the form).
#[derive(Default)]
pub(crate) struct Range {
    from: String,
    to: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Range {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, AppError> {
        let q = crate::forms::FormData::parse(parts.uri.query().unwrap_or("").as_bytes())?;
        Ok(Range { from: q.get("from"), to: q.get("to") })
    }
}

struct Row {
    date: String,
    /// The interaction the code came from.
    from: String,
    nhs_number: String,
    name: String,
    born: String,
    code: String,
    term: String,
}

#[derive(Template)]
#[template(path = "casework/codes.html")]
struct CodesPage {
    nav: Nav,
    errors: Vec<crate::forms::SummaryError>,
    fields: Vec<Field>,
    rows: Vec<Row>,
    from: String,
    to: String,
}

/// The range asked for, inclusive of both days; this month so far when nothing was asked.
fn range(state: &AppState, q: &Range) -> Result<(NaiveDate, NaiveDate), Vec<(&'static str, String)>> {
    let today = state.clock.now().uk_date();
    let first = today.with_day(1).unwrap_or(today);
    let from = if q.from.trim().is_empty() { Ok(first) } else { parse_date(&q.from, "start date") };
    let to = if q.to.trim().is_empty() { Ok(today) } else { parse_date(&q.to, "end date") };
    let mut errors = vec![];
    if let Err(e) = &from {
        errors.push(("from", e.0.clone()));
    }
    if let Err(e) = &to {
        errors.push(("to", e.0.clone()));
    }
    match (from, to) {
        (Ok(f), Ok(t)) if f <= t && (t - f).num_days() <= 366 => Ok((f, t)),
        (Ok(f), Ok(t)) if f > t => Err(vec![("to", "The end date must be on or after the start date".into())]),
        (Ok(_), Ok(_)) => Err(vec![("to", "Choose at most a year at a time".into())]),
        _ => Err(errors),
    }
}

async fn fetch(
    state: &AppState,
    org: linkwork_domain::ids::OrgId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(CodedEvent, Person, Option<CodedContact>)>, AppError> {
    // UK days: from the first day's midnight on the UK clock to the midnight after the last.
    let midnight = |d: NaiveDate| from_uk(d.and_time(chrono::NaiveTime::MIN)).ok_or(AppError::NotFound);
    let (start, end) = (midnight(from)?, midnight(to + chrono::Duration::days(1))?);
    Ok(state.store.coded_events_between(org, start, end).await?)
}

fn exported(
    state: &AppState,
    user: &linkwork_domain::access::accounts::User,
    source: Option<String>,
    what: &str,
    found: &[(CodedEvent, Person, Option<CodedContact>)],
    range: String,
) -> AuditEntry {
    AuditEntry {
        source,
        reason: Some(range),
        ..AuditEntry::new(state.clock.now(), AuditAction::Export, what)
            .by(user)
            .listing(found.iter().map(|(_, p, _)| p.id))
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    q: Range,
) -> Result<Response, AppError> {
    let mut form = FormPage {
        nav: Nav::for_user(&user),
        title: "Codes for GP records",
        intro: vec![],
        action: String::new(),
        submit: "Show",
        fields: vec![
            Field::of("date", "from", "From").value(q.from.clone()),
            Field::of("date", "to", "To (inclusive)").value(q.to.clone()),
        ],
        errors: vec![],
        extras: FormExtras::default(),
    };
    let (from, to) = match range(&state, &q) {
        Ok(r) => r,
        Err(errors) => {
            for (f, m) in errors {
                form.error(f, m);
            }
            let page = CodesPage {
                nav: form.nav,
                errors: form.errors,
                fields: form.fields,
                rows: vec![],
                from: q.from,
                to: q.to,
            };
            return Ok((axum::http::StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
    };
    for f in &mut form.fields {
        f.value =
            if f.name == "from" { from.format("%Y-%m-%d").to_string() } else { to.format("%Y-%m-%d").to_string() };
    }
    let found = fetch(&state, user.org_id, from, to).await?;
    let mut entry = exported(&state, &user, source, "gp_codes", &found, format!("{from} to {to}"));
    entry.action = AuditAction::View;
    state.audit(vec![entry]).await?;
    let rows = found
        .into_iter()
        .map(|(c, p, at)| Row {
            date: c.recorded_at.uk().format("%d %b %Y").to_string(),
            from: at.map_or_else(|| "Triage decision".to_owned(), |a| a.describe()),
            nhs_number: p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "Not known".into()),
            name: p.full_name(),
            born: p.date_of_birth.format("%d %b %Y").to_string(),
            code: c.code,
            term: c.term,
        })
        .collect();
    let page = CodesPage {
        nav: form.nav,
        errors: vec![],
        fields: form.fields,
        rows,
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The same codes as CSV, one row per code, for loading into the GP system.
pub(crate) async fn csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    q: Range,
) -> Result<Response, AppError> {
    let (from, to) = range(&state, &q)
        .map_err(|e| AppError::BadRequest(e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(". ")))?;
    let found = fetch(&state, user.org_id, from, to).await?;
    state.audit(vec![exported(&state, &user, source, "gp_codes_csv", &found, format!("{from} to {to}"))]).await?;
    let mut csv = crate::export::Csv::new(&[
        "nhs_number",
        "family_name",
        "given_name",
        "date_of_birth",
        "snomed_ct",
        "term",
        "recorded_on",
        "contact_on",
        "contact_at",
        "contact_mode",
    ])?;
    for (c, p, at) in &found {
        let nhs = p.nhs_number.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default();
        let dob = p.date_of_birth.format("%Y-%m-%d").to_string();
        let on = c.recorded_at.uk().format("%Y-%m-%d").to_string();
        let (day, time, mode) = match at {
            Some(a) => (
                a.happened_on.format("%Y-%m-%d").to_string(),
                a.happened_at.map(|t| t.uk().format("%H:%M").to_string()).unwrap_or_default(),
                a.mode.as_str().to_owned(),
            ),
            None => Default::default(),
        };
        csv.row(&[&nhs, &p.family_name, &p.given_name, &dob, &c.code, &c.term, &on, &day, &time, &mode])?;
    }
    csv.download(&format!("snomed-codes-{from}-to-{to}.csv"))
}
