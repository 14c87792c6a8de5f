//! A feed as read from files: Open Referral UK JSON (list and full forms) or its CSV tabular form, each record tagged with its kind, and the text guard every field passes.

use super::remote::MAX_FILE_BYTES;
use anyhow::{Context, bail};
use linkwork_domain::ports::ImportCounts;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

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
    pub(super) records: Vec<(String, Kind, Value)>,
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
    pub(super) fn noun(self) -> &'static str {
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
pub(super) const MULTILINE_FIELDS: [&str; 8] = [
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
pub(super) fn guard_text(v: &Value, field: &str) -> Result<(), String> {
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

pub(super) fn kind_from_name(name: &str) -> Option<Kind> {
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

pub(super) fn kind_from_shape(v: &Value) -> Kind {
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
pub(super) const NUMERIC: [&str; 6] = ["minimum_age", "maximum_age", "latitude", "longitude", "amount", "interval"];

pub(super) fn read_csv(path: &Path) -> anyhow::Result<Vec<Map<String, Value>>> {
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

pub(super) fn id_of(v: &Value) -> String {
    v.get("id").and_then(Value::as_str).unwrap_or("(no id)").to_owned()
}

pub(super) fn problem(place: &str, what: &str, id: &str, message: impl Into<String>) -> RecordProblem {
    RecordProblem { place: format!("{place} ({what})"), id: id.to_owned(), message: message.into() }
}
