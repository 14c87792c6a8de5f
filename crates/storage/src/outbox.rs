//! The notification outbox: a message and the job that delivers it are written together.

use crate::access::rows::MessageRow;
use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::ids::{MessageId, OrgId};
use linkwork_domain::notifications::{MessageStatus, OutboxMessage};
use linkwork_domain::ports::{OutboxStore, StoreError, StoreResult};

const MESSAGE_COLUMNS: &str =
    "SELECT id, org_id, channel, recipient, subject, body, status, created_at, sent_at FROM outbox";

/// Inside a write transaction `$tx`: store `$msg` and the job that delivers it, so a message is
/// queued with whatever else it belongs to (a questionnaire link) or not at all.
macro_rules! enqueue_in {
    ($tx:expr, $msg:expr) => {{
        let msg: &linkwork_domain::notifications::OutboxMessage = $msg;
        let payload = format!("{{\"message_id\":\"{}\"}}", msg.id);
        sqlx::query(
            "INSERT INTO outbox (id, org_id, channel, recipient, subject, body, status, created_at, sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(msg.id.0)
        .bind(msg.org_id.map(|o| o.0))
        .bind(&msg.channel)
        .bind(&msg.recipient)
        .bind(&msg.subject)
        .bind(&msg.body)
        .bind(msg.status.as_str())
        .bind(msg.created_at)
        .bind(msg.sent_at)
        .execute(&mut *$tx)
        .await
        .map_err($crate::map_err)?;
        sqlx::query(
            "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, dedupe_key, created_at) \
                 VALUES ($1, $2, $3, 'queued', $4, 0, 8, $5, $4)",
        )
        .bind(linkwork_domain::ids::JobId::new().0)
        .bind(linkwork_domain::notifications::DELIVER_MESSAGE_JOB)
        .bind(&payload)
        .bind(msg.created_at)
        .bind(format!("message:{}", msg.id))
        .execute(&mut *$tx)
        .await
        .map_err($crate::map_err)?;
    }};
}
pub(crate) use enqueue_in;

impl SqlStore {
    /// The newest messages of every tenant: for operators and tests only. Pages use the port's
    /// tenant-scoped `recent_messages`.
    pub async fn all_messages(&self, limit: i64) -> StoreResult<Vec<OutboxMessage>> {
        let rows: Vec<MessageRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{MESSAGE_COLUMNS} ORDER BY created_at DESC LIMIT $1")))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue_message(&self, msg: &OutboxMessage) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            enqueue_in!(tx, msg);
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_message(&self, id: MessageId) -> StoreResult<OutboxMessage> {
        let row: MessageRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{MESSAGE_COLUMNS} WHERE id = $1")))
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(map_err)?);
        row.try_into()
    }

    async fn mark_message(&self, id: MessageId, status: MessageStatus, at: DateTime<Utc>) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query("UPDATE outbox SET status = $2, sent_at = $3 WHERE id = $1")
            .bind(id.0)
            .bind(status.as_str())
            .bind(at)
            .execute(pool)
            .await
            .map_err(map_err)?
            .rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn recent_messages(&self, org: OrgId, limit: i64) -> StoreResult<Vec<OutboxMessage>> {
        let rows: Vec<MessageRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{MESSAGE_COLUMNS} WHERE org_id = $1 ORDER BY created_at DESC LIMIT $2")))
            .bind(org.0)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
