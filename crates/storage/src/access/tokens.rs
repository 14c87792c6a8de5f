//! One-time account links (invitations, password resets), stored as hashes.

use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::AccountToken;
use linkwork_domain::ids::UserId;
use linkwork_domain::ports::{StoreResult, TokenStore};
use uuid::Uuid;

#[async_trait::async_trait]
impl TokenStore for SqlStore {
    async fn create_token(&self, t: &AccountToken) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.token_hash)
        .bind(t.user_id.0)
        .bind(&t.purpose)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn find_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AccountToken>> {
        let row: Option<(String, Uuid, String, DateTime<Utc>, DateTime<Utc>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT token_hash, user_id, purpose, created_at, expires_at FROM account_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?);
        Ok(row.map(|(token_hash, user, purpose, created_at, expires_at)| AccountToken {
            token_hash,
            user_id: UserId(user),
            purpose,
            created_at,
            expires_at,
        }))
    }

    async fn use_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        // Using one link voids every other outstanding link of the same user, in one statement:
        // an old invitation must not set the password again after a reset (or the reverse).
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE account_tokens SET used_at = $2 WHERE used_at IS NULL AND user_id = \
             (SELECT user_id FROM account_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        Ok(n >= 1)
    }

    async fn tokens_since(&self, user: UserId, purpose: &str, since: DateTime<Utc>) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT count(*) FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND created_at >= $3",
        )
        .bind(user.0)
        .bind(purpose)
        .bind(since)
        .fetch_one(pool)
        .await
        .map_err(map_err))
    }

    async fn set_password(&self, user: UserId, password_hash: &str) -> StoreResult<()> {
        // A new password voids every link of the user still outstanding, in the same transaction.
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user.0)
                .bind(password_hash)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query("UPDATE account_tokens SET used_at = created_at WHERE user_id = $1 AND used_at IS NULL")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }
}
