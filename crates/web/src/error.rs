//! One error type for pages and one for the API, each mapped to a response in one place.
//!
//! Policy: a client error (4xx) says what to fix. A server fault (5xx) says nothing internal: the
//! cause goes to the log with a reference, and the person sees only the reference.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use linkwork_domain::StoreError;
use serde::Serialize;

use crate::pages::Nav;

/// An error while serving a page.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The request cannot be understood; the message says what to do.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A write to an episode that has been discharged: its summary has been sent, so it stays
    /// as it was. The page links back to the person's record.
    #[error("episode closed")]
    EpisodeClosed { episode: String, closed_on: String },
    /// Too many requests from this address.
    #[error("too many requests")]
    TooMany,
    /// A fault: logged with a reference, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<linkwork_domain::usecases::Failure> for AppError {
    /// A failure a face did not answer itself. Invalid input is answered by the face with its
    /// form; here it is only a bad request.
    fn from(f: linkwork_domain::usecases::Failure) -> Self {
        use linkwork_domain::usecases::Failure;
        match f {
            Failure::Invalid(errors) => {
                AppError::BadRequest(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(". "))
            }
            Failure::NotFound => AppError::NotFound,
            Failure::Conflict(c) => AppError::Internal(format!("unexpected conflict: {c}")),
            Failure::Store(e) => AppError::Internal(e.to_string()),
            Failure::Audit(e) => AppError::Internal(format!("audit: {e}")),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "shared/error.html")]
pub(crate) struct ErrorPage<'a> {
    pub nav: Nav,
    pub title: &'a str,
    pub message: &'a str,
    pub reference: Option<String>,
    /// Where to go next, instead of the start page: (address, text).
    pub next: Option<(String, String)>,
}

/// Render an error page; if even that fails, plain text that still says nothing internal.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str, reference: Option<String>) -> Response {
    error_page_to(status, title, message, reference, None)
}

fn error_page_to(
    status: StatusCode,
    title: &str,
    message: &str,
    reference: Option<String>,
    next: Option<(String, String)>,
) -> Response {
    let page = ErrorPage { nav: Nav::anonymous(), title, message, reference, next };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], title.to_owned()).into_response(),
    }
}

/// A short reference tying what the person sees to the log line with the cause.
pub(crate) fn new_reference() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, it may be out of date.",
                None,
            ),
            AppError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "You do not have access to this page",
                "Ask an administrator in your organisation if you need it for your work.",
                None,
            ),
            AppError::BadRequest(message) => {
                error_page(StatusCode::BAD_REQUEST, "There is a problem with the request", &message, None)
            }
            AppError::EpisodeClosed { episode, closed_on } => error_page_to(
                StatusCode::CONFLICT,
                "This episode is closed",
                &format!(
                    "It was discharged on {closed_on} and its summary has been sent, so nothing more can be added to it or changed. To correct it or continue the support, reopen the episode (the summary sent is kept, and discharging again sends a corrected version). If the person needs new support, a new referral opens a new episode."
                ),
                None,
                Some((format!("/episodes/{episode}/reopen"), "Reopen the episode".into())),
            ),
            AppError::TooMany => error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "Too many forms have been sent from your connection. Wait an hour and try again, or phone your GP practice.",
                None,
            ),
            AppError::Internal(cause) => {
                let reference = new_reference();
                tracing::error!(%reference, %cause, "page failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                    "Try again later. If the problem continues, contact your system administrator.",
                    Some(reference),
                )
            }
        }
    }
}

/// An RFC 9457 problem-details response for the API.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level problems, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Self {
            kind: format!("https://linkwork.invalid/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            errors: vec![],
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    pub fn field(mut self, field: &str, message: impl Into<String>) -> Self {
        self.errors.push(FieldProblem { field: field.to_owned(), message: message.into() });
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Sign in first")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "You do not have permission for this")
    }

    /// A fault: the cause is logged under a reference; the body carries only the reference.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let reference = new_reference();
        tracing::error!(%reference, %cause, "API request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            .detail(format!("Something went wrong on our side. Reference {reference}."))
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Problem::not_found(),
            AppError::Forbidden => Problem::forbidden(),
            AppError::BadRequest(m) => Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request").detail(m),
            AppError::EpisodeClosed { closed_on, .. } => {
                Problem::new(StatusCode::CONFLICT, "episode-closed", "Episode closed")
                    .detail(format!("The episode was discharged on {closed_on}; it refuses further changes."))
            }
            AppError::TooMany => Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),
            AppError::Internal(cause) => Problem::internal(cause),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Problem::not_found(),
            StoreError::Conflict(linkwork_domain::ports::Conflict::IdempotencyKeyReused) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency-Key reused")
                    .detail("This key was already used for a different request. Use a new key for a new request.")
            }
            StoreError::Conflict(linkwork_domain::ports::Conflict::Unique(_)) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Already exists")
                    .detail("This would duplicate an existing record.")
            }
            StoreError::Conflict(c) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict").detail(format!("Not saved: {c}."))
            }
            other => Problem::internal(other),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "{}".to_owned());
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
    }
}
