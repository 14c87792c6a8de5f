//! Signing in and out, and the extractors that give handlers the signed-in user.
//!
//! A session id is replaced at sign-in (no fixation), sessions end after
//! `WebConfig::session_idle` of inactivity (re-saved at most once a minute while in use) and at most
//! `WebConfig::session_absolute` after sign-in, whatever the activity. A wrong email and a wrong
//! password get the same answer in the same time.

use crate::access::passwords;
use crate::access::session_store::USER_KEY;
use crate::access::two_factor;
use crate::pages::Nav;
use crate::routes::Authenticated;
use crate::{AppError, AppState, ClientAddress, Problem};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::accounts::two_factor_required;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::throttle;
use linkwork_domain::ids::UserId;
use linkwork_domain::ports::StoreError;
use serde::Deserialize;
use tower_sessions::Session;

const SIGNED_IN_AT: &str = "signed_in_at";
const TOUCHED_AT: &str = "touched_at";
/// The user's session generation at sign-in (see `User::session_generation`).
const GENERATION: &str = "generation";

/// How often activity re-saves a session to slide its idle expiry. Saving on every request would
/// cost a durable write per page view; once a minute makes the idle timeout exact to a minute.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Why there is no usable signed-in user.
pub(crate) enum NoUser {
    NotSignedIn,
    Fault(String),
}

/// The user behind this request's session, if it is still valid.
pub(crate) async fn session_user(parts: &mut Parts, state: &AppState) -> Result<User, NoUser> {
    let session = Session::from_request_parts(parts, state).await.map_err(|(_, m)| NoUser::Fault(m.to_owned()))?;
    let id: Option<String> = session.get(USER_KEY).await.map_err(|e| NoUser::Fault(e.to_string()))?;
    let Some(id) = id.and_then(|s| s.parse::<UserId>().ok()) else {
        return Err(NoUser::NotSignedIn);
    };
    let since: Option<DateTime<Utc>> = session.get(SIGNED_IN_AT).await.map_err(|e| NoUser::Fault(e.to_string()))?;
    let generation: Option<i32> = session.get(GENERATION).await.map_err(|e| NoUser::Fault(e.to_string()))?;
    let expired = since.is_none_or(|t| state.clock.now() - t > state.config.session_absolute);
    let user = match state.store.get_user(id).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(NoUser::Fault(e.to_string())),
    };
    match user {
        // A session signed in under an older generation was revoked, whatever saved it since.
        Some(u) if !u.disabled && !expired && generation == Some(u.session_generation) => {
            let now = state.clock.now();
            let touched: Option<DateTime<Utc>> =
                session.get(TOUCHED_AT).await.map_err(|e| NoUser::Fault(e.to_string()))?;
            if touched.is_none_or(|t| now - t >= TOUCH_EVERY) {
                // Modifying the session makes the store save it, stamping a new expiry.
                session.insert(TOUCHED_AT, now).await.map_err(|e| NoUser::Fault(e.to_string()))?;
            }
            Ok(u)
        }
        _ => {
            session.flush().await.map_err(|e| NoUser::Fault(e.to_string()))?;
            Err(NoUser::NotSignedIn)
        }
    }
}

/// What every record extractor starts from: the signed-in user (the guard has checked the
/// session and the route's rule), the client's address for the audit trail, and the session
/// (which holds break-glass grants).
pub(crate) struct SignedIn {
    pub user: User,
    pub source: Option<String>,
    pub session: Session,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let ClientAddress(source) =
            ClientAddress::from_request_parts(parts, state).await.unwrap_or(ClientAddress(None));
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, m)| AppError::Internal(format!("session: {m}")))?;
        Ok(SignedIn { user, source, session })
    }
}

/// The path's `{name}` parameter; a missing one is a 404 like an unknown id.
pub(crate) async fn path_param(parts: &mut Parts, state: &AppState, name: &str) -> Result<String, AppError> {
    let params =
        axum::extract::RawPathParams::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_owned()).ok_or(AppError::NotFound)
}

/// The signed-in user, for handlers of guarded routes (see `routes`). The guard has already
/// checked the session and the route's permission.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|a| CurrentUser(a.0.clone()))
            .ok_or_else(|| AppError::Internal("handler needs a user but its route is public".into()))
    }
}

/// The signed-in user, for API handlers of guarded routes.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|a| ApiUser(a.0.clone()))
            .ok_or_else(|| Problem::internal("API handler needs a user but its route is public"))
    }
}

/// A field error shown in the NHS error summary and beside the field.
pub(crate) struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
}

#[derive(Template)]
#[template(path = "access/sign_in.html")]
struct SignInPage<'a> {
    nav: Nav,
    /// On a demonstration installation, the accounts to try.
    demo: Option<&'a crate::DemoAccounts>,
    email: String,
    errors: Vec<FieldError>,
}

impl SignInPage<'_> {
    fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

fn render_sign_in(state: &AppState, email: String, error: Option<FieldError>) -> Result<Response, AppError> {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let demo = state.config.demo.as_ref();
    let html = SignInPage { nav: Nav::anonymous(), demo, email, errors: error.into_iter().collect() }.render()?;
    Ok((status, Html(html)).into_response())
}

/// Too many failed attempts on this account or from this address. The same words whether or not
/// the account exists.
fn render_locked(state: &AppState, email: String) -> Result<Response, AppError> {
    let error = FieldError {
        field: "email",
        message: "Too many failed attempts. Wait an hour and try again, or ask an administrator to unlock your account",
    };
    let demo = state.config.demo.as_ref();
    let html = SignInPage { nav: Nav::anonymous(), demo, email, errors: vec![error] }.render()?;
    Ok((StatusCode::TOO_MANY_REQUESTS, Html(html)).into_response())
}

pub(crate) async fn sign_in_page(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let signed_in: Option<String> = session.get(USER_KEY).await.map_err(|e| AppError::Internal(e.to_string()))?;
    if signed_in.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    render_sign_in(&state, String::new(), None)
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let email = form.email.trim().to_owned();
    if email.is_empty() {
        return render_sign_in(&state, email, Some(FieldError { field: "email", message: "Enter your email address" }));
    }
    if form.password.is_empty() {
        return render_sign_in(&state, email, Some(FieldError { field: "password", message: "Enter your password" }));
    }
    let user = match state.store.find_user_by_email(&email).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
    // The attempt is recorded against the account it named, if there is one, so that
    // organisation's administrators see it; the answer never says whether it exists.
    let failure = |reason: &str| AuditEntry {
        actor: email.to_lowercase().chars().take(254).collect(),
        actor_user_id: user.as_ref().map(|u| u.id),
        org_id: user.as_ref().map(|u| u.org_id),
        source: source.clone(),
        reason: Some(reason.into()),
        ..AuditEntry::new(now, AuditAction::SignInFailed, "session")
    };
    let mut keys = vec![throttle::account_key(&email)];
    keys.extend(source.as_deref().map(throttle::address_key));
    // The attempt is counted before the password is hashed, atomically, so parallel attempts
    // cannot all pass the check: at most the limit's worth are ever hashed.
    if !state.store.reserve_attempt(&keys, now).await? {
        state.audit(vec![failure("locked after too many failed attempts")]).await?;
        return render_locked(&state, email);
    }

    let stored = user.as_ref().map_or_else(|| passwords::dummy_hash().to_owned(), |u| u.password_hash.clone());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &stored))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(user) = user.clone().filter(|u| ok && !u.disabled) else {
        tracing::info!("sign-in refused");
        let reason = match &user {
            None => "no such account",
            Some(u) if u.disabled => "account disabled",
            Some(_) => "wrong password",
        };
        state.audit(vec![failure(reason)]).await?;
        if state.store.throttle_states(&keys).await?.iter().any(|t| t.is_locked(now)) {
            return render_locked(&state, email);
        }
        return render_sign_in(
            &state,
            email,
            Some(FieldError { field: "email", message: "Enter a correct email address and password" }),
        );
    };
    state.store.release_attempt(&keys, now).await?;

    // The password was right. A second factor may still be needed before the session is signed in.
    let enrolled = state.store.two_factor(user.id).await?.is_some_and(|t| t.enabled_at.is_some());
    let required = two_factor_required(&user, state.store.org_requires_two_factor(user.org_id).await?);
    if enrolled || required {
        let fail = |e: tower_sessions::session::Error| AppError::Internal(e.to_string());
        session.cycle_id().await.map_err(fail)?;
        session.insert(two_factor::PENDING_USER, user.id.to_string()).await.map_err(fail)?;
        session.insert(two_factor::PENDING_AT, now).await.map_err(fail)?;
        session.insert(two_factor::PENDING_GENERATION, user.session_generation).await.map_err(fail)?;
        let next = if enrolled { "/sign-in/code" } else { "/two-factor/setup" };
        return Ok(Redirect::to(next).into_response());
    }
    complete_sign_in(&state, &session, &user, source).await
}

/// Sign the session in as `user`: audit it, replace the session id (no fixation), and record
/// when, for the absolute timeout.
pub(crate) async fn complete_sign_in(
    state: &AppState,
    session: &Session,
    user: &User,
    source: Option<String>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    state.audit(vec![AuditEntry { source, ..AuditEntry::new(now, AuditAction::SignIn, "session").by(user) }]).await?;
    let fail = |e: tower_sessions::session::Error| AppError::Internal(e.to_string());
    session.cycle_id().await.map_err(fail)?;
    let _: Option<String> = session.remove(two_factor::PENDING_USER).await.map_err(fail)?;
    let _: Option<DateTime<Utc>> = session.remove(two_factor::PENDING_AT).await.map_err(fail)?;
    let _: Option<i32> = session.remove(two_factor::PENDING_GENERATION).await.map_err(fail)?;
    session.insert(USER_KEY, user.id.to_string()).await.map_err(fail)?;
    session.insert(GENERATION, user.session_generation).await.map_err(fail)?;
    session.insert(SIGNED_IN_AT, now).await.map_err(fail)?;
    session.insert(TOUCHED_AT, now).await.map_err(fail)?;
    tracing::info!(user = %user.id, "signed in");
    Ok(Redirect::to("/home").into_response())
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: Session,
) -> Result<Response, AppError> {
    state
        .audit(vec![AuditEntry {
            source,
            ..AuditEntry::new(state.clock.now(), AuditAction::SignOut, "session").by(&user)
        }])
        .await?;
    session.flush().await.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Redirect::to("/sign-in").into_response())
}
