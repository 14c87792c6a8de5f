//! Reading the directory: search, listings, places, organisations, taxonomies, postcodes.

use super::*;

use crate::access::rows::corrupt;
use crate::{SqlStore, map_err, on_db};
use linkwork_domain::directory::oruk;
use linkwork_domain::directory::{
    DirectoryQuery, Hit, Listing, NEAREST_CANDIDATES, distance_km, outward, postcode_key,
};
use linkwork_domain::ids::{OrgId, ServiceId};
use linkwork_domain::ports::{DirectoryStore, StoreResult};
use std::collections::HashMap;
use uuid::Uuid;

#[async_trait::async_trait]
impl DirectoryStore for SqlStore {
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
