//! Keeping the directory right: edits with their history, review reminders, problem reports and
//! claims, each scoped to the listing's steward.

use super::*;

use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::directory::{Claim, Listing, ListingChange, ProblemReport};
use linkwork_domain::ids::{ClaimId, OrgId, ReportId, ServiceId, UserId};
use linkwork_domain::ports::{DirectoryStore, StoreError, StoreResult, TrustStore};
use uuid::Uuid;

#[async_trait::async_trait]
impl TrustStore for SqlStore {
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
        let openings = linkwork_domain::directory::oruk::openings(&doc);
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
            // The hours search reads, from the schedules just saved.
            sqlx::query("DELETE FROM service_hours WHERE service_id = $1")
                .bind(l.id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            for o in &openings {
                sqlx::query("INSERT INTO service_hours (service_id, day, opens, closes) VALUES ($1, $2, $3, $4)")
                    .bind(l.id.0)
                    .bind(i32::from(o.day))
                    .bind(i32::from(o.opens))
                    .bind(i32::from(o.closes))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
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
}
