//! Checking a feed record: what search filters on, and the reasons a record cannot be kept.

use super::model::Organization;
use super::model::STATUSES;
use super::model::Service;
use super::model::ServiceAtLocation;
use super::model::TaxonomyTerm;
use super::model::is_false;
use super::schedule::check_schedule;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use uuid::Uuid;

/// How a person can use a service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modes {
    #[serde(skip_serializing_if = "is_false", default)]
    pub in_person: bool,
    #[serde(skip_serializing_if = "is_false", default)]
    pub online: bool,
    #[serde(skip_serializing_if = "is_false", default)]
    pub phone: bool,
}

/// One opening slot: day of the week (0 = Monday), minutes after midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    pub day: u8,
    pub opens: u16,
    pub closes: u16,
}

/// A place the service is delivered, as search needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub sal_id: Uuid,
    pub location_id: Uuid,
    pub name: String,
    pub postcode: Option<String>,
    /// WGS84 degrees, only when in range (a feed's 100/101 is kept in the document but not used).
    pub point: Option<(f64, f64)>,
    /// The service-at-location document (with its location) as served by the API.
    pub document: ServiceAtLocation,
}

/// A checked feed record, ready to store: the document plus what search filters on.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceEntry {
    /// The service as served (no `organization`, no `service_at_locations`: those are stored
    /// apart and joined back).
    pub document: Service,
    pub organization_id: Uuid,
    pub free: bool,
    pub modes: Modes,
    /// Lower-case language names and codes.
    pub languages: Vec<String>,
    /// Everything said about accessibility, for the accessibility filter.
    pub accessibility: String,
    pub openings: Vec<Opening>,
    pub term_ids: Vec<Uuid>,
    pub places: Vec<Place>,
    /// Search words with weights: name 3, taxonomy terms 2, description 1.
    pub words: Vec<(String, i32)>,
    /// When the publisher last checked the record (`assured_date`, noon UK time) and who
    /// (`assurer_email`): the listing's "last checked", so freshness shows from the first import.
    pub assured: Option<(DateTime<Utc>, Option<String>)>,
}

/// What checking a record found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

pub(super) fn plausible_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub(super) fn plausible_uri(s: &str) -> bool {
    let s = s.trim();
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Split text into lower-case search words (letters and digits), with a simple English plural
/// fold so "groups" finds "group".
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| fold_word(&w.to_lowercase()))
        .collect()
}

/// The stored form of one search word.
pub fn fold_word(w: &str) -> String {
    let w: String = w.chars().take(40).collect();
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") { w[..w.len() - 1].to_owned() } else { w }
}

pub(super) fn in_range(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && !(lat == 0.0 && lon == 0.0)
}

/// Check one service record from a feed. `known_terms` are the taxonomy terms the feed and the
/// directory already hold; `organization` is the organisation the record came under (the full
/// form of an organisation nests its services without repeating it).
pub fn check_service(
    mut s: Service,
    organization: Option<Uuid>,
    known_terms: &HashSet<Uuid>,
) -> Result<(ServiceEntry, Vec<String>), Vec<String>> {
    let mut f = Findings::default();
    let id = s.id;
    s.name = s.name.trim().to_owned();
    if s.name.is_empty() {
        f.errors.push("name is required".into());
    }
    if s.id.is_nil() {
        f.errors.push("id must not be the nil UUID".into());
    }
    if !STATUSES.contains(&s.status.as_str()) {
        f.errors.push(format!("status {:?} is not one of {}", s.status, STATUSES.join(", ")));
    }
    let organization_id = s.organization_id.or(s.organization.as_ref().map(|o| o.id)).or(organization);
    if organization_id.is_none() {
        f.errors.push("organization_id is missing: say which organisation runs the service".into());
    }
    if let (Some(a), Some(b)) = (s.organization_id, s.organization.as_ref().map(|o| o.id))
        && a != b
    {
        f.errors.push(format!("organization_id {a} differs from the nested organization {b}"));
    }
    for (label, age) in [("minimum_age", s.minimum_age), ("maximum_age", s.maximum_age)] {
        if let Some(a) = age
            && !(0.0..=130.0).contains(&a)
        {
            f.errors.push(format!("{label} {a} is not an age"));
        }
    }
    if let (Some(lo), Some(hi)) = (s.minimum_age, s.maximum_age)
        && lo > hi
    {
        f.errors.push(format!("minimum_age {lo} is above maximum_age {hi}"));
    }
    for (label, v) in [("email", &s.email), ("assurer_email", &s.assurer_email)] {
        if let Some(e) = v
            && !plausible_email(e)
        {
            f.errors.push(format!("{label} {e:?} is not an email address"));
        }
    }
    if let Some(u) = &s.url
        && !plausible_uri(u)
    {
        f.errors.push(format!("url {u:?} is not a web address"));
    }

    let mut openings = Vec::new();
    let mut modes = Modes::default();
    for sc in &s.schedules {
        check_schedule(sc, &mut f, &mut openings);
        if let Some(a) = &sc.attending_type {
            modes_from_words(a, &mut modes);
        }
    }

    let mut term_ids = Vec::new();
    for a in &mut s.attributes {
        let term = a.taxonomy_term.as_ref().map(|t| t.id).or(a.taxonomy_term_id);
        match term {
            Some(t) if a.taxonomy_term.is_some() || known_terms.contains(&t) => {
                a.taxonomy_term_id = Some(t);
                if !term_ids.contains(&t) {
                    term_ids.push(t);
                }
            }
            Some(t) => f
                .errors
                .push(format!("attribute {} names taxonomy term {t}, which is not in the feed or the directory", a.id)),
            None => f.errors.push(format!("attribute {} names no taxonomy term", a.id)),
        }
    }

    let mut places = Vec::new();
    let mut accessibility = String::new();
    let mut seen_sal = HashSet::new();
    for sal in std::mem::take(&mut s.service_at_locations) {
        if !seen_sal.insert(sal.id) {
            f.errors.push(format!("service_at_location {} appears twice", sal.id));
            continue;
        }
        let Some(loc) = sal.location.clone() else {
            f.warnings.push(format!("service_at_location {} has no location and is left out", sal.id));
            continue;
        };
        match loc.location_type.as_str() {
            "physical" => modes.in_person = true,
            "virtual" => modes.online = true,
            "postal" => {}
            other => {
                f.errors.push(format!("location {} has location_type {other:?} (physical, postal or virtual)", loc.id))
            }
        }
        let point = match (loc.latitude, loc.longitude) {
            (Some(lat), Some(lon)) if in_range(lat, lon) => Some((lat, lon)),
            (Some(lat), Some(lon)) => {
                f.warnings.push(format!(
                    "location {} has coordinates {lat}, {lon} that are not on Earth; its postcode is used for distance instead",
                    loc.id
                ));
                None
            }
            _ => None,
        };
        for acc in &loc.accessibility {
            for t in [&acc.description, &acc.details, &acc.accessibility].into_iter().flatten() {
                accessibility.push_str(t);
                accessibility.push(' ');
            }
        }
        let postcode = loc.addresses.iter().map(|a| a.postal_code.trim()).find(|p| !p.is_empty()).map(str::to_owned);
        places.push(Place {
            sal_id: sal.id,
            location_id: loc.id,
            name: loc.name.clone().unwrap_or_default(),
            postcode,
            point,
            document: ServiceAtLocation {
                id: sal.id,
                service_id: Some(id),
                location_id: Some(loc.id),
                location: Some(loc),
                service: None,
            },
        });
    }
    if s.contacts.iter().any(|c| !c.phones.is_empty()) && !modes.in_person && !modes.online {
        modes.phone = true;
    }

    let mut languages = Vec::new();
    for l in &s.languages {
        for v in [&l.name, &l.code].into_iter().flatten() {
            let v = v.trim().to_lowercase();
            if !v.is_empty() && !languages.contains(&v) {
                languages.push(v);
            }
        }
    }
    for c in &s.cost_options {
        if let Some(a) = c.amount
            && a < 0.0
        {
            f.errors.push(format!("cost option {} has a negative amount", c.id));
        }
    }
    let free = s.cost_options.iter().all(|c| c.amount.is_none_or(|a| a == 0.0))
        && s.fees.as_deref().is_none_or(|fe| fe.trim().is_empty() || fe.to_lowercase().contains("free"))
        || s.cost_options.iter().any(|c| c.amount == Some(0.0));

    let assured = match s.assured_date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        // A date, or the date part of a date-time.
        Some(d) => match d.get(..10).and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()) {
            Some(day) => crate::uktime::from_uk(day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()))
                .map(|at| (at, s.assurer_email.clone())),
            None => {
                f.warnings.push(format!(
                    "assured_date {d:?} is not a date (YYYY-MM-DD): the listing shows as not yet checked"
                ));
                None
            }
        },
    };
    if !f.errors.is_empty() {
        return Err(f.errors);
    }
    let mut words_weighted: Vec<(String, i32)> = Vec::new();
    let mut add = |text: &str, w: i32| {
        for word in words(text) {
            match words_weighted.iter_mut().find(|(x, _)| *x == word) {
                Some(e) => e.1 = e.1.max(w),
                None => words_weighted.push((word, w)),
            }
        }
    };
    add(&s.name, 3);
    for a in &s.attributes {
        if let Some(t) = &a.taxonomy_term {
            add(&t.name, 2);
        }
    }
    add(s.description.as_deref().unwrap_or(""), 1);
    let organization_id = organization_id.unwrap_or_default();
    s.organization = None;
    s.organization_id = Some(organization_id);
    Ok((
        ServiceEntry {
            document: s,
            organization_id,
            free,
            modes,
            languages,
            accessibility: accessibility.trim().to_owned(),
            openings,
            term_ids,
            places,
            words: words_weighted,
            assured,
        },
        f.warnings,
    ))
}

pub(super) fn modes_from_words(text: &str, modes: &mut Modes) {
    let t = text.to_lowercase();
    if t.contains("in-person") || t.contains("in person") || t.contains("face to face") || t.contains("drop in") {
        modes.in_person = true;
    }
    if t.contains("online") || t.contains("video") || t.contains("remote") || t.contains("virtual") {
        modes.online = true;
    }
    if t.contains("phone") || t.contains("telephone") || t.contains(" call") {
        modes.phone = true;
    }
}

/// A feed's other entities, checked.
pub fn check_term(t: &TaxonomyTerm) -> Result<(), Vec<String>> {
    let mut e = Vec::new();
    if t.name.trim().is_empty() {
        e.push("name is required".to_owned());
    }
    if t.id.is_nil() {
        e.push("id must not be the nil UUID".into());
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// An organisation's own fields, checked.
pub fn check_organization(o: &Organization) -> Result<(), Vec<String>> {
    let mut e = Vec::new();
    if o.name.trim().is_empty() {
        e.push("name is required".to_owned());
    }
    if let Some(m) = &o.email
        && !plausible_email(m)
    {
        e.push(format!("email {m:?} is not an email address"));
    }
    for (label, u) in [("website", &o.website), ("logo", &o.logo), ("uri", &o.uri)] {
        if let Some(u) = u
            && !plausible_uri(u)
        {
            e.push(format!("{label} {u:?} is not a web address"));
        }
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::oruk::{Page, parse_clock, parse_day};

    fn service(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn days_times_and_words() {
        assert_eq!(parse_clock("10:00:00"), Some(600));
        assert_eq!(parse_clock("9:30"), Some(570));
        assert_eq!(parse_clock("25:00"), None);
        assert_eq!(parse_day("TH"), Some(3));
        assert_eq!(parse_day("1MO"), Some(0));
        assert_eq!(parse_day("XX"), None);
        assert_eq!(words("Walking groups, for Men's health"), vec!["walking", "group", "for", "men", "health"]);
    }

    #[test]
    fn a_sound_service_is_indexed_and_a_broken_one_says_why() {
        let id = Uuid::now_v7();
        let org = Uuid::now_v7();
        let ok = service(serde_json::json!({
            "id": id, "name": "Walking group", "status": "active", "organization_id": org,
            "description": "Gentle walks", "minimum_age": 18,
            "schedules": [{"id": Uuid::now_v7(), "freq": "WEEKLY", "byday": "MO,WE", "opens_at": "10:00", "closes_at": "12:00",
                           "attending_type": "in person"}],
            "languages": [{"id": Uuid::now_v7(), "name": "Welsh", "code": "cy"}],
        }));
        let (entry, warnings) = check_service(ok, None, &HashSet::new()).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert!(warnings.is_empty());
        assert_eq!(
            entry.openings,
            vec![Opening { day: 0, opens: 600, closes: 720 }, Opening { day: 2, opens: 600, closes: 720 }]
        );
        assert!(entry.modes.in_person && !entry.modes.online);
        assert!(entry.free);
        assert_eq!(entry.languages, vec!["welsh", "cy"]);
        assert!(entry.words.contains(&("walking".into(), 3)) && entry.words.contains(&("walk".into(), 1)));

        let bad = service(serde_json::json!({
            "id": id, "name": " ", "status": "open", "organization_id": org, "minimum_age": 40, "maximum_age": 20,
            "email": "not an email",
            "schedules": [{"id": Uuid::now_v7(), "byday": "MO,XX", "opens_at": "18:00", "closes_at": "09:00"}],
            "attributes": [{"id": Uuid::now_v7(), "taxonomy_term_id": Uuid::now_v7()}],
        }));
        let errors = check_service(bad, None, &HashSet::new()).err().unwrap_or_default();
        let all = errors.join("\n");
        for expected in [
            "name is required",
            "status \"open\"",
            "above maximum_age",
            "not an email",
            "byday \"XX\"",
            "closes at 09:00 before it opens at 18:00",
            "not in the feed or the directory",
        ] {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
    }

    #[test]
    fn pages_count_from_one() {
        let p = Page::new(vec![1, 2], 5, 1, 2);
        assert_eq!((p.total_pages, p.first_page, p.last_page, p.size), (3, true, false, 2));
        let p: Page<i32> = Page::new(vec![], 0, 1, 50);
        assert_eq!((p.total_pages, p.last_page, p.empty), (0, true, true));
    }
}
