//! Writing a feed into the directory: every record checked on its own, the good ones in one transaction, a report of the rest.

use super::feed::Feed;
use super::feed::ImportReport;
use super::feed::Kind;
use super::feed::guard_text;
use super::feed::id_of;
use super::feed::problem;
use linkwork_domain::Clock;
use linkwork_domain::directory::oruk::{
    self, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm, check_service,
};
use linkwork_domain::ports::{DirectoryBatch, Store};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Check a gathered feed and write what is sound.
pub async fn import(store: &dyn Store, clock: &dyn Clock, feed: Feed, source: &str) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut orgs: HashMap<Uuid, Organization> = HashMap::new();
    let mut taxonomies: HashMap<Uuid, Taxonomy> = HashMap::new();
    let mut terms: HashMap<Uuid, TaxonomyTerm> = HashMap::new();
    // Services by id, with the file they came from and the organisation they were nested in.
    let mut services: HashMap<Uuid, (String, Service, Option<Uuid>)> = HashMap::new();
    let mut order: Vec<Uuid> = Vec::new();
    let mut seen_in_file: HashSet<(String, Uuid)> = HashSet::new();

    let mut add_service = |place: &str, s: Service, parent: Option<Uuid>, report: &mut ImportReport| {
        if !seen_in_file.insert((place.to_owned(), s.id)) {
            report.errors.push(problem(place, "service", &s.id.to_string(), "this id appears twice in the same file"));
            return;
        }
        match services.get_mut(&s.id) {
            // The same service again from another file (its list form, its full form, or a
            // service-at-location): keep the fuller record and every place.
            Some((_, existing, p)) => {
                let mut places = std::mem::take(&mut existing.service_at_locations);
                for sal in &s.service_at_locations {
                    if !places.iter().any(|x| x.id == sal.id) {
                        places.push(sal.clone());
                    }
                }
                let fuller = serde_json::to_string(&s).map(|x| x.len()).unwrap_or(0)
                    > serde_json::to_string(&*existing).map(|x| x.len()).unwrap_or(0);
                if fuller {
                    *existing = s;
                }
                existing.service_at_locations = places;
                *p = p.or(parent);
            }
            None => {
                order.push(s.id);
                services.insert(s.id, (place.to_owned(), s, parent));
            }
        }
    };

    for (place, kind, value) in feed.records {
        let id = id_of(&value);
        if let Value::String(why) = &value {
            report.errors.push(problem(&place, kind.noun(), &id, why.clone()));
            continue;
        }
        if let Err(why) = guard_text(&value, "") {
            report.errors.push(problem(&place, kind.noun(), &id, why));
            continue;
        }
        match kind {
            Kind::Organization => match serde_json::from_value::<Organization>(value) {
                Ok(mut o) => {
                    if let Err(e) = oruk::check_organization(&o) {
                        report.errors.push(problem(&place, "organization", &id, e.join("; ")));
                        continue;
                    }
                    for s in std::mem::take(&mut o.services) {
                        add_service(&place, s, Some(o.id), &mut report);
                    }
                    orgs.insert(o.id, o);
                }
                Err(e) => report.errors.push(problem(&place, "organization", &id, e.to_string())),
            },
            Kind::Service => match serde_json::from_value::<Service>(value) {
                Ok(mut s) => {
                    if let Some(o) = s.organization.take() {
                        match oruk::check_organization(&o) {
                            Ok(()) => {
                                s.organization_id = s.organization_id.or(Some(o.id));
                                orgs.entry(o.id).or_insert(*o);
                            }
                            Err(e) => {
                                report.errors.push(problem(
                                    &place,
                                    "service",
                                    &id,
                                    format!("its organization: {}", e.join("; ")),
                                ));
                                continue;
                            }
                        }
                    }
                    add_service(&place, s, None, &mut report);
                }
                Err(e) => report.errors.push(problem(&place, "service", &id, e.to_string())),
            },
            Kind::ServiceAtLocation => match serde_json::from_value::<ServiceAtLocation>(value) {
                Ok(mut sal) => {
                    let Some(mut s) = sal.service.take().map(|b| *b) else {
                        report.errors.push(problem(
                            &place,
                            "service_at_location",
                            &id,
                            "has no service: import it with its service",
                        ));
                        continue;
                    };
                    if let Some(o) = s.organization.take()
                        && oruk::check_organization(&o).is_ok()
                    {
                        s.organization_id = s.organization_id.or(Some(o.id));
                        orgs.entry(o.id).or_insert(*o);
                    }
                    s.service_at_locations.push(sal);
                    add_service(&format!("{place} "), s, None, &mut report);
                }
                Err(e) => report.errors.push(problem(&place, "service_at_location", &id, e.to_string())),
            },
            Kind::Taxonomy => match serde_json::from_value::<Taxonomy>(value) {
                Ok(mut t) => {
                    for mut term in std::mem::take(&mut t.taxonomy_terms) {
                        term.taxonomy_id = term.taxonomy_id.or(Some(t.id));
                        terms.insert(term.id, term);
                    }
                    if t.name.trim().is_empty() {
                        report.errors.push(problem(&place, "taxonomy", &id, "name is required"));
                        continue;
                    }
                    taxonomies.insert(t.id, t);
                }
                Err(e) => report.errors.push(problem(&place, "taxonomy", &id, e.to_string())),
            },
            Kind::Term => match serde_json::from_value::<TaxonomyTerm>(value) {
                Ok(t) => match oruk::check_term(&t) {
                    Ok(()) => {
                        terms.insert(t.id, t);
                    }
                    Err(e) => report.errors.push(problem(&place, "taxonomy_term", &id, e.join("; "))),
                },
                Err(e) => report.errors.push(problem(&place, "taxonomy_term", &id, e.to_string())),
            },
        }
    }

    // Terms named by services: the feed's own, or ones the directory already holds.
    let mut referenced: Vec<Uuid> = services
        .values()
        .flat_map(|(_, s, _)| s.attributes.iter().filter_map(|a| a.taxonomy_term_id))
        .filter(|t| !terms.contains_key(t))
        .collect();
    referenced.sort();
    referenced.dedup();
    let mut known: HashSet<Uuid> = terms.keys().copied().collect();
    known.extend(store.known_terms(&referenced).await?);
    // Embedded terms in attributes are stored as terms too.
    for (_, s, _) in services.values() {
        for a in &s.attributes {
            if let Some(t) = &a.taxonomy_term
                && oruk::check_term(t).is_ok()
            {
                terms.entry(t.id).or_insert_with(|| t.clone());
            }
        }
    }
    let org_ids: Vec<Uuid> =
        services.values().filter_map(|(_, s, p)| s.organization_id.or(*p)).filter(|o| !orgs.contains_key(o)).collect();
    let existing: HashSet<Uuid> = store.directory_orgs(&org_ids).await?.into_iter().map(|(o, _)| o.id).collect();

    let mut batch =
        DirectoryBatch { source: source.to_owned(), at: clock.now(), steward: feed.steward, ..Default::default() };
    for id in order {
        let Some((place, s, parent)) = services.remove(&id) else { continue };
        let place = place.trim_end().to_owned();
        let org = s.organization_id.or(parent);
        if let Some(o) = org
            && !orgs.contains_key(&o)
            && !existing.contains(&o)
        {
            report.errors.push(problem(
                &place,
                "service",
                &id.to_string(),
                format!("organization {o} is not in the feed or the directory"),
            ));
            continue;
        }
        match check_service(s, parent, &known) {
            Ok((entry, warnings)) => {
                for w in warnings {
                    report.warnings.push(problem(&place, "service", &id.to_string(), w));
                }
                batch.services.push(entry);
            }
            Err(errors) => report.errors.push(problem(&place, "service", &id.to_string(), errors.join("; "))),
        }
    }
    for t in terms.values() {
        if let Some(tx) = t.taxonomy_id
            && !taxonomies.contains_key(&tx)
        {
            report.warnings.push(problem(
                "feed",
                "taxonomy_term",
                &t.id.to_string(),
                format!("names taxonomy {tx}, which the feed does not carry"),
            ));
        }
    }
    report.organizations = orgs.len();
    report.taxonomies = taxonomies.len();
    report.terms = terms.len();
    batch.organizations = orgs.into_values().collect();
    batch.taxonomies = taxonomies.into_values().collect();
    batch.terms = terms.into_values().collect();
    report.counts = store.upsert_directory(&batch).await?;
    Ok(report)
}
