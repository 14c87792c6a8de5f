//! Sign-in throttle counters. Each failure is a read-modify-write under a lock (SQLite's write
//! lock, PostgreSQL's row lock), with the counting rule in `domain::throttle`.

use crate::{BeginWrite, Db, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::ports::{StoreResult, ThrottleStore};
use linkwork_domain::throttle::ThrottleState;

#[derive(sqlx::FromRow)]
struct Row {
    key: String,
    failures: i32,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

impl From<Row> for ThrottleState {
    fn from(r: Row) -> Self {
        ThrottleState {
            key: r.key,
            failures: r.failures,
            window_started_at: r.window_started_at,
            locked_until: r.locked_until,
        }
    }
}

const COLUMNS: &str = "SELECT key, failures, window_started_at, locked_until FROM sign_in_throttle";

#[async_trait::async_trait]
impl ThrottleStore for SqlStore {
    async fn throttle_states(&self, keys: &[String]) -> StoreResult<Vec<ThrottleState>> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<Row> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{COLUMNS} WHERE key IN ("));
            let mut list = qb.separated(", ");
            for key in keys {
                list.push_bind(key.clone());
            }
            qb.push(")");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn record_failure(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<Vec<ThrottleState>> {
        let lock = if matches!(self.db, Db::Postgres(_)) { " FOR UPDATE" } else { "" };
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let mut out = Vec::new();
            for key in keys {
                let prev: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE key = $1{lock}")))
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let next = ThrottleState::after_failure(prev.map(Into::into).as_ref(), key, now);
                sqlx::query(
                    "INSERT INTO sign_in_throttle (key, failures, window_started_at, locked_until) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
                     window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
                )
                .bind(&next.key)
                .bind(next.failures)
                .bind(next.window_started_at)
                .bind(next.locked_until)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                out.push(next);
            }
            tx.commit().await.map_err(map_err)?;
            Ok(out)
        })
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err))
    }
}
