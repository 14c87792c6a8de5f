//! Administrators' pages: the audit trail search and subject access reports.

use crate::auth::{CurrentUser, FieldError};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use linkwork_domain::audit::{AuditAction, AuditEntry, AuditEvent, AuditFilter};
use linkwork_domain::ids::PersonId;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    org_name: String,
    actions: Vec<&'static str>,
    actor: String,
    action: String,
    person: String,
    from: String,
    to: String,
    errors: Vec<FieldError>,
    events: Vec<AuditEvent>,
}

impl AuditPage {
    fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

fn date(input: &str) -> Result<Option<NaiveDate>, ()> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| ())
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let person = match q.person.trim() {
        "" => None,
        s => match s.parse::<PersonId>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(FieldError { field: "person", message: "Enter a person record id, like 0192f0c1-…" });
                None
            }
        },
    };
    let from = date(&q.from).unwrap_or_else(|()| {
        errors.push(FieldError { field: "from", message: "Enter a real date for From" });
        None
    });
    let to = date(&q.to).unwrap_or_else(|()| {
        errors.push(FieldError { field: "to", message: "Enter a real date for To" });
        None
    });
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errors.push(FieldError { field: "to", message: "To must be the same as or after From" });
    }
    let filter = AuditFilter {
        // Administrators see their own organisation's trail only.
        org_id: Some(user.org_id),
        actor: Some(q.actor.clone()),
        action: AuditAction::parse(q.action.trim()),
        person_id: person,
        from: from.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()),
        to: to.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc() + Duration::days(1)),
        limit: 200,
    };
    let events = if errors.is_empty() {
        let entry = AuditEntry {
            source,
            person_id: person,
            reason: Some(format!(
                "actor={} action={} from={} to={}",
                q.actor.trim(),
                q.action.trim(),
                q.from.trim(),
                q.to.trim()
            )),
            ..AuditEntry::new(state.clock.now(), AuditAction::Search, "audit").by(&user)
        };
        state.audit(vec![entry]).await?;
        state.store.search_audit(&filter).await?
    } else {
        vec![]
    };
    let org = state.store.get_org(user.org_id).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = AuditPage {
        nav: Nav::for_user(&user),
        org_name: org.name,
        actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
        actor: q.actor,
        action: q.action,
        person: q.person,
        from: q.from,
        to: q.to,
        errors,
        events,
    };
    Ok((status, Html(page.render()?)).into_response())
}
