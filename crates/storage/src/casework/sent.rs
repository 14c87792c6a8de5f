//! The message back as sent (one row per version, the document as JSON) and reopenings.

use crate::access::rows::corrupt;
use crate::table::{Table, Value};
use crate::{BeginWrite, Db, SqlStore, map_err, on_db, stale};
use chrono::{DateTime, Utc};
use linkwork_domain::casework::message_back::{MessageBack, Reopening, SentMessageBack};
use linkwork_domain::ids::{EpisodeId, OrgId};
use linkwork_domain::ports::{Conflict, StoreError, StoreResult};
use uuid::Uuid;

impl Table for SentMessageBack {
    const TABLE: &'static str = "message_backs";
    const COLUMNS: &'static [&'static str] =
        &["id", "org_id", "episode_id", "version", "document", "changes", "sent_at", "sent_by"];
    fn values(&self) -> Vec<Value> {
        let SentMessageBack { id, org_id, episode_id, version, document, changes, sent_at, sent_by } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(episode_id.0),
            Value::int(*version),
            // A struct of strings, numbers and lists always serialises.
            Value::text(serde_json::to_string(document).unwrap_or_default()),
            Value::opt_text(changes.as_deref()),
            Value::time(*sent_at),
            Value::uuid(sent_by.map(|u| u.0)),
        ]
    }
}

#[derive(sqlx::FromRow)]
struct SentRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    version: i32,
    document: String,
    changes: Option<String>,
    sent_at: DateTime<Utc>,
    sent_by: Option<Uuid>,
}

impl TryFrom<SentRow> for SentMessageBack {
    type Error = StoreError;
    fn try_from(r: SentRow) -> StoreResult<Self> {
        let document: MessageBack = serde_json::from_str(&r.document).map_err(|e| corrupt("message back", e))?;
        Ok(SentMessageBack {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            version: r.version,
            document,
            changes: r.changes,
            sent_at: r.sent_at,
            sent_by: r.sent_by.map(Into::into),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReopeningRow {
    org_id: Uuid,
    episode_id: Uuid,
    reason: String,
    closed_at: DateTime<Utc>,
    at: DateTime<Utc>,
    by_user: Option<Uuid>,
}

impl SqlStore {
    pub(super) async fn sent_message_backs(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<SentMessageBack>> {
        let rows: Vec<SentRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, version, document, changes, sent_at, sent_by FROM message_backs \
             WHERE org_id = $1 AND episode_id = $2 ORDER BY version",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub(super) async fn reopen_episode(&self, r: &Reopening) -> StoreResult<()> {
        // PostgreSQL: lock the person first, so two reopenings (or a reopening and an
        // acceptance) cannot both see "no other open episode" (SQLite's writes are serial).
        let lock = matches!(self.db, Db::Postgres(_));
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let person: Option<Uuid> = sqlx::query_scalar("SELECT person_id FROM episodes WHERE org_id = $1 AND id = $2")
                .bind(r.org_id.0)
                .bind(r.episode_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
            let Some(person) = person else { return Err(StoreError::NotFound) };
            super::lock_person!(tx, lock, r.org_id, linkwork_domain::ids::PersonId::from(person));
            let others: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM episodes o JOIN episodes e ON e.person_id = o.person_id AND e.org_id = o.org_id \
                 WHERE e.org_id = $1 AND e.id = $2 AND o.id <> e.id AND o.closed_at IS NULL",
            )
            .bind(r.org_id.0)
            .bind(r.episode_id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if others > 0 {
                return Err(StoreError::Conflict(Conflict::AnotherEpisodeOpen));
            }
            let n = sqlx::query(
                "UPDATE episodes SET closed_at = NULL, discharge_reason = NULL, discharge_note = NULL, version = version + 1 \
                 WHERE org_id = $1 AND id = $2 AND version = $3 AND closed_at IS NOT NULL",
            )
            .bind(r.org_id.0)
            .bind(r.episode_id.0)
            .bind(r.version)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n == 0 {
                return Err(stale());
            }
            sqlx::query(
                "INSERT INTO episode_reopenings (id, org_id, episode_id, reason, closed_at, at, by_user) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Uuid::now_v7())
            .bind(r.org_id.0)
            .bind(r.episode_id.0)
            .bind(&r.reason)
            .bind(r.closed_at)
            .bind(r.at)
            .bind(r.by.map(|u| u.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }

    pub(super) async fn episode_reopenings(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Reopening>> {
        let rows: Vec<ReopeningRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT org_id, episode_id, reason, closed_at, at, by_user FROM episode_reopenings \
             WHERE org_id = $1 AND episode_id = $2 ORDER BY at",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        Ok(rows
            .into_iter()
            .map(|r| Reopening {
                org_id: r.org_id.into(),
                episode_id: r.episode_id.into(),
                // The episode's version then is not kept: the reopening is history.
                version: 0,
                reason: r.reason,
                closed_at: r.closed_at,
                at: r.at,
                by: r.by_user.map(Into::into),
            })
            .collect())
    }
}
