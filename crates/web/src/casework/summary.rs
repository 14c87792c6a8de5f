//! The discharge summary ("message back to the GP and referrer", PRSB Social Prescribing
//! Information Standard): person, referral, needs and concerns, support offered, outcomes and
//! codes, as a page, a printable PDF and structured JSON. Also the personalised care and
//! support plan as a PDF to hand to the person.
//!
//! The referrer may read the summary of an episode their referral opened, and so may referring
//! staff of the person's GP practice; link workers and managers under the usual
//! legitimate-relationship rule. The email that tells the referrer it
//! is ready carries a link, never the person's details.
//!
//! What is shown is the version sent (`?version=N` for an earlier one), never the record as it
//! is now: `usecases::message_back` keeps that rule for every face.

use crate::access::auth::SignedIn;
use crate::casework::pdf::{Block, render};
use crate::pages::Nav;
use crate::people::authorise;
use crate::{AppError, AppState};
use askama::Template;
use axum::extract::{FromRequestParts, Query};
use axum::http::header;
use axum::response::{Html, IntoResponse, Json, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::organisations::referral_tenant;
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::casework::Episode;
use linkwork_domain::casework::message_back::MessageBack;
use linkwork_domain::ids::EpisodeId;
use linkwork_domain::people::Person;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::message_back::{Shown, shown};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// Reach an episode as its referrer or as a worker with a legitimate relationship.
/// The message back of the episode in the path, for whoever may read it: the workers under the
/// caseload rule at any time; the referrer and the referring staff of the person's practice once
/// it is sent. Its reading is audited by the handler (a view, or an export).
pub(crate) struct MessageBackCtx {
    state: AppState,
    user: User,
    source: Option<String>,
    episode: Episode,
    person: Person,
}

impl FromRequestParts<AppState> for MessageBackCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn { user, source, session } = SignedIn::from_request_parts(parts, state).await?;
        let id = crate::access::auth::path_param(parts, state, "id").await?;
        let (episode, person) = reach(state, &user, &session, &id).await?;
        Ok(MessageBackCtx { state: state.clone(), user, source, episode, person })
    }
}

/// `?version=N`: an earlier version of the message back.
#[derive(Deserialize, Default)]
pub(crate) struct Wanted {
    #[serde(default)]
    version: String,
}

/// Which version of the message back is shown, and what the reader is told about it.
struct Edition {
    /// "sent", "draft" (not sent yet) or "rebuilt" (sent before copies were kept).
    status: &'static str,
    version: Option<i32>,
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// "25 November 2026 at 14:05 by Lee Worker".
    sent: Option<String>,
    changes: Option<String>,
    /// Every version sent: its number and day.
    versions: Vec<(i32, String)>,
    /// A sentence above the document, when it is not simply the latest version sent.
    notice: Option<&'static str>,
}

impl MessageBackCtx {
    /// Record the reading (`action`: a view or an export) and fetch the version asked for.
    async fn read(&self, action: AuditAction, what: &str, q: &Wanted) -> Result<(MessageBack, Edition), AppError> {
        let wanted = match q.version.trim() {
            "" => None,
            v => Some(v.parse::<i32>().map_err(|_| AppError::NotFound)?),
        };
        let s = self.state.services();
        let Some(found) = shown(s, &self.episode, &self.person, wanted).await? else { return Err(AppError::NotFound) };
        audited(&self.state, &self.user, self.source.clone(), &self.person, &self.episode, action, what).await?;
        Ok(match found {
            Shown::Draft(m) => (
                m,
                Edition {
                    status: "draft",
                    version: None,
                    sent_at: None,
                    sent: None,
                    changes: None,
                    versions: vec![],
                    notice: Some("Draft: this summary has not been sent. It is sent when the episode is discharged."),
                },
            ),
            Shown::Rebuilt(m) => (
                m,
                Edition {
                    status: "rebuilt",
                    version: None,
                    sent_at: None,
                    sent: None,
                    changes: None,
                    versions: vec![],
                    notice: Some(
                        "This episode was discharged before linkwork kept each summary as sent: it is shown from the record as it is now.",
                    ),
                },
            ),
            Shown::Sent { shown, versions } => {
                let by = match shown.sent_by {
                    Some(u) => format!(" by {}", self.state.store.get_user(u).await?.display_name),
                    None => String::new(),
                };
                let latest = versions.last().map(|v| v.version) == Some(shown.version);
                let notice = if !latest {
                    Some("This is an earlier version. A later, corrected version has been sent.")
                } else if self.episode.is_open() {
                    Some(
                        "The episode was reopened after this summary was sent. A corrected version is sent when it is discharged again.",
                    )
                } else {
                    None
                };
                (
                    shown.document,
                    Edition {
                        status: "sent",
                        version: Some(shown.version),
                        sent_at: Some(shown.sent_at),
                        sent: Some(format!("{}{by}", shown.sent_at.uk().format("%-d %B %Y at %H:%M"))),
                        changes: shown.changes,
                        versions: versions.iter().map(|v| (v.version, d(v.sent_at.uk_date()))).collect(),
                        notice,
                    },
                )
            }
        })
    }
}

async fn reach(state: &AppState, user: &User, session: &Session, id: &str) -> Result<(Episode, Person), AppError> {
    let id = id.parse::<EpisodeId>().map_err(|_| AppError::NotFound)?;
    let tenant = referral_tenant(&state.store.get_org(user.org_id).await?);
    let episode = state.store.get_episode(tenant, id).await?;
    if granted(user, Permission::ViewCaseload) && tenant == user.org_id {
        let person = authorise(state, user, session, &episode.person_id.to_string()).await?;
        return Ok((episode, person));
    }
    let referral = state.store.get_referral(tenant, episode.referral_id).await?;
    let person = state.store.get_person(tenant, episode.person_id).await?;
    // The referrer, or a referrer at the person's GP practice (the message back is for them),
    // and only once it is sent: an open episode's record is casework, not a message back. A
    // reopened episode's summary stays readable as it was sent.
    if referral.referred_by != Some(user.id) && person.practice_id != Some(user.org_id) {
        return Err(AppError::NotFound);
    }
    if episode.is_open() && state.store.message_backs(tenant, episode.id).await?.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok((episode, person))
}

fn d(t: chrono::NaiveDate) -> String {
    t.format("%d %B %Y").to_string()
}

async fn audited(
    state: &AppState,
    user: &User,
    source: Option<String>,
    p: &Person,
    e: &Episode,
    action: AuditAction,
    what: &str,
) -> Result<(), AppError> {
    state
        .audit(vec![AuditEntry {
            person_id: Some(p.id),
            record_id: Some(e.id.to_string()),
            org_id: Some(e.org_id),
            source,
            ..AuditEntry { org_id: Some(e.org_id), ..AuditEntry::new(state.clock.now(), action, what).by(user) }
        }])
        .await
}

#[derive(Template)]
#[template(path = "casework/summary.html")]
struct SummaryPage {
    nav: Nav,
    episode_id: String,
    /// `?version=N` for the formats, when a version was asked for.
    query: String,
    m: MessageBack,
    e: Edition,
}

fn query(e: &Edition) -> String {
    e.version.map(|v| format!("?version={v}")).unwrap_or_default()
}

pub(crate) async fn page(cx: MessageBackCtx, Query(q): Query<Wanted>) -> Result<Response, AppError> {
    let (m, e) = cx.read(AuditAction::View, "discharge_summary", &q).await?;
    let (nav, episode_id) = (Nav::for_user(&cx.user), cx.episode.id.to_string());
    let page = SummaryPage { nav, episode_id, query: query(&e), m, e };
    Ok(Html(page.render()?).into_response())
}

/// The JSON document: the version's sections, with which version it is and when it was sent.
#[derive(Serialize)]
struct JsonDocument<'a> {
    status: &'static str,
    version: Option<i32>,
    /// RFC 3339.
    sent_at: Option<String>,
    changes: Option<&'a str>,
    #[serde(flatten)]
    document: &'a MessageBack,
}

pub(crate) async fn json(cx: MessageBackCtx, Query(q): Query<Wanted>) -> Result<Response, AppError> {
    let (m, e) = cx.read(AuditAction::Export, "discharge_summary_json", &q).await?;
    Ok(Json(JsonDocument {
        status: e.status,
        version: e.version,
        sent_at: e.sent_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        changes: e.changes.as_deref(),
        document: &m,
    })
    .into_response())
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) async fn pdf(cx: MessageBackCtx, Query(q): Query<Wanted>) -> Result<Response, AppError> {
    let (m, e) = cx.read(AuditAction::Export, "discharge_summary_pdf", &q).await?;
    let mut b = vec![
        Block::Title("Social prescribing: discharge summary".into()),
        Block::Para("Message back to the GP and referrer (PRSB Social Prescribing Information Standard).".into()),
    ];
    if let (Some(v), Some(sent)) = (e.version, &e.sent) {
        b.push(Block::Field("Version".into(), format!("{v}, sent {sent}")));
    }
    if let Some(changes) = &e.changes {
        b.push(Block::Field("What changed".into(), changes.clone()));
    }
    if let Some(n) = e.notice {
        b.push(Block::Para(n.into()));
    }
    b.extend([
        Block::Heading("Person".into()),
        Block::Field("Name".into(), m.person.name.clone()),
        Block::Field("NHS number".into(), m.person.nhs_number.clone().unwrap_or_else(|| "Not known".into())),
        Block::Field("Date of birth".into(), m.person.date_of_birth.to_string()),
        Block::Field(
            "GP practice".into(),
            m.person.gp_practice.clone().map_or_else(
                || "Not known".into(),
                |(name, ods)| format!("{name} {}", ods.unwrap_or_default()).trim().to_owned(),
            ),
        ),
        Block::Field(
            "Address".into(),
            format!("{} {}", m.person.address, m.person.postcode.clone().unwrap_or_default()),
        ),
        Block::Heading("Referral".into()),
        Block::Field("Received".into(), m.referral.received.to_string()),
        Block::Field("From".into(), format!("{} {}", m.referral.source, m.referral.referrer)),
        Block::Field("Reason".into(), m.referral.reason.clone()),
        Block::Field("Link worker".into(), m.link_worker.clone()),
        Block::Field(
            "Support".into(),
            format!("{} to {}", m.opened, m.discharged.map_or_else(|| "now".to_owned(), |d| d.to_string())),
        ),
        Block::Heading("What mattered to the person".into()),
    ]);
    b.extend(m.needs_and_concerns.iter().map(|n| Block::Item(n.clone())));
    b.push(Block::Heading("Support offered".into()));
    b.push(Block::Para(format!(
        "{} contacts, {} minutes in all.",
        m.support_offered.contacts, m.support_offered.minutes
    )));
    b.extend(m.support_offered.modes.iter().map(|x| Block::Item(x.clone())));
    b.extend(m.support_offered.holding.iter().map(|x| Block::Item(format!("Holding: {x}"))));
    b.extend(m.support_offered.barriers.iter().map(|x| Block::Item(format!("Barrier: {x}"))));
    b.push(Block::Heading("Outcomes".into()));
    b.extend(m.outcomes.iter().map(|g| {
        Block::Item(format!("\u{201C}{}\u{201D} ({}): {}, {}/10", g.goal, g.area, g.status, g.progress_out_of_10))
    }));
    b.extend(m.measures.iter().map(|x| Block::Item(measure_line(x))));
    b.push(Block::Heading("Connections to services".into()));
    if m.connections.is_empty() {
        b.push(Block::Para("None in this episode.".into()));
    }
    b.extend(
        m.connections.iter().map(|c| Block::Item(format!("{} ({}): {}, {}", c.service, c.need, c.outcome, c.date))),
    );
    if let Some(r) = &m.discharge_reason {
        b.push(Block::Field("Discharged".into(), r.clone()));
    }
    b.push(Block::Heading("Summary".into()));
    b.push(Block::Para(m.summary.clone()));
    b.push(Block::Heading("Codes for the GP record".into()));
    b.extend(m.codes.iter().map(|c| Block::Item(format!("{} {} ({})", c.code, c.term, c.date))));
    Ok(pdf_response(
        render("Discharge summary", "linkwork discharge summary - confidential", &b),
        "discharge-summary.pdf",
    ))
}

/// The plan as a PDF to hand to the person: their goals in their own words.
pub(crate) async fn plan_pdf(cx: super::EpisodeCtx) -> Result<Response, AppError> {
    let super::EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    audited(&state, &user, source, &p, &e, AuditAction::Export, "plan_pdf").await?;
    let needs = state.store.needs(e.org_id, e.id).await?;
    let goals = state.store.goals(e.org_id, e.id).await?;
    let worker = match e.worker_id {
        Some(w) => Some(state.store.get_user(w).await?),
        None => None,
    };
    let service = state.store.get_org(e.org_id).await?;
    let team = state.store.list_teams(e.org_id).await?.into_iter().find(|t| t.id == e.team_id);
    let made_with = match &worker {
        Some(w) => format!("Made with {}, your link worker.", w.display_name),
        None => "Made with your link worker.".to_owned(),
    };
    let mut b = vec![
        Block::Title(format!("My plan: {}", p.full_name())),
        Block::Para(format!("{made_with} Printed {}.", d(state.clock.now().uk_date()))),
        Block::Heading("How to reach your link worker".into()),
        Block::Field(
            "Service".into(),
            match &team {
                Some(t) => format!("{}, {}", t.name, service.name),
                None => service.name.clone(),
            },
        ),
    ];
    if let Some(w) = &worker {
        b.push(Block::Field("Email".into(), w.email.to_string()));
    }
    b.push(Block::Para("Or ask at your GP practice for the social prescribing link worker.".into()));
    b.push(Block::Heading("What matters to me".into()));
    if needs.is_empty() {
        b.push(Block::Para("We have not written this down yet.".into()));
    }
    b.extend(needs.iter().map(|n| Block::Item(format!("{}: \u{201C}{}\u{201D}", n.domain.label(), n.own_words))));
    b.push(Block::Heading("My goals".into()));
    for g in &goals {
        b.push(Block::Item(format!("\u{201C}{}\u{201D}", g.own_words)));
        if !g.steps.is_empty() {
            b.push(Block::Field("Steps".into(), g.steps.clone()));
        }
        // The same words as the record page: one label per status, from its vocabulary.
        b.push(Block::Field("Where I am".into(), format!("{}, {} out of 10", g.status.label(), g.progress)));
        b.push(Block::Gap);
    }
    let connected = linkwork_domain::usecases::message_back::connections(state.services(), &e).await?;
    b.push(Block::Heading("Services I am connected to".into()));
    if connected.is_empty() {
        b.push(Block::Para("None yet.".into()));
    }
    b.extend(connected.iter().map(|c| Block::Item(format!("{}: {}", c.service, c.outcome))));
    b.push(Block::Heading("If things get worse".into()));
    b.push(Block::Para(
        "Contact your GP practice. If you need help urgently, call 111, or 999 in an emergency.".into(),
    ));
    Ok(pdf_response(render("My plan", "My personalised care and support plan", &b), "my-plan.pdf"))
}

/// An outcome measure as one line: baseline, latest and the change.
fn measure_line(x: &linkwork_domain::casework::message_back::MeasurePart) -> String {
    let band = |b: &Option<String>| b.as_ref().map(|b| format!(", {}", b.to_lowercase())).unwrap_or_default();
    let mut line = format!(
        "{}, {}: baseline {} on {}{}",
        x.instrument,
        x.scale,
        x.baseline,
        x.baseline_on,
        band(&x.baseline_band)
    );
    if let (Some(l), Some(on)) = (&x.latest, &x.latest_on) {
        line.push_str(&format!("; latest {l} on {on}{}", band(&x.latest_band)));
    }
    if let Some(c) = &x.change {
        line.push_str(&format!(". {c}"));
    }
    line
}
