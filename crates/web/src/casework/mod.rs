//! Casework on an episode: the record page, "what matters to you", the plan's goals and their
//! reviews, contacts, holding, appointments, barriers, the episode's work and discharge, the
//! message back (summary, plan PDF), the caseload, team settings and the practice profile.
//!
//! Every route about an episode takes an [`EpisodeCtx`]: the episode in the path, within the
//! tenant, and its person under the legitimate-relationship rule ([`crate::people::authorise`]).
//! Every write takes an [`OpenEpisode`] (or [`OpenGoal`]), the one place the rule for a closed
//! episode lives: once discharged, an episode refuses every write, because its summary has been
//! sent. Every read of a person is an audited view; every change an audited create or update,
//! written before the answer.

mod appointments;
mod barriers;
mod caseload;
pub(crate) mod codes;
mod contacts;
mod discharge;
mod episode;
mod holding;
mod pdf;
mod plan;
pub(crate) mod record;
pub(crate) mod summary;
pub(crate) mod team;

pub(crate) use appointments::{add_appointment, appointment_page, appointment_status};
pub(crate) use barriers::{add_barrier, barrier_page};
pub(crate) use caseload::caseload;
pub(crate) use contacts::{add_contact, contact_page};
pub(crate) use discharge::{discharge, discharge_page, reopen, reopen_page};
pub(crate) use episode::{episode_page, save_episode};
pub(crate) use holding::{end_holding, holding_page, start_holding};
pub(crate) use plan::{add_goal, add_need, goal_page, need_page, review_goal, review_page};

use crate::access::auth::{CurrentUser, SignedIn, path_param};
use crate::forms::{Field, FormExtras, FormPage, PersonContext};
use crate::pages::Nav;
use crate::people::{authorise, viewed};
use crate::{AppError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::{Episode, Goal};
use linkwork_domain::ids::{EpisodeId, GoalId, PersonId};
use linkwork_domain::people::Person;
use linkwork_domain::uktime::UkTime;

/// An episode and its person, opened for casework by the signed-in user: the episode named by
/// the path's `{id}` within the user's tenant (another tenant's is a 404), its person in the
/// user's team caseload or under a break-glass grant (otherwise 403, with nothing of the record).
pub(crate) struct EpisodeCtx {
    pub state: AppState,
    pub user: User,
    pub source: Option<String>,
    pub episode: Episode,
    pub person: Person,
}

impl EpisodeCtx {
    async fn open(parts: &mut Parts, state: &AppState, episode: EpisodeId) -> Result<Self, AppError> {
        let SignedIn { user, source, session } = SignedIn::from_request_parts(parts, state).await?;
        let episode = state.store.get_episode(user.org_id, episode).await?;
        let person = authorise(state, &user, &session, &episode.person_id.to_string()).await?;
        Ok(Self { state: state.clone(), user, source, episode, person })
    }

    /// A form page about the episode shows who it is about: an audited view of their record.
    pub async fn viewed(self) -> Result<Self, AppError> {
        self.state.audit(vec![viewed(&self.state, &self.user, &self.source, self.person.id, "episode_form")]).await?;
        Ok(self)
    }

    /// Refuse a write to a closed episode: the one rule, for every face that writes casework.
    fn refuse_closed(self) -> Result<Self, AppError> {
        match self.episode.closed_at {
            None => Ok(self),
            Some(closed) => {
                Err(AppError::EpisodeClosed { episode: self.episode.id.to_string(), closed_on: date(closed.uk_date()) })
            }
        }
    }
}

/// The path's `{id}`, parsed; a malformed id is a 404 like a missing one.
async fn path_id<T: std::str::FromStr>(parts: &mut Parts, state: &AppState) -> Result<T, AppError> {
    path_param(parts, state, "id").await?.parse::<T>().map_err(|_| AppError::NotFound)
}

impl FromRequestParts<AppState> for EpisodeCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let id = path_id::<EpisodeId>(parts, state).await?;
        Self::open(parts, state, id).await
    }
}

/// An [`EpisodeCtx`] that is still open: every casework write takes this, so a discharged
/// episode refuses them all with one clear answer (409, a link back to the record).
pub(crate) struct OpenEpisode(pub EpisodeCtx);

impl FromRequestParts<AppState> for OpenEpisode {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(OpenEpisode(EpisodeCtx::from_request_parts(parts, state).await?.refuse_closed()?))
    }
}

/// A goal (the path's `{id}`) on an open episode, for reviewing it.
pub(crate) struct OpenGoal(pub EpisodeCtx, pub Goal);

impl FromRequestParts<AppState> for OpenGoal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let id = path_id::<GoalId>(parts, state).await?;
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let goal = state.store.get_goal(user.org_id, id).await?;
        let cx = EpisodeCtx::open(parts, state, goal.episode_id).await?.refuse_closed()?;
        Ok(OpenGoal(cx, goal))
    }
}

pub(crate) fn changed(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: PersonId,
    what: &str,
    id: String,
) -> AuditEntry {
    AuditEntry {
        person_id: Some(person),
        record_id: Some(id),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::Update, what).by(user)
    }
}

pub(crate) fn created(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    person: PersonId,
    what: &str,
    id: String,
) -> AuditEntry {
    AuditEntry { action: AuditAction::Create, ..changed(state, user, source, person, what, id) }
}

/// Back to the person's record after a change, which the record announces as saved.
pub(crate) fn back_to(person: &Person) -> Response {
    crate::pages::after(&format!("/people/{}", person.id), "saved").into_response()
}

pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%d %b %Y").to_string()
}

/// A casework form about a person, with who it is about above it and a way back to the record.
pub(crate) fn form(
    user: &User,
    person: &Person,
    title: &'static str,
    action: String,
    submit: &'static str,
    fields: Vec<Field>,
) -> FormPage {
    FormPage {
        nav: Nav::for_user(user),
        title,
        intro: vec![],
        action,
        submit,
        fields,
        errors: vec![],
        extras: FormExtras {
            context: Some(PersonContext::of(person)),
            back: Some(format!("/people/{}", person.id)),
            ..FormExtras::default()
        },
    }
}

/// A casework form about an episode: its title, address (`/episodes/{id}/{step}`) and button,
/// declared once for the page that shows it and the handler that takes it.
pub(crate) struct EpisodeForm {
    pub title: &'static str,
    pub step: &'static str,
    pub submit: &'static str,
}

impl EpisodeForm {
    pub fn page(&self, user: &User, e: &Episode, p: &Person, fields: Vec<Field>) -> FormPage {
        form(user, p, self.title, format!("/episodes/{}/{}", e.id, self.step), self.submit, fields)
    }
}
