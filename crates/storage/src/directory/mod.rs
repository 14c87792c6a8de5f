//! The community directory on both backends: Open Referral UK records, search, trust and
//! postcodes. Listings are not person-identifiable. Search uses a word index (`service_words`)
//! queried as byte-order prefix ranges, the same SQL on SQLite and PostgreSQL; filters are
//! `IN` subqueries driven by their own indexes (terms, opening days, coordinates); distance is a
//! bounding box in SQL refined by great-circle distance.
//!
//! One file per port: [`read`] (`DirectoryStore`), [`import`] (`DirectoryImportStore`),
//! [`trust`] (`TrustStore`); the rows and the query-building macros they share are here and in
//! [`rows`].

use crate::access::rows::corrupt;
use chrono::{DateTime, Utc};
use linkwork_domain::directory::Listing;
use linkwork_domain::directory::oruk;
use linkwork_domain::ids::OrgId;
use linkwork_domain::ports::{StoreError, StoreResult};
use uuid::Uuid;

const LISTING: &str = "SELECT s.id, s.organization_id, o.name AS organization_name, o.owner_org_id, o.steward_org_id, s.name, \
     s.description, s.status, s.url, s.email, s.minimum_age, s.maximum_age, s.free, s.in_person, s.online, s.phone, \
     s.languages, s.accessibility, s.capacity, COALESCE(d.document, '{}') AS document, s.source, s.last_modified, s.verified_at, s.verified_by, \
     s.review_months, s.review_reminded_at, s.created_at, s.version";
const FROM: &str = " FROM services s JOIN directory_organizations o ON o.id = s.organization_id \
     LEFT JOIN service_documents d ON d.service_id = s.id";

#[derive(sqlx::FromRow)]
struct ListingRow {
    id: Uuid,
    organization_id: Uuid,
    organization_name: String,
    owner_org_id: Option<Uuid>,
    steward_org_id: Option<Uuid>,
    name: String,
    description: String,
    status: String,
    url: Option<String>,
    email: Option<String>,
    minimum_age: Option<f64>,
    maximum_age: Option<f64>,
    free: bool,
    in_person: bool,
    online: bool,
    phone: bool,
    languages: String,
    accessibility: String,
    capacity: String,
    document: String,
    source: String,
    last_modified: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
    verified_by: Option<String>,
    review_months: i32,
    review_reminded_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    version: i32,
}

impl TryFrom<ListingRow> for Listing {
    type Error = StoreError;
    fn try_from(r: ListingRow) -> StoreResult<Listing> {
        let mut document: oruk::Service = if r.document == "{}" {
            oruk::Service::default()
        } else {
            serde_json::from_str(&r.document).map_err(|e| corrupt("service document", e))?
        };
        // The columns are the truth for what people edit; the document carries the rest.
        document.id = r.id;
        document.organization_id = Some(r.organization_id);
        document.name.clone_from(&r.name);
        document.description = Some(r.description.clone()).filter(|d| !d.is_empty());
        document.status.clone_from(&r.status);
        document.url.clone_from(&r.url);
        document.email.clone_from(&r.email);
        document.minimum_age = r.minimum_age;
        document.maximum_age = r.maximum_age;
        document.last_modified = Some(r.last_modified);
        Ok(Listing {
            id: r.id.into(),
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            owner_org_id: r.owner_org_id.map(OrgId),
            steward_org_id: r.steward_org_id.map(OrgId),
            name: r.name,
            description: r.description,
            status: r.status,
            url: r.url,
            email: r.email,
            minimum_age: r.minimum_age,
            maximum_age: r.maximum_age,
            free: r.free,
            modes: oruk::Modes { in_person: r.in_person, online: r.online, phone: r.phone },
            languages: r.languages.split('|').filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            accessibility: r.accessibility,
            capacity: r.capacity.parse().map_err(|e| corrupt("capacity", e))?,
            document,
            source: r.source,
            last_modified: r.last_modified,
            verified_at: r.verified_at,
            verified_by: r.verified_by,
            review_months: r.review_months,
            review_reminded_at: r.review_reminded_at,
            created_at: r.created_at,
            version: r.version,
        })
    }
}

fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("could not encode a document: {e}")))
}

/// The exclusive upper bound of a byte-order prefix range.
fn prefix_end(p: &str) -> String {
    format!("{p}{}", char::MAX)
}

/// The search words of a query, folded as stored.
fn query_words(text: &str) -> Vec<String> {
    let mut v: Vec<String> = oruk::words(text);
    v.dedup();
    v.truncate(8);
    v
}

/// Degrees of latitude and longitude spanning `km` around `lat`.
fn bbox(p: (f64, f64), km: f64) -> (f64, f64, f64, f64) {
    let dlat = km / 111.0;
    let dlon = km / (111.0 * p.0.to_radians().cos().abs().max(0.01));
    (p.0 - dlat, p.0 + dlat, p.1 - dlon, p.1 + dlon)
}

/// Push the search's word-score join and filters onto `$qb` (both backends write the same SQL).
macro_rules! push_search {
    ($qb:expr, $q:expr, $words:expr) => {{
        let qb = &mut $qb;
        let q: &DirectoryQuery = $q;
        if !$words.is_empty() {
            qb.push(" JOIN (SELECT service_id, SUM(weight * CASE WHEN ");
            for (i, w) in $words.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("word = ").push_bind(w.clone());
            }
            qb.push(" THEN 2 ELSE 1 END) AS score FROM service_words WHERE ");
            for (i, w) in $words.iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("(word >= ").push_bind(w.clone()).push(" AND word < ").push_bind(prefix_end(w)).push(")");
            }
            qb.push(" GROUP BY service_id");
            // One word: the range already is the condition. More: each must match.
            for (i, w) in $words.iter().enumerate().filter(|_| $words.len() > 1) {
                qb.push(if i == 0 { " HAVING " } else { " AND " });
                qb.push("MAX(CASE WHEN word >= ")
                    .push_bind(w.clone())
                    .push(" AND word < ")
                    .push_bind(prefix_end(w))
                    .push(" THEN 1 ELSE 0 END) = 1");
            }
            qb.push(") w ON w.service_id = s.id");
        }
        qb.push(" WHERE 1 = 1");
        if q.active_only {
            qb.push(" AND s.status = 'active'");
        }
        if let Some(t) = q.term {
            qb.push(" AND s.id IN (SELECT t.service_id FROM service_terms t WHERE t.term_id = ").push_bind(t).push(")");
        }
        if let Some(t) = q.taxonomy {
            qb.push(
                " AND s.id IN (SELECT t.service_id FROM service_terms t JOIN taxonomy_terms tt ON tt.id = t.term_id \
                 WHERE tt.taxonomy_id = ",
            )
            .push_bind(t)
            .push(")");
        }
        if let Some(o) = q.organization {
            qb.push(" AND s.organization_id = ").push_bind(o);
        }
        if let Some((lo, hi)) = q.ages {
            qb.push(" AND (s.minimum_age IS NULL OR s.minimum_age <= ")
                .push_bind(hi)
                .push(") AND (s.maximum_age IS NULL OR s.maximum_age >= ")
                .push_bind(lo)
                .push(")");
        }
        if q.day.is_some() || q.from.is_some() || q.until.is_some() {
            qb.push(" AND s.id IN (SELECT h.service_id FROM service_hours h WHERE 1 = 1");
            if let Some(d) = q.day {
                qb.push(" AND h.day = ").push_bind(i32::from(d));
            }
            if let Some(f) = q.from {
                qb.push(" AND h.opens <= ").push_bind(i32::from(f)).push(" AND h.closes > ").push_bind(i32::from(f));
            }
            if let Some(u) = q.until {
                qb.push(" AND h.closes >= ").push_bind(i32::from(u)).push(" AND h.opens < ").push_bind(i32::from(u));
            }
            qb.push(")");
        }
        if q.free_only {
            qb.push(" AND s.free = ").push_bind(true);
        }
        if let Some(l) = &q.language {
            qb.push(" AND s.languages LIKE ").push_bind(format!("%|{}|%", l.trim().to_lowercase()));
        }
        if let Some(a) = &q.accessibility {
            qb.push(" AND lower(s.accessibility) LIKE ").push_bind(format!("%{}%", a.trim().to_lowercase()));
        }
        if q.in_person || q.online || q.phone {
            qb.push(" AND (1 = 0");
            for (wanted, col) in [(q.in_person, "s.in_person"), (q.online, "s.online"), (q.phone, "s.phone")] {
                if wanted {
                    qb.push(" OR ").push(col).push(" = ").push_bind(true);
                }
            }
            qb.push(")");
        }
        if !q.capacity.is_empty() {
            qb.push(" AND s.capacity IN (");
            let mut sep = qb.separated(", ");
            for c in &q.capacity {
                sep.push_bind(c.as_str());
            }
            qb.push(")");
        }
        if let Some(t) = q.modified_after {
            qb.push(" AND s.last_modified > ").push_bind(t);
        }
        if let Some(p) = q.near {
            let (a, b, c, d) = bbox(p, q.radius_km);
            qb.push(" AND s.id IN (SELECT l.service_id FROM service_at_locations l WHERE l.latitude BETWEEN ")
                .push_bind(a)
                .push(" AND ")
                .push_bind(b)
                .push(" AND l.longitude BETWEEN ")
                .push_bind(c)
                .push(" AND ")
                .push_bind(d)
                .push(")");
        }
    }};
}

/// Words of a listing's edited fields, for the index (as the importer weighs them).
fn listing_words(name: &str, terms: &[String], description: &str) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = Vec::new();
    let mut add = |text: &str, w: i32| {
        for word in oruk::words(text) {
            match out.iter_mut().find(|(x, _)| *x == word) {
                Some(e) => e.1 = e.1.max(w),
                None => out.push((word, w)),
            }
        }
    };
    add(name, 3);
    for t in terms {
        add(t, 2);
    }
    add(description, 1);
    out
}

/// Insert or replace a service's document in `$tx`.
macro_rules! save_document {
    ($tx:expr, $id:expr, $document:expr) => {
        sqlx::query(
            "INSERT INTO service_documents (service_id, document) VALUES ($1, $2) \
             ON CONFLICT (service_id) DO UPDATE SET document = excluded.document",
        )
        .bind($id)
        .bind(&$document)
        .execute(&mut *$tx)
        .await
        .map_err(map_err)?
    };
}

/// Write a service's words (after deleting the old ones) in `$tx`.
macro_rules! write_words {
    ($tx:expr, $id:expr, $words:expr) => {{
        sqlx::query("DELETE FROM service_words WHERE service_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await
            .map_err(map_err)?;
        for chunk in $words.chunks(300) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO service_words (word, service_id, weight) ");
            qb.push_values(chunk, |mut b, (w, weight)| {
                b.push_bind(w.clone()).push_bind($id).push_bind(*weight);
            });
            qb.build().execute(&mut *$tx).await.map_err(map_err)?;
        }
    }};
}

mod import;
mod read;
mod rows;
mod trust;

use rows::*;
