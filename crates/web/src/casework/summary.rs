//! The discharge summary ("message back to the GP and referrer", PRSB Social Prescribing
//! Information Standard): person, referral, needs and concerns, support offered, outcomes and
//! codes, as a page, a printable PDF and structured JSON. Also the personalised care and
//! support plan as a PDF to hand to the person.
//!
//! The referrer may read the summary of an episode their referral opened, and so may referring
//! staff of the person's GP practice; link workers and managers under the usual
//! legitimate-relationship rule. The email that tells the referrer it
//! is ready carries a link, never the person's details.

use crate::access::auth::SignedIn;
use crate::casework::pdf::{Block, render};
use crate::pages::Nav;
use crate::people::authorise;
use crate::{AppError, AppState};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::response::{Html, IntoResponse, Json, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::organisations::referral_tenant;
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::casework::Episode;
use linkwork_domain::ids::EpisodeId;
use linkwork_domain::people::Person;
use linkwork_domain::uktime::UkTime;
use serde::Serialize;
use tower_sessions::Session;

/// A day in a document that leaves the system: read as "24 November 2026" on the page and in
/// the PDF, written as ISO 8601 ("2026-11-24") in JSON, so systems reading it need not parse
/// English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%-d %B %Y"))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

#[derive(Serialize)]
pub struct Demographics {
    pub nhs_number: Option<String>,
    pub name: String,
    pub date_of_birth: Day,
    pub address: String,
    pub postcode: Option<String>,
    pub gender: &'static str,
    pub ethnicity: &'static str,
    /// The GP practice: name and ODS code.
    pub gp_practice: Option<(String, Option<String>)>,
}

#[derive(Serialize)]
pub struct ReferralPart {
    pub received: Day,
    pub source: &'static str,
    pub referrer: String,
    pub reason: String,
}

#[derive(Serialize)]
pub struct GoalPart {
    pub goal: String,
    pub area: &'static str,
    pub status: &'static str,
    pub progress_out_of_10: i32,
}

#[derive(Serialize)]
pub struct SupportPart {
    pub contacts: usize,
    pub minutes: i64,
    pub modes: Vec<String>,
    pub holding: Vec<String>,
    pub barriers: Vec<String>,
}

#[derive(Serialize)]
pub struct CodePart {
    pub code: String,
    pub term: String,
    pub date: Day,
}

/// A service the person was connected to in the episode, and how it went.
#[derive(Serialize)]
pub struct ConnectionPart {
    pub service: String,
    pub need: &'static str,
    /// Signposted, or the referral's status (accepted, attending, completed, declined…).
    pub outcome: &'static str,
    pub date: Day,
}

/// The message back, in the PRSB model's sections.
#[derive(Serialize)]
pub struct MessageBack {
    pub standard: &'static str,
    pub person: Demographics,
    pub referral: ReferralPart,
    pub opened: Day,
    pub discharged: Option<Day>,
    pub discharge_reason: Option<&'static str>,
    pub link_worker: String,
    pub needs_and_concerns: Vec<String>,
    pub support_offered: SupportPart,
    pub outcomes: Vec<GoalPart>,
    /// Services the person was connected to in this episode.
    pub connections: Vec<ConnectionPart>,
    pub summary: String,
    pub codes: Vec<CodePart>,
}

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

impl MessageBackCtx {
    /// Record the reading (`action`: a view or an export) and build the message back.
    async fn read(&self, action: AuditAction, what: &str) -> Result<MessageBack, AppError> {
        audited(&self.state, &self.user, self.source.clone(), &self.person, &self.episode, action, what).await?;
        build(&self.state, &self.episode, &self.person).await
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
    // and only once it is sent: an open episode's record is casework, not a message back.
    if referral.referred_by != Some(user.id) && person.practice_id != Some(user.org_id) {
        return Err(AppError::NotFound);
    }
    if episode.is_open() {
        return Err(AppError::NotFound);
    }
    Ok((episode, person))
}

fn d(t: chrono::NaiveDate) -> String {
    t.format("%d %B %Y").to_string()
}

async fn build(state: &AppState, e: &Episode, p: &Person) -> Result<MessageBack, AppError> {
    let org = e.org_id;
    let referral = state.store.get_referral(org, e.referral_id).await?;
    let needs = state.store.needs(org, e.id).await?;
    let goals = state.store.goals(org, e.id).await?;
    let contacts = state.store.contacts(org, e.id).await?;
    let holdings = state.store.holdings(org, e.id).await?;
    let barriers = state.store.barriers(org, e.id).await?;
    let codes = state.store.coded_events(org, p.id).await?;
    // A document that leaves the system never turns a failed lookup into a blank: a fault
    // stops it (and is logged), and an unassigned worker says so.
    let worker = match e.worker_id {
        Some(w) => state.store.get_user(w).await?.display_name,
        None => "Not assigned".into(),
    };
    let referrer = match referral.referred_by {
        Some(u) => state.store.get_user(u).await?.display_name,
        None => referral.referrer_name.clone(),
    };
    let mut modes: Vec<String> = vec![];
    for c in &contacts {
        let m = format!("{} ({})", c.mode.label(), c.location.label());
        if !modes.contains(&m) {
            modes.push(m);
        }
    }
    let today = state.clock.now().uk_date();
    let gp_practice = match p.practice_id {
        Some(id) => {
            let o = state.store.get_org(id).await?;
            Some((o.name, o.ods_code.map(String::from)))
        }
        None => None,
    };
    Ok(MessageBack {
        standard: "PRSB Social Prescribing Information Standard v1.1: message back to GP and referrer",
        person: Demographics {
            nhs_number: p.nhs_number.as_ref().map(|n| n.as_str().to_owned()),
            name: p.full_name(),
            date_of_birth: Day(p.date_of_birth),
            address: p.address.clone(),
            postcode: p.postcode.as_ref().map(|c| c.to_string()),
            gender: p.gender.label(),
            ethnicity: p.ethnicity.label(),
            gp_practice,
        },
        referral: ReferralPart {
            received: Day(referral.received_at.uk_date()),
            source: referral.source.label(),
            referrer,
            reason: referral.reason.clone(),
        },
        opened: Day(e.opened_at.uk_date()),
        discharged: e.closed_at.map(|c| Day(c.uk_date())),
        discharge_reason: e.discharge_reason.map(|r| r.label()),
        link_worker: worker,
        needs_and_concerns: needs
            .iter()
            .map(|n| format!("{}: \u{201C}{}\u{201D}", n.domain.label(), n.own_words))
            .collect(),
        support_offered: SupportPart {
            contacts: contacts.len(),
            minutes: contacts.iter().map(|c| i64::from(c.minutes)).sum(),
            modes,
            holding: holdings
                .iter()
                .map(|h| format!("{} from {} for {} days", h.reason.label(), d(h.started_on), h.days(today)))
                .collect(),
            barriers: barriers.iter().map(|b| format!("{} ({})", b.code.label(), b.kind.label())).collect(),
        },
        outcomes: goals
            .iter()
            .map(|g| GoalPart {
                goal: g.own_words.clone(),
                area: g.domain.label(),
                status: g.status.label(),
                progress_out_of_10: g.progress,
            })
            .collect(),
        summary: e.discharge_note.clone().unwrap_or_default(),
        codes: codes
            .iter()
            .filter(|c| c.referral_id == e.referral_id || c.episode_id == Some(e.id))
            .map(|c| CodePart { code: c.code.clone(), term: c.term.clone(), date: Day(c.recorded_at.uk_date()) })
            .collect(),
        connections: connections(state, e).await?,
    })
}

/// The episode's connections to services, as the message back reports them.
async fn connections(state: &AppState, e: &Episode) -> Result<Vec<ConnectionPart>, AppError> {
    Ok(state
        .store
        .person_connections(e.org_id, e.person_id)
        .await?
        .into_iter()
        .filter(|c| c.episode_id == Some(e.id))
        .map(|c| ConnectionPart {
            outcome: c.outcome(),
            need: c.need.label(),
            date: Day(c.created_at.uk_date()),
            service: c.service_name,
        })
        .collect())
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
    m: MessageBack,
}

pub(crate) async fn page(cx: MessageBackCtx) -> Result<Response, AppError> {
    let m = cx.read(AuditAction::View, "discharge_summary").await?;
    Ok(Html(SummaryPage { nav: Nav::for_user(&cx.user), episode_id: cx.episode.id.to_string(), m }.render()?)
        .into_response())
}

pub(crate) async fn json(cx: MessageBackCtx) -> Result<Response, AppError> {
    Ok(Json(cx.read(AuditAction::Export, "discharge_summary_json").await?).into_response())
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

pub(crate) async fn pdf(cx: MessageBackCtx) -> Result<Response, AppError> {
    let m = cx.read(AuditAction::Export, "discharge_summary_pdf").await?;
    let mut b = vec![
        Block::Title("Social prescribing: discharge summary".into()),
        Block::Para("Message back to the GP and referrer (PRSB Social Prescribing Information Standard).".into()),
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
    ];
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
    b.push(Block::Heading("Connections to services".into()));
    if m.connections.is_empty() {
        b.push(Block::Para("None in this episode.".into()));
    }
    b.extend(
        m.connections.iter().map(|c| Block::Item(format!("{} ({}): {}, {}", c.service, c.need, c.outcome, c.date))),
    );
    if let Some(r) = m.discharge_reason {
        b.push(Block::Field("Discharged".into(), r.to_owned()));
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
    let connected = connections(&state, &e).await?;
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
