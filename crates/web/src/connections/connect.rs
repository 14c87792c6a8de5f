//! From the person's record: signposting or referring to a service (with consent to share), unmet need, cancelling, and the connections shown on the record.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage, PersonContext};
use crate::pages::Nav;
use crate::people::PersonCtx;
use crate::people::authorise;
use crate::people::viewed;
use crate::{AppError, AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::connections::{
    Connection, ConnectionEvent, ConnectionKind, DeclineReason, SharedDetails, TaskStatus, UnmetNeed, UnmetReason,
};
use linkwork_domain::directory::{Capacity, Listing};
use linkwork_domain::ids::{ConnectionId, MessageId, OrgId, ServiceId};
use linkwork_domain::notifications::{MessageStatus, OutboxMessage};
use linkwork_domain::people::Person;
use linkwork_domain::ports::{Conflict, ConnectionScope};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::connections::StatusChange;
use linkwork_domain::usecases::{self, Caller, Failure};
use tower_sessions::Session;

pub(super) fn connect_form(user: &User, person: &Person, l: &Listing) -> FormPage {
    let mut warnings = vec![];
    if l.capacity != Capacity::Accepting {
        warnings.push(format!("{}: {}.", l.name, l.capacity.label()));
    }
    let mut share = Field::of("checkboxes", "share", "What may the service have besides their name?")
        .hint("Share only what the service needs to get in touch.");
    share.options = vec![
        ("phone".into(), "Phone number".into()),
        ("email".into(), "Email address".into()),
        ("age".into(), "Age".into()),
    ];
    FormPage {
        nav: Nav::for_user(user),
        title: "Connect to a service",
        intro: vec![],
        action: format!("/people/{}/connect/{}", person.id, l.id),
        submit: "Save",
        fields: vec![
            Field::of("radios", "kind", "How are you connecting them?").options(vec![
                ("refer", "Refer: send the referral to the service"),
                ("signpost", "Signpost: the person will get in touch themselves (nothing is sent)"),
            ]),
            Field::of("select", "need", "What need is this for?").options(NeedDomain::options()),
            Field::of("checkbox", "consent", "The person agrees to share these details with this service").value(""),
            share,
            Field::of("textarea", "note", "Note for the service")
                .hint("What the person would like the service to know. Keep it to what they need."),
        ],
        errors: vec![],
        extras: FormExtras {
            context: Some(PersonContext::of(person)),
            summary: vec![
                ("Service".into(), l.name.clone()),
                ("Run by".into(), l.organization_name.clone()),
                ("Capacity".into(), l.capacity.label().into()),
            ],
            warnings,
            back: Some(format!("/people/{}", person.id)),
            ..Default::default()
        },
    }
}

pub(super) async fn listing(state: &AppState, id: &str) -> Result<Listing, AppError> {
    Ok(state.store.get_listing(id.parse::<ServiceId>().map_err(|_| AppError::NotFound)?).await?)
}

pub(crate) async fn connect_page(
    cx: PersonCtx,
    Path((_, service)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    let l = listing(&state, &service).await?;
    state.audit(vec![viewed(&state, &user, &source, person.id, "person")]).await?;
    connect_form(&user, &person, &l).respond()
}

pub(crate) async fn connect(
    cx: PersonCtx,
    Path((_, service)): Path<(String, String)>,
    data: FormData,
) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    let l = listing(&state, &service).await?;
    let mut page = connect_form(&user, &person, &l);
    page.refill(&data);
    let kind = data.get("kind").parse::<ConnectionKind>();
    if kind.is_err() {
        page.error("kind", "Choose refer or signpost");
    }
    let need = data.get("need").parse::<NeedDomain>();
    if need.is_err() {
        page.error("need", "Choose the need this is for");
    }
    let note = data.get("note").trim().to_owned();
    if note.chars().count() > 2000 {
        page.error("note", "Keep the note to 2,000 characters");
    }
    let refer = kind == Ok(ConnectionKind::Refer);
    if refer && !data.checked("consent") {
        page.error("consent", "A referral needs the person's agreement to share their details with this service");
    }
    if refer && l.status != "active" {
        page.error("kind", "This service is not active: signpost instead, or choose another service");
    }
    let share = data.all("share");
    if share.iter().any(|s| !["phone", "email", "age"].contains(&s.as_str())) {
        page.error("share", "Choose from the list");
    }
    if refer && share.contains(&"phone".to_owned()) && person.phone.is_none() {
        page.error("share", "There is no phone number on the record to share");
    }
    if refer && share.contains(&"email".to_owned()) && person.email.is_none() {
        page.error("share", "There is no email address on the record to share");
    }
    let (Ok(kind), Ok(need), true) = (kind, need, page.errors.is_empty()) else { return page.respond() };
    let now = state.clock.now();
    let episode =
        state.store.person_episodes(user.org_id, person.id).await?.into_iter().find(|e| e.closed_at.is_none());
    // Minimum necessary: the name always; each other item only when ticked (and only on refer).
    let has = |s: &str| refer && share.iter().any(|x| x == s);
    let shared = SharedDetails {
        name: person.full_name(),
        phone: person.phone.clone().filter(|_| has("phone")),
        email: person.email.clone().filter(|_| has("email")),
        age: has("age").then(|| i64::from(person.age_on(now.uk_date()))),
        note: if refer { note.clone() } else { String::new() },
        link_worker: user.display_name.clone(),
        link_worker_email: user.email.as_str().to_owned(),
    };
    let c = Connection {
        id: ConnectionId::new(),
        org_id: user.org_id,
        person_id: person.id,
        episode_id: episode.map(|e| e.id),
        service_id: l.id,
        service_name: l.name.clone(),
        kind,
        status: if refer { TaskStatus::Requested } else { TaskStatus::Completed },
        need,
        shared: if refer { shared } else { SharedDetails { name: String::new(), ..shared } },
        consent_at: refer.then_some(now),
        created_by: user.id,
        created_at: now,
        updated_at: now,
        answered_at: None,
        reminded_at: None,
        unanswered_at: None,
        service_said_at: None,
        seen_at: None,
        reason: None,
        version: 1,
    };
    let first = ConnectionEvent {
        connection_id: c.id,
        status: c.status,
        reason: None,
        note: if refer { "Referred".into() } else { format!("Signposted. {note}").trim().to_owned() },
        at: now,
        by: user.id,
        by_name: user.display_name.clone(),
    };
    state.store.create_connection(&c, &first).await?;
    if refer && let Some(to) = &l.email {
        // The email says only that a referral is waiting: the details stay behind sign-in.
        state
            .store
            .enqueue_message(&OutboxMessage {
                id: MessageId::new(),
                org_id: Some(user.org_id),
                channel: "email".into(),
                recipient: to.clone(),
                subject: "A new referral from a social prescribing link worker".into(),
                body: format!(
                    "Hello,\n\nA link worker has referred someone to {}. Sign in to your linkwork inbox to accept or decline:\n\n{}/partner\n",
                    l.name,
                    state.config.public_url.trim_end_matches('/')
                ),
                status: MessageStatus::Pending,
                created_at: now,
                sent_at: None,
            })
            .await?;
    }
    state
        .audit(vec![AuditEntry {
            person_id: Some(person.id),
            record_id: Some(c.id.to_string()),
            reason: Some(format!("{} to {}", kind.as_str(), l.name)),
            source,
            ..AuditEntry::new(now, AuditAction::Create, "connection").by(&user)
        }])
        .await?;
    Ok(Redirect::to(&format!("/people/{}#connections", person.id)).into_response())
}

/// `POST /people/{id}/unmet`: no suitable service for a need: data for commissioners.
pub(crate) async fn unmet(cx: PersonCtx, data: FormData) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session: _, person } = cx;
    let need = data
        .get("need")
        .parse::<NeedDomain>()
        .map_err(|_| AppError::BadRequest("Choose the need that went unmet".into()))?;
    let note: String = data.get("note").trim().chars().take(1000).collect();
    let now = state.clock.now();
    state
        .store
        .record_unmet(&UnmetNeed {
            org_id: user.org_id,
            person_id: person.id,
            need,
            reason: UnmetReason::NoSuitableService,
            service_id: None,
            note,
            recorded_at: now,
            recorded_by: user.id,
        })
        .await?;
    state
        .audit(vec![AuditEntry {
            person_id: Some(person.id),
            reason: Some(format!("unmet need: {}", need.as_str())),
            source,
            ..AuditEntry::new(now, AuditAction::Create, "unmet_need").by(&user)
        }])
        .await?;
    Ok(Redirect::to(&format!("/people/{}#connections", person.id)).into_response())
}

/// `POST /connections/{id}/cancel`: the link worker withdraws a referral.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, AppError> {
    let id = id.parse::<ConnectionId>().map_err(|_| AppError::NotFound)?;
    let scope = ConnectionScope::Tenant(user.org_id);
    let c = state.store.get_connection(scope, id).await?;
    let person = authorise(&state, &user, &session, &c.person_id.to_string()).await?;
    let to = if data.get("status") == "entered-in-error" { TaskStatus::EnteredInError } else { TaskStatus::Cancelled };
    let change = StatusChange {
        to: to.as_str().into(),
        version: data.get("version").parse().unwrap_or(-1),
        ..StatusChange::default()
    };
    match usecases::connections::change_status(
        state.services(),
        &Caller::user(&user, source),
        scope,
        id,
        &change,
        &state.config.public_url,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/people/{}#connections", person.id)).into_response()),
        Err(Failure::Invalid(errors)) => {
            Err(AppError::BadRequest(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(". ")))
        }
        Err(Failure::Conflict(Conflict::Version)) => {
            Err(AppError::BadRequest("The service changed this referral meanwhile: go back and look again".into()))
        }
        Err(f) => Err(f.into()),
    }
}

/// One connection on the person's record.
pub(crate) struct ConnectionView {
    pub id: String,
    pub service_id: String,
    pub service: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub need: &'static str,
    pub when: String,
    pub unanswered: bool,
    pub reason: Option<&'static str>,
    pub open: bool,
    pub version: i32,
    /// The service said something since the team last read the record: when.
    pub news: Option<String>,
}

pub(crate) async fn person_connections(
    state: &AppState,
    org: OrgId,
    person: &Person,
) -> Result<Vec<ConnectionView>, AppError> {
    Ok(state
        .store
        .person_connections(org, person.id)
        .await?
        .into_iter()
        .map(|c| ConnectionView {
            id: c.id.to_string(),
            service_id: c.service_id.to_string(),
            status: c.outcome(),
            kind: c.kind.label(),
            service: c.service_name.clone(),
            need: c.need.label(),
            when: c.created_at.uk().format("%d %b %Y").to_string(),
            unanswered: c.unanswered_at.is_some() && c.status == TaskStatus::Requested,
            reason: c.reason.map(DeclineReason::label),
            open: c.kind == ConnectionKind::Refer && !c.status.is_final(),
            version: c.version,
            news: c.service_said_at.filter(|_| c.has_news()).map(|t| t.uk().format("%d %b %Y, %H:%M").to_string()),
        })
        .collect())
}
