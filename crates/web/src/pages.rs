//! Signed-in pages: home, the directory list and the administrators' notification outbox.

use crate::access::auth::CurrentUser;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::{Role, User};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::notifications::OutboxMessage;
use linkwork_domain::uktime::UkTime;

/// What the layout needs to know about the viewer.
pub struct Nav {
    pub user_name: Option<String>,
    pub is_admin: bool,
    /// Shows the caseload link.
    pub caseload: bool,
    /// Shows the referral links.
    pub refer: bool,
    /// Shows the waiting list.
    pub triage: bool,
    /// Shows the team settings.
    pub team: bool,
    /// Shows a voluntary group's inbox of referrals.
    pub partner: bool,
    /// Shows the directory's problem reports and claims.
    pub directory_staff: bool,
    pub demo: bool,
    pub version: &'static str,
    /// A change just saved, said in the NHS success notification at the top of the page.
    pub done: Option<&'static str>,
}

/// What a page says after a change was saved: the redirect names it (`?done=accepted`) and the
/// page shows the sentence from this one list, so nothing typed into a URL is ever shown.
const DONE: &[(&str, &str)] = &[
    ("saved", "Saved."),
    ("accepted", "Referral accepted. The episode is open and the referral is coded."),
    ("declined", "Referral declined. The referrer can see the decision and the reason."),
    ("redirected", "Referral redirected. The referrer can see where it went."),
    ("merged", "Records merged. The other record now points here."),
    ("reopened", "Episode reopened. The summary already sent is kept; discharging again sends a corrected version."),
    ("measure-recorded", "Outcome measure recorded. Its scores are on the record below."),
    (
        "measure-declined",
        "Recorded that the measure was not completed, with the reason. It counts as not recorded in reports.",
    ),
    ("link-sent", "Questionnaire link sent. It works once, for 14 days; a reminder goes once if it is not answered."),
    ("team-settings", "Team settings saved. New referrals and contacts follow them from now on."),
    ("unlocked", "The account is unlocked. Its owner can sign in again."),
    ("revoked", "Every session of that user has ended. They must sign in again."),
    ("invited", "Invitation sent. It works once, for 7 days."),
    ("two-factor-reset", "Two-factor sign-in is reset. They will set it up again when they next sign in."),
];

/// The `?done=` of a page a change redirected to.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    /// The sentence for this outcome, if it is one of ours.
    pub fn message(&self) -> Option<&'static str> {
        DONE.iter().find(|(code, _)| *code == self.done).map(|(_, m)| *m)
    }
}

/// Where to go after a change: `path` with the outcome to announce there.
pub(crate) fn after(path: &str, outcome: &'static str) -> Redirect {
    debug_assert!(DONE.iter().any(|(c, _)| *c == outcome), "{outcome} is in DONE");
    Redirect::to(&format!("{path}?done={outcome}"))
}

tokio::task_local! {
    /// Whether this installation is a demonstration, for pages drawn without a signed-in user
    /// (sign-in, self-referral, error pages). Set around every request by [`mark_demo`].
    static DEMO_INSTALLATION: bool;
}

/// Middleware: pages drawn while handling this request know whether the installation is a demo.
pub(crate) async fn mark_demo(
    axum::extract::State(demo): axum::extract::State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    DEMO_INSTALLATION.scope(demo, next.run(request)).await
}

fn demo_installation() -> bool {
    DEMO_INSTALLATION.try_with(|d| *d).unwrap_or(false)
}

impl Nav {
    /// The layout for someone not signed in.
    pub fn anonymous() -> Self {
        Self {
            user_name: None,
            is_admin: false,
            caseload: false,
            refer: false,
            triage: false,
            team: false,
            partner: false,
            directory_staff: false,
            demo: demo_installation(),
            version: env!("CARGO_PKG_VERSION"),
            done: None,
        }
    }

    /// The same, announcing a change just saved.
    pub fn done(mut self, done: &Done) -> Self {
        self.done = done.message();
        self
    }

    pub fn for_user(u: &User) -> Self {
        Self {
            user_name: Some(u.display_name.clone()),
            is_admin: u.has_role(Role::Administrator),
            caseload: granted(u, Permission::ViewCaseload),
            refer: granted(u, Permission::MakeReferral),
            triage: granted(u, Permission::Triage),
            team: granted(u, Permission::ManageTeam),
            partner: granted(u, Permission::AnswerReferrals),
            directory_staff: granted(u, Permission::ManageDirectory),
            demo: u.is_demo || demo_installation(),
            version: env!("CARGO_PKG_VERSION"),
            done: None,
        }
    }
}

pub(crate) fn html<T: Template>(t: &T) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

pub(crate) async fn start() -> Redirect {
    Redirect::to("/home")
}

#[derive(Template)]
#[template(path = "shared/home.html")]
struct HomePage {
    nav: Nav,
    user_name: String,
    org_name: String,
    org_kind: &'static str,
    roles: String,
    people: i64,
    referrals: i64,
    services: i64,
}

pub(crate) async fn home(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let org = state.store.get_org(user.org_id).await?;
    let mut roles: Vec<&str> = user.roles.iter().map(|g| g.role.label()).collect();
    roles.dedup();
    html(&HomePage {
        nav: Nav::for_user(&user),
        user_name: user.display_name.clone(),
        org_kind: org.kind.label(),
        org_name: org.name,
        roles: roles.join(", "),
        people: state.store.count_people(user.org_id).await?,
        referrals: state.store.count_referrals(user.org_id).await?,
        services: state.store.count_services().await?,
    })
}

#[derive(Template)]
#[template(path = "access/messages.html")]
struct MessagesPage {
    nav: Nav,
    messages: Vec<OutboxMessage>,
    queued: i64,
    done: i64,
    dead: i64,
}

pub(crate) async fn messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
) -> Result<Response, AppError> {
    // Messages may name people (invitations, reminders): reading the outbox is audited.
    let entry = AuditEntry { source, ..AuditEntry::new(state.clock.now(), AuditAction::View, "outbox").by(&user) };
    state.audit(vec![entry]).await?;
    let counts = state.store.job_counts().await?;
    html(&MessagesPage {
        nav: Nav::for_user(&user),
        messages: state.store.recent_messages(user.org_id, 200).await?,
        queued: counts.queued,
        done: counts.done,
        dead: counts.dead,
    })
}

/// Unknown addresses: an HTML page, or a problem document under the API.
/// Whether `path` belongs to a JSON face (the API, the Open Referral UK API, FHIR), whose every
/// answer, refusals and errors included, is JSON: a problem document, never an HTML page.
pub(crate) fn is_json_face(path: &str) -> bool {
    ["/api", "/openreferral", "/fhir"]
        .iter()
        .any(|face| path.strip_prefix(face).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The fallback for an unknown path: under the JSON faces (`/api`, `/openreferral`) a problem
/// document, never an HTML page; elsewhere the NHS-style "Page not found".
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if is_json_face(uri.path()) {
        crate::Problem::not_found().into_response()
    } else {
        AppError::NotFound.into_response()
    }
}
