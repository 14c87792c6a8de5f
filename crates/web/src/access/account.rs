//! Setting a password through a one-time link: the invitation an administrator sends, or a
//! reset someone asks for. Links travel through the notification outbox.
//!
//! The token is random (256 bits), stored only as a SHA-256 hash, single-use and short-lived.
//! Opening the link moves the token into the session and redirects to a clean address, so it
//! does not stay in the browser's history. Asking for a reset gets the same answer whether or
//! not the account exists.

use crate::access::passwords;
use crate::forms::{Field, FormPage, MessagePage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use linkwork_domain::access::accounts::{AccountToken, RESET_VALID, User};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::throttle;
use linkwork_domain::ids::MessageId;
use linkwork_domain::notifications::{MessageStatus, OutboxMessage};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

const TOKEN_KEY: &str = "set_password_token";

fn hash_token(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Make a one-time link for `user` and queue the email carrying it.
pub(crate) async fn send_link(
    state: &AppState,
    user: &User,
    purpose: &str,
    valid_for: Duration,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let token = new_token();
    let t = AccountToken {
        token_hash: hash_token(&token),
        user_id: user.id,
        purpose: purpose.into(),
        created_at: now,
        expires_at: now + valid_for,
    };
    state.store.create_token(&t).await?;
    let link = format!("{}/account/set-password?token={token}", state.config.public_url.trim_end_matches('/'));
    let (subject, body) = if purpose == "invite" {
        (
            "You have been invited to linkwork",
            format!(
                "Hello {},\n\nAn administrator has created a linkwork account for you. Set your password within 7 days here:\n\n{link}\n\nIf you were not expecting this, you can ignore this email.\n",
                user.display_name
            ),
        )
    } else {
        (
            "Reset your linkwork password",
            format!(
                "Hello {},\n\nSomeone asked to reset the password of your linkwork account. If it was you, choose a new password within an hour here:\n\n{link}\n\nIf it was not you, ignore this email: your password has not changed.\n",
                user.display_name
            ),
        )
    };
    let msg = OutboxMessage {
        id: MessageId::new(),
        org_id: Some(user.org_id),
        channel: "email".into(),
        recipient: user.email.to_string(),
        subject: subject.into(),
        body,
        status: MessageStatus::Pending,
        created_at: now,
        sent_at: None,
    };
    state.store.enqueue_message(&msg).await?;
    Ok(())
}

fn reset_form() -> FormPage {
    FormPage {
        nav: Nav::anonymous(),
        title: "Reset your password",
        intro: vec!["Enter the email address you sign in with. We will send you a link to choose a new password."],
        action: "/account/reset".into(),
        submit: "Send the link",
        fields: vec![Field::new("email", "Email address", "email", "username")],
        errors: vec![],
        extras: Default::default(),
    }
}

pub(crate) async fn reset_page() -> Result<Response, AppError> {
    reset_form().respond()
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    email: String,
}

/// How long answering a reset request takes, whatever happens behind it: looking up an account
/// and queueing its email takes longer than finding none, and the difference would tell anyone
/// timing the answer which addresses have accounts. The answer waits until this has passed.
const RESET_ANSWER_TAKES: std::time::Duration = std::time::Duration::from_millis(250);

pub(crate) async fn request_reset(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Form(f): Form<ResetForm>,
) -> Result<Response, AppError> {
    let started = tokio::time::Instant::now();
    let email = f.email.trim().to_owned();
    if email.is_empty() {
        let mut page = reset_form();
        page.error("email", "Enter your email address");
        return page.respond();
    }
    // Requests count per address, like sign-in attempts, so the form cannot be used to test
    // a list of addresses.
    let key = format!("reset:{}", source.as_deref().unwrap_or("unknown"));
    if !state.throttle_public(&key).await? {
        return Err(AppError::TooMany);
    }
    let now = state.clock.now();
    if let Ok(user) = state.store.find_user_by_email(&email).await
        && !user.disabled
        // One email per five minutes is enough; more would let anyone flood an inbox.
        && state.store.tokens_since(user.id, "reset", now - Duration::minutes(5)).await? == 0
    {
        send_link(&state, &user, "reset", RESET_VALID).await?;
        let entry = AuditEntry {
            actor: user.email.to_string(),
            actor_user_id: Some(user.id),
            org_id: Some(user.org_id),
            record_id: Some(user.id.to_string()),
            reason: Some("password reset link sent".into()),
            source,
            ..AuditEntry::new(now, AuditAction::Update, "user")
        };
        state.audit(vec![entry]).await?;
    }
    tokio::time::sleep_until(started + RESET_ANSWER_TAKES).await;
    MessagePage {
        nav: Nav::anonymous(),
        title: "Check your email",
        paragraphs: vec![
            "If an account uses that address, we have sent it a link to choose a new password. The link works once, for an hour.".into(),
            "If nothing arrives, check the address, or ask an administrator in your organisation.".into(),
        ],
        link: Some(("/sign-in", "Back to sign in")),
    }
    .respond(StatusCode::OK)
}

fn link_expired() -> Result<Response, AppError> {
    MessagePage {
        nav: Nav::anonymous(),
        title: "This link has expired",
        paragraphs: vec!["Links to set a password work once, for a limited time. Ask for a new one.".into()],
        link: Some(("/account/reset", "Reset your password")),
    }
    .respond(StatusCode::GONE)
}

fn set_password_form() -> FormPage {
    let mut password = Field::new("password", "New password", "password", "new-password");
    password.hint = Some("At least 12 characters. Three random words work well, for example kettle orbit lantern.");
    FormPage {
        nav: Nav::anonymous(),
        title: "Choose your password",
        intro: vec![],
        action: "/account/set-password".into(),
        submit: "Save password",
        fields: vec![password, Field::new("confirm", "Type it again", "password", "new-password")],
        errors: vec![],
        extras: Default::default(),
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// The token this session is setting a password with, if it is still good.
async fn session_token(state: &AppState, session: &Session) -> Result<Option<(String, AccountToken)>, AppError> {
    let token: Option<String> = session.get(TOKEN_KEY).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(token) = token else { return Ok(None) };
    Ok(state.store.find_token(&hash_token(&token), state.clock.now()).await?.map(|t| (token, t)))
}

pub(crate) async fn set_password_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    if let Some(token) = q.token {
        if state.store.find_token(&hash_token(&token), state.clock.now()).await?.is_none() {
            return link_expired();
        }
        session.insert(TOKEN_KEY, token).await.map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(Redirect::to("/account/set-password").into_response());
    }
    if session_token(&state, &session).await?.is_none() {
        return link_expired();
    }
    set_password_form().respond()
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn set_password(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    session: Session,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let Some((token, t)) = session_token(&state, &session).await? else {
        return link_expired();
    };
    let mut page = set_password_form();
    if f.password.is_empty() {
        page.error("password", "Enter a new password");
    } else if let Err(why) = passwords::check_new_password(&f.password) {
        page.error("password", why);
    } else if f.password != f.confirm {
        page.error("confirm", "Type the same password twice");
    }
    if !page.errors.is_empty() {
        return page.respond();
    }
    let now = state.clock.now();
    let password = f.password;
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    if !state.store.use_token(&hash_token(&token), now).await? {
        return link_expired();
    }
    let user = state.store.get_user(t.user_id).await?;
    state.store.set_password(user.id, &hash).await?;
    // A new password ends every session, and lifts any lock from failed attempts.
    state.store.delete_user_sessions(user.id).await?;
    state.store.clear_throttle(&throttle::account_key(user.email.as_str())).await?;
    let entry = AuditEntry {
        record_id: Some(user.id.to_string()),
        reason: Some(format!("password set from a {} link", t.purpose)),
        source,
        ..AuditEntry::new(now, AuditAction::Update, "user").by(&user)
    };
    state.audit(vec![entry]).await?;
    let _: Option<String> = session.remove(TOKEN_KEY).await.map_err(|e| AppError::Internal(e.to_string()))?;
    MessagePage {
        nav: Nav::anonymous(),
        title: "Your password is set",
        paragraphs: vec!["You can now sign in with it. Any other sessions you had have ended.".into()],
        link: Some(("/sign-in", "Sign in")),
    }
    .respond(StatusCode::OK)
}
