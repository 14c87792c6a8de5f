//! Person records, under the legitimate-relationship rule
//! (`domain::permissions::in_caseload`): a link worker or manager opens the records of people
//! referred to, or held by, their own teams; any other record in their organisation opens only with a
//! recorded reason ("break glass"), which is audited, emailed to the organisation's managers and
//! lasts an hour. Another organisation's person does not exist, as far as anyone here can tell.
//! Every person shown, in a list or a record, is an audited view.

mod details;
mod merge;
mod search;

pub(crate) use details::{details_page, flag, save_details};
pub(crate) use merge::{merge, merge_page};
pub(crate) use search::{search, search_page};

use crate::access::auth::{CurrentUser, SignedIn};
use crate::forms::{Field, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::{Role, User};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::permissions::{BREAK_GLASS_FOR, in_caseload, parse_break_glass_reason};
use linkwork_domain::ids::{MessageId, PersonId, TeamId};
use linkwork_domain::intake::referrals::Referral;
use linkwork_domain::notifications::{MessageStatus, OutboxMessage};
use linkwork_domain::people::Person;
use linkwork_domain::uktime::UkTime;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// Break-glass grants held in the session: (person, until, reason).
const BREAK_GLASS_KEY: &str = "break_glass";

#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct Grant {
    pub person: PersonId,
    pub until: DateTime<Utc>,
    pub reason: String,
}

/// Open a person for casework: within the tenant, and in the team's caseload or under a
/// break-glass grant. Anything else is refused without a word about the person.
pub(crate) async fn authorise(
    state: &AppState,
    user: &User,
    session: &Session,
    person_id: &str,
) -> Result<Person, AppError> {
    let (person, referrals) = find_person(state, user, person_id).await?;
    let teams = person_teams(state, user, person.id, &referrals).await?;
    if in_caseload(&state.store.user_teams(user.id).await?, &teams)
        || grant_for(state, session, person.id).await?.is_some()
    {
        Ok(person)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A person's record opened by the signed-in user for casework: the path's `{id}` within the
/// tenant (another tenant's is a 404) and in the user's team caseload or under a break-glass
/// grant (otherwise 403, with nothing of the record). The handler audits what it shows or does.
pub(crate) struct PersonCtx {
    pub state: AppState,
    pub user: User,
    pub source: Option<String>,
    pub session: Session,
    pub person: Person,
}

impl axum::extract::FromRequestParts<AppState> for PersonCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn { user, source, session } = SignedIn::from_request_parts(parts, state).await?;
        let id = crate::access::auth::path_param(parts, state, "id").await?;
        let person = authorise(state, &user, &session, &id).await?;
        Ok(PersonCtx { state: state.clone(), user, source, session, person })
    }
}

/// One audit event for a list view, naming everyone it shows.
pub(crate) fn listed(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    what: &str,
    people: impl IntoIterator<Item = PersonId>,
) -> AuditEntry {
    AuditEntry { source: source.clone(), ..AuditEntry::new(state.clock.now(), AuditAction::View, what).by(user) }
        .listing(people)
}

/// The audit event for viewing a person's record (`record_type` says which page).
pub(crate) fn viewed(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: PersonId,
    record_type: &str,
) -> AuditEntry {
    AuditEntry {
        person_id: Some(person),
        record_id: Some(person.to_string()),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::View, record_type).by(user)
    }
}

/// The person, only within the user's own organisation.
pub(crate) async fn find_person(state: &AppState, user: &User, id: &str) -> Result<(Person, Vec<Referral>), AppError> {
    let id = id.parse::<PersonId>().map_err(|_| AppError::NotFound)?;
    let person = state.store.get_person(user.org_id, id).await?;
    let referrals = state.store.person_referrals(user.org_id, id).await?;
    Ok((person, referrals))
}

/// The teams a person is with: those their referrals went to and those holding their episodes
/// (an episode may be taken by another of the triager's teams).
pub(crate) async fn person_teams(
    state: &AppState,
    user: &User,
    person: PersonId,
    referrals: &[Referral],
) -> Result<Vec<TeamId>, AppError> {
    let mut teams: Vec<TeamId> = referrals.iter().filter_map(|r| r.team_id).collect();
    teams.extend(state.store.person_episodes(user.org_id, person).await?.into_iter().map(|e| e.team_id));
    Ok(teams)
}

pub(crate) async fn grant_for(
    state: &AppState,
    session: &Session,
    person: PersonId,
) -> Result<Option<Grant>, AppError> {
    let grants: Vec<Grant> =
        session.get(BREAK_GLASS_KEY).await.map_err(|e| AppError::Internal(e.to_string()))?.unwrap_or_default();
    let now = state.clock.now();
    Ok(grants.into_iter().find(|g| g.person == person && g.until > now))
}

fn break_glass_form(person: PersonId) -> FormPage {
    let mut reason = Field::new("reason", "Why do you need to open this record?", "text", "off");
    reason.hint = Some(
        "For example: covering for a colleague who is on leave. Your manager will be told, and the reason is kept in the audit trail.",
    );
    FormPage {
        nav: Nav::anonymous(),
        title: "This person is not in your team's caseload",
        intro: vec!["You can still open the record if you need to for their care, by giving a reason."],
        action: format!("/people/{person}/break-glass"),
        submit: "Open the record",
        fields: vec![reason],
        errors: vec![],
        extras: Default::default(),
    }
}

pub(crate) async fn person(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    axum::extract::Query(done): axum::extract::Query<crate::pages::Done>,
) -> Result<Response, AppError> {
    let (person, referrals) = find_person(&state, &user, &id).await?;
    let their_teams = person_teams(&state, &user, person.id, &referrals).await?;
    let allowed = in_caseload(&state.store.user_teams(user.id).await?, &their_teams);
    let grant = if allowed { None } else { grant_for(&state, &session, person.id).await? };
    if !allowed && grant.is_none() {
        let entry = AuditEntry {
            reason: Some("outside the team's caseload: break-glass form shown".into()),
            ..AuditEntry { action: AuditAction::AccessDenied, ..viewed(&state, &user, &source, person.id, "person") }
        };
        state.audit(vec![entry]).await?;
        let mut page = break_glass_form(person.id);
        page.nav = Nav::for_user(&user);
        return Ok((StatusCode::FORBIDDEN, Html(page.render()?)).into_response());
    }
    state.audit(vec![viewed(&state, &user, &source, person.id, "person")]).await?;
    crate::casework::record::record_page(&state, &user, &source, person, referrals, grant.map(|g| g.reason), &done)
        .await
}

#[derive(Deserialize)]
pub(crate) struct BreakGlassForm {
    #[serde(default)]
    reason: String,
}

pub(crate) async fn break_glass(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<BreakGlassForm>,
) -> Result<Response, AppError> {
    let (person, _) = find_person(&state, &user, &id).await?;
    let reason = match parse_break_glass_reason(&f.reason) {
        Ok(r) => r,
        Err(e) => {
            let mut page = break_glass_form(person.id);
            page.nav = Nav::for_user(&user);
            page.fields[0].value = f.reason;
            page.error("reason", e.0);
            return page.respond();
        }
    };
    let now = state.clock.now();
    let entry = AuditEntry {
        action: AuditAction::BreakGlass,
        reason: Some(reason.clone()),
        ..viewed(&state, &user, &source, person.id, "person")
    };
    state.audit(vec![entry]).await?;
    // Managers hear about it; the message names the worker and the reason, not the person.
    for manager in
        state.store.list_org_users(user.org_id).await?.into_iter().filter(|u| u.has_role(Role::Manager) && !u.disabled)
    {
        let msg = OutboxMessage {
            id: MessageId::new(),
            org_id: Some(user.org_id),
            channel: "email".into(),
            recipient: manager.email.to_string(),
            subject: "A record was opened outside a team's caseload".into(),
            body: format!(
                "Hello {},\n\n{} opened a person's record outside their team's caseload at {} {}.\nTheir reason: {}\n\nThe audit trail in linkwork has the details.\n",
                manager.display_name,
                user.display_name,
                now.uk().format("%d %b %Y %H:%M"),
                now.uk_zone(),
                reason
            ),
            status: MessageStatus::Pending,
            created_at: now,
            sent_at: None,
        };
        state.store.enqueue_message(&msg).await?;
    }
    let mut grants: Vec<Grant> =
        session.get(BREAK_GLASS_KEY).await.map_err(|e| AppError::Internal(e.to_string()))?.unwrap_or_default();
    grants.retain(|g| g.until > now && g.person != person.id);
    grants.push(Grant { person: person.id, until: now + BREAK_GLASS_FOR, reason });
    session.insert(BREAK_GLASS_KEY, grants).await.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Redirect::to(&format!("/people/{}", person.id)).into_response())
}
