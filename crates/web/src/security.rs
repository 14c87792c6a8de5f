//! The layers every response passes through: sessions, CSRF, body limits, security headers,
//! panic containment and request tracing.

use crate::access::session_store::DbSessionStore;
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

/// A control character no person types: NUL and the C0 controls other than tab, line feed and
/// carriage return, and DEL.
fn is_control_byte(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

/// Whether text sent to us carries a control character, raw, percent-encoded (`%00`, `%1B`) or
/// as a JSON escape (`\u0000`, `\u001b`). PostgreSQL cannot store NUL in text, and the others
/// corrupt exports, logs and terminals; refusing them here, once, keeps every form and API
/// handler from meeting them. (Imports apply `domain::values::check_text` per field.)
fn has_control(bytes: &[u8]) -> bool {
    let hex = |w: &[u8]| std::str::from_utf8(w).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
    bytes.iter().any(|b| is_control_byte(*b))
        || bytes.windows(3).any(|w| w[0] == b'%' && hex(&w[1..]).is_some_and(is_control_byte))
        || bytes
            .windows(6)
            .any(|w| w[0] == b'\\' && w[1].eq_ignore_ascii_case(&b'u') && hex(&w[2..]).is_some_and(is_control_byte))
}

/// Refuse requests with NUL bytes or (in forms and JSON) text that is not UTF-8.
async fn reject_bad_text(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = crate::pages::is_json_face(req.uri().path());
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
    if req.uri().query().is_some_and(|q| has_control(q.as_bytes())) {
        return refuse("The address contains a NUL or other control character.");
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
        Err(_) => return refused(parts.uri.path(), axum::http::StatusCode::PAYLOAD_TOO_LARGE),
    };
    if has_control(&bytes) {
        return refuse("The body contains a NUL or other control character.");
    }
    if std::str::from_utf8(&bytes).is_err() {
        return refuse("The body is not valid UTF-8 text.");
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The scheme and authority of an origin (`https://host:port`), lower-cased.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let authority = rest.split('/').next().unwrap_or("");
    (!authority.is_empty()).then(|| (scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

/// tower-http's CSRF check compares an `Origin` with the `Host` by host alone; this adds the
/// scheme, so `https://linkwork.example` is not taken for `http://linkwork.example` (or the
/// reverse). A state-changing request whose `Origin` names another scheme than the one people
/// use (`WebConfig::public_url`) is refused, unless it is a trusted origin.
async fn same_scheme(
    axum::extract::State(expected): axum::extract::State<std::sync::Arc<(String, Vec<String>)>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let unsafe_method = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE");
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null");
    if let (true, Some(origin)) = (unsafe_method, origin) {
        let (scheme, trusted) = (&expected.0, &expected.1);
        let named = origin_of(origin);
        let is_trusted = named.as_ref().is_some_and(|o| trusted.iter().any(|t| origin_of(t).as_ref() == Some(o)));
        if !is_trusted && named.is_none_or(|(s, _)| s != *scheme) {
            return refused(req.uri().path(), axum::http::StatusCode::FORBIDDEN);
        }
    }
    next.run(req).await
}

/// A refusal the layers make before any handler: a problem document under the APIs, an error
/// page elsewhere. Never a bare status line.
fn refused(path: &str, status: axum::http::StatusCode) -> Response {
    let api = crate::pages::is_json_face(path);
    let (slug, title, detail) = match status {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => (
            "too-large",
            "The request is too large",
            "Send less at once: forms and API requests are limited in size, and uploads have their own limit.",
        ),
        _ => (
            "cross-origin",
            "The request came from another site",
            "Changes can only be made from linkwork's own pages. Go back, reload the page and try again.",
        ),
    };
    if api {
        Problem::new(status, slug, title).detail(detail.to_owned()).into_response()
    } else {
        crate::error::error_page(status, title, detail, None)
    }
}

/// Answer the body limit's bare 413 with a problem document or page.
async fn explain_refusals(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let bare = res.headers().get(header::CONTENT_TYPE).is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"));
    if res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && bare {
        return refused(&path, res.status());
    }
    res
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
    let scheme = origin_of(&cfg.public_url).map_or_else(|| "http".to_owned(), |(s, _)| s);
    let expected = std::sync::Arc::new((scheme, cfg.trusted_origins.clone()));
    let mut app = app
        .layer(sessions)
        .layer(csrf)
        .layer(axum::middleware::from_fn_with_state(expected, same_scheme))
        .layer(axum::middleware::from_fn(reject_bad_text))
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .layer(axum::middleware::from_fn(explain_refusals))
        .layer(axum::middleware::from_fn_with_state(cfg.demo.is_some(), crate::pages::mark_demo))
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
    use super::{has_control, origin_of};

    #[test]
    fn origins_keep_their_scheme() {
        assert_eq!(
            origin_of("https://Linkwork.example:8443/x"),
            Some(("https".into(), "linkwork.example:8443".into()))
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), Some(("http".into(), "127.0.0.1:8080".into())));
        assert_eq!(origin_of("null"), None);
    }

    #[test]
    fn nul_in_any_spelling_is_found() {
        assert!(has_control(b"a\0b"));
        assert!(has_control(b"email=a%00b"));
        assert!(has_control(br#"{"name":"a\u0000b"}"#));
        assert!(has_control(br#"{"name":"a\U0000b"}"#));
        assert!(!has_control(b"email=a%2500b"), "an encoded percent sign followed by 00 is text");
        assert!(!has_control(b"email=a%40b.test&x=100"));
        assert!(has_control(b"name=a%1B%5B31m"), "a terminal escape");
        assert!(has_control(br#"{"name":"a\u001b[31m"}"#));
        assert!(!has_control(b"note=line+one%0D%0Aline+two%09tabbed"), "line breaks and tabs are text");
        assert!(!has_control(br#"{"note":"one\ntwo\u000Athree"}"#));
    }
}
