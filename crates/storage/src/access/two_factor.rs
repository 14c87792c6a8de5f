//! Two-factor secrets, replay protection and recovery codes.

use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::access::accounts::TwoFactor;
use linkwork_domain::ids::{OrgId, UserId};
use linkwork_domain::ports::{StoreError, StoreResult, TwoFactorStore};

#[async_trait::async_trait]
impl TwoFactorStore for SqlStore {
    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactor>> {
        let row: Option<(String, Option<DateTime<Utc>>, Option<i64>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT secret, enabled_at, last_step FROM user_two_factor WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?);
        Ok(row.map(|(secret, enabled_at, last_step)| TwoFactor { secret, enabled_at, last_step }))
    }

    async fn begin_two_factor(&self, user: UserId, secret: &str) -> StoreResult<()> {
        // Only a secret not yet confirmed may be replaced.
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO user_two_factor (user_id, secret) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret WHERE user_two_factor.enabled_at IS NULL",
        )
        .bind(user.0)
        .bind(secret)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        if n == 1 { Ok(()) } else { Err(StoreError::Conflict(linkwork_domain::ports::Conflict::TwoFactorEnabled)) }
    }

    async fn enable_two_factor(&self, user: UserId, recovery_hashes: &[String], at: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query("UPDATE user_two_factor SET enabled_at = $2 WHERE user_id = $1")
                .bind(user.0)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1").bind(user.0).execute(&mut *tx).await.map_err(map_err)?;
            for h in recovery_hashes {
                sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user.0)
                    .bind(h)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE user_two_factor SET last_step = $2 WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user.0)
        .bind(step)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn use_recovery_code(&self, user: UserId, hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE user_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user.0)
        .bind(hash)
        .bind(at)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT count(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user.0)
            .fetch_one(pool)
            .await
            .map_err(map_err))
    }

    async fn reset_two_factor(&self, user: UserId) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1").bind(user.0).execute(&mut *tx).await.map_err(map_err)?;
            sqlx::query("DELETE FROM user_two_factor WHERE user_id = $1").bind(user.0).execute(&mut *tx).await.map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }

    async fn org_requires_two_factor(&self, org: OrgId) -> StoreResult<bool> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT require_two_factor FROM organisations WHERE id = $1")
            .bind(org.0)
            .fetch_one(pool)
            .await
            .map_err(map_err))
    }

    async fn set_org_requires_two_factor(&self, org: OrgId, required: bool) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query("UPDATE organisations SET require_two_factor = $2 WHERE id = $1")
            .bind(org.0)
            .bind(required)
            .execute(pool)
            .await
            .map_err(map_err)?
            .rows_affected());
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }
}
