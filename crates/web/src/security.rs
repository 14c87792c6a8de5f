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

/// Whether text sent to us carries a NUL (raw, `%00`, or JSON `\u0000`). PostgreSQL cannot
/// store NUL in text, and no person types one; refusing it here, once, keeps every form and API
/// handler from meeting it.
fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || bytes.windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
        || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// Refuse requests with NUL bytes or (in forms and JSON) text that is not UTF-8.
async fn reject_bad_text(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let refuse = |why: &str| -> Response {
        if api {
            Problem::new(
                axum::http::StatusCode::BAD_REQUEST,
                "bad-characters",
                "The request contains characters that are not allowed",
            )
            .detail(why.to_owned())
            .into_response()
        } else {
            crate::error::error_page(
                axum::http::StatusCode::BAD_REQUEST,
                "There is a problem with what you sent",
                "It contains characters that are not allowed. Go back, check what you typed or pasted, and try again.",
                None,
            )
        }
    };
    if req.uri().query().is_some_and(|q| has_nul(q.as_bytes())) {
        return refuse("The address contains a NUL character.");
    }
    let textual = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("application/json")
    });
    if !textual {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        // The body limit layer outside us refused it.
        Err(_) => return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    if has_nul(&bytes) {
        return refuse("The body contains a NUL character.");
    }
    if std::str::from_utf8(&bytes).is_err() {
        return refuse("The body is not valid UTF-8 text.");
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

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
        .layer(axum::middleware::from_fn(reject_bad_text))
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

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn nul_in_any_spelling_is_found() {
        assert!(has_nul(b"a\0b"));
        assert!(has_nul(b"email=a%00b"));
        assert!(has_nul(br#"{"name":"a\u0000b"}"#));
        assert!(has_nul(br#"{"name":"a\U0000b"}"#));
        assert!(!has_nul(b"email=a%2500b"), "an encoded percent sign followed by 00 is text");
        assert!(!has_nul(b"email=a%40b.test&x=100"));
    }
}
