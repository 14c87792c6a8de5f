//! Connections (signposts and referrals out) on both backends. Person-identifiable: the link
//! worker's side reads by tenant; a service's inbox reads by the organisations that manage the
//! service, and sees only the `shared` details chosen at referral.

use crate::access::rows::corrupt;
use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::connections::{
    Connection, ConnectionEvent, DeclineReason, Responsiveness, Side, TaskStatus, UnmetNeed, UnmetReason,
};
use linkwork_domain::ids::{ConnectionId, OrgId, PersonId, ServiceId, UserId};
use linkwork_domain::ports::{ConnectionScope, ConnectionStore, StoreError, StoreResult};
use std::collections::HashMap;
use uuid::Uuid;

const CONNECTION: &str = "SELECT c.id, c.org_id, c.person_id, c.episode_id, c.service_id, s.name AS service_name, c.kind, \
     c.status, c.need, c.shared, c.consent_at, c.created_by, c.created_at, c.updated_at, c.answered_at, c.reminded_at, \
     c.unanswered_at, c.service_said_at, c.seen_at, c.reason, c.version FROM connections c \
     JOIN services s ON s.id = c.service_id";

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    episode_id: Option<Uuid>,
    service_id: Uuid,
    service_name: String,
    kind: String,
    status: String,
    need: String,
    shared: String,
    consent_at: Option<DateTime<Utc>>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    reminded_at: Option<DateTime<Utc>>,
    unanswered_at: Option<DateTime<Utc>>,
    service_said_at: Option<DateTime<Utc>>,
    seen_at: Option<DateTime<Utc>>,
    reason: Option<String>,
    version: i32,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> StoreResult<Self> {
        Ok(Connection {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            episode_id: r.episode_id.map(Into::into),
            service_id: r.service_id.into(),
            service_name: r.service_name,
            kind: r.kind.parse().map_err(|e| corrupt("connection kind", e))?,
            status: r.status.parse().map_err(|e| corrupt("connection status", e))?,
            need: r.need.parse().map_err(|e| corrupt("connection need", e))?,
            shared: serde_json::from_str(&r.shared).map_err(|e| corrupt("shared details", e))?,
            consent_at: r.consent_at,
            created_by: r.created_by.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            answered_at: r.answered_at,
            reminded_at: r.reminded_at,
            unanswered_at: r.unanswered_at,
            service_said_at: r.service_said_at,
            seen_at: r.seen_at,
            reason: r
                .reason
                .map(|x| x.parse::<DeclineReason>())
                .transpose()
                .map_err(|e| corrupt("decline reason", e))?,
            version: r.version,
        })
    }
}

fn connections(rows: Vec<ConnectionRow>) -> StoreResult<Vec<Connection>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

macro_rules! insert_event {
    ($tx:expr, $e:expr) => {
        sqlx::query(
            "INSERT INTO connection_events (id, connection_id, status, reason, note, at, by_user, by_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind($e.connection_id.0)
        .bind($e.status.as_str())
        .bind($e.reason.map(|r: DeclineReason| r.as_str()))
        .bind(&$e.note)
        .bind($e.at)
        .bind($e.by.0)
        .bind(&$e.by_name)
        .execute(&mut *$tx)
        .await
        .map_err(map_err)?
    };
}

#[async_trait::async_trait]
impl ConnectionStore for SqlStore {
    async fn create_connection(&self, c: &Connection, first: &ConnectionEvent) -> StoreResult<()> {
        let shared = serde_json::to_string(&c.shared).map_err(|e| StoreError::Database(e.to_string()))?;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO connections (id, org_id, person_id, episode_id, service_id, kind, status, need, shared, \
                 consent_at, created_by, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 1)",
            )
            .bind(c.id.0)
            .bind(c.org_id.0)
            .bind(c.person_id.0)
            .bind(c.episode_id.map(|e| e.0))
            .bind(c.service_id.0)
            .bind(c.kind.as_str())
            .bind(c.status.as_str())
            .bind(c.need.as_str())
            .bind(&shared)
            .bind(c.consent_at)
            .bind(c.created_by.0)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            insert_event!(tx, first);
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_connection(&self, scope: ConnectionScope<'_>, id: ConnectionId) -> StoreResult<Connection> {
        let row: ConnectionRow = on_db!(&self.db, pool => {
            let mut qb = match scope {
                ConnectionScope::Tenant(org) => {
                    let mut qb = sqlx::QueryBuilder::new(format!("{CONNECTION} WHERE c.org_id = "));
                    qb.push_bind(org.0);
                    qb
                }
                ConnectionScope::Receiving(owners) => {
                    if owners.is_empty() {
                        return Err(StoreError::NotFound);
                    }
                    let mut qb = sqlx::QueryBuilder::new(format!(
                        "{CONNECTION} JOIN directory_organizations o ON o.id = s.organization_id WHERE c.kind = 'refer' AND o.owner_org_id IN ("
                    ));
                    let mut sep = qb.separated(", ");
                    for o in owners {
                        sep.push_bind(o.0);
                    }
                    qb.push(")");
                    qb
                }
            };
            qb.push(" AND c.id = ").push_bind(id.0);
            qb.build_query_as().fetch_one(pool).await.map_err(map_err)?
        });
        row.try_into()
    }

    async fn person_connections(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Connection>> {
        let sql = format!("{CONNECTION} WHERE c.org_id = $1 AND c.person_id = $2 ORDER BY c.created_at DESC");
        let rows: Vec<ConnectionRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org.0).bind(person.0).fetch_all(pool).await.map_err(map_err)?);
        connections(rows)
    }

    async fn inbox(&self, owners: &[OrgId], open_only: bool, limit: i64) -> StoreResult<Vec<Connection>> {
        if owners.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<ConnectionRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!(
                "{CONNECTION} JOIN directory_organizations o ON o.id = s.organization_id WHERE c.kind = 'refer' AND o.owner_org_id IN ("
            ));
            let mut sep = qb.separated(", ");
            for o in owners {
                sep.push_bind(o.0);
            }
            qb.push(")");
            if open_only {
                qb.push(" AND c.status IN ('requested', 'accepted', 'in-progress', 'on-hold')");
            }
            qb.push(" ORDER BY c.created_at DESC LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        connections(rows)
    }

    async fn connection_events(
        &self,
        scope: ConnectionScope<'_>,
        id: ConnectionId,
    ) -> StoreResult<Vec<ConnectionEvent>> {
        // Out of scope is NotFound, as for the connection itself.
        self.get_connection(scope, id).await?;
        let rows: Vec<(String, Option<String>, String, DateTime<Utc>, Uuid, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT status, reason, note, at, by_user, by_name FROM connection_events WHERE connection_id = $1 ORDER BY at, id",
        ).bind(id.0).fetch_all(pool).await.map_err(map_err)?);
        rows.into_iter()
            .map(|(status, reason, note, at, by, by_name)| {
                Ok(ConnectionEvent {
                    connection_id: id,
                    status: status.parse().map_err(|e| corrupt("event status", e))?,
                    reason: reason.map(|r| r.parse()).transpose().map_err(|e| corrupt("event reason", e))?,
                    note,
                    at,
                    by: UserId(by),
                    by_name,
                })
            })
            .collect()
    }

    async fn change_connection(&self, c: &Connection, e: &ConnectionEvent, side: Side) -> StoreResult<Connection> {
        let answering = matches!(e.status, TaskStatus::Accepted | TaskStatus::Rejected) && c.answered_at.is_none();
        let by_service = side == Side::Receiving;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let done = sqlx::query(
                "UPDATE connections SET status = $1, reason = COALESCE($2, reason), updated_at = $3, \
                 answered_at = CASE WHEN $4 THEN $3 ELSE answered_at END, \
                 service_said_at = CASE WHEN $7 THEN $3 ELSE service_said_at END, version = version + 1 \
                 WHERE id = $5 AND version = $6",
            )
            .bind(e.status.as_str())
            .bind(e.reason.map(DeclineReason::as_str))
            .bind(e.at)
            .bind(answering)
            .bind(c.id.0)
            .bind(c.version)
            .bind(by_service)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(linkwork_domain::ports::Conflict::Version));
            }
            insert_event!(tx, e);
            if e.status == TaskStatus::Rejected && e.reason == Some(DeclineReason::AtCapacity) {
                sqlx::query(
                    "INSERT INTO unmet_needs (id, org_id, person_id, need, reason, service_id, note, recorded_at, recorded_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(Uuid::now_v7())
                .bind(c.org_id.0)
                .bind(c.person_id.0)
                .bind(c.need.as_str())
                .bind(UnmetReason::AtCapacity.as_str())
                .bind(c.service_id.0)
                .bind(&e.note)
                .bind(e.at)
                .bind(e.by.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)?;
        });
        self.get_connection(ConnectionScope::Tenant(c.org_id), c.id).await
    }

    async fn mark_answers_seen(&self, org: OrgId, person: PersonId, at: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE connections SET seen_at = $1 WHERE org_id = $2 AND person_id = $3 AND service_said_at IS NOT NULL \
             AND (seen_at IS NULL OR seen_at < service_said_at)",
        )
        .bind(at)
        .bind(org.0)
        .bind(person.0)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err)?);
        Ok(())
    }

    async fn unanswered(&self, limit: i64) -> StoreResult<Vec<Connection>> {
        let sql = format!(
            "{CONNECTION} WHERE c.status = 'requested' AND c.kind = 'refer' AND c.unanswered_at IS NULL ORDER BY c.created_at LIMIT $1"
        );
        let rows: Vec<ConnectionRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await.map_err(map_err)?);
        connections(rows)
    }

    async fn mark_nudged(
        &self,
        id: ConnectionId,
        reminded: Option<DateTime<Utc>>,
        unanswered: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE connections SET reminded_at = COALESCE($1, reminded_at), unanswered_at = COALESCE($2, unanswered_at) WHERE id = $3",
        ).bind(reminded).bind(unanswered).bind(id.0).execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn record_unmet(&self, u: &UnmetNeed) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO unmet_needs (id, org_id, person_id, need, reason, service_id, note, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(Uuid::now_v7()).bind(u.org_id.0).bind(u.person_id.0).bind(u.need.as_str()).bind(u.reason.as_str())
        .bind(u.service_id.map(|s| s.0)).bind(&u.note).bind(u.recorded_at).bind(u.recorded_by.0)
        .execute(pool).await.map(|_| ()).map_err(map_err)?);
        Ok(())
    }

    async fn unmet_needs(&self, org: OrgId, since: DateTime<Utc>) -> StoreResult<Vec<UnmetNeed>> {
        type Row = (Uuid, String, String, Option<Uuid>, String, DateTime<Utc>, Uuid);
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT person_id, need, reason, service_id, note, recorded_at, recorded_by FROM unmet_needs \
             WHERE org_id = $1 AND recorded_at >= $2 ORDER BY recorded_at DESC",
        ).bind(org.0).bind(since).fetch_all(pool).await.map_err(map_err)?);
        rows.into_iter()
            .map(|(person, need, reason, service, note, at, by)| {
                Ok(UnmetNeed {
                    org_id: org,
                    person_id: PersonId(person),
                    need: need.parse().map_err(|e| corrupt("unmet need", e))?,
                    reason: reason.parse().map_err(|e| corrupt("unmet reason", e))?,
                    service_id: service.map(ServiceId),
                    note,
                    recorded_at: at,
                    recorded_by: UserId(by),
                })
            })
            .collect()
    }

    async fn responsiveness(
        &self,
        ids: &[ServiceId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ServiceId, Responsiveness)>> {
        let mut replies: HashMap<Uuid, Vec<(Option<f64>, bool)>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>, String)> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT service_id, created_at, answered_at, status FROM connections WHERE kind = 'refer' \
                     AND status <> 'entered-in-error' AND created_at >= ",
                );
                qb.push_bind(since).push(" AND service_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.0);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            for (id, created, answered, status) in rows {
                #[allow(clippy::cast_precision_loss)]
                let hours = answered.map(|a| (a - created).num_minutes() as f64 / 60.0);
                let accepted = answered.is_some() && status != "rejected";
                replies.entry(id).or_default().push((hours, accepted));
            }
        }
        Ok(ids
            .iter()
            .map(|id| (*id, Responsiveness::from_replies(replies.get(&id.0).map_or(&[][..], Vec::as_slice))))
            .collect())
    }
}
