//! The voluntary group's inbox: referrals to its services, and answering them (accept, decline with a reason, start, finish).

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::connections::{Connection, DeclineReason, Side, TaskStatus};
use linkwork_domain::ids::{ConnectionId, OrgId};
use linkwork_domain::ports::{Conflict, ConnectionScope};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::connections::StatusChange;
use linkwork_domain::usecases::{self, Caller, Failure};

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
    // The words a service uses for each move; the codes are the vocabulary's own.
    let all = [
        (Accepted, "Accept"),
        (Rejected, "Decline"),
        (InProgress, if status == InProgress { "Still attending" } else { "First attended" }),
        (OnHold, "Paused"),
        (Completed, "Completed"),
        (Failed, "Did not attend"),
        (Cancelled, "Cancelled"),
    ];
    all.into_iter()
        .filter(|(s, _)| status.may_become(*s) && s.settable_by(Side::Receiving))
        .map(|(s, l)| (s.as_str(), l))
        .collect()
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
    data: FormData,
) -> Result<Response, AppError> {
    let c = partner_connection(&state, &user, &id).await?;
    let owners = partner_orgs(&user);
    let change = StatusChange {
        to: data.get("status"),
        reason: data.get("reason"),
        note: data.get("note"),
        version: data.get("version").parse().unwrap_or(-1),
    };
    let caller = Caller::user(&user, source);
    match usecases::connections::change_status(
        state.services(),
        &caller,
        ConnectionScope::Receiving(&owners),
        c.id,
        &change,
        &state.config.public_url,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/partner").into_response()),
        Err(Failure::Invalid(errors)) => {
            let mut page = referral_form(&user, &c, history(&state, ConnectionScope::Receiving(&owners), &c).await?);
            page.refill(&data);
            page.field_errors(errors);
            page.respond()
        }
        Err(Failure::Conflict(Conflict::Version)) => {
            let mut page = referral_form(&user, &c, history(&state, ConnectionScope::Receiving(&owners), &c).await?);
            page.refill(&data);
            page.conflict("this referral")
        }
        Err(f) => Err(f.into()),
    }
}
