//! Server-side sessions. The cookie holds only a random id; the data stays here, so signing out
//! or revoking a user's sessions takes effect at once on every instance.

use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::SessionRecord;
use linkwork_domain::ids::UserId;
use linkwork_domain::ports::{SessionStore, StoreResult};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: Option<Uuid>,
    data: String,
    expires_at: DateTime<Utc>,
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &SessionRecord) -> StoreResult<bool> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&s.id)
        .bind(s.user_id.map(|u| u.0))
        .bind(&s.data)
        .bind(s.expires_at)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn save_session(&self, s: &SessionRecord) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(&s.id)
        .bind(s.user_id.map(|u| u.0))
        .bind(&s.data)
        .bind(s.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, user_id, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?);
        Ok(row.map(|r| SessionRecord {
            id: r.id,
            user_id: r.user_id.map(UserId),
            data: r.data,
            expires_at: r.expires_at,
        }))
    }

    async fn delete_session(&self, id: &str) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err))
    }

    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64> {
        // Moving the generation on first means a session saved again by a request in flight
        // (or a sign-in that finishes after this) no longer loads as signed in.
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query("UPDATE users SET session_generation = session_generation + 1 WHERE id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            tx.commit().await.map_err(map_err)?;
            Ok(n)
        })
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        on_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(map_err))
    }
}
