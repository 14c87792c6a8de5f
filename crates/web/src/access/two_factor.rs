//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 seconds,
//! one step of clock drift either way) and one-time recovery codes.
//!
//! After a correct password the session holds only a *pending* user. Someone who has an
//! authenticator enters a code (or a recovery code); someone who must have one and does not is
//! taken through setting it up, and shown ten recovery codes once. Only then is the session
//! signed in. A code's time step is recorded when used, so an overheard code cannot be replayed.

use crate::access::auth::{FieldError, complete_sign_in};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::throttle;
use linkwork_domain::ids::UserId;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};
use tower_sessions::Session;

pub(crate) const PENDING_USER: &str = "pending_user_id";
pub(crate) const PENDING_AT: &str = "pending_at";
/// The user's session generation when the password was checked: a reset or revocation before
/// the second factor ends the wait.
pub(crate) const PENDING_GENERATION: &str = "pending_generation";
/// How long the step between password and code may take.
const PENDING_FOR: Duration = Duration::minutes(10);
const STEP: i64 = 30;

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP as u64, bytes, Some("linkwork".into()), account.replace(':', "")).ok()
}

/// A new random secret (160 bits), base32.
pub fn new_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

/// The code an authenticator shows at `at` (for tests and for support staff checking clocks).
pub fn code_at(secret: &str, at: DateTime<Utc>) -> Option<String> {
    Some(totp(secret, "x")?.generate(u64::try_from(at.timestamp()).ok()?))
}

/// The time step `code` belongs to, within one step of `at`.
fn matching_step(secret: &str, code: &str, at: DateTime<Utc>) -> Option<i64> {
    let t = totp(secret, "x")?;
    let now_step = at.timestamp() / STEP;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    [now_step - 1, now_step, now_step + 1].into_iter().find(|s| {
        let generated = u64::try_from(s * STEP).map(|t0| t.generate(t0)).unwrap_or_default();
        // Constant-time comparison of equal-length ASCII strings.
        generated.len() == code.len() && generated.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// Ten recovery codes like `k7qm2-x9fbd` (50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789"; // no 0/o, 1/l/i
    (0..10)
        .map(|_| {
            let chars: String =
                (0..10).map(|_| ALPHABET[(OsRng.next_u32() as usize) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// How a recovery code is stored: SHA-256 of its normalised form (they are random, so no salt).
pub fn hash_recovery_code(code: &str) -> String {
    let norm: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    Sha256::digest(norm.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The user waiting for their second factor, if the wait has not run out.
async fn pending_user(state: &AppState, session: &Session) -> Result<Option<User>, AppError> {
    let id: Option<String> = session.get(PENDING_USER).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let at: Option<DateTime<Utc>> = session.get(PENDING_AT).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let (Some(id), Some(at)) = (id.and_then(|s| s.parse::<UserId>().ok()), at) else { return Ok(None) };
    if state.clock.now() - at > PENDING_FOR {
        return Ok(None);
    }
    let generation: Option<i32> =
        session.get(PENDING_GENERATION).await.map_err(|e| AppError::Internal(e.to_string()))?;
    match state.store.get_user(id).await {
        Ok(u) if !u.disabled && generation == Some(u.session_generation) => Ok(Some(u)),
        Ok(_) | Err(linkwork_domain::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "access/two_factor_code.html")]
struct CodePage {
    nav: Nav,
    errors: Vec<FieldError>,
}

#[derive(Template)]
#[template(path = "access/two_factor_setup.html")]
struct SetupPage {
    nav: Nav,
    secret: String,
    size: usize,
    modules: Vec<(usize, usize)>,
    errors: Vec<FieldError>,
}

#[derive(Template)]
#[template(path = "access/recovery_codes.html")]
struct RecoveryPage {
    nav: Nav,
    codes: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
}

fn page<T: Template>(status: StatusCode, t: &T) -> Result<Response, AppError> {
    Ok((status, Html(t.render()?)).into_response())
}

pub(crate) async fn code_page(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    if pending_user(&state, &session).await?.is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    page(StatusCode::OK, &CodePage { nav: Nav::anonymous(), errors: vec![] })
}

pub(crate) async fn submit_code(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some(user) = pending_user(&state, &session).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let now = state.clock.now();
    let code = form.code.trim();
    if code.is_empty() {
        let error = FieldError { field: "code", message: "Enter the 6-digit code from your authenticator app" };
        return page(StatusCode::BAD_REQUEST, &CodePage { nav: Nav::anonymous(), errors: vec![error] });
    }
    let key = throttle::account_key(user.email.as_str());
    // Reserved before the code is checked, so parallel guesses cannot all pass one check.
    if !state.store.reserve_attempt(std::slice::from_ref(&key), now).await? {
        let error = FieldError {
            field: "code",
            message: "Too many failed attempts. Wait an hour and try again, or ask an administrator to unlock your account",
        };
        return page(StatusCode::TOO_MANY_REQUESTS, &CodePage { nav: Nav::anonymous(), errors: vec![error] });
    }
    let tf = state.store.two_factor(user.id).await?;
    let secret = tf.as_ref().filter(|t| t.enabled_at.is_some()).map(|t| t.secret.clone());
    let accepted = match (secret, matching_step(tf.as_ref().map_or("", |t| &t.secret), code, now)) {
        (Some(_), Some(step)) => state.store.use_totp_step(user.id, step).await?,
        (Some(_), None) => state.store.use_recovery_code(user.id, &hash_recovery_code(code), now).await?,
        (None, _) => false,
    };
    if !accepted {
        let entry = AuditEntry {
            source,
            reason: Some("wrong or reused second-factor code".into()),
            ..AuditEntry::new(now, AuditAction::SignInFailed, "session").by(&user)
        };
        state.audit(vec![entry]).await?;
        let error =
            FieldError { field: "code", message: "Enter a correct code: it may have expired, or been used already" };
        return page(StatusCode::BAD_REQUEST, &CodePage { nav: Nav::anonymous(), errors: vec![error] });
    }
    state.store.release_attempt(std::slice::from_ref(&key), now).await?;
    complete_sign_in(&state, &session, &user, source).await
}

fn setup_page(secret: String, email: &str, error: Option<FieldError>) -> Result<Response, AppError> {
    let uri = totp(&secret, email).map(|t| t.get_url()).unwrap_or_default();
    let qr = qrcodegen::QrCode::encode_text(&uri, qrcodegen::QrCodeEcc::Medium)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let size = usize::try_from(qr.size()).unwrap_or(0);
    let modules = (0..qr.size())
        .flat_map(|y| (0..qr.size()).map(move |x| (x, y)))
        .filter(|(x, y)| qr.get_module(*x, *y))
        .map(|(x, y)| (usize::try_from(x).unwrap_or(0) + 4, usize::try_from(y).unwrap_or(0) + 4))
        .collect();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let spaced: String = secret
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    page(
        status,
        &SetupPage {
            nav: Nav::anonymous(),
            secret: spaced,
            size: size + 8,
            modules,
            errors: error.into_iter().collect(),
        },
    )
}

pub(crate) async fn setup(State(state): State<AppState>, session: Session) -> Result<Response, AppError> {
    let Some(user) = pending_user(&state, &session).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    // Reloading the page keeps the same secret until it is confirmed.
    let secret = match state.store.two_factor(user.id).await? {
        Some(t) if t.enabled_at.is_some() => return Ok(Redirect::to("/sign-in/code").into_response()),
        Some(t) => t.secret,
        None => {
            let s = new_secret();
            state.store.begin_two_factor(user.id, &s).await?;
            s
        }
    };
    setup_page(secret, user.email.as_str(), None)
}

pub(crate) async fn confirm_setup(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some(user) = pending_user(&state, &session).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let Some(tf) = state.store.two_factor(user.id).await?.filter(|t| t.enabled_at.is_none()) else {
        return Ok(Redirect::to("/two-factor/setup").into_response());
    };
    let now = state.clock.now();
    let Some(step) = matching_step(&tf.secret, form.code.trim(), now) else {
        let message = if form.code.trim().is_empty() {
            "Enter the 6-digit code your authenticator app shows for linkwork"
        } else {
            "Enter a correct code: check the app shows linkwork and your phone's clock is right"
        };
        return setup_page(tf.secret, user.email.as_str(), Some(FieldError { field: "code", message }));
    };
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| hash_recovery_code(c)).collect();
    state.store.enable_two_factor(user.id, &hashes, now).await?;
    state.store.use_totp_step(user.id, step).await?;
    let entry = AuditEntry {
        record_id: Some(user.id.to_string()),
        reason: Some("set up two-factor sign-in".into()),
        source: source.clone(),
        ..AuditEntry::new(now, AuditAction::Update, "user").by(&user)
    };
    state.audit(vec![entry]).await?;
    complete_sign_in(&state, &session, &user, source).await?;
    page(StatusCode::OK, &RecoveryPage { nav: Nav::for_user(&user), codes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s gives 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let at = Utc.timestamp_opt(59, 0).single().unwrap();
        assert_eq!(code_at(secret, at).unwrap(), "287082");
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = new_secret();
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).single().unwrap();
        let code = code_at(&secret, at).unwrap();
        assert_eq!(matching_step(&secret, &code, at), Some(at.timestamp() / 30));
        assert!(matching_step(&secret, &code, at + Duration::seconds(30)).is_some(), "a step of drift is allowed");
        assert!(matching_step(&secret, &code, at + Duration::seconds(90)).is_none());
        assert!(matching_step(&secret, "000000", at).is_none() || code == "000000");
        assert_eq!(
            matching_step(&secret, &format!("{} {}", &code[..3], &code[3..]), at),
            Some(at.timestamp() / 30),
            "spaces are fine"
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_leniently() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        assert_eq!(hash_recovery_code(&codes[0]), hash_recovery_code(&codes[0].to_uppercase().replace('-', " ")));
    }
}
