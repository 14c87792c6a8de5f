//! Connections from people's records to directory services.

use super::StoreResult;
use crate::connections::{Connection, ConnectionEvent, Responsiveness, Side, UnmetNeed};
use crate::ids::{ConnectionId, ServiceId};
use crate::ids::{OrgId, PersonId};
use chrono::{DateTime, Utc};

/// Whose view of a connection a read is for: the tenant that made it, or the organisations that
/// own the receiving service (a voluntary group's inbox). A connection outside the scope is
/// `NotFound`, so the rule is kept in the query and not only by the caller.
#[derive(Clone, Copy, Debug)]
pub enum ConnectionScope<'a> {
    Tenant(OrgId),
    Receiving(&'a [OrgId]),
}

/// Connections from people's records to directory services (person-identifiable: scoped by the
/// tenant, or by the receiving VCSE organisation for its inbox).
#[async_trait::async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn create_connection(&self, c: &Connection, first: &ConnectionEvent) -> StoreResult<()>;
    async fn get_connection(&self, scope: ConnectionScope<'_>, id: ConnectionId) -> StoreResult<Connection>;
    async fn person_connections(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Connection>>;
    /// Referrals to services managed by these organisations, newest first.
    async fn inbox(&self, owners: &[OrgId], open_only: bool, limit: i64) -> StoreResult<Vec<Connection>>;
    async fn connection_events(
        &self,
        scope: ConnectionScope<'_>,
        id: ConnectionId,
    ) -> StoreResult<Vec<ConnectionEvent>>;
    /// Move a connection to `event.status` from `version`; a stale version is a conflict. The
    /// first accept or decline stamps `answered_at`; a change by the service (`side` receiving)
    /// is news to the referring team; a decline at capacity records unmet need.
    async fn change_connection(&self, c: &Connection, event: &ConnectionEvent, side: Side) -> StoreResult<Connection>;
    /// The referring team has read the person's record: their services' answers are not news.
    async fn mark_answers_seen(&self, org: OrgId, person: PersonId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Open referrals still waiting for a first answer, oldest first.
    async fn unanswered(&self, limit: i64) -> StoreResult<Vec<Connection>>;
    async fn mark_nudged(
        &self,
        id: ConnectionId,
        reminded: Option<DateTime<Utc>>,
        unanswered: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn record_unmet(&self, u: &UnmetNeed) -> StoreResult<()>;
    async fn unmet_needs(&self, org: OrgId, since: DateTime<Utc>) -> StoreResult<Vec<UnmetNeed>>;
    /// Reply times (hours, None when unanswered) and acceptances of referrals since `since`.
    async fn responsiveness(
        &self,
        ids: &[ServiceId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ServiceId, Responsiveness)>>;
}
