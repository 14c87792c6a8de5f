//! Administrators' pages: the audit trail search and subject access reports, and the users of
//! their organisation (unlock after failed sign-ins, sign out everywhere).

use crate::access::auth::{CurrentUser, FieldError};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use linkwork_domain::access::audit::{AuditAction, AuditEntry, AuditEvent, AuditFilter};
use linkwork_domain::access::throttle;
use linkwork_domain::ids::PersonId;
use linkwork_domain::uktime::UkTime;
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
#[template(path = "access/audit.html")]
struct AuditPage {
    nav: Nav,
    org_name: String,
    actions: Vec<&'static str>,
    actor: String,
    action: String,
    person: String,
    /// The two dates, drawn as day, month and year.
    dates: Vec<crate::forms::Field>,
    errors: Vec<FieldError>,
    events: Vec<AuditEvent>,
}

impl AuditPage {
    fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

fn date(input: &str) -> Result<Option<NaiveDate>, ()> {
    match input.trim() {
        "" => Ok(None),
        s => linkwork_domain::casework::parse_date(s, "date").map(Some).map_err(|_| ()),
    }
}

/// The audit search as posted: the dates typed as day, month and year.
pub(crate) struct AuditForm(AuditQuery);

impl axum::extract::FromRequest<AppState> for AuditForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let f = crate::forms::FormData::from_request(req, state).await?;
        Ok(AuditForm(AuditQuery {
            actor: f.get("actor"),
            action: f.get("action"),
            person: f.get("person"),
            from: f.get("from"),
            to: f.get("to"),
        }))
    }
}

/// A date of the search as a form field, to draw with the shared day, month and year input.
fn date_field(name: &'static str, label: &'static str, value: &str, error: Option<&str>) -> crate::forms::Field {
    let mut f = crate::forms::Field::of("date", name, label).value(value);
    f.error = error.map(str::to_owned);
    f
}

/// The audit page: the most recent events of the organisation.
pub(crate) async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    source: ClientAddress,
) -> Result<Response, AppError> {
    audit_search(State(state), user, source, AuditForm(AuditQuery::default())).await
}

/// A search of the audit trail. Posted, not in the address: the filters name people.
pub(crate) async fn audit_search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    AuditForm(q): AuditForm,
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
        before_seq: None,
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
        dates: vec![
            date_field("from", "From (date)", &q.from, errors.iter().find(|e| e.field == "from").map(|e| e.message)),
            date_field("to", "To (date, inclusive)", &q.to, errors.iter().find(|e| e.field == "to").map(|e| e.message)),
        ],
        errors,
        events,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// One row of the users page.
struct UserRow {
    id: String,
    name: String,
    email: String,
    roles: String,
    disabled: bool,
    locked: bool,
}

#[derive(Template)]
#[template(path = "access/users.html")]
struct UsersPage {
    nav: Nav,
    org_name: String,
    users: Vec<UserRow>,
}

pub(crate) async fn users(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    Query(done): Query<crate::pages::Done>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let users = state.store.list_org_users(admin.org_id).await?;
    // One query for every user's lock, not one per user.
    let keys: Vec<String> = users.iter().map(|u| throttle::account_key(u.email.as_str())).collect();
    let locked_keys: std::collections::HashSet<String> =
        state.store.throttle_states(&keys).await?.into_iter().filter(|t| t.is_locked(now)).map(|t| t.key).collect();
    let mut rows = Vec::new();
    for u in users {
        let locked = locked_keys.contains(&throttle::account_key(u.email.as_str()));
        let mut roles: Vec<&str> = u.roles.iter().map(|g| g.role.label()).collect();
        roles.dedup();
        rows.push(UserRow {
            id: u.id.to_string(),
            name: u.display_name.clone(),
            email: u.email.to_string(),
            roles: roles.join(", "),
            disabled: u.disabled,
            locked,
        });
    }
    let page = UsersPage {
        nav: Nav::for_user(&admin).done(&done),
        org_name: state.store.get_org(admin.org_id).await?.name,
        users: rows,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct UserAction {
    #[serde(default)]
    user_id: String,
}

/// The target of an action, only if it belongs to the administrator's organisation.
async fn target(
    state: &AppState,
    admin: &linkwork_domain::access::accounts::User,
    id: &str,
) -> Result<linkwork_domain::access::accounts::User, AppError> {
    let id = id.parse::<linkwork_domain::ids::UserId>().map_err(|_| AppError::NotFound)?;
    let user = state.store.get_user(id).await?;
    if user.org_id != admin.org_id {
        return Err(AppError::NotFound);
    }
    Ok(user)
}

/// Audit an administrator's action on a user, then go back to the users page saying so.
async fn done(
    state: &AppState,
    admin: &linkwork_domain::access::accounts::User,
    source: Option<String>,
    user: &linkwork_domain::access::accounts::User,
    reason: String,
    outcome: &'static str,
) -> Result<Response, AppError> {
    let entry = AuditEntry {
        record_id: Some(user.id.to_string()),
        reason: Some(reason),
        source,
        ..AuditEntry::new(state.clock.now(), AuditAction::Update, "user").by(admin)
    };
    state.audit(vec![entry]).await?;
    Ok(crate::pages::after("/admin/users", outcome).into_response())
}

pub(crate) async fn unlock(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    ClientAddress(source): ClientAddress,
    Form(f): Form<UserAction>,
) -> Result<Response, AppError> {
    let user = target(&state, &admin, &f.user_id).await?;
    state.store.clear_throttle(&throttle::account_key(user.email.as_str())).await?;
    done(&state, &admin, source, &user, "unlocked after failed sign-ins".into(), "unlocked").await
}

pub(crate) async fn revoke_sessions(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    ClientAddress(source): ClientAddress,
    Form(f): Form<UserAction>,
) -> Result<Response, AppError> {
    let user = target(&state, &admin, &f.user_id).await?;
    let ended = state.store.delete_user_sessions(user.id).await?;
    done(&state, &admin, source, &user, format!("revoked {ended} session(s)"), "revoked").await
}

pub(crate) async fn reset_two_factor(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    ClientAddress(source): ClientAddress,
    Form(f): Form<UserAction>,
) -> Result<Response, AppError> {
    let user = target(&state, &admin, &f.user_id).await?;
    state.store.reset_two_factor(user.id).await?;
    // Whoever holds the old authenticator must not stay signed in either.
    let ended = state.store.delete_user_sessions(user.id).await?;
    done(&state, &admin, source, &user, format!("two-factor reset; ended {ended} session(s)"), "two-factor-reset").await
}

fn invite_form(org_is_vcse: bool) -> crate::forms::FormPage {
    use crate::forms::{Field, FormPage};
    let mut role = Field::new("role", "Role", "text", "off");
    role.options = linkwork_domain::access::accounts::Role::ALL
        .iter()
        .filter(|r| {
            (**r == linkwork_domain::access::accounts::Role::VcsePartner) == org_is_vcse
                || **r == linkwork_domain::access::accounts::Role::Administrator
        })
        .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
        .collect();
    FormPage {
        nav: Nav::anonymous(),
        title: "Invite a user",
        intro: vec!["They will get an email with a link to set their password. The link works once, for 7 days."],
        action: "/admin/users/invite".into(),
        submit: "Send invitation",
        fields: vec![
            Field::new("name", "Full name", "text", "off"),
            Field::new("email", "Email address", "email", "off"),
            role,
        ],
        errors: vec![],
        extras: Default::default(),
    }
}

pub(crate) async fn invite_page(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
) -> Result<Response, AppError> {
    let org = state.store.get_org(admin.org_id).await?;
    let mut page = invite_form(org.kind == linkwork_domain::access::organisations::OrgKind::Vcse);
    page.nav = Nav::for_user(&admin);
    page.respond()
}

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    CurrentUser(admin): CurrentUser,
    ClientAddress(source): ClientAddress,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    use linkwork_domain::access::accounts::{INVITE_VALID, Role, RoleGrant, User};
    let org = state.store.get_org(admin.org_id).await?;
    let mut page = invite_form(org.kind == linkwork_domain::access::organisations::OrgKind::Vcse);
    page.nav = Nav::for_user(&admin);
    for field in &mut page.fields {
        field.value = match field.name {
            "name" => f.name.clone(),
            "email" => f.email.clone(),
            _ => f.role.clone(),
        };
    }
    let name = linkwork_domain::access::organisations::parse_name(&f.name);
    if name.is_err() {
        page.error("name", "Enter their full name");
    }
    let email = linkwork_domain::values::Email::parse(&f.email);
    if let Err(e) = &email {
        page.error("email", e.0.clone());
    }
    let role = f.role.parse::<Role>().ok().filter(|r| page.fields[2].options.iter().any(|o| o.0 == r.as_str()));
    if role.is_none() {
        page.error("role", "Choose a role");
    }
    let (Ok(name), Ok(email), Some(role)) = (name, email, role) else {
        return page.respond();
    };
    // Nobody can sign in with this hash: it is of a random value no one is told.
    let unusable = crate::access::passwords::hash(&uuid::Uuid::new_v4().to_string()).map_err(AppError::Internal)?;
    let user = User {
        id: linkwork_domain::ids::UserId::new(),
        org_id: admin.org_id,
        email,
        display_name: name,
        password_hash: unusable,
        disabled: false,
        is_demo: false,
        roles: vec![RoleGrant { org_id: admin.org_id, role }],
        created_at: state.clock.now(),
        session_generation: 0,
    };
    match state.store.create_user(&user).await {
        Ok(()) => {}
        Err(linkwork_domain::StoreError::Conflict(_)) => {
            page.error("email", "That email address already has an account");
            return page.respond();
        }
        Err(e) => return Err(e.into()),
    }
    crate::access::account::send_link(&state, &user, "invite", INVITE_VALID).await?;
    let entry = AuditEntry {
        record_id: Some(user.id.to_string()),
        reason: Some(format!("invited as {}", role.as_str())),
        source,
        ..AuditEntry::new(state.clock.now(), AuditAction::Create, "user").by(&admin)
    };
    state.audit(vec![entry]).await?;
    Ok(crate::pages::after("/admin/users", "invited").into_response())
}

/// Invite the person whose claim was approved as the voluntary group's partner. An address that
/// already has an account gets the role added instead.
pub(crate) async fn invite_partner(
    state: &AppState,
    by: &linkwork_domain::access::accounts::User,
    source: &Option<String>,
    org: linkwork_domain::ids::OrgId,
    name: &str,
    email: &str,
) -> Result<(), AppError> {
    use linkwork_domain::access::accounts::{INVITE_VALID, Role, RoleGrant, User};
    let email = linkwork_domain::values::Email::parse(email).map_err(|e| AppError::BadRequest(e.0))?;
    let grant = RoleGrant { org_id: org, role: Role::VcsePartner };
    match state.store.find_user_by_email(email.as_str()).await {
        // Never a role added to an account without its holder's acceptance.
        Ok(_) => return Err(AppError::BadRequest("That email address already has a linkwork account.".into())),
        Err(linkwork_domain::StoreError::NotFound) => {
            let unusable =
                crate::access::passwords::hash(&uuid::Uuid::new_v4().to_string()).map_err(AppError::Internal)?;
            let user = User {
                id: linkwork_domain::ids::UserId::new(),
                org_id: org,
                email,
                display_name: linkwork_domain::access::organisations::parse_name(name)
                    .unwrap_or_else(|_| "Partner".into()),
                password_hash: unusable,
                disabled: false,
                is_demo: false,
                roles: vec![grant],
                created_at: state.clock.now(),
                session_generation: 0,
            };
            state.store.create_user(&user).await?;
            crate::access::account::send_link(state, &user, "invite", INVITE_VALID).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let entry = AuditEntry {
        record_id: Some(org.to_string()),
        reason: Some("claim approved: partner invited".into()),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::Create, "user").by(by)
    };
    state.audit(vec![entry]).await
}
