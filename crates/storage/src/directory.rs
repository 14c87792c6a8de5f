//! The community directory on both backends: Open Referral UK records, search, trust and
//! postcodes. Listings are not person-identifiable. Search uses a word index (`service_words`)
//! queried as byte-order prefix ranges, the same SQL on SQLite and PostgreSQL; filters are
//! `IN` subqueries driven by their own indexes (terms, opening days, coordinates); distance is a bounding box in SQL refined by great-circle distance.

use crate::access::rows::corrupt;
use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::directory::oruk;
use linkwork_domain::directory::{
    Claim, DirectoryQuery, Hit, Listing, ListingChange, NEAREST_CANDIDATES, ProblemKind, ProblemReport, distance_km,
    outward, postcode_key,
};
use linkwork_domain::ids::{ClaimId, OrgId, ReportId, ServiceId, UserId};
use linkwork_domain::ports::{DirectoryBatch, DirectoryStore, ImportCounts, PostcodePoint, StoreError, StoreResult};
use std::collections::HashMap;
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

#[async_trait::async_trait]
impl DirectoryStore for SqlStore {
    async fn upsert_directory(&self, batch: &DirectoryBatch) -> StoreResult<ImportCounts> {
        let mut counts = ImportCounts::default();
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for o in &batch.organizations {
                let mut doc = o.clone();
                doc.services.clear();
                sqlx::query(
                    "INSERT INTO directory_organizations (id, name, description, document, modified_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     description = excluded.description, document = excluded.document, modified_at = excluded.modified_at",
                )
                .bind(o.id)
                .bind(o.name.trim())
                .bind(&o.description)
                .bind(json(&doc)?)
                .bind(batch.at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            for t in &batch.taxonomies {
                sqlx::query(
                    "INSERT INTO taxonomies (id, name, description, uri, version) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
                     uri = excluded.uri, version = excluded.version",
                )
                .bind(t.id)
                .bind(&t.name)
                .bind(&t.description)
                .bind(&t.uri)
                .bind(&t.version)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            for t in &batch.terms {
                sqlx::query(
                    "INSERT INTO taxonomy_terms (id, name, description, parent_id, taxonomy, taxonomy_id, term_uri, term, code) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     description = excluded.description, parent_id = excluded.parent_id, taxonomy = excluded.taxonomy, \
                     taxonomy_id = excluded.taxonomy_id, term_uri = excluded.term_uri, term = excluded.term, code = excluded.code",
                )
                .bind(t.id)
                .bind(&t.name)
                .bind(&t.description)
                .bind(t.parent_id)
                .bind(&t.taxonomy)
                .bind(t.taxonomy_id)
                .bind(&t.term_uri)
                .bind(&t.term)
                .bind(&t.code)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            for e in &batch.services {
                let s = &e.document;
                let id = s.id;
                let document = json(s)?;
                let prior: Option<String> = sqlx::query_scalar("SELECT document FROM service_documents WHERE service_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if prior.as_deref() == Some(document.as_str()) {
                    counts.unchanged += 1;
                    continue;
                }
                let languages = if e.languages.is_empty() { String::new() } else { format!("|{}|", e.languages.join("|")) };
                let modified = s.last_modified.unwrap_or(batch.at);
                sqlx::query(
                    "INSERT INTO services (id, organization_id, name, description, status, url, email, minimum_age, \
                     maximum_age, free, in_person, online, phone, languages, accessibility, source, \
                     last_modified, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     $15, $16, $17, $18) ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, \
                     name = excluded.name, description = excluded.description, status = excluded.status, \
                     url = excluded.url, email = excluded.email, minimum_age = excluded.minimum_age, \
                     maximum_age = excluded.maximum_age, free = excluded.free, in_person = excluded.in_person, \
                     online = excluded.online, phone = excluded.phone, languages = excluded.languages, \
                     accessibility = excluded.accessibility, source = excluded.source, \
                     last_modified = excluded.last_modified, version = services.version + 1",
                )
                .bind(id)
                .bind(e.organization_id)
                .bind(&s.name)
                .bind(s.description.clone().unwrap_or_default())
                .bind(&s.status)
                .bind(&s.url)
                .bind(&s.email)
                .bind(s.minimum_age)
                .bind(s.maximum_age)
                .bind(e.free)
                .bind(e.modes.in_person)
                .bind(e.modes.online)
                .bind(e.modes.phone)
                .bind(languages)
                .bind(&e.accessibility)
                .bind(&batch.source)
                .bind(modified)
                .bind(batch.at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                save_document!(tx, id, document);
                for table in ["service_terms", "service_hours", "service_at_locations"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE service_id = $1")))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                for t in &e.term_ids {
                    sqlx::query("INSERT INTO service_terms (service_id, term_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(t)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                for o in &e.openings {
                    sqlx::query("INSERT INTO service_hours (service_id, day, opens, closes) VALUES ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(i32::from(o.day))
                        .bind(i32::from(o.opens))
                        .bind(i32::from(o.closes))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                for p in &e.places {
                    let mut point = p.point;
                    if point.is_none()
                        && let Some(pc) = &p.postcode
                    {
                        point = sqlx::query_as::<_, (f64, f64)>("SELECT latitude, longitude FROM postcodes WHERE postcode = $1")
                            .bind(postcode_key(pc))
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    // A place id moves with its record: a feed may move a location between services.
                    sqlx::query("DELETE FROM service_at_locations WHERE id = $1").bind(p.sal_id).execute(&mut *tx).await.map_err(map_err)?;
                    sqlx::query(
                        "INSERT INTO service_at_locations (id, service_id, location_id, name, postcode, latitude, \
                         longitude, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(p.sal_id)
                    .bind(id)
                    .bind(p.location_id)
                    .bind(&p.name)
                    .bind(&p.postcode)
                    .bind(point.map(|x| x.0))
                    .bind(point.map(|x| x.1))
                    .bind(json(&p.document)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                write_words!(tx, id, e.words);
                let what = if prior.is_some() { format!("Updated from {}", batch.source) } else { format!("Imported from {}", batch.source) };
                sqlx::query("INSERT INTO service_changes (id, service_id, changed_at, who, what) VALUES ($1, $2, $3, 'import', $4)")
                    .bind(Uuid::now_v7())
                    .bind(id)
                    .bind(batch.at)
                    .bind(what)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if prior.is_some() {
                    counts.updated += 1;
                } else {
                    counts.created += 1;
                }
            }
            if let Some(steward) = batch.steward {
                for o in &batch.organizations {
                    sqlx::query("UPDATE directory_organizations SET steward_org_id = $1 WHERE id = $2")
                        .bind(steward.0).bind(o.id).execute(&mut *tx).await.map_err(map_err)?;
                }
            }
            for (org, owner) in &batch.owners {
                sqlx::query("UPDATE directory_organizations SET owner_org_id = $1 WHERE id = $2")
                    .bind(owner.0).bind(*org).execute(&mut *tx).await.map_err(map_err)?;
            }
            for (id, capacity) in &batch.capacities {
                sqlx::query("UPDATE services SET capacity = $1 WHERE id = $2")
                    .bind(capacity.as_str()).bind(*id).execute(&mut *tx).await.map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })?;
        Ok(counts)
    }

    async fn known_terms(&self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let found: Vec<Uuid> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new("SELECT id FROM taxonomy_terms WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_scalar().fetch_all(pool).await.map_err(map_err)?
            });
            out.extend(found);
        }
        Ok(out)
    }

    async fn count_services(&self) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT count(*) FROM services").fetch_one(pool).await.map_err(map_err))
    }

    async fn get_listing(&self, id: ServiceId) -> StoreResult<Listing> {
        let sql = format!("{LISTING}{FROM} WHERE s.id = $1");
        let row: ListingRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_one(pool).await.map_err(map_err)?);
        row.try_into()
    }

    async fn search_directory(&self, q: &DirectoryQuery, offset: i64, limit: i64) -> StoreResult<(Vec<Hit>, i64)> {
        // Two steps: the matching ids in order (narrow rows: the sort never carries documents),
        // then the listings of one page. Without words the order is the name index's.
        let words = query_words(&q.text);
        // With words every match is ranked anyway, so a window count over them is nearly free;
        // without, the name index serves the page and a separate count(*) stays an index count
        // (a window would materialise every match).
        let (select, order) = if words.is_empty() {
            (
                "SELECT s.id, CAST(0 AS BIGINT) AS score, CAST(-1 AS BIGINT) AS total FROM services s",
                " ORDER BY s.name, s.id",
            )
        } else {
            (
                "SELECT s.id, CAST(w.score AS BIGINT) AS score, COUNT(*) OVER () AS total FROM services s",
                " ORDER BY w.score DESC, s.name, s.id",
            )
        };
        let Some(near) = q.near else {
            // With words the total comes with the page, so the matching is done once; a page past
            // the end, or a search without words, counts separately.
            let (ranked, total): (Vec<(Uuid, i64)>, i64) = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new(select);
                push_search!(qb, q, words);
                qb.push(order).push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
                let rows: Vec<(Uuid, i64, i64)> = qb.build_query_as().fetch_all(pool).await.map_err(map_err)?;
                let total = match rows.first() {
                    Some(r) if r.2 >= 0 => r.2,
                    None if offset == 0 && !words.is_empty() => 0,
                    _ => {
                        let mut cq = sqlx::QueryBuilder::new("SELECT count(*) FROM services s");
                        push_search!(cq, q, words);
                        cq.build_query_scalar().fetch_one(pool).await.map_err(map_err)?
                    }
                };
                (rows.into_iter().map(|r| (r.0, r.1)).collect(), total)
            });
            let hits = self.hits(&ranked, &HashMap::new()).await?;
            return Ok((hits, total));
        };
        // By distance: the candidates in the box (a box of a few miles holds hundreds of services,
        // not the country's 100,000), nearest first by a flat-earth distance so that a dense box
        // keeps its nearest, then refined by great-circle distance and ordered here.
        let k = near.0.to_radians().cos().powi(2);
        let ranked: Vec<(Uuid, i64)> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(select);
            push_search!(qb, q, words);
            qb.push(" ORDER BY (SELECT MIN((n.latitude - ")
                .push_bind(near.0)
                .push(") * (n.latitude - ")
                .push_bind(near.0)
                .push(") + (n.longitude - ")
                .push_bind(near.1)
                .push(") * (n.longitude - ")
                .push_bind(near.1)
                .push(") * ")
                .push_bind(k)
                .push(") FROM service_at_locations n WHERE n.service_id = s.id), s.id LIMIT ")
                .push_bind(NEAREST_CANDIDATES);
            let rows: Vec<(Uuid, i64, i64)> = qb.build_query_as().fetch_all(pool).await.map_err(map_err)?;
            rows.into_iter().map(|r| (r.0, r.1)).collect()
        });
        let ids: Vec<Uuid> = ranked.iter().map(|r| r.0).collect();
        let mut nearest: HashMap<Uuid, f64> = HashMap::new();
        for chunk in ids.chunks(500) {
            let points: Vec<(Uuid, Option<f64>, Option<f64>)> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new("SELECT service_id, latitude, longitude FROM service_at_locations WHERE service_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            for (id, lat, lon) in points {
                if let (Some(lat), Some(lon)) = (lat, lon) {
                    let d = distance_km(near, (lat, lon));
                    let e = nearest.entry(id).or_insert(d);
                    *e = e.min(d);
                }
            }
        }
        let mut within: Vec<(Uuid, i64)> =
            ranked.into_iter().filter(|(id, _)| nearest.get(id).is_some_and(|d| *d <= q.radius_km)).collect();
        within.sort_by(|a, b| {
            let (da, db) =
                (nearest.get(&a.0).copied().unwrap_or(f64::MAX), nearest.get(&b.0).copied().unwrap_or(f64::MAX));
            da.total_cmp(&db).then(b.1.cmp(&a.1))
        });
        let total = i64::try_from(within.len()).unwrap_or(0);
        let page: Vec<(Uuid, i64)> = within
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(0))
            .take(usize::try_from(limit).unwrap_or(0))
            .collect();
        Ok((self.hits(&page, &nearest).await?, total))
    }

    async fn service_places(&self, ids: &[ServiceId]) -> StoreResult<Vec<(ServiceId, oruk::ServiceAtLocation)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(Uuid, String)> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new("SELECT service_id, document FROM service_at_locations WHERE service_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.0);
                }
                qb.push(") ORDER BY name, id");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            for (id, doc) in rows {
                out.push((id.into(), serde_json::from_str(&doc).map_err(|e| corrupt("place document", e))?));
            }
        }
        Ok(out)
    }

    async fn search_places(
        &self,
        q: &DirectoryQuery,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(ServiceId, oruk::ServiceAtLocation)>, i64)> {
        let words = query_words(&q.text);
        let from = " FROM service_at_locations sal JOIN services s ON s.id = sal.service_id \
                    JOIN directory_organizations o ON o.id = s.organization_id";
        let (rows, total): (Vec<(Uuid, String)>, i64) = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT sal.service_id, sal.document{from}"));
            push_search!(qb, q, words);
            qb.push(if words.is_empty() { " ORDER BY s.name, sal.id LIMIT " } else { " ORDER BY w.score DESC, s.name, sal.id LIMIT " }).push_bind(limit).push(" OFFSET ").push_bind(offset);
            let rows = qb.build_query_as().fetch_all(pool).await.map_err(map_err)?;
            let mut cq = sqlx::QueryBuilder::new(format!("SELECT count(*){from}"));
            push_search!(cq, q, words);
            (rows, cq.build_query_scalar().fetch_one(pool).await.map_err(map_err)?)
        });
        let places = rows
            .into_iter()
            .map(|(id, doc)| Ok((id.into(), serde_json::from_str(&doc).map_err(|e| corrupt("place document", e))?)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((places, total))
    }

    async fn get_place(&self, id: Uuid) -> StoreResult<(ServiceId, oruk::ServiceAtLocation)> {
        let (sid, doc): (Uuid, String) = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT service_id, document FROM service_at_locations WHERE id = $1",
        ).bind(id).fetch_one(pool).await.map_err(map_err)?);
        Ok((sid.into(), serde_json::from_str(&doc).map_err(|e| corrupt("place document", e))?))
    }

    async fn directory_orgs(&self, ids: &[Uuid]) -> StoreResult<Vec<(oruk::Organization, Option<OrgId>)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(Uuid, String, String, String, Option<Uuid>)> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, name, description, document, owner_org_id FROM directory_organizations WHERE id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            for (id, name, description, doc, owner) in rows {
                let mut o: oruk::Organization = if doc == "{}" {
                    oruk::Organization::default()
                } else {
                    serde_json::from_str(&doc).map_err(|e| corrupt("organisation document", e))?
                };
                o.id = id;
                o.name = name;
                o.description = description;
                out.push((o, owner.map(OrgId)));
            }
        }
        Ok(out)
    }

    async fn taxonomies(&self, offset: i64, limit: i64) -> StoreResult<(Vec<oruk::Taxonomy>, i64)> {
        type Row = (Uuid, String, String, Option<String>, Option<String>);
        let (rows, total): (Vec<Row>, i64) = on_db!(&self.db, pool => (
            sqlx::query_as("SELECT id, name, description, uri, version FROM taxonomies ORDER BY name, id LIMIT $1 OFFSET $2")
                .bind(limit).bind(offset).fetch_all(pool).await.map_err(map_err)?,
            sqlx::query_scalar("SELECT count(*) FROM taxonomies").fetch_one(pool).await.map_err(map_err)?,
        ));
        let list = rows
            .into_iter()
            .map(|(id, name, description, uri, version)| oruk::Taxonomy {
                id,
                name,
                description,
                uri,
                version,
                taxonomy_terms: vec![],
            })
            .collect();
        Ok((list, total))
    }

    async fn get_taxonomy(&self, id: Uuid) -> StoreResult<oruk::Taxonomy> {
        let (id, name, description, uri, version): (Uuid, String, String, Option<String>, Option<String>) = on_db!(&self.db, pool => sqlx::query_as("SELECT id, name, description, uri, version FROM taxonomies WHERE id = $1")
                .bind(id).fetch_one(pool).await.map_err(map_err)?);
        let (terms, _) = self.taxonomy_terms(Some(id), 0, 10_000).await?;
        Ok(oruk::Taxonomy { id, name, description, uri, version, taxonomy_terms: terms })
    }

    async fn taxonomy_terms(
        &self,
        taxonomy: Option<Uuid>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<oruk::TaxonomyTerm>, i64)> {
        let cols =
            "SELECT id, name, description, parent_id, taxonomy, taxonomy_id, term_uri, term, code FROM taxonomy_terms";
        let (rows, total): (Vec<TermRow>, i64) = on_db!(&self.db, pool => match taxonomy {
            Some(t) => (
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{cols} WHERE taxonomy_id = $1 ORDER BY name, id LIMIT $2 OFFSET $3")))
                    .bind(t).bind(limit).bind(offset).fetch_all(pool).await.map_err(map_err)?,
                sqlx::query_scalar("SELECT count(*) FROM taxonomy_terms WHERE taxonomy_id = $1").bind(t).fetch_one(pool).await.map_err(map_err)?,
            ),
            None => (
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{cols} ORDER BY name, id LIMIT $1 OFFSET $2")))
                    .bind(limit).bind(offset).fetch_all(pool).await.map_err(map_err)?,
                sqlx::query_scalar("SELECT count(*) FROM taxonomy_terms").fetch_one(pool).await.map_err(map_err)?,
            ),
        });
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    async fn get_taxonomy_term(&self, id: Uuid) -> StoreResult<oruk::TaxonomyTerm> {
        let row: TermRow = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, description, parent_id, taxonomy, taxonomy_id, term_uri, term, code FROM taxonomy_terms WHERE id = $1",
        ).bind(id).fetch_one(pool).await.map_err(map_err)?);
        Ok(row.into())
    }

    async fn update_listing(&self, l: &Listing, change: &ListingChange) -> StoreResult<Listing> {
        let mut doc = l.document.clone();
        doc.name.clone_from(&l.name);
        doc.description = Some(l.description.clone()).filter(|d| !d.is_empty());
        doc.status.clone_from(&l.status);
        doc.url.clone_from(&l.url);
        doc.email.clone_from(&l.email);
        doc.minimum_age = l.minimum_age;
        doc.maximum_age = l.maximum_age;
        doc.last_modified = Some(change.at);
        let document = json(&doc)?;
        let terms: Vec<String> =
            doc.attributes.iter().filter_map(|a| a.taxonomy_term.as_ref().map(|t| t.name.clone())).collect();
        let words = listing_words(&l.name, &terms, &l.description);
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let done = sqlx::query(
                "UPDATE services SET name = $1, description = $2, status = $3, url = $4, email = $5, minimum_age = $6, \
                 maximum_age = $7, capacity = $8, last_modified = $9, verified_at = $10, verified_by = $11, \
                 review_months = $12, review_reminded_at = $13, version = version + 1 WHERE id = $14 AND version = $15",
            )
            .bind(&l.name)
            .bind(&l.description)
            .bind(&l.status)
            .bind(&l.url)
            .bind(&l.email)
            .bind(l.minimum_age)
            .bind(l.maximum_age)
            .bind(l.capacity.as_str())
            .bind(change.at)
            .bind(l.verified_at)
            .bind(&l.verified_by)
            .bind(l.review_months)
            .bind(l.review_reminded_at)
            .bind(l.id.0)
            .bind(l.version)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(linkwork_domain::ports::Conflict::Version));
            }
            save_document!(tx, l.id.0, document);
            write_words!(tx, l.id.0, words);
            sqlx::query("INSERT INTO service_changes (id, service_id, changed_at, changed_by, who, what) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(Uuid::now_v7())
                .bind(l.id.0)
                .bind(change.at)
                .bind(change.by.map(|u| u.0))
                .bind(&change.who)
                .bind(&change.what)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
        });
        self.get_listing(l.id).await
    }

    async fn listing_history(&self, id: ServiceId, limit: i64) -> StoreResult<Vec<ListingChange>> {
        let rows: Vec<(DateTime<Utc>, Option<Uuid>, String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT changed_at, changed_by, who, what FROM service_changes WHERE service_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2",
        ).bind(id.0).bind(limit).fetch_all(pool).await.map_err(map_err)?);
        Ok(rows
            .into_iter()
            .map(|(at, by, who, what)| ListingChange { service_id: id, at, by: by.map(UserId), who, what })
            .collect())
    }

    async fn listings_due_review(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Listing>> {
        // Due when the last verification (or creation) is older than its review period; reminded
        // once per period. Compared here rather than in SQL date arithmetic, which differs.
        let sql = format!(
            "{LISTING}{FROM} WHERE s.status = 'active' AND COALESCE(s.verified_at, s.created_at) < $1 \
             ORDER BY COALESCE(s.verified_at, s.created_at) LIMIT $2"
        );
        let oldest_due = now - chrono::Duration::days(30);
        let rows: Vec<ListingRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(oldest_due).bind(limit * 4).fetch_all(pool).await.map_err(map_err)?);
        let mut out = Vec::new();
        for r in rows {
            let l: Listing = r.try_into()?;
            let due = l.review_due();
            if now > due && l.review_reminded_at.is_none_or(|t| t < due) {
                out.push(l);
            }
            if i64::try_from(out.len()).unwrap_or(0) >= limit {
                break;
            }
        }
        Ok(out)
    }

    async fn mark_review_reminded(&self, id: ServiceId, at: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("UPDATE services SET review_reminded_at = $1 WHERE id = $2")
            .bind(at).bind(id.0).execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn add_report(&self, r: &ProblemReport) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO service_reports (id, service_id, kind, details, reporter, reported_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id.0).bind(r.service_id.0).bind(r.kind.as_str()).bind(&r.details).bind(&r.reporter).bind(r.reported_at)
        .execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn open_reports(&self, stewards: &[OrgId], limit: i64) -> StoreResult<Vec<(ProblemReport, String)>> {
        if stewards.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<(ReportRow, String)> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT r.id, r.service_id, r.kind, r.details, r.reporter, r.reported_at, r.resolved_at, r.resolved_by, \
                 r.resolution, s.name AS service_name FROM service_reports r JOIN services s ON s.id = r.service_id \
                 JOIN directory_organizations o ON o.id = s.organization_id \
                 WHERE r.resolved_at IS NULL AND o.steward_org_id",
            );
            push_in(&mut qb, stewards);
            qb.push(" ORDER BY r.reported_at LIMIT ").push_bind(limit);
            let rows: Vec<ReportWithName> = qb.build_query_as().fetch_all(pool).await.map_err(map_err)?;
            rows.into_iter().map(|r| (r.report, r.service_name)).collect()
        });
        rows.into_iter().map(|(r, n)| Ok((r.try_into()?, n))).collect()
    }

    async fn service_reports(&self, id: ServiceId) -> StoreResult<Vec<ProblemReport>> {
        let rows: Vec<ReportRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, service_id, kind, details, reporter, reported_at, resolved_at, resolved_by, resolution \
             FROM service_reports WHERE service_id = $1 ORDER BY reported_at DESC",
        ).bind(id.0).fetch_all(pool).await.map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn resolve_report(
        &self,
        id: ReportId,
        stewards: &[OrgId],
        by: UserId,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> StoreResult<()> {
        if stewards.is_empty() {
            return Err(StoreError::NotFound);
        }
        let done = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new("UPDATE service_reports SET resolved_at = ");
            qb.push_bind(at).push(", resolved_by = ").push_bind(by.0).push(", resolution = ").push_bind(resolution);
            qb.push(" WHERE id = ").push_bind(id.0).push(
                " AND resolved_at IS NULL AND service_id IN (SELECT s.id FROM services s \
                 JOIN directory_organizations o ON o.id = s.organization_id WHERE o.steward_org_id",
            );
            push_in(&mut qb, stewards);
            qb.push(")");
            qb.build().execute(pool).await.map(|r| r.rows_affected()).map_err(map_err)?
        });
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn add_claim(&self, c: &Claim) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO directory_claims (id, organization_id, name, email, role, evidence, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id.0).bind(c.organization_id).bind(&c.name).bind(&c.email).bind(&c.role).bind(&c.evidence).bind(c.requested_at)
        .execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn open_claims(&self, stewards: &[OrgId]) -> StoreResult<Vec<Claim>> {
        if stewards.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<ClaimRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{CLAIM} WHERE c.decided_at IS NULL AND o.steward_org_id"));
            push_in(&mut qb, stewards);
            qb.push(" ORDER BY c.requested_at");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_claim(&self, id: ClaimId, stewards: &[OrgId]) -> StoreResult<Claim> {
        if stewards.is_empty() {
            return Err(StoreError::NotFound);
        }
        let row: ClaimRow = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{CLAIM} WHERE c.id = "));
            qb.push_bind(id.0).push(" AND o.steward_org_id");
            push_in(&mut qb, stewards);
            qb.build_query_as().fetch_one(pool).await.map_err(map_err)?
        });
        Ok(row.into())
    }

    async fn decide_claim(&self, id: ClaimId, owner: Option<OrgId>, by: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let org: Option<Uuid> = sqlx::query_scalar(
                "UPDATE directory_claims SET decided_at = $1, decided_by = $2, approved = $3 WHERE id = $4 AND decided_at IS NULL RETURNING organization_id",
            )
            .bind(at).bind(by.0).bind(owner.is_some()).bind(id.0)
            .fetch_optional(&mut *tx).await.map_err(map_err)?;
            let Some(org) = org else { return Err(StoreError::NotFound) };
            if let Some(owner) = owner {
                // Only an organisation nobody manages yet can be claimed: never a takeover.
                let n = sqlx::query("UPDATE directory_organizations SET owner_org_id = $1 WHERE id = $2 AND owner_org_id IS NULL")
                    .bind(owner.0).bind(org).execute(&mut *tx).await.map_err(map_err)?.rows_affected();
                if n == 0 {
                    return Err(StoreError::Conflict(linkwork_domain::ports::Conflict::AlreadyManaged));
                }
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn import_postcodes(&self, points: &[PostcodePoint], deciles: &[(String, i16)]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for chunk in points.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO postcodes (postcode, outward, latitude, longitude, lsoa) ");
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(postcode_key(&p.postcode))
                        .push_bind(outward(&p.postcode))
                        .push_bind(p.latitude)
                        .push_bind(p.longitude)
                        .push_bind(p.lsoa.clone());
                });
                qb.push(" ON CONFLICT (postcode) DO UPDATE SET outward = excluded.outward, latitude = excluded.latitude, \
                          longitude = excluded.longitude, lsoa = COALESCE(excluded.lsoa, postcodes.lsoa)");
                qb.build().execute(&mut *tx).await.map_err(map_err)?;
            }
            for chunk in deciles.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO deprivation (lsoa, decile) ");
                qb.push_values(chunk, |mut b, (l, d)| {
                    b.push_bind(l.clone()).push_bind(i32::from(*d));
                });
                qb.push(" ON CONFLICT (lsoa) DO UPDATE SET decile = excluded.decile");
                qb.build().execute(&mut *tx).await.map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn locate_postcode(&self, postcode: &str) -> StoreResult<Option<((f64, f64), Option<i16>)>> {
        let key = postcode_key(postcode);
        let exact: Option<(f64, f64, Option<i32>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT p.latitude, p.longitude, d.decile FROM postcodes p LEFT JOIN deprivation d ON d.lsoa = p.lsoa WHERE p.postcode = $1",
        ).bind(&key).fetch_optional(pool).await.map_err(map_err)?);
        if let Some((lat, lon, decile)) = exact {
            return Ok(Some(((lat, lon), decile.and_then(|d| i16::try_from(d).ok()))));
        }
        let district: (Option<f64>, Option<f64>) = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT avg(latitude), avg(longitude) FROM postcodes WHERE outward = $1",
        ).bind(outward(postcode)).fetch_one(pool).await.map_err(map_err)?);
        Ok(match district {
            (Some(lat), Some(lon)) => Some(((lat, lon), None)),
            _ => None,
        })
    }

    async fn save_feed(&self, url: &str, synced_at: Option<DateTime<Utc>>, result: &str) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO directory_feeds (url, synced_at, last_result) VALUES ($1, $2, $3) ON CONFLICT (url) DO UPDATE SET \
             synced_at = COALESCE(excluded.synced_at, directory_feeds.synced_at), last_result = excluded.last_result",
        ).bind(url).bind(synced_at).bind(result).execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn feeds(&self) -> StoreResult<Vec<(String, Option<DateTime<Utc>>)>> {
        on_db!(&self.db, pool => sqlx::query_as("SELECT url, synced_at FROM directory_feeds ORDER BY url")
            .fetch_all(pool).await.map_err(map_err))
    }
}

impl SqlStore {
    /// The listings of ranked ids, in their order, with scores and distances.
    async fn hits(&self, ranked: &[(Uuid, i64)], distance: &HashMap<Uuid, f64>) -> StoreResult<Vec<Hit>> {
        if ranked.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<ListingRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{LISTING}{FROM} WHERE s.id IN ("));
            let mut sep = qb.separated(", ");
            for (id, _) in ranked {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        let mut by_id: HashMap<Uuid, ListingRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        ranked
            .iter()
            .filter_map(|(id, score)| by_id.remove(id).map(|r| (r, *score, distance.get(id).copied())))
            .map(|(r, score, distance_km)| Ok(Hit { listing: r.try_into()?, score, distance_km }))
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct TermRow {
    id: Uuid,
    name: String,
    description: String,
    parent_id: Option<Uuid>,
    taxonomy: Option<String>,
    taxonomy_id: Option<Uuid>,
    term_uri: Option<String>,
    term: Option<String>,
    code: Option<String>,
}

impl From<TermRow> for oruk::TaxonomyTerm {
    fn from(r: TermRow) -> Self {
        oruk::TaxonomyTerm {
            id: r.id,
            name: r.name,
            description: r.description,
            parent_id: r.parent_id,
            taxonomy: r.taxonomy,
            taxonomy_id: r.taxonomy_id,
            term_uri: r.term_uri,
            term: r.term,
            code: r.code,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: Uuid,
    service_id: Uuid,
    kind: String,
    details: String,
    reporter: Option<String>,
    reported_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<Uuid>,
    resolution: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ReportWithName {
    #[sqlx(flatten)]
    report: ReportRow,
    service_name: String,
}

impl TryFrom<ReportRow> for ProblemReport {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> StoreResult<Self> {
        Ok(ProblemReport {
            id: r.id.into(),
            service_id: r.service_id.into(),
            kind: r.kind.parse::<ProblemKind>().map_err(|e| corrupt("report kind", e))?,
            details: r.details,
            reporter: r.reporter,
            reported_at: r.reported_at,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by.map(UserId),
            resolution: r.resolution,
        })
    }
}

const CLAIM: &str = "SELECT c.id, c.organization_id, o.name AS organization_name, c.name, c.email, c.role, c.evidence, \
     c.requested_at, c.decided_at, c.decided_by, c.approved FROM directory_claims c \
     JOIN directory_organizations o ON o.id = c.organization_id";

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    organization_id: Uuid,
    organization_name: String,
    name: String,
    email: String,
    role: String,
    evidence: String,
    requested_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<Uuid>,
    approved: Option<bool>,
}

impl From<ClaimRow> for Claim {
    fn from(r: ClaimRow) -> Self {
        Claim {
            id: r.id.into(),
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            name: r.name,
            email: r.email,
            role: r.role,
            evidence: r.evidence,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.map(UserId),
            approved: r.approved,
        }
    }
}

/// ` IN (…)` over tenant ids, for the steward filters.
fn push_in<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, ids: &[OrgId])
where
    for<'t> Uuid: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    qb.push(" IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.0);
    }
    qb.push(")");
}
