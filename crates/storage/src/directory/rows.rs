//! Rows of the directory tables as both backends return them.

use crate::access::rows::corrupt;
use chrono::{DateTime, Utc};
use linkwork_domain::directory::oruk;
use linkwork_domain::directory::{Claim, ProblemKind, ProblemReport};
use linkwork_domain::ids::{OrgId, UserId};
use linkwork_domain::ports::{StoreError, StoreResult};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(super) struct TermRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub parent_id: Option<Uuid>,
    pub taxonomy: Option<String>,
    pub taxonomy_id: Option<Uuid>,
    pub term_uri: Option<String>,
    pub term: Option<String>,
    pub code: Option<String>,
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
pub(super) struct ReportRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub kind: String,
    pub details: String,
    pub reporter: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct ReportWithName {
    #[sqlx(flatten)]
    pub report: ReportRow,
    pub service_name: String,
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

pub(super) const CLAIM: &str = "SELECT c.id, c.organization_id, o.name AS organization_name, c.name, c.email, c.role, c.evidence, \
     c.requested_at, c.decided_at, c.decided_by, c.approved FROM directory_claims c \
     JOIN directory_organizations o ON o.id = c.organization_id";

#[derive(sqlx::FromRow)]
pub(super) struct ClaimRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub evidence: String,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub approved: Option<bool>,
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
pub(super) fn push_in<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, ids: &[OrgId])
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
