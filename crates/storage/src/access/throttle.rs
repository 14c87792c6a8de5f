//! Sign-in throttle counters. Each reservation is a read-modify-write under a lock (SQLite's
//! write lock, PostgreSQL's row lock), with the counting rule in `domain::throttle`.

use crate::{BeginWrite, Db, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::access::throttle::ThrottleState;
use linkwork_domain::ports::{StoreResult, ThrottleStore};

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

/// A key's state, locked for the rest of the transaction. SQLite's write transaction already
/// holds the database's write lock; on PostgreSQL a missing row is first inserted (empty) so
/// that `FOR UPDATE` has a row to lock and two first attempts cannot both read "none".
macro_rules! locked_row {
    ($tx:ident, $key:expr, $db:expr) => {{
        if matches!($db, Db::Postgres(_)) {
            sqlx::query(
                "INSERT INTO sign_in_throttle (key, failures, window_started_at, locked_until) \
                 VALUES ($1, 0, $2, NULL) ON CONFLICT (key) DO NOTHING",
            )
            .bind($key)
            .bind(DateTime::<Utc>::UNIX_EPOCH)
            .execute(&mut *$tx)
            .await
            .map_err(map_err)?;
        }
        let lock = if matches!($db, Db::Postgres(_)) { " FOR UPDATE" } else { "" };
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE key = $1{lock}")))
            .bind($key)
            .fetch_optional(&mut *$tx)
            .await
            .map_err(map_err)?;
        row.map(ThrottleState::from)
    }};
}

macro_rules! write_state {
    ($tx:ident, $s:expr) => {{
        let s: &ThrottleState = $s;
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, window_started_at, locked_until) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
             window_started_at = excluded.window_started_at, locked_until = excluded.locked_until",
        )
        .bind(&s.key)
        .bind(s.failures)
        .bind(s.window_started_at)
        .bind(s.locked_until)
        .execute(&mut *$tx)
        .await
        .map_err(map_err)?;
    }};
}

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

    async fn reserve_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<bool> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let mut next = Vec::with_capacity(keys.len());
            for key in keys {
                let prev = locked_row!(tx, key, self.db);
                match ThrottleState::admit(prev.as_ref(), key, now) {
                    Some(s) => next.push(s),
                    None => {
                        tx.rollback().await.map_err(map_err)?;
                        return Ok(false);
                    }
                }
            }
            for s in &next {
                write_state!(tx, s);
            }
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        })
    }

    async fn release_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for key in keys {
                if let Some(prev) = locked_row!(tx, key, self.db) {
                    let next = prev.released(now);
                    write_state!(tx, &next);
                }
            }
            tx.commit().await.map_err(map_err)
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
