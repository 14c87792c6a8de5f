//! Searching the directory: words, needs, filters, distance from a postcode, and pages of results.

use crate::access::auth::CurrentUser;
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Duration, Utc};
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::connections::Responsiveness;
use linkwork_domain::directory::oruk::{self, DAY_NAMES};
use linkwork_domain::directory::{AccessMode, Capacity, DirectoryQuery, Hit, Listing};
use linkwork_domain::ids::ServiceId;
use linkwork_domain::uktime::UkTime;
use serde::Deserialize;
use std::collections::HashMap;

/// Results per page.
pub(super) const PER_PAGE: i64 = 20;

/// The search form's fields, as typed (GET, so a search can be bookmarked and shared).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    miles: String,
    #[serde(default)]
    term: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    free: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    capacity: String,
    /// The person being helped (from their record): offers Refer and Signpost on each result.
    #[serde(default, rename = "for")]
    for_person: String,
    #[serde(default)]
    page: String,
}

pub(crate) struct HitView {
    pub id: String,
    pub name: String,
    pub organization: String,
    pub description: String,
    pub capacity: &'static str,
    pub accepting: bool,
    pub distance: Option<String>,
    pub ages: Option<String>,
    pub modes: String,
    pub free: bool,
    pub stale: bool,
    pub verified: String,
    pub responsiveness: Option<String>,
}

pub(super) fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>().trim_end())
    }
}

pub(super) fn responsiveness_text(r: &Responsiveness) -> Option<String> {
    let pct = r.acceptance_percent()?;
    Some(format!(
        "Replies in {} (median); accepts {pct}% of {} referrals answered",
        r.median_reply().unwrap_or_default(),
        r.answered
    ))
}

pub(super) fn verified_text(l: &Listing) -> String {
    match (&l.verified_at, &l.verified_by) {
        (Some(at), Some(by)) => format!("Checked {} by {by}", at.uk().format("%d %B %Y")),
        (Some(at), None) => format!("Checked {}", at.uk().format("%d %B %Y")),
        _ => format!("Not yet checked (listed {})", l.created_at.uk().format("%d %B %Y")),
    }
}

pub(super) fn hit_view(h: Hit, now: chrono::DateTime<Utc>, resp: Option<&Responsiveness>) -> HitView {
    let l = h.listing;
    HitView {
        id: l.id.to_string(),
        organization: l.organization_name.clone(),
        description: shorten(&l.description, 240),
        capacity: l.capacity.label(),
        accepting: l.capacity == Capacity::Accepting,
        distance: h.distance_km.map(|d| format!("{:.1} miles", d / 1.609)),
        ages: l.ages(),
        modes: l.mode_labels().join(", "),
        free: l.free,
        stale: l.is_stale(now),
        verified: verified_text(&l),
        responsiveness: resp.and_then(responsiveness_text),
        name: l.name,
    }
}

#[derive(Template)]
#[template(path = "directory/search.html")]
pub(super) struct DirectoryPage {
    nav: Nav,
    form_q: String,
    form_postcode: String,
    form_miles: String,
    form_term: String,
    form_age: String,
    form_day: String,
    form_time: String,
    form_free: bool,
    form_language: String,
    form_access: String,
    form_mode: String,
    form_capacity: String,
    for_person: String,
    for_name: String,
    terms: Vec<(String, String)>,
    days: Vec<(String, &'static str)>,
    capacities: Vec<(&'static str, &'static str)>,
    modes: Vec<(&'static str, &'static str)>,
    errors: Vec<crate::forms::SummaryError>,
    hits: Vec<HitView>,
    total: i64,
    page: i64,
    pages: i64,
    next_link: Option<String>,
    prev_link: Option<String>,
    needs: Vec<(&'static str, &'static str)>,
}

impl DirectoryPage {
    fn capacity_chosen(&self, code: &&str) -> bool {
        self.form_capacity == *code
    }
}

pub(super) fn page_link(f: &SearchForm, page: i64) -> String {
    let pairs = [
        ("q", &f.q),
        ("postcode", &f.postcode),
        ("miles", &f.miles),
        ("term", &f.term),
        ("age", &f.age),
        ("day", &f.day),
        ("time", &f.time),
        ("free", &f.free),
        ("language", &f.language),
        ("access", &f.access),
        ("mode", &f.mode),
        ("capacity", &f.capacity),
        ("for", &f.for_person),
    ];
    let page = page.to_string();
    let mut kept: Vec<(&str, &str)> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, v.as_str())).collect();
    kept.push(("page", &page));
    format!("/directory?{}", serde_urlencoded::to_string(&kept).unwrap_or_default())
}

/// `GET /directory`: search. Without any criteria it lists everything by name.
pub(crate) async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    session: tower_sessions::Session,
    Query(f): Query<SearchForm>,
) -> Result<Response, AppError> {
    let mut errors = vec![];
    let mut err = |field: &'static str, m: &str| errors.push(crate::forms::SummaryError { field, message: m.into() });
    let mut q = DirectoryQuery {
        text: f.q.trim().chars().take(200).collect(),
        active_only: true,
        radius_km: 8.0,
        ..Default::default()
    };
    let mut for_name = String::new();
    let mut postcode = f.postcode.trim().to_owned();
    if !f.for_person.is_empty() && granted(&user, Permission::RecordCasework) {
        // Only someone the worker may open (the legitimate-relationship rule, or break glass).
        let person = crate::people::authorise(&state, &user, &session, &f.for_person).await?;
        // Seeing whom the search is for shows a name: audited like any view of the person.
        state.audit(vec![crate::people::viewed(&state, &user, &source, person.id, "person.directory")]).await?;
        for_name = person.full_name();
        if postcode.is_empty() && f.page.is_empty() && f.q.is_empty() {
            postcode = person.postcode.as_ref().map(ToString::to_string).unwrap_or_default();
        }
        if f.age.is_empty() {
            let age = f64::from(person.age_on(state.clock.now().uk_date()));
            q.ages = Some((age, age));
        }
    }
    if !postcode.is_empty() {
        match state.store.locate_postcode(&postcode).await? {
            Some((p, _)) => q.near = Some(p),
            None => err("postcode", "We do not know that postcode. Check it, or search without one"),
        }
        if !f.miles.is_empty() {
            match f.miles.trim().parse::<f64>() {
                Ok(m) if m > 0.0 && m <= 100.0 => q.radius_km = m * 1.609,
                _ => err("miles", "Enter a distance from 1 to 100 miles"),
            }
        }
    }
    if !f.term.is_empty() {
        match f.term.parse() {
            Ok(t) => q.term = Some(t),
            Err(_) => err("term", "Choose a category from the list"),
        }
    }
    if !f.age.trim().is_empty() {
        match f.age.trim().parse::<f64>() {
            Ok(a) if (0.0..=130.0).contains(&a) => q.ages = Some((a, a)),
            _ => err("age", "Enter an age in years, like 67"),
        }
    }
    if !f.day.is_empty() {
        match f.day.parse::<u8>() {
            Ok(d) if d < 7 => q.day = Some(d),
            _ => err("day", "Choose a day from the list"),
        }
    }
    if !f.time.trim().is_empty() {
        match oruk::parse_clock(&f.time) {
            Some(t) => q.from = Some(t),
            None => err("time", "Enter a time like 14:30"),
        }
    }
    q.free_only = f.free == "yes";
    q.language = Some(f.language.trim().to_owned()).filter(|l| !l.is_empty());
    q.accessibility = Some(f.access.trim().to_owned()).filter(|l| !l.is_empty());
    match f.mode.as_str() {
        "" => {}
        mode => match mode.parse::<AccessMode>() {
            Ok(AccessMode::InPerson) => q.in_person = true,
            Ok(AccessMode::Online) => q.online = true,
            Ok(AccessMode::Phone) => q.phone = true,
            Err(_) => err("mode", "Choose how the person wants to take part"),
        },
    }
    if !f.capacity.is_empty() {
        match f.capacity.as_str() {
            "open" => q.capacity = vec![Capacity::Accepting, Capacity::WaitUnderMonth],
            c => match c.parse() {
                Ok(c) => q.capacity = vec![c],
                Err(_) => err("capacity", "Choose from the list"),
            },
        }
    }
    let page = f.page.parse::<i64>().ok().filter(|p| *p >= 1 && *p <= 10_000).unwrap_or(1);
    let (hits, total) = if errors.is_empty() {
        state.store.search_directory(&q, (page - 1) * PER_PAGE, PER_PAGE).await?
    } else {
        (vec![], 0)
    };
    let ids: Vec<ServiceId> = hits.iter().map(|h| h.listing.id).collect();
    let now = state.clock.now();
    let resp: HashMap<ServiceId, Responsiveness> =
        state.store.responsiveness(&ids, now - Duration::days(365)).await?.into_iter().collect();
    let (terms, _) = state.store.taxonomy_terms(None, 0, 500).await?;
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    let shown_postcode = postcode;
    html(&DirectoryPage {
        nav: Nav::for_user(&user),
        next_link: (page < pages).then(|| page_link(&f, page + 1)),
        prev_link: (page > 1).then(|| page_link(&f, page - 1)),
        form_q: f.q.clone(),
        form_postcode: shown_postcode,
        form_miles: f.miles.clone(),
        form_term: f.term.clone(),
        form_age: f.age.clone(),
        form_day: f.day.clone(),
        form_time: f.time.clone(),
        form_free: q.free_only,
        form_language: f.language.clone(),
        form_access: f.access.clone(),
        form_mode: f.mode.clone(),
        form_capacity: f.capacity.clone(),
        for_person: if for_name.is_empty() { String::new() } else { f.for_person.clone() },
        for_name,
        terms: terms.into_iter().map(|t| (t.id.to_string(), t.name)).collect(),
        days: DAY_NAMES.iter().enumerate().map(|(i, d)| (i.to_string(), *d)).collect(),
        capacities: std::iter::once(("open", "Accepting or short wait"))
            .chain(Capacity::ALL.iter().map(|c| (c.as_str(), c.label())))
            .collect(),
        modes: AccessMode::options(),
        errors,
        hits: hits
            .into_iter()
            .map(|h| {
                let r = resp.get(&h.listing.id);
                hit_view(h, now, r)
            })
            .collect(),
        total,
        page,
        pages,
        needs: NeedDomain::options(),
    })
}
