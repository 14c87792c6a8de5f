//! linkwork's HTTP surface: server-rendered pages (askama on the NHS.UK frontend, plain HTML forms), the
//! JSON API under `/api/v1`, sessions stored in the database, CSRF protection and security
//! headers. Handlers stay thin: parse the input into domain values, call a storage port, render.

pub mod access;
pub mod api;
mod assets;
mod casework;
mod connections;
pub mod directory;
mod error;
mod export;
mod forms;
pub mod intake;
mod outcomes;
mod pages;
mod people;
pub mod routes;
mod security;

use axum::Router;
use linkwork_domain::Clock;
use linkwork_domain::access::audit::{AuditEntry, AuditLog};
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
    /// Reverse proxies whose `X-Forwarded-For` is believed. From anyone else it is ignored, so
    /// nobody can choose the address that throttling and the audit trail see.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A demonstration installation: every page, public or not, carries the demo banner and the
    /// sign-in page names the demo accounts.
    pub demo: Option<DemoAccounts>,
}

/// The demo accounts the sign-in page offers on a demonstration installation.
#[derive(Clone, Debug, Default)]
pub struct DemoAccounts {
    /// Shared by every demo account (it is printed at start-up and in the README).
    pub password: String,
    /// Email address and what the account can do, one per role.
    pub accounts: Vec<(String, String)>,
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
            trusted_proxies: vec![],
            demo: None,
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

    /// The use-case layer's view of the state: the ports, the audit trail, the clock.
    pub fn services(&self) -> linkwork_domain::usecases::Services<'_> {
        linkwork_domain::usecases::Services {
            store: self.store.as_ref(),
            audit: self.audit.as_ref(),
            clock: self.clock.as_ref(),
        }
    }

    /// For public forms: `false` when `key` (a form and an address) has been used too often.
    /// Every use counts, valid or not, so a form cannot be used to flood.
    pub(crate) async fn throttle_public(&self, key: &str) -> Result<bool, AppError> {
        // Reserved before the work, atomically, so parallel posts cannot all pass one check.
        Ok(self.store.reserve_attempt(&[key.to_owned()], self.clock.now()).await?)
    }
}

/// The client's address, for handlers: `ClientAddress(Some("203.0.113.7"))`.
pub struct ClientAddress(pub Option<String>);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts, &state.config.trusted_proxies)))
    }
}

/// The client's address: the TCP peer (from `axum::serve` with connect info), or, when the peer
/// is a trusted proxy, the nearest untrusted address in `X-Forwarded-For` (each proxy appends
/// the address it saw, so the rightmost untrusted one is the first we can believe).
pub fn client_address(parts: &axum::http::request::Parts, trusted: &[std::net::IpAddr]) -> Option<String> {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded =
        parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let client = forwarded
        .split(',')
        .rev()
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .find(|a| !trusted.contains(a));
    Some(client.unwrap_or(peer).to_string())
}

/// The whole application, with every layer applied.
pub fn router(state: AppState) -> Result<Router, String> {
    let app = routes::router(&state).fallback(pages::not_found).with_state(state.clone());
    security::layers(app, state)
}
