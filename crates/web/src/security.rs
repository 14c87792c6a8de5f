//! The layers every response passes through: sessions, CSRF, body limits, security headers,
//! panic containment and request tracing.

use crate::session_store::DbSessionStore;
use crate::{AppState, Problem};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// No inline script or style, nothing from other sites, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "linkwork_session";

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// A panic in a handler: log it, answer like any other fault, reveal nothing.
fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Problem::internal("handler panicked").into_response()
}

pub(crate) fn layers(app: Router, state: AppState) -> Result<Router, String> {
    let cfg = state.config.clone();
    let idle = time::Duration::seconds(cfg.session_idle.num_seconds());
    let sessions = SessionManagerLayer::new(DbSessionStore {
        store: state.store.clone(),
        clock: state.clock.clone(),
        idle: cfg.session_idle,
    })
    .with_name(SESSION_COOKIE)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(cfg.secure_cookies)
    .with_expiry(Expiry::OnInactivity(idle));
    let mut csrf = CsrfLayer::new();
    for origin in &cfg.trusted_origins {
        csrf = csrf.add_trusted_origin(origin).map_err(|e| format!("trusted origin: {e}"))?;
    }
    let mut app = app
        .layer(sessions)
        .layer(csrf)
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"))
        .layer(header_layer(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"))
        // Pages carry health data: no browser or proxy may keep a copy. Assets set their own.
        .layer(header_layer(header::CACHE_CONTROL, "no-store"));
    if cfg.secure_cookies {
        app = app.layer(header_layer(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"));
    }
    Ok(app.layer(CatchPanicLayer::custom(on_panic)).layer(TraceLayer::new_for_http()))
}
