//! A service's page with its trust signals, and owners or staff editing a listing.

use super::search::responsiveness_text;
use super::search::verified_text;
use super::stewardship::may_edit;
use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::{Nav, html};
use crate::{AppError, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::directory::oruk::{self, DAY_NAMES};
use linkwork_domain::directory::{Capacity, Listing, ListingChange, check_edit};
use linkwork_domain::ids::ServiceId;
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "directory/service.html")]
pub(super) struct ServicePage {
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

pub(super) fn service_id(s: &str) -> Result<ServiceId, AppError> {
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
    let doc = crate::directory::oruk::full_service(&state, id).await?;
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

pub(super) fn edit_form(user: &User, l: &Listing) -> FormPage {
    let age = |a: Option<f64>| a.map(|x| x.to_string()).unwrap_or_default();
    FormPage {
        nav: Nav::for_user(user),
        title: "Update this listing",
        intro: vec!["Keep people's expectations right: capacity shows in every search and when a link worker refers."],
        action: format!("/directory/services/{}/edit", l.id),
        submit: "Save listing",
        fields: [
            vec![
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
            ],
            hours_fields(l),
            vec![
                Field::of("checkbox", "verified", "I have checked that everything in this listing is correct")
                    .value(""),
            ],
        ]
        .into_iter()
        .flatten()
        .collect(),
        errors: vec![],
        extras: FormExtras {
            hidden: vec![("version", l.version.to_string())],
            back: Some(format!("/directory/services/{}", l.id)),
            ..Default::default()
        },
    }
}

/// The fields of each day's hours: opening and closing times, empty when closed.
const HOURS: [(&str, &str, &str, &str); 7] = [
    ("opens_0", "Monday: opens", "closes_0", "Monday: closes"),
    ("opens_1", "Tuesday: opens", "closes_1", "Tuesday: closes"),
    ("opens_2", "Wednesday: opens", "closes_2", "Wednesday: closes"),
    ("opens_3", "Thursday: opens", "closes_3", "Thursday: closes"),
    ("opens_4", "Friday: opens", "closes_4", "Friday: closes"),
    ("opens_5", "Saturday: opens", "closes_5", "Saturday: closes"),
    ("opens_6", "Sunday: opens", "closes_6", "Sunday: closes"),
];

fn hours_fields(l: &Listing) -> Vec<Field> {
    let now = linkwork_domain::directory::weekly_hours(&l.document);
    let mut out = vec![];
    for ((o, ol, c, cl), slot) in HOURS.iter().zip(now) {
        let (opens, closes) = slot.unwrap_or_default();
        out.push(Field::of("time", o, ol).value(opens).hint("Leave both times empty on a day it is closed"));
        out.push(Field::of("time", c, cl).value(closes));
    }
    out
}

/// Each day's hours from the form; an error names the field.
fn read_hours(data: &FormData, page: &mut FormPage) -> [Option<(chrono::NaiveTime, chrono::NaiveTime)>; 7] {
    let mut out: [Option<(chrono::NaiveTime, chrono::NaiveTime)>; 7] = Default::default();
    for (slot, (o, ol, c, _)) in out.iter_mut().zip(HOURS) {
        let t = |name: &str| chrono::NaiveTime::parse_from_str(data.get(name).trim(), "%H:%M");
        let (opens, closes) = (data.get(o), data.get(c));
        match (opens.trim().is_empty(), closes.trim().is_empty()) {
            (true, true) => {}
            (false, true) => page.error(c, format!("Enter when it closes, or clear when it opens ({ol})")),
            (true, false) => page.error(o, "Enter when it opens, like 09:30"),
            (false, false) => match (t(o), t(c)) {
                (Ok(a), Ok(b)) if b > a => *slot = Some((a, b)),
                (Ok(_), Ok(_)) => page.error(c, "The closing time must be after the opening time"),
                (Err(_), _) => page.error(o, "Enter the time like 09:30"),
                (_, Err(_)) => page.error(c, "Enter the time like 16:00"),
            },
        }
    }
    out
}

pub(super) async fn editable(state: &AppState, user: &User, id: &str) -> Result<Listing, AppError> {
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
    data: FormData,
) -> Result<Response, AppError> {
    let l = editable(&state, &user, &id).await?;
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
    // A form without the hours (an older page, a script) leaves them as they are.
    if HOURS.iter().any(|(o, _, c, _)| !data.all(o).is_empty() || !data.all(c).is_empty()) {
        let hours = read_hours(&data, &mut page);
        linkwork_domain::directory::set_weekly_hours(&mut next.document, &hours);
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
    if linkwork_domain::directory::weekly_hours(&l.document) != linkwork_domain::directory::weekly_hours(&next.document)
    {
        what.push("opening times changed".into());
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
