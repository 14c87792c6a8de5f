//! Static assets, embedded in the binary at build time: the NHS.UK frontend from its
//! pinned npm packages (see build.rs), and our own small script and stylesheet. Served from
//! 'self' only, so the Content-Security-Policy needs no outside origin.

use crate::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

macro_rules! npm {
    ($path:literal) => {
        include_bytes!(concat!(env!("LINKWORK_NODE_MODULES"), "/", $path))
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse + Clone {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
}

/// (path, handler) for every asset; the route table serves them publicly.
pub(crate) fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        // Without its remote @font-face rules (see build.rs).
        (
            "/assets/nhsuk-frontend.min.css",
            get(asset(CSS, include_bytes!(concat!(env!("OUT_DIR"), "/nhsuk-frontend.min.css")))),
        ),
        ("/assets/nhsuk-frontend.min.js", get(asset(JS, npm!("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js")))),
        ("/assets/app.js", get(asset(JS, include_bytes!("../static/app.js")))),
        ("/assets/app.css", get(asset(CSS, include_bytes!("../static/app.css")))),
        (
            "/assets/images/favicon.ico",
            get(asset("image/x-icon", npm!("nhsuk-frontend/dist/nhsuk/assets/images/favicon.ico"))),
        ),
        ("/assets/images/favicon.svg", get(asset(SVG, npm!("nhsuk-frontend/dist/nhsuk/assets/images/favicon.svg")))),
        (
            "/assets/images/nhsuk-icon-arrow-down.svg",
            get(asset(SVG, npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-down.svg"))),
        ),
        (
            "/assets/images/nhsuk-icon-arrow-up.svg",
            get(asset(SVG, npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-up.svg"))),
        ),
        (
            "/assets/images/nhsuk-icon-arrow-up-down.svg",
            get(asset(SVG, npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-up-down.svg"))),
        ),
        (
            "/assets/images/nhsuk-icon-cross.svg",
            get(asset(SVG, npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-cross.svg"))),
        ),
    ]
}
