//! Writing the directory from feeds: records upserted by id with their search words and history,
//! postcode centroids, remembered feeds.

use super::*;

use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::directory::{outward, postcode_key};
use linkwork_domain::ports::{DirectoryBatch, DirectoryImportStore, ImportCounts, PostcodePoint, StoreResult};
use uuid::Uuid;

#[async_trait::async_trait]
impl DirectoryImportStore for SqlStore {
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
                     last_modified, created_at, verified_at, verified_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (id) DO UPDATE SET \
                     organization_id = excluded.organization_id, \
                     name = excluded.name, description = excluded.description, status = excluded.status, \
                     url = excluded.url, email = excluded.email, minimum_age = excluded.minimum_age, \
                     maximum_age = excluded.maximum_age, free = excluded.free, in_person = excluded.in_person, \
                     online = excluded.online, phone = excluded.phone, languages = excluded.languages, \
                     accessibility = excluded.accessibility, source = excluded.source, \
                     last_modified = excluded.last_modified, version = services.version + 1, \
                     verified_by = CASE WHEN excluded.verified_at IS NOT NULL AND (services.verified_at IS NULL \
                       OR excluded.verified_at > services.verified_at) THEN excluded.verified_by ELSE services.verified_by END, \
                     verified_at = CASE WHEN excluded.verified_at IS NOT NULL AND (services.verified_at IS NULL \
                       OR excluded.verified_at > services.verified_at) THEN excluded.verified_at ELSE services.verified_at END",
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
                .bind(e.assured.as_ref().map(|a| a.0))
                .bind(e.assured.as_ref().and_then(|a| a.1.clone()))
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
