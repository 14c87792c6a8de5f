//! Static assets, embedded in the binary at build time: the NHS.UK frontend and htmx from their
//! pinned npm packages (see build.rs), and our own small script and stylesheet. Served from
//! 'self' only, so the Content-Security-Policy needs no outside origin.

use crate::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

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

pub(crate) fn routes() -> Router<AppState> {
    let img = |name: &'static [u8]| asset(SVG, name);
    Router::new()
        .route(
            "/assets/nhsuk-frontend.min.css",
            get(asset(CSS, npm!("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css"))),
        )
        .route("/assets/nhsuk-frontend.min.js", get(asset(JS, npm!("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js"))))
        .route("/assets/htmx.min.js", get(asset(JS, npm!("htmx.org/dist/htmx.min.js"))))
        .route("/assets/app.js", get(asset(JS, include_bytes!("../static/app.js"))))
        .route("/assets/app.css", get(asset(CSS, include_bytes!("../static/app.css"))))
        .route(
            "/assets/images/favicon.ico",
            get(asset("image/x-icon", npm!("nhsuk-frontend/dist/nhsuk/assets/images/favicon.ico"))),
        )
        .route("/assets/images/favicon.svg", get(img(npm!("nhsuk-frontend/dist/nhsuk/assets/images/favicon.svg"))))
        .route(
            "/assets/images/nhsuk-icon-arrow-down.svg",
            get(img(npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-down.svg"))),
        )
        .route(
            "/assets/images/nhsuk-icon-arrow-up.svg",
            get(img(npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-up.svg"))),
        )
        .route(
            "/assets/images/nhsuk-icon-arrow-up-down.svg",
            get(img(npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-arrow-up-down.svg"))),
        )
        .route(
            "/assets/images/nhsuk-icon-cross.svg",
            get(img(npm!("nhsuk-frontend/dist/nhsuk/assets/images/nhsuk-icon-cross.svg"))),
        )
}
