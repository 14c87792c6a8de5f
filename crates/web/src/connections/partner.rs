//! The voluntary group's inbox: referrals to its services, and answering them (accept, decline with a reason, start, finish).

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::directory::{Connection, ConnectionEvent, DeclineReason, TaskStatus};
use linkwork_domain::ids::{ConnectionId, OrgId};
use linkwork_domain::ports::{ConnectionScope, StoreError};
use linkwork_domain::uktime::UkTime;

pub(super) fn partner_orgs(user: &User) -> Vec<OrgId> {
    let mut v: Vec<OrgId> = user
        .roles
        .iter()
        .filter(|g| g.role == linkwork_domain::access::accounts::Role::VcsePartner)
        .map(|g| g.org_id)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[derive(Template)]
#[template(path = "connections/inbox.html")]
pub(super) struct InboxPage {
    nav: Nav,
    rows: Vec<(String, String, String, &'static str, &'static str, String)>,
}

/// `GET /partner`: referrals to the group's services, newest first. Names are shown, so the
/// view is audited as a list naming everyone.
pub(crate) async fn inbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
) -> Result<Response, AppError> {
    let list = state.store.inbox(&partner_orgs(&user), false, 500).await?;
    state
        .audit(vec![crate::people::listed(&state, &user, &source, "partner.inbox", list.iter().map(|c| c.person_id))])
        .await?;
    let rows = list
        .into_iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.created_at.uk().format("%d %b %Y").to_string(),
                c.shared.name,
                c.need.label(),
                c.status.label(),
                c.service_name,
            )
        })
        .collect();
    html(&InboxPage { nav: Nav::for_user(&user), rows })
}

pub(super) async fn partner_connection(state: &AppState, user: &User, id: &str) -> Result<Connection, AppError> {
    let id = id.parse::<ConnectionId>().map_err(|_| AppError::NotFound)?;
    // Another group's referral does not exist, as far as this user can tell: the store finds
    // only referrals to services these organisations own.
    Ok(state.store.get_connection(ConnectionScope::Receiving(&partner_orgs(user)), id).await?)
}

/// The actions a service can take from a status, as form choices.
pub(super) fn actions(status: TaskStatus) -> Vec<(&'static str, &'static str)> {
    use TaskStatus::*;
    let all = [
        (Accepted, "accepted", "Accept"),
        (Rejected, "rejected", "Decline"),
        (InProgress, "in-progress", if status == InProgress { "Still attending" } else { "First attended" }),
        (OnHold, "on-hold", "Paused"),
        (Completed, "completed", "Completed"),
        (Failed, "failed", "Did not attend"),
        (Cancelled, "cancelled", "Cancelled"),
    ];
    all.into_iter().filter(|(s, _, _)| status.may_become(*s)).map(|(_, c, l)| (c, l)).collect()
}

pub(super) fn referral_form(user: &User, c: &Connection, history: Vec<(String, String)>) -> FormPage {
    let mut summary: Vec<(String, String)> = vec![
        ("Person".into(), c.shared.name.clone()),
        ("Service".into(), c.service_name.clone()),
        ("Need".into(), c.need.label().into()),
        ("Status".into(), c.status.label().into()),
        ("Referred".into(), c.created_at.uk().format("%d %B %Y").to_string()),
        ("Link worker".into(), format!("{} ({})", c.shared.link_worker, c.shared.link_worker_email)),
    ];
    if let Some(p) = &c.shared.phone {
        summary.push(("Phone".into(), p.clone()));
    }
    if let Some(e) = &c.shared.email {
        summary.push(("Email".into(), e.clone()));
    }
    if let Some(a) = c.shared.age {
        summary.push(("Age".into(), a.to_string()));
    }
    if !c.shared.note.is_empty() {
        summary.push(("Note".into(), c.shared.note.clone()));
    }
    summary.extend(history);
    FormPage {
        nav: Nav::for_user(user),
        title: "Referral",
        intro: vec![],
        action: format!("/partner/referrals/{}", c.id),
        submit: "Update referral",
        fields: vec![
            Field::of("radios", "status", "What has happened?").options(actions(c.status)),
            Field::of("select", "reason", "If you decline, why?")
                .options_blank("Choose a reason", DeclineReason::options()),
            Field::of("textarea", "note", "Note for the link worker"),
        ],
        errors: vec![],
        extras: FormExtras {
            hidden: vec![("version", c.version.to_string())],
            summary,
            back: Some("/partner".into()),
            ..Default::default()
        },
    }
}

pub(super) async fn history(
    state: &AppState,
    scope: ConnectionScope<'_>,
    c: &Connection,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(state
        .store
        .connection_events(scope, c.id)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.at.uk().format("%d %b %Y %H:%M").to_string(),
                format!(
                    "{} by {}{}{}",
                    e.status.label(),
                    e.by_name,
                    e.reason.map(|r| format!(": {}", r.label())).unwrap_or_default(),
                    if e.note.is_empty() { String::new() } else { format!(". {}", e.note) }
                ),
            )
        })
        .collect())
}

pub(super) fn person_seen(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    c: &Connection,
    action: AuditAction,
) -> AuditEntry {
    AuditEntry {
        person_id: Some(c.person_id),
        org_id: Some(c.org_id),
        record_id: Some(c.id.to_string()),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), action, "connection").by(user)
    }
}

pub(crate) async fn referral_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = partner_connection(&state, &user, &id).await?;
    state.audit(vec![person_seen(&state, &user, &source, &c, AuditAction::View)]).await?;
    let h = history(&state, ConnectionScope::Receiving(&partner_orgs(&user)), &c).await?;
    referral_form(&user, &c, h).respond()
}

pub(crate) async fn update_referral(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let c = partner_connection(&state, &user, &id).await?;
    let data = FormData::parse(&body)?;
    let h = history(&state, ConnectionScope::Receiving(&partner_orgs(&user)), &c).await?;
    let mut page = referral_form(&user, &c, h);
    page.refill(&data);
    let to = data
        .get("status")
        .parse::<TaskStatus>()
        .ok()
        .filter(|s| c.status.may_become(*s) && page.offers("status", s.as_str()));
    if to.is_none() {
        page.error("status", "Choose what has happened");
    }
    let reason = data.get("reason");
    let reason = if reason.is_empty() { None } else { reason.parse::<DeclineReason>().ok() };
    if to == Some(TaskStatus::Rejected) && reason.is_none() {
        page.error("reason", "Choose why you are declining");
    }
    let note: String = data.get("note").trim().to_owned();
    if note.chars().count() > 2000 {
        page.error("note", "Keep the note to 2,000 characters");
    }
    let (Some(to), true) = (to, page.errors.is_empty()) else { return page.respond() };
    let event = ConnectionEvent {
        connection_id: c.id,
        status: to,
        reason: reason.filter(|_| to == TaskStatus::Rejected),
        note,
        at: state.clock.now(),
        by: user.id,
        by_name: user.display_name.clone(),
    };
    let edited = Connection { version: data.get("version").parse().unwrap_or(-1), ..c.clone() };
    match state.store.change_connection(&edited, &event).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return page.conflict("this referral"),
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![person_seen(&state, &user, &source, &c, AuditAction::Update)]).await?;
    Ok(Redirect::to("/partner").into_response())
}
