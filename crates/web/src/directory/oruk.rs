//! The public Open Referral UK read API at `/openreferral`: no key, `Access-Control-Allow-Origin:
//! *`, the standard query parameters and page envelope (domain.md 4.4). Responses are built from
//! the stored documents and validated against the official compiled schemas in the tests.

// Parameter parsing returns the ready 400 response as its error: one place builds it.
#![allow(clippy::result_large_err)]

use crate::{AppState, Problem};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::directory::DirectoryQuery;
use linkwork_domain::directory::oruk::{self, Page, parse_clock};
use linkwork_domain::ids::ServiceId;
use linkwork_domain::ports::StoreError;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Largest page a client may ask for.
pub const MAX_PER_PAGE: i64 = 200;

fn open(body: impl IntoResponse) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

fn fail(p: Problem) -> Response {
    open(p)
}

fn store_fail(e: StoreError) -> Response {
    match e {
        StoreError::NotFound => fail(Problem::not_found()),
        other => fail(Problem::internal(other)),
    }
}

/// The standard query parameters. Everything arrives as text so a wrong value is a clear 400,
/// not a bare rejection.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    search: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    taxonomy_term_id: Option<String>,
    taxonomy_id: Option<String>,
    minimum_age: Option<String>,
    maximum_age: Option<String>,
    day: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    postcode: Option<String>,
    proximity: Option<String>,
    modified_after: Option<String>,
    organization_id: Option<String>,
}

fn bad(param: &str, message: &str) -> Response {
    fail(
        Problem::new(axum::http::StatusCode::BAD_REQUEST, "bad-parameter", "A query parameter is not valid")
            .field(param, message),
    )
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn uuid_param(name: &str, v: &Option<String>) -> Result<Option<Uuid>, Response> {
    given(v).map(|s| Uuid::parse_str(s).map_err(|_| bad(name, "must be a UUID"))).transpose()
}

fn number_param(name: &str, v: &Option<String>) -> Result<Option<f64>, Response> {
    given(v)
        .map(|s| {
            s.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| bad(name, "must be a number of 0 or more"))
        })
        .transpose()
}

/// Read the parameters into a directory query and a page: what every list shares.
async fn read(state: &AppState, p: &Params) -> Result<(DirectoryQuery, i64, i64), Response> {
    let page = given(&p.page)
        .map(|s| s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| bad("page", "must be a whole number from 1")))
        .transpose()?
        .unwrap_or(1);
    let per_page = given(&p.per_page)
        .map(|s| {
            s.parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                .ok_or_else(|| bad("per_page", "must be a whole number from 1 to 200"))
        })
        .transpose()?
        .unwrap_or(50);
    let mut q = DirectoryQuery {
        text: given(&p.search).unwrap_or_default().chars().take(200).collect(),
        radius_km: 10.0,
        ..Default::default()
    };
    q.term = uuid_param("taxonomy_term_id", &p.taxonomy_term_id)?;
    q.taxonomy = uuid_param("taxonomy_id", &p.taxonomy_id)?;
    q.organization = uuid_param("organization_id", &p.organization_id)?;
    let lo = number_param("minimum_age", &p.minimum_age)?;
    let hi = number_param("maximum_age", &p.maximum_age)?;
    if lo.is_some() || hi.is_some() {
        q.ages = Some((lo.unwrap_or(0.0), hi.unwrap_or(200.0)));
    }
    if let Some(d) = given(&p.day) {
        let day = oruk::parse_day(d)
            .or_else(|| {
                oruk::DAY_NAMES.iter().position(|n| n.eq_ignore_ascii_case(d)).and_then(|x| u8::try_from(x).ok())
            })
            .ok_or_else(|| bad("day", "must be a day: MO, TU, WE, TH, FR, SA, SU or its name"))?;
        q.day = Some(day);
    }
    q.from = given(&p.start_time)
        .map(|t| parse_clock(t).ok_or_else(|| bad("start_time", "must be a time, HH:MM")))
        .transpose()?;
    q.until = given(&p.end_time)
        .map(|t| parse_clock(t).ok_or_else(|| bad("end_time", "must be a time, HH:MM")))
        .transpose()?;
    if let Some(m) = given(&p.modified_after) {
        let t = DateTime::parse_from_rfc3339(m)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| {
                NaiveDate::parse_from_str(m, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            })
            .map_err(|_| bad("modified_after", "must be a date or date-time (ISO 8601)"))?;
        q.modified_after = Some(t);
    }
    if let Some(pc) = given(&p.postcode) {
        let point = state.store.locate_postcode(pc).await.map_err(store_fail)?;
        let Some((point, _)) = point else {
            return Err(bad("postcode", "is not a postcode this directory knows"));
        };
        q.near = Some(point);
        // proximity is in metres in the standard.
        if let Some(m) = number_param("proximity", &p.proximity)? {
            q.radius_km = (m / 1000.0).clamp(0.1, 500.0);
        }
    }
    Ok((q, page, per_page))
}

/// The API's meta information.
pub(crate) async fn root(State(state): State<AppState>) -> Response {
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    open(Json(json!({
        "version": "3.0",
        "profile": "https://openreferraluk.org/",
        "openapi_url": format!("{base}/openreferral/openapi.json"),
    })))
}

/// The official Open Referral UK OpenAPI description this API implements.
pub(crate) async fn openapi() -> Response {
    open(([(header::CONTENT_TYPE, "application/json")], include_str!("../../../../share/oruk/schema/openapi.json")))
}

/// Attach organisations to services (the list form nests each service's organisation).
async fn with_orgs(state: &AppState, services: &mut [oruk::Service]) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = services.iter().filter_map(|s| s.organization_id).collect();
    let orgs: HashMap<Uuid, oruk::Organization> =
        state.store.directory_orgs(&ids).await?.into_iter().map(|(o, _)| (o.id, o)).collect();
    for s in services {
        s.organization = s.organization_id.and_then(|id| orgs.get(&id)).cloned().map(Box::new);
    }
    Ok(())
}

/// The list form of a service: its own fields and its organisation.
fn list_form(mut s: oruk::Service) -> oruk::Service {
    s.schedules.clear();
    s.service_areas.clear();
    s.service_at_locations.clear();
    s.languages.clear();
    s.funding.clear();
    s.cost_options.clear();
    s.contacts.clear();
    s.attributes.clear();
    s
}

pub(crate) async fn services(State(state): State<AppState>, Query(p): Query<Params>) -> Response {
    let (q, page, per_page) = match read(&state, &p).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (hits, total) = match state.store.search_directory(&q, (page - 1) * per_page, per_page).await {
        Ok(x) => x,
        Err(e) => return store_fail(e),
    };
    let mut docs: Vec<oruk::Service> = hits.into_iter().map(|h| list_form(h.listing.document)).collect();
    if let Err(e) = with_orgs(&state, &mut docs).await {
        return store_fail(e);
    }
    open(Json(Page::new(docs, total, page, per_page)))
}

/// A service in full: places, schedules, everything the feed said, and its organisation.
pub async fn full_service(state: &AppState, id: ServiceId) -> Result<oruk::Service, StoreError> {
    let listing = state.store.get_listing(id).await?;
    let mut doc = listing.document;
    doc.service_at_locations = state.store.service_places(&[id]).await?.into_iter().map(|(_, p)| p).collect();
    let mut one = [doc];
    with_orgs(state, &mut one).await?;
    let [doc] = one;
    Ok(doc)
}

pub(crate) async fn service(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(id.trim()) else { return fail(Problem::not_found()) };
    match full_service(&state, ServiceId(id)).await {
        Ok(doc) => open(Json(doc)),
        Err(e) => store_fail(e),
    }
}

async fn place_with_service(
    state: &AppState,
    id: ServiceId,
    mut place: oruk::ServiceAtLocation,
) -> Result<oruk::ServiceAtLocation, StoreError> {
    let listing = state.store.get_listing(id).await?;
    let mut one = [list_form(listing.document)];
    with_orgs(state, &mut one).await?;
    let [doc] = one;
    place.service = Some(Box::new(doc));
    Ok(place)
}

pub(crate) async fn service_at_locations(State(state): State<AppState>, Query(p): Query<Params>) -> Response {
    let (q, page, per_page) = match read(&state, &p).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (places, total) = match state.store.search_places(&q, (page - 1) * per_page, per_page).await {
        Ok(x) => x,
        Err(e) => return store_fail(e),
    };
    let mut out = Vec::with_capacity(places.len());
    for (sid, mut place) in places {
        if let Some(l) = place.location.as_mut() {
            l.addresses.clear();
            l.accessibility.clear();
        }
        match place_with_service(&state, sid, place).await {
            Ok(p) => out.push(p),
            Err(e) => return store_fail(e),
        }
    }
    open(Json(Page::new(out, total, page, per_page)))
}

pub(crate) async fn service_at_location(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(id.trim()) else { return fail(Problem::not_found()) };
    let result = match state.store.get_place(id).await {
        Ok((sid, place)) => place_with_service(&state, sid, place).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => open(Json(p)),
        Err(e) => store_fail(e),
    }
}

pub(crate) async fn taxonomies(State(state): State<AppState>, Query(p): Query<Params>) -> Response {
    let (_, page, per_page) =
        match read(&state, &Params { page: p.page, per_page: p.per_page, ..Default::default() }).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    match state.store.taxonomies((page - 1) * per_page, per_page).await {
        Ok((list, total)) => open(Json(Page::new(list, total, page, per_page))),
        Err(e) => store_fail(e),
    }
}

pub(crate) async fn taxonomy(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(id.trim()) else { return fail(Problem::not_found()) };
    match state.store.get_taxonomy(id).await {
        Ok(t) => open(Json(t)),
        Err(e) => store_fail(e),
    }
}

pub(crate) async fn taxonomy_terms(State(state): State<AppState>, Query(p): Query<Params>) -> Response {
    let taxonomy = match uuid_param("taxonomy_id", &p.taxonomy_id) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let (_, page, per_page) =
        match read(&state, &Params { page: p.page, per_page: p.per_page, ..Default::default() }).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    match state.store.taxonomy_terms(taxonomy, (page - 1) * per_page, per_page).await {
        Ok((list, total)) => open(Json(Page::new(list, total, page, per_page))),
        Err(e) => store_fail(e),
    }
}

pub(crate) async fn taxonomy_term(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(id.trim()) else { return fail(Problem::not_found()) };
    match state.store.get_taxonomy_term(id).await {
        Ok(t) => open(Json(t)),
        Err(e) => store_fail(e),
    }
}
