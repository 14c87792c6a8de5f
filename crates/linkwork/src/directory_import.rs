//! `linkwork import oruk`: Open Referral UK feeds into the directory, from JSON (list and full
//! forms, one file or a folder of them), the CSV tabular form (a folder with `services.csv`), or
//! a live API by base URL (paging `/services`, then each service in full). Every record is
//! checked on its own; a bad one is reported with its id and left out, the rest are written in
//! one transaction, and a re-run updates in place by id (unchanged records are counted, not
//! rewritten).

use anyhow::{Context, bail};
use linkwork_domain::Clock;
use linkwork_domain::directory::oruk::{
    self, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm, check_service,
};
use linkwork_domain::ports::{DirectoryBatch, ImportCounts, Store};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use uuid::Uuid;

/// One record that could not be imported (or imported with a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProblem {
    /// The file (or URL) and the kind of record.
    pub place: String,
    pub id: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub counts: ImportCounts,
    pub organizations: usize,
    pub taxonomies: usize,
    pub terms: usize,
    pub errors: Vec<RecordProblem>,
    pub warnings: Vec<RecordProblem>,
}

/// Raw records gathered from a feed, each with where it came from.
#[derive(Default)]
pub struct Feed {
    records: Vec<(String, Kind, Value)>,
    /// The tenant whose directory staff will look after the feed's organisations.
    pub steward: Option<linkwork_domain::ids::OrgId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Organization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    Term,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::Service => "service",
            Kind::ServiceAtLocation => "service at location",
            Kind::Taxonomy => "taxonomy",
            Kind::Term => "taxonomy term",
        }
    }
}

/// Fields that hold several lines of text; every other text field is one line.
const MULTILINE_FIELDS: [&str; 8] = [
    "description",
    "alert",
    "application_process",
    "eligibility_description",
    "fees_description",
    "accreditations",
    "licenses",
    "details",
];

/// The one text guard (`domain::values::check_text`) over every text value of a record, with
/// limits by field: names 500 characters, descriptions 20,000, anything else 2,000. Returns the
/// first problem, naming the field.
fn guard_text(v: &Value, field: &str) -> Result<(), String> {
    use linkwork_domain::values::{TextKind, check_text};
    match v {
        Value::String(text) => {
            let (kind, max) = if MULTILINE_FIELDS.contains(&field) {
                (TextKind::Lines, 20_000)
            } else if field == "name" {
                (TextKind::Line, 500)
            } else {
                (TextKind::Line, 2_000)
            };
            check_text(text, kind, max).map_err(|e| format!("{field}: {e}"))
        }
        Value::Array(items) => items.iter().try_for_each(|i| guard_text(i, field)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| guard_text(v, k)),
        _ => Ok(()),
    }
}

fn kind_from_name(name: &str) -> Option<Kind> {
    let n = name.to_lowercase();
    if n.starts_with("organization") || n.starts_with("organisation") {
        Some(Kind::Organization)
    } else if n.starts_with("service_at_location") {
        Some(Kind::ServiceAtLocation)
    } else if n.starts_with("service") {
        Some(Kind::Service)
    } else if n.starts_with("taxonomy_term") {
        Some(Kind::Term)
    } else if n.starts_with("taxonom") {
        Some(Kind::Taxonomy)
    } else {
        None
    }
}

fn kind_from_shape(v: &Value) -> Kind {
    let has = |k: &str| v.get(k).is_some();
    if has("location") || (has("service") && !has("status")) || has("location_id") {
        Kind::ServiceAtLocation
    } else if has("status") {
        Kind::Service
    } else if has("taxonomy_terms") || has("version") {
        Kind::Taxonomy
    } else if has("parent_id") || has("term") || has("taxonomy") || has("taxonomy_id") {
        Kind::Term
    } else {
        Kind::Organization
    }
}

impl Feed {
    /// Add one JSON document: a page envelope, an array, or one record.
    pub fn add_json(&mut self, place: &str, hint: Option<Kind>, doc: Value) {
        let items = match doc {
            Value::Object(mut m) if m.contains_key("contents") => match m.remove("contents") {
                Some(Value::Array(a)) => a,
                _ => vec![],
            },
            Value::Array(a) => a,
            other => vec![other],
        };
        for item in items {
            let kind = hint.unwrap_or_else(|| kind_from_shape(&item));
            self.records.push((place.to_owned(), kind, item));
        }
    }

    /// Read a file or folder.
    pub fn read_path(path: &Path) -> anyhow::Result<Feed> {
        let mut feed = Feed::default();
        if path.is_dir() {
            if path.join("services.csv").exists() {
                feed.add_csv_folder(path)?;
                return Ok(feed);
            }
            let mut files: Vec<_> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            if files.is_empty() {
                bail!("{} has no .json files and no services.csv", path.display());
            }
            for f in files {
                feed.add_json_file(&f)?;
            }
        } else if path.extension().is_some_and(|x| x == "csv") {
            bail!("give the folder that holds the CSV files (services.csv, organizations.csv, ...), not one CSV file");
        } else {
            feed.add_json_file(path)?;
        }
        Ok(feed)
    }

    fn add_json_file(&mut self, f: &Path) -> anyhow::Result<()> {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let size = std::fs::metadata(f).with_context(|| format!("reading {}", f.display()))?.len();
        if size > MAX_FILE_BYTES {
            bail!(
                "{} is {} MiB, more than the {} MiB one file may hold: split it into pages, or use the CSV form",
                f.display(),
                size / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            );
        }
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        self.add_json_text(&name, kind_from_name(&name), &text);
        Ok(())
    }

    /// Add a JSON document from its text, record by record: each record of an array or page
    /// envelope is parsed on its own, so one bad value (a number out of range) fails only its
    /// record. A document that is not JSON at all is one bad record; the rest still import.
    pub fn add_json_text(&mut self, place: &str, hint: Option<Kind>, text: &str) {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            contents: Vec<&'a serde_json::value::RawValue>,
        }
        let items: Vec<&serde_json::value::RawValue> = if let Ok(list) = serde_json::from_str(text) {
            list
        } else if let Ok(page) = serde_json::from_str::<Envelope>(text) {
            page.contents
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(doc) => return self.add_json(place, hint, doc),
                Err(e) => {
                    self.records.push((place.to_owned(), Kind::Service, Value::String(format!("not JSON: {e}"))));
                    return;
                }
            }
        };
        for (n, raw) in items.into_iter().enumerate() {
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(item) => {
                    let kind = hint.unwrap_or_else(|| kind_from_shape(&item));
                    self.records.push((place.to_owned(), kind, item));
                }
                Err(e) => self.records.push((
                    place.to_owned(),
                    hint.unwrap_or(Kind::Service),
                    Value::String(format!("record {} is not valid JSON: {e}", n + 1)),
                )),
            }
        }
    }

    /// The CSV tabular form: one file per table, children joined to parents by id columns.
    pub fn add_csv_folder(&mut self, dir: &Path) -> anyhow::Result<()> {
        let table = |names: &[&str]| -> anyhow::Result<Vec<Map<String, Value>>> {
            for n in names {
                let p = dir.join(n);
                if p.exists() {
                    return read_csv(&p);
                }
            }
            Ok(vec![])
        };
        let by = |rows: Vec<Map<String, Value>>, key: &str| -> HashMap<String, Vec<Value>> {
            let mut m: HashMap<String, Vec<Value>> = HashMap::new();
            for mut r in rows {
                if let Some(Value::String(k)) = r.remove(key) {
                    m.entry(k).or_default().push(Value::Object(r));
                }
            }
            m
        };
        let mut phones = by(table(&["phones.csv"])?, "contact_id");
        let mut identifiers = by(table(&["organization_identifiers.csv"])?, "organization_id");
        let mut addresses = by(table(&["addresses.csv", "address.csv"])?, "location_id");
        let mut access = by(table(&["accessibility.csv"])?, "location_id");
        let mut locations: HashMap<String, Value> = HashMap::new();
        for mut l in table(&["locations.csv"])? {
            let id = l.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            l.insert("addresses".into(), Value::Array(addresses.remove(&id).unwrap_or_default()));
            l.insert("accessibility".into(), Value::Array(access.remove(&id).unwrap_or_default()));
            locations.insert(id, Value::Object(l));
        }
        let mut contacts = by(table(&["contacts.csv"])?, "service_id");
        for list in contacts.values_mut() {
            for c in list {
                let id = c.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                if let Value::Object(m) = c {
                    m.insert("phones".into(), Value::Array(phones.remove(&id).unwrap_or_default()));
                }
            }
        }
        let mut sals: HashMap<String, Vec<Value>> = HashMap::new();
        for mut s in table(&["service_at_location.csv", "service_at_locations.csv"])? {
            let sid = s.remove("service_id").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            if let Some(loc) = s.get("location_id").and_then(Value::as_str).and_then(|l| locations.get(l)) {
                s.insert("location".into(), loc.clone());
            }
            sals.entry(sid).or_default().push(Value::Object(s));
        }
        let terms: HashMap<String, Value> = table(&["taxonomy_terms.csv"])?
            .into_iter()
            .map(|t| (t.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(), Value::Object(t)))
            .collect();
        let mut attributes: HashMap<String, Vec<Value>> = HashMap::new();
        for mut a in table(&["attributes.csv", "attribute.csv"])? {
            let link = a.remove("link_id").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            if let Some(t) = a.get("taxonomy_term_id").and_then(Value::as_str).and_then(|t| terms.get(t)) {
                a.insert("taxonomy_term".into(), t.clone());
            }
            attributes.entry(link).or_default().push(Value::Object(a));
        }
        let mut children: Vec<(&str, HashMap<String, Vec<Value>>)> = vec![
            ("schedules", by(table(&["schedules.csv", "schedule.csv"])?, "service_id")),
            ("service_areas", by(table(&["service_areas.csv"])?, "service_id")),
            ("languages", by(table(&["languages.csv"])?, "service_id")),
            ("funding", by(table(&["funding.csv"])?, "service_id")),
            ("cost_options", by(table(&["cost_options.csv"])?, "service_id")),
        ];
        for mut o in table(&["organizations.csv"])? {
            let id = o.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            o.insert("organization_identifiers".into(), Value::Array(identifiers.remove(&id).unwrap_or_default()));
            self.records.push(("organizations.csv".into(), Kind::Organization, Value::Object(o)));
        }
        for t in table(&["taxonomies.csv", "taxonomy.csv"])? {
            self.records.push(("taxonomies.csv".into(), Kind::Taxonomy, Value::Object(t)));
        }
        for t in terms.into_values() {
            self.records.push(("taxonomy_terms.csv".into(), Kind::Term, t));
        }
        for mut s in table(&["services.csv"])? {
            let id = s.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            for (name, rows) in &mut children {
                s.insert((*name).into(), Value::Array(rows.remove(&id).unwrap_or_default()));
            }
            s.insert("contacts".into(), Value::Array(contacts.remove(&id).unwrap_or_default()));
            s.insert("service_at_locations".into(), Value::Array(sals.remove(&id).unwrap_or_default()));
            s.insert("attributes".into(), Value::Array(attributes.remove(&id).unwrap_or_default()));
            self.records.push(("services.csv".into(), Kind::Service, Value::Object(s)));
        }
        Ok(())
    }
}

/// Columns the standard types as numbers: a cell that parses becomes a number; one that does
/// not stays text, so the record fails with "expected a number" and its id.
const NUMERIC: [&str; 6] = ["minimum_age", "maximum_age", "latitude", "longitude", "amount", "interval"];

fn read_csv(path: &Path) -> anyhow::Result<Vec<Map<String, Value>>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers: Vec<String> =
        r.headers()?.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    let mut out = Vec::new();
    for row in r.records() {
        let row = row.with_context(|| format!("reading {}", path.display()))?;
        let mut m = Map::new();
        for (h, cell) in headers.iter().zip(row.iter()) {
            let cell = cell.trim().trim_matches('"');
            if cell.is_empty() {
                continue;
            }
            let v = if NUMERIC.contains(&h.as_str()) {
                cell.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::String(cell.into()), Value::Number)
            } else {
                Value::String(cell.into())
            };
            m.insert(h.clone(), v);
        }
        out.push(m);
    }
    Ok(out)
}

fn id_of(v: &Value) -> String {
    v.get("id").and_then(Value::as_str).unwrap_or("(no id)").to_owned()
}

fn problem(place: &str, what: &str, id: &str, message: impl Into<String>) -> RecordProblem {
    RecordProblem { place: format!("{place} ({what})"), id: id.to_owned(), message: message.into() }
}

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

/// Pages of a live API are fetched this many records at a time.
const PAGE: usize = 100;

/// The largest JSON file an import reads (a bigger feed comes in pages, or as CSV).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The largest single answer from a live feed.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// The most a live feed may send in all, so a hostile or broken feed cannot exhaust memory.
pub const MAX_FEED_BYTES: u64 = 512 * 1024 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .user_agent(concat!("linkwork/", env!("CARGO_PKG_VERSION"), " (Open Referral UK import)"))
        .build()
        .into()
}

/// What is left of a live feed's allowance ([`MAX_FEED_BYTES`]).
struct Budget(u64);

fn get_json(agent: &ureq::Agent, url: &str, budget: &mut Budget) -> Result<Value, String> {
    if budget.0 == 0 {
        return Err(format!("the feed sent more than {} MiB in all: import stopped", MAX_FEED_BYTES / (1024 * 1024)));
    }
    let mut resp = agent.get(url).header("Accept", "application/json").call().map_err(|e| e.to_string())?;
    let text = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES.min(budget.0))
        .read_to_string()
        .map_err(|e| e.to_string())?;
    budget.0 = budget.0.saturating_sub(u64::try_from(text.len()).unwrap_or(u64::MAX));
    serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))
}

/// Walk every page of a list endpoint, calling `each` with every item.
fn pages(agent: &ureq::Agent, first: &str, budget: &mut Budget, mut each: impl FnMut(Value)) -> Result<(), String> {
    let join = if first.contains('?') { '&' } else { '?' };
    for page in 1..=100_000 {
        let body = get_json(agent, &format!("{first}{join}page={page}&per_page={PAGE}"), budget)?;
        let Some(items) = body.get("contents").and_then(Value::as_array) else {
            return Err(format!("{first}: no page envelope (contents) in the answer"));
        };
        let n = items.len();
        for item in items {
            each(item.clone());
        }
        let last = body.get("last_page").and_then(Value::as_bool).unwrap_or(n < PAGE);
        if last || n == 0 {
            break;
        }
    }
    Ok(())
}

/// Read a live Open Referral UK API: taxonomy terms, then every page of `/services` (only those
/// changed since `since`, when syncing), then each service in full from `/services/{id}` (the
/// list form leaves out places, times and categories). Blocking: call it off the async runtime.
/// A list page that fails stops the fetch (nothing is written); a service that fails is one
/// problem and the rest go on.
pub fn fetch_feed(
    base: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<(Feed, Vec<RecordProblem>)> {
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        bail!("the feed's address must start https:// (or http://): {base}");
    }
    let agent = agent();
    let mut budget = Budget(MAX_FEED_BYTES);
    let mut feed = Feed::default();
    let mut problems = Vec::new();
    if let Err(e) = pages(&agent, &format!("{base}/taxonomy_terms"), &mut budget, |t| {
        feed.records.push((format!("{base}/taxonomy_terms"), Kind::Term, t))
    }) {
        problems.push(RecordProblem {
            place: format!("{base}/taxonomy_terms"),
            id: String::new(),
            message: format!("taxonomy terms not read: {e}"),
        });
    }
    let mut ids = Vec::new();
    let list = match since {
        Some(t) => format!("{base}/services?modified_after={}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => format!("{base}/services"),
    };
    pages(&agent, &list, &mut budget, |s| ids.push(id_of(&s)))
        .map_err(|e| anyhow::anyhow!("could not read {list}: {e}"))?;
    for id in ids {
        let url = format!("{base}/services/{id}");
        if budget.0 == 0 {
            bail!("the feed sent more than {} MiB in all: nothing was imported", MAX_FEED_BYTES / (1024 * 1024));
        }
        match get_json(&agent, &url, &mut budget) {
            Ok(doc) => feed.records.push((url, Kind::Service, doc)),
            Err(e) => problems.push(RecordProblem { place: url, id, message: e }),
        }
    }
    Ok((feed, problems))
}

/// Import from a live API; `since` limits it to services changed after that time (a sync).
pub async fn import_url(
    store: &dyn Store,
    clock: &dyn Clock,
    base: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<ImportReport> {
    let url = base.trim().trim_end_matches('/').to_owned();
    let fetch_url = url.clone();
    let (feed, problems) = tokio::task::spawn_blocking(move || fetch_feed(&fetch_url, since)).await??;
    let mut report = import(store, clock, feed, &url).await?;
    report.errors.extend(problems);
    Ok(report)
}

/// Sync every remembered feed whose last sync is older than `every`: services changed since the
/// last sync (from when it started, so nothing changed during it is missed).
pub async fn sync_feeds(store: &dyn Store, clock: &dyn Clock, every: chrono::Duration) -> anyhow::Result<usize> {
    let mut synced = 0;
    for (url, last) in store.feeds().await? {
        let started = clock.now();
        if last.is_some_and(|t| started - t < every) {
            continue;
        }
        match import_url(store, clock, &url, last).await {
            Ok(r) => {
                let summary = format!(
                    "{} new, {} updated, {} unchanged, {} not imported",
                    r.counts.created,
                    r.counts.updated,
                    r.counts.unchanged,
                    r.errors.len()
                );
                tracing::info!(feed = %url, %summary, "directory feed synced");
                store.save_feed(&url, Some(started), &summary).await?;
                synced += 1;
            }
            Err(e) => {
                tracing::warn!(feed = %url, cause = %e, "directory feed sync failed; will retry");
                store.save_feed(&url, None, &format!("failed: {e}")).await?;
            }
        }
    }
    Ok(synced)
}

/// Postcode centroids: the ONS Postcode Directory (a header with `pcds` or `pcd`, `lat`, `long`
/// and optionally `lsoa11`/`lsoa21`), or Code-Point Open (no header: postcode, quality,
/// eastings, northings, ...; converted from the British National Grid). Deprivation: a CSV with
/// an LSOA code column and a decile column (the English Indices of Deprivation file).
pub fn read_postcodes(path: &Path) -> anyhow::Result<(Vec<linkwork_domain::ports::PostcodePoint>, Vec<RecordProblem>)> {
    use linkwork_domain::ports::PostcodePoint;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = r.records();
    let Some(first) = rows.next() else { bail!("{} is empty", path.display()) };
    let first = first?;
    let lower: Vec<String> = first.iter().map(|h| h.trim().to_lowercase()).collect();
    let col = |names: &[&str]| lower.iter().position(|h| names.contains(&h.as_str()));
    let ons = col(&["pcds", "pcd", "postcode"]).zip(col(&["lat", "latitude"])).zip(col(&["long", "longitude", "lon"]));
    let lsoa = col(&["lsoa21", "lsoa11", "lsoa21cd", "lsoa11cd", "lsoa"]);
    let mut points = Vec::new();
    let mut problems = Vec::new();
    let mut push = |line: usize, pc: &str, p: Option<(f64, f64)>, l: Option<String>| match p {
        Some((lat, lon)) if (49.0..61.5).contains(&lat) && (-9.0..3.0).contains(&lon) && !pc.trim().is_empty() => {
            points.push(PostcodePoint { postcode: pc.trim().to_owned(), latitude: lat, longitude: lon, lsoa: l })
        }
        _ => problems.push(RecordProblem {
            place: format!("line {line}"),
            id: pc.to_owned(),
            message: "no usable coordinates".into(),
        }),
    };
    match ons {
        Some(((pc, lat), lon)) => {
            for (i, row) in rows.enumerate() {
                let row = row?;
                let get = |c: usize| row.get(c).unwrap_or("").trim().to_owned();
                let p = get(lat).parse::<f64>().ok().zip(get(lon).parse::<f64>().ok());
                push(i + 2, &get(pc), p, lsoa.map(get).filter(|s| !s.is_empty()));
            }
        }
        None => {
            for (i, row) in std::iter::once(Ok(first)).chain(rows).enumerate() {
                let row = row?;
                let get = |c: usize| row.get(c).unwrap_or("").trim().to_owned();
                let p = get(2).parse::<f64>().ok().zip(get(3).parse::<f64>().ok()).map(|(e, n)| osgb_to_wgs84(e, n));
                push(i + 1, &get(0), p, None);
            }
        }
    }
    Ok((points, problems))
}

/// LSOA deprivation deciles from a CSV whose header names an LSOA code column and a decile
/// column.
pub fn read_deciles(path: &Path) -> anyhow::Result<Vec<(String, i16)>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let h: Vec<String> = r.headers()?.iter().map(str::to_lowercase).collect();
    let code = h
        .iter()
        .position(|x| x.contains("lsoa") && x.contains("code"))
        .or_else(|| h.iter().position(|x| x.contains("lsoa")));
    let decile = h.iter().position(|x| x.contains("decile"));
    let (Some(code), Some(decile)) = (code, decile) else {
        bail!("{}: need an LSOA code column and a decile column", path.display())
    };
    let mut out = Vec::new();
    for row in r.records() {
        let row = row?;
        if let (Some(c), Some(d)) = (row.get(code), row.get(decile).and_then(|d| d.trim().parse::<i16>().ok()))
            && (1..=10).contains(&d)
        {
            out.push((c.trim().to_owned(), d));
        }
    }
    Ok(out)
}

/// British National Grid eastings/northings to latitude/longitude (inverse transverse Mercator
/// on the Airy 1830 ellipsoid). The OSGB36→WGS84 datum shift (about 100 m) is left out: it does
/// not change which services are within a few miles.
pub fn osgb_to_wgs84(e: f64, n: f64) -> (f64, f64) {
    let (a, b) = (6_377_563.396_f64, 6_356_256.909_f64);
    let f0 = 0.999_601_271_7;
    let (lat0, lon0) = (49f64.to_radians(), (-2f64).to_radians());
    let (n0, e0) = (-100_000.0, 400_000.0);
    let e2 = 1.0 - (b * b) / (a * a);
    let nn = (a - b) / (a + b);
    let mut lat = lat0;
    let mut m = 0.0;
    while (n - n0 - m).abs() >= 0.00001 {
        lat += (n - n0 - m) / (a * f0);
        let (d, s) = (lat - lat0, lat + lat0);
        m = b
            * f0
            * ((1.0 + nn + 1.25 * nn.powi(2) + 1.25 * nn.powi(3)) * d
                - (3.0 * nn + 3.0 * nn.powi(2) + 2.625 * nn.powi(3)) * d.sin() * s.cos()
                + (1.875 * nn.powi(2) + 1.875 * nn.powi(3)) * (2.0 * d).sin() * (2.0 * s).cos()
                - (35.0 / 24.0) * nn.powi(3) * (3.0 * d).sin() * (3.0 * s).cos());
    }
    let (sl, cl, tl) = (lat.sin(), lat.cos(), lat.tan());
    let nu = a * f0 / (1.0 - e2 * sl * sl).sqrt();
    let rho = a * f0 * (1.0 - e2) / (1.0 - e2 * sl * sl).powf(1.5);
    let eta2 = nu / rho - 1.0;
    let vii = tl / (2.0 * rho * nu);
    let viii = tl / (24.0 * rho * nu.powi(3)) * (5.0 + 3.0 * tl * tl + eta2 - 9.0 * tl * tl * eta2);
    let ix = tl / (720.0 * rho * nu.powi(5)) * (61.0 + 90.0 * tl * tl + 45.0 * tl.powi(4));
    let x = 1.0 / (cl * nu);
    let xi = 1.0 / (cl * 6.0 * nu.powi(3)) * (nu / rho + 2.0 * tl * tl);
    let xii = 1.0 / (cl * 120.0 * nu.powi(5)) * (5.0 + 28.0 * tl * tl + 24.0 * tl.powi(4));
    let xiia = 1.0 / (cl * 5040.0 * nu.powi(7)) * (61.0 + 662.0 * tl * tl + 1320.0 * tl.powi(4) + 720.0 * tl.powi(6));
    let de = e - e0;
    let lat = lat - vii * de.powi(2) + viii * de.powi(4) - ix * de.powi(6);
    let lon = lon0 + x * de - xi * de.powi(3) + xii * de.powi(5) - xiia * de.powi(7);
    (lat.to_degrees(), lon.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_grid_to_latitude_and_longitude() {
        // Leeds Town Hall is at about E 429,800 N 433,800: 53.800 N, 1.549 W (within the datum shift).
        let (lat, lon) = osgb_to_wgs84(429_800.0, 433_800.0);
        assert!((lat - 53.80).abs() < 0.01 && (lon + 1.55).abs() < 0.01, "{lat} {lon}");
    }
}
