//! The community directory for people: search with filters and distance, a service's page with
//! its trust signals (verified when and by whom, stale past review, responsiveness), reporting a
//! problem, staff resolving reports and claims, and owners editing their listings.

use crate::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use linkwork_domain::accounts::User;
use linkwork_domain::audit::{AuditAction, AuditEntry};
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::directory::{
    Capacity, Claim, DirectoryQuery, Hit, Listing, ListingChange, ProblemKind, ProblemReport, Responsiveness,
    check_edit,
};
use linkwork_domain::ids::{ClaimId, OrgId, ReportId, ServiceId};
use linkwork_domain::organisations::{OrgKind, Organisation};
use linkwork_domain::oruk::{self, DAY_NAMES};
use linkwork_domain::permissions::{Permission, granted};
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;
use serde::Deserialize;
use std::collections::HashMap;

/// Results per page.
const PER_PAGE: i64 = 20;

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

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>().trim_end())
    }
}

fn responsiveness_text(r: &Responsiveness) -> Option<String> {
    let pct = r.acceptance_percent()?;
    Some(format!(
        "Replies in {} (median); accepts {pct}% of {} referrals answered",
        r.median_reply().unwrap_or_default(),
        r.answered
    ))
}

fn verified_text(l: &Listing) -> String {
    match (&l.verified_at, &l.verified_by) {
        (Some(at), Some(by)) => format!("Checked {} by {by}", at.uk().format("%d %B %Y")),
        (Some(at), None) => format!("Checked {}", at.uk().format("%d %B %Y")),
        _ => format!("Not yet checked (listed {})", l.created_at.uk().format("%d %B %Y")),
    }
}

fn hit_view(h: Hit, now: chrono::DateTime<Utc>, resp: Option<&Responsiveness>) -> HitView {
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
#[template(path = "directory.html")]
struct DirectoryPage {
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

fn page_link(f: &SearchForm, page: i64) -> String {
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
        let person = crate::casework::authorise(&state, &user, &session, &f.for_person).await?;
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
        "in_person" => q.in_person = true,
        "online" => q.online = true,
        "phone" => q.phone = true,
        _ => err("mode", "Choose how the person wants to take part"),
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

/// The tenants whose directory `user` looks after as directory staff: the organisations in which
/// they hold a directory-staff role, and every organisation below those (an ICB's staff look
/// after its PCNs' directories). Empty for everyone else. Directory staff act only on
/// organisations whose steward is in this list.
pub(crate) async fn stewardship(state: &AppState, user: &User) -> Result<Vec<OrgId>, AppError> {
    let mut out: Vec<OrgId> = vec![];
    let mut frontier: Vec<Organisation> = vec![];
    for g in staff_grants(user) {
        frontier.push(state.store.get_org(g).await?);
    }
    while let Some(o) = frontier.pop() {
        if out.contains(&o.id) {
            continue;
        }
        out.push(o.id);
        // Practices and voluntary groups have nothing below them.
        if matches!(o.kind, OrgKind::Icb | OrgKind::Pcn) {
            frontier.extend(state.store.child_orgs(o.id).await?);
        }
    }
    Ok(out)
}

/// The organisations in which `user` holds a directory-staff role.
fn staff_grants(user: &User) -> Vec<OrgId> {
    user.roles
        .iter()
        .filter(|g| linkwork_domain::permissions::role_allows(g.role, Permission::ManageDirectory))
        .map(|g| g.org_id)
        .collect()
}

/// Whether `user` is directory staff for `steward`: it is one of their staff organisations or
/// lies below one. Walks up from the steward (at most the depth of the tree), so a page that
/// asks once per listing stays cheap.
async fn stewards(state: &AppState, user: &User, steward: OrgId) -> Result<bool, AppError> {
    let grants = staff_grants(user);
    if grants.is_empty() {
        return Ok(false);
    }
    let steward = state.store.get_org(steward).await?;
    for g in grants {
        if crate::organisations::is_within(state, &steward, g).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `user` may edit `listing`: directory staff those their organisation stewards; a
/// voluntary group its own.
pub(crate) async fn may_edit(state: &AppState, user: &User, listing: &Listing) -> Result<bool, AppError> {
    if granted(user, Permission::EditListings)
        && listing.owner_org_id.is_some_and(|o| user.roles.iter().any(|g| g.org_id == o))
    {
        return Ok(true);
    }
    match listing.steward_org_id {
        Some(steward) if granted(user, Permission::ManageDirectory) => stewards(state, user, steward).await,
        _ => Ok(false),
    }
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage {
    nav: Nav,
    id: String,
    name: String,
    organization: String,
    organization_id: String,
    claimed: bool,
    description: String,
    status: String,
    capacity: &'static str,
    accepting: bool,
    stale: bool,
    verified: String,
    review_due: String,
    facts: Vec<(&'static str, String)>,
    places: Vec<(String, String)>,
    hours: Vec<String>,
    responsiveness: String,
    can_edit: bool,
    history: Vec<(String, String, String)>,
    reports: Vec<(String, &'static str, String, bool)>,
    for_person: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ForPerson {
    #[serde(default, rename = "for")]
    for_person: String,
}

fn service_id(s: &str) -> Result<ServiceId, AppError> {
    s.parse::<ServiceId>().map_err(|_| AppError::NotFound)
}

/// `GET /directory/services/{id}`.
pub(crate) async fn service(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(fp): Query<ForPerson>,
) -> Result<Response, AppError> {
    let id = service_id(&id)?;
    let l = state.store.get_listing(id).await?;
    let now = state.clock.now();
    let doc = crate::openreferral::full_service(&state, id).await?;
    let places = doc
        .service_at_locations
        .iter()
        .filter_map(|p| p.location.as_ref())
        .map(|loc| {
            let addr = loc
                .addresses
                .first()
                .map(|a| {
                    [a.address_1.as_str(), a.city.as_str(), a.postal_code.as_str()]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            (loc.name.clone().unwrap_or_else(|| loc.location_type.clone()), addr)
        })
        .collect();
    let hours = doc
        .schedules
        .iter()
        .map(|s| {
            let days: Vec<&str> = s
                .byday
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter_map(oruk::parse_day)
                .map(|d| DAY_NAMES[usize::from(d)])
                .collect();
            let times = match (&s.opens_at, &s.closes_at) {
                (Some(o), Some(c)) => format!(" {}–{}", o.get(..5).unwrap_or(o), c.get(..5).unwrap_or(c)),
                _ => String::new(),
            };
            let base = if days.is_empty() {
                s.description.clone().unwrap_or_default()
            } else {
                format!("{}{times}", days.join(", "))
            };
            base.trim().to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let mut facts: Vec<(&'static str, String)> = vec![];
    if let Some(a) = l.ages() {
        facts.push(("Who it is for", a));
    }
    let modes = l.mode_labels();
    if !modes.is_empty() {
        facts.push(("How to take part", modes.join(", ")));
    }
    facts.push((
        "Cost",
        if l.free {
            "Free".into()
        } else {
            doc.cost_options
                .iter()
                .filter_map(|c| c.option.clone().map(|o| format!("{o}: £{}", c.amount.unwrap_or(0.0))))
                .collect::<Vec<_>>()
                .join("; ")
        },
    ));
    if !l.languages.is_empty() {
        facts.push(("Languages", l.languages.join(", ")));
    }
    if !l.accessibility.is_empty() {
        facts.push(("Accessibility", l.accessibility.clone()));
    }
    if let Some(e) = &l.email {
        facts.push(("Email", e.clone()));
    }
    if let Some(u) = &l.url {
        facts.push(("Website", u.clone()));
    }
    for c in &doc.contacts {
        for p in &c.phones {
            facts.push((
                "Phone",
                format!(
                    "{} {}",
                    p.number.trim_matches('"'),
                    c.name.clone().map(|n| format!("({n})")).unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(a) = &doc.alert {
        facts.push(("Note", a.clone()));
    }
    let resp = state.store.responsiveness(&[id], now - Duration::days(365)).await?;
    let responsiveness = resp
        .first()
        .and_then(|(_, r)| responsiveness_text(r))
        .unwrap_or_else(|| "No referrals answered through linkwork in the last year".into());
    let can_edit = may_edit(&state, &user, &l).await?;
    let history = if can_edit {
        state
            .store
            .listing_history(id, 50)
            .await?
            .into_iter()
            .map(|c| (c.at.uk().format("%d %b %Y %H:%M").to_string(), c.who, c.what))
            .collect()
    } else {
        vec![]
    };
    let reports = if can_edit {
        state
            .store
            .service_reports(id)
            .await?
            .into_iter()
            .map(|r| {
                (r.reported_at.uk().format("%d %b %Y").to_string(), r.kind.label(), r.details, r.resolved_at.is_some())
            })
            .collect()
    } else {
        vec![]
    };
    let orgs = state.store.directory_orgs(&[l.organization_id]).await?;
    html(&ServicePage {
        nav: Nav::for_user(&user),
        id: l.id.to_string(),
        organization_id: l.organization_id.to_string(),
        claimed: orgs.first().is_some_and(|(_, owner)| owner.is_some()),
        description: l.description.clone(),
        status: l.status.clone(),
        capacity: l.capacity.label(),
        accepting: l.capacity == Capacity::Accepting,
        stale: l.is_stale(now),
        verified: verified_text(&l),
        review_due: l.review_due().uk().format("%d %B %Y").to_string(),
        facts,
        places,
        hours,
        responsiveness,
        can_edit,
        history,
        reports,
        for_person: if granted(&user, Permission::RecordCasework) { fp.for_person } else { String::new() },
        organization: l.organization_name,
        name: l.name,
    })
}

// ---- Report a problem (anyone) --------------------------------------------------------------

fn report_form(l: &Listing) -> FormPage {
    FormPage {
        nav: Nav::anonymous(),
        title: "Report a problem with this listing",
        intro: vec![
            "Tell us what is wrong and the people who look after the directory will check it. You do not need an account.",
        ],
        action: format!("/directory/services/{}/report", l.id),
        submit: "Send report",
        fields: vec![
            Field::of("radios", "kind", "What is wrong?").options(ProblemKind::options()),
            Field::of("textarea", "details", "Tell us more")
                .hint("For example the right phone number, or when it closed."),
            Field::of("email", "reporter", "Your email address (optional)").hint("Only if you would like us to reply."),
        ],
        errors: vec![],
        extras: FormExtras {
            honeypot: true,
            summary: vec![("Service".into(), l.name.clone()), ("Run by".into(), l.organization_name.clone())],
            back: Some(format!("/directory/services/{}", l.id)),
            ..Default::default()
        },
    }
}

pub(crate) async fn report_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    let l = state.store.get_listing(service_id(&id)?).await?;
    report_form(&l).respond()
}

pub(crate) async fn report(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let l = state.store.get_listing(service_id(&id)?).await?;
    let data = FormData::parse(&body)?;
    if !data.get("website").is_empty() {
        // A bot filled the hidden field: say thanks, keep nothing.
        return crate::forms::MessagePage::new("Thank you", "Your report has been sent.")
            .respond(axum::http::StatusCode::OK);
    }
    let key = format!("report:{}", source.as_deref().unwrap_or("unknown"));
    if !state.throttle_public(&key).await? {
        return Err(AppError::TooMany);
    }
    let mut page = report_form(&l);
    page.refill(&data);
    let kind = data.get("kind").parse::<ProblemKind>();
    if kind.is_err() {
        page.error("kind", "Choose what is wrong");
    }
    let details = data.get("details").trim().to_owned();
    if details.is_empty() {
        page.error("details", "Tell us more about the problem");
    } else if details.chars().count() > 2000 {
        page.error("details", "Keep it to 2,000 characters");
    }
    let reporter = Some(data.get("reporter").trim().to_owned()).filter(|r| !r.is_empty());
    if let Some(r) = &reporter
        && (r.len() > 200 || !r.contains('@'))
    {
        page.error("reporter", "Enter an email address like name@example.org, or leave it empty");
    }
    let (Ok(kind), true) = (kind, page.errors.is_empty()) else { return page.respond() };
    state
        .store
        .add_report(&ProblemReport {
            id: ReportId::new(),
            service_id: l.id,
            kind,
            details,
            reporter,
            reported_at: state.clock.now(),
            resolved_at: None,
            resolved_by: None,
            resolution: None,
        })
        .await?;
    crate::forms::MessagePage::new("Thank you", "Your report has been sent. The directory team will check the listing.")
        .respond(axum::http::StatusCode::OK)
}

#[derive(Template)]
#[template(path = "directory_reports.html")]
struct ReportsPage {
    nav: Nav,
    reports: Vec<(String, String, String, &'static str, String, String)>,
    claims: Vec<(String, String, String, String, String, String)>,
}

/// `GET /directory/reports`: open problem reports and claims, for directory staff.
pub(crate) async fn reports(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    let stewards = stewardship(&state, &user).await?;
    let reports = state
        .store
        .open_reports(&stewards, 200)
        .await?
        .into_iter()
        .map(|(r, name)| {
            (
                r.id.to_string(),
                r.service_id.to_string(),
                name,
                r.kind.label(),
                r.details,
                r.reported_at.uk().format("%d %b %Y").to_string(),
            )
        })
        .collect();
    let claims = state
        .store
        .open_claims(&stewards)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.organization_name, c.name, c.email, c.role, c.evidence))
        .collect();
    html(&ReportsPage { nav: Nav::for_user(&user), reports, claims })
}

/// `POST /directory/reports/{id}/resolve`.
/// An audit entry for a directory staff decision (no person's data: the record is the report or
/// the claim).
fn staff_act(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    what: &str,
    id: String,
    reason: String,
) -> AuditEntry {
    AuditEntry {
        record_id: Some(id),
        reason: Some(reason),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::Update, what).by(user)
    }
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let id = id.parse::<ReportId>().map_err(|_| AppError::NotFound)?;
    let data = FormData::parse(&body)?;
    let resolution = data.get("resolution").trim().chars().take(1000).collect::<String>();
    let resolution = if resolution.is_empty() { "Checked and resolved".to_owned() } else { resolution };
    let stewards = stewardship(&state, &user).await?;
    state.store.resolve_report(id, &stewards, user.id, state.clock.now(), &resolution).await?;
    state.audit(vec![staff_act(&state, &user, &source, "service_report", id.to_string(), "resolved".into())]).await?;
    Ok(Redirect::to("/directory/reports").into_response())
}

// ---- Claims: a voluntary group asks to manage its listings ----------------------------------

fn claim_form(org: &oruk::Organization) -> FormPage {
    FormPage {
        nav: Nav::anonymous(),
        title: "Manage your organisation's listings",
        intro: vec![
            "Tell us who you are. Once the directory team has checked, you will get an invitation to sign in and keep your listings, capacity and contact details up to date, and to answer referrals from link workers.",
        ],
        action: format!("/directory/organizations/{}/claim", org.id),
        submit: "Send request",
        fields: vec![
            Field::new("name", "Your name", "text", "name"),
            Field::new("email", "Your work email address", "email", "email"),
            Field::of("text", "role", "Your role in the organisation"),
            Field::of("textarea", "evidence", "How can we check?")
                .hint("For example your charity number, or a colleague we can call."),
        ],
        errors: vec![],
        extras: FormExtras {
            honeypot: true,
            summary: vec![("Organisation".into(), org.name.clone())],
            ..Default::default()
        },
    }
}

async fn directory_org(state: &AppState, id: &str) -> Result<(oruk::Organization, Option<OrgId>), AppError> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    state.store.directory_orgs(&[id]).await?.into_iter().next().ok_or(AppError::NotFound)
}

/// An organisation someone already manages cannot be claimed (the claim would be a takeover):
/// say so, and where to go instead.
fn already_managed(org: &oruk::Organization) -> Result<Response, AppError> {
    crate::forms::MessagePage {
        nav: Nav::anonymous(),
        title: "This organisation's listings are already managed",
        paragraphs: vec![
            format!("{} already keeps its own listings in linkwork, so it cannot be claimed.", org.name).into(),
            "If you work there, ask a colleague who manages the listings to add you. If something in a listing is wrong, report a problem from the listing.".into(),
        ],
        link: Some(("/", "Back to the start")),
    }
    .respond(axum::http::StatusCode::CONFLICT)
}

pub(crate) async fn claim_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    let (org, owner) = directory_org(&state, &id).await?;
    if owner.is_some() {
        return already_managed(&org);
    }
    claim_form(&org).respond()
}

pub(crate) async fn claim(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let (org, owner) = directory_org(&state, &id).await?;
    if owner.is_some() {
        return already_managed(&org);
    }
    let data = FormData::parse(&body)?;
    let thanks = || {
        crate::forms::MessagePage::new(
            "Request sent",
            "Thank you. The directory team will check your request and email you.",
        )
        .respond(axum::http::StatusCode::OK)
    };
    if !data.get("website").is_empty() {
        return thanks();
    }
    if !state.throttle_public(&format!("claim:{}", source.as_deref().unwrap_or("unknown"))).await? {
        return Err(AppError::TooMany);
    }
    let mut page = claim_form(&org);
    page.refill(&data);
    let [name, email, role, evidence] = ["name", "email", "role", "evidence"].map(|f| data.get(f).trim().to_owned());
    if name.is_empty() || name.len() > 200 {
        page.error("name", "Enter your name");
    }
    if linkwork_domain::values::Email::parse(&email).is_err() {
        page.error("email", "Enter an email address like name@example.org");
    }
    if role.is_empty() || role.len() > 200 {
        page.error("role", "Enter your role");
    }
    if evidence.is_empty() || evidence.len() > 2000 {
        page.error("evidence", "Tell us how we can check (up to 2,000 characters)");
    }
    if !page.errors.is_empty() {
        return page.respond();
    }
    state
        .store
        .add_claim(&Claim {
            id: ClaimId::new(),
            organization_id: org.id,
            organization_name: org.name,
            name,
            email,
            role,
            evidence,
            requested_at: state.clock.now(),
            decided_at: None,
            decided_by: None,
            approved: None,
        })
        .await?;
    thanks()
}

/// `POST /directory/claims/{id}`: approve (the organisation becomes a linkwork VCSE organisation
/// managing its listings, and the claimant is invited as its partner) or decline.
pub(crate) async fn decide_claim(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let id = id.parse::<ClaimId>().map_err(|_| AppError::NotFound)?;
    // Only staff of the organisation's steward see or decide its claims.
    let stewards = stewardship(&state, &user).await?;
    let claim = state.store.get_claim(id, &stewards).await?;
    let data = FormData::parse(&body)?;
    let now = state.clock.now();
    if data.get("decision") != "approve" {
        state.store.decide_claim(id, None, user.id, now).await?;
        state
            .audit(vec![staff_act(&state, &user, &source, "directory_claim", id.to_string(), "declined".into())])
            .await?;
        return Ok(Redirect::to("/directory/reports").into_response());
    }
    if claim.email.trim().eq_ignore_ascii_case(user.email.as_str()) {
        return Err(AppError::BadRequest(
            "You cannot approve a claim that names you: another member of the directory team must check it.".into(),
        ));
    }
    // Approval invites a new account; it never adds a role to an account someone already has,
    // which would hand that account the organisation's inbox without its holder's say.
    match state.store.find_user_by_email(&claim.email).await {
        Ok(_) => {
            return Err(AppError::BadRequest(
                "That email address already has a linkwork account. Ask the claimant for a work address that has no account yet, or decline the claim.".into(),
            ));
        }
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let (_, owner) = directory_org(&state, &claim.organization_id.to_string()).await?;
    if owner.is_some() {
        return Err(AppError::BadRequest(
            "Someone already manages this organisation's listings: decline the claim.".into(),
        ));
    }
    // The directory organisation becomes a tenant with the same id.
    let org = Organisation {
        id: OrgId(claim.organization_id),
        name: claim.organization_name.clone(),
        kind: OrgKind::Vcse,
        ods_code: None,
        parent_id: None,
        created_at: now,
    };
    match state.store.create_org(&org, None).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            let renamed =
                Organisation { name: format!("{} ({})", org.name, &claim.organization_id.to_string()[..8]), ..org };
            state.store.create_org(&renamed, None).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let owner = OrgId(claim.organization_id);
    match state.store.decide_claim(id, Some(owner), user.id, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::BadRequest(
                "Someone already manages this organisation's listings: decline the claim.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![staff_act(&state, &user, &source, "directory_claim", id.to_string(), "approved".into())]).await?;
    crate::admin::invite_partner(&state, &user, &source, owner, &claim.name, &claim.email).await?;
    Ok(Redirect::to("/directory/reports").into_response())
}

// ---- Editing a listing (owners and staff) ---------------------------------------------------

fn edit_form(user: &User, l: &Listing) -> FormPage {
    let age = |a: Option<f64>| a.map(|x| x.to_string()).unwrap_or_default();
    FormPage {
        nav: Nav::for_user(user),
        title: "Update this listing",
        intro: vec!["Keep people's expectations right: capacity shows in every search and when a link worker refers."],
        action: format!("/directory/services/{}/edit", l.id),
        submit: "Save listing",
        fields: vec![
            Field::of("radios", "capacity", "Are you taking referrals?")
                .options(Capacity::options())
                .value(l.capacity.as_str()),
            Field::of("text", "name", "Service name").value(&l.name),
            Field::of("textarea", "description", "What it offers").value(&l.description),
            Field::of("select", "status", "Status")
                .options(oruk::STATUSES.iter().map(|s| (*s, *s)).collect())
                .value(&l.status),
            Field::of("email", "email", "Email address").value(l.email.clone().unwrap_or_default()),
            Field::of("text", "url", "Website").value(l.url.clone().unwrap_or_default()),
            Field::of("number", "minimum_age", "Youngest age").value(age(l.minimum_age)),
            Field::of("number", "maximum_age", "Oldest age").value(age(l.maximum_age)),
            Field::of("number", "review_months", "Remind us to check this listing every (months)")
                .value(l.review_months.to_string()),
            Field::of("checkbox", "verified", "I have checked that everything in this listing is correct").value(""),
        ],
        errors: vec![],
        extras: FormExtras {
            hidden: vec![("version", l.version.to_string())],
            back: Some(format!("/directory/services/{}", l.id)),
            ..Default::default()
        },
    }
}

async fn editable(state: &AppState, user: &User, id: &str) -> Result<Listing, AppError> {
    let l = state.store.get_listing(service_id(id)?).await?;
    if may_edit(state, user, &l).await? { Ok(l) } else { Err(AppError::Forbidden) }
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let l = editable(&state, &user, &id).await?;
    edit_form(&user, &l).respond()
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let l = editable(&state, &user, &id).await?;
    let data = FormData::parse(&body)?;
    let mut page = edit_form(&user, &l);
    page.refill(&data);
    let mut next = l.clone();
    match data.get("capacity").parse::<Capacity>() {
        Ok(c) => next.capacity = c,
        Err(_) => page.error("capacity", "Choose whether you are taking referrals"),
    }
    next.name = data.get("name").trim().to_owned();
    next.description = data.get("description").trim().to_owned();
    next.status = data.get("status");
    if let Err(e) = check_edit(&next.name, &next.description, &next.status) {
        let field = if next.name.is_empty() {
            "name"
        } else if next.description.chars().count() > 5000 {
            "description"
        } else {
            "status"
        };
        page.error(field, e.0);
    }
    next.email = Some(data.get("email").trim().to_owned()).filter(|e| !e.is_empty());
    if let Some(e) = &next.email
        && linkwork_domain::values::Email::parse(e).is_err()
    {
        page.error("email", "Enter an email address like hello@example.org");
    }
    next.url = Some(data.get("url").trim().to_owned()).filter(|e| !e.is_empty());
    if let Some(u) = &next.url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        page.error("url", "Enter a web address starting https://");
    }
    for (name, slot) in [("minimum_age", &mut next.minimum_age), ("maximum_age", &mut next.maximum_age)] {
        let v = data.get(name);
        *slot = None;
        if !v.trim().is_empty() {
            match v.trim().parse::<f64>() {
                Ok(a) if (0.0..=130.0).contains(&a) => *slot = Some(a),
                _ => page
                    .error(if name == "minimum_age" { "minimum_age" } else { "maximum_age" }, "Enter an age in years"),
            }
        }
    }
    if let (Some(a), Some(b)) = (next.minimum_age, next.maximum_age)
        && a > b
    {
        page.error("maximum_age", "The oldest age must be the same as or above the youngest");
    }
    match data.get("review_months").trim().parse::<i32>() {
        Ok(m) if (1..=24).contains(&m) => next.review_months = m,
        _ => page.error("review_months", "Enter a number of months from 1 to 24"),
    }
    next.version = data.get("version").parse().unwrap_or(-1);
    if !page.errors.is_empty() {
        return page.respond();
    }
    let now = state.clock.now();
    let mut what = vec![];
    if next.capacity != l.capacity {
        what.push(format!("capacity: {}", next.capacity.label()));
    }
    for (label, a, b) in [
        ("name", &l.name, &next.name),
        ("description", &l.description, &next.description),
        ("status", &l.status, &next.status),
    ] {
        if a != b {
            what.push(format!("{label} changed"));
        }
    }
    if l.email != next.email || l.url != next.url {
        what.push("contact details changed".into());
    }
    if l.minimum_age != next.minimum_age || l.maximum_age != next.maximum_age {
        what.push("ages changed".into());
    }
    if data.checked("verified") {
        next.verified_at = Some(now);
        next.verified_by = Some(format!(
            "{} ({})",
            user.display_name,
            state.store.get_org(user.org_id).await.map(|o| o.name).unwrap_or_default()
        ));
        next.review_reminded_at = None;
        what.push("checked and verified".into());
    }
    if what.is_empty() {
        what.push("saved without changes".into());
    }
    let change = ListingChange {
        service_id: l.id,
        at: now,
        by: Some(user.id),
        who: user.display_name.clone(),
        what: what.join("; "),
    };
    match state.store.update_listing(&next, &change).await {
        Ok(_) => Ok(Redirect::to(&format!("/directory/services/{}", l.id)).into_response()),
        Err(StoreError::Conflict(_)) => page.conflict("this listing"),
        Err(e) => Err(e.into()),
    }
}
