//! linkwork's HTTP surface: server-rendered pages (askama + htmx on the NHS.UK frontend), the
//! JSON API under `/api/v1`, sessions stored in the database, CSRF protection and security
//! headers. Handlers stay thin: parse the input into domain values, call a storage port, render.

mod account;
mod admin;
pub mod api;
mod assets;
pub mod auth;
mod error;
mod forms;
mod pages;
pub mod passwords;
mod people;
pub mod routes;
mod security;
mod session_store;
pub mod two_factor;

use axum::Router;
use linkwork_domain::Clock;
use linkwork_domain::audit::{AuditEntry, AuditLog};
use linkwork_domain::ports::Store;
use std::sync::Arc;

pub use error::{AppError, Problem};

/// Settings the web layer needs; built by the binary from its configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` and send HSTS: on whenever the public address is https.
    pub secure_cookies: bool,
    /// Origins allowed to post forms besides the request's own (for proxies that rewrite Host).
    pub trusted_origins: Vec<String>,
    /// A session unused for this long ends.
    pub session_idle: chrono::Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: chrono::Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The address people use, for links in emails.
    pub public_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            trusted_origins: vec![],
            session_idle: chrono::Duration::minutes(30),
            session_absolute: chrono::Duration::hours(12),
            max_body_bytes: 1024 * 1024,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    /// The audit trail. Handlers await it before answering, so the event is durable first.
    pub audit: Arc<dyn AuditLog>,
}

impl AppState {
    /// Record audit events; a failure becomes an opaque server error, so nothing is shown that
    /// was not audited.
    pub async fn audit(&self, entries: Vec<AuditEntry>) -> Result<(), AppError> {
        self.audit.record(entries).await.map_err(|e| AppError::Internal(format!("audit: {e}")))
    }
}

/// The client's address, for handlers: `ClientAddress(Some("203.0.113.7"))`.
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

/// The client's address as the server saw it (set by `axum::serve` with connect info).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())
}

/// The whole application, with every layer applied.
pub fn router(state: AppState) -> Result<Router, String> {
    let app = routes::router(&state).fallback(pages::not_found).with_state(state.clone());
    security::layers(app, state)
}
