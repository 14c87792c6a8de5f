//! The jobs table: a durable queue with leases, shared safely by several instances.

use crate::{Db, SqlStore, map_err, on_db};
use chrono::{DateTime, Duration, Utc};
use linkwork_domain::ids::JobId;
use linkwork_domain::jobs::{Job, JobCounts, NewJob};
use linkwork_domain::ports::{JobStore, StoreResult};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    kind: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
}

/// Jobs whose last allowed attempt died with its worker (the lease ran out) are dead, not due.
const BURY_ABANDONED: &str = "UPDATE jobs SET state = 'dead', finished_at = $1, last_error = coalesce(last_error, 'worker stopped during the last attempt') \
     WHERE state = 'queued' AND attempts >= max_attempts AND locked_until IS NOT NULL AND locked_until <= $1";

const CLAIM_SQLITE: &str = "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, locked_until = $2 \
     WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 AND attempts < max_attempts \
                 AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_at, id LIMIT 1) \
     RETURNING id, kind, payload, attempts, max_attempts";

// PostgreSQL may run several instances' claims at once: lock the chosen row and skip rows other
// claimers hold, so two workers never take the same job.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET attempts = attempts + 1, locked_by = $1, locked_until = $2 \
     WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 AND attempts < max_attempts \
                 AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, payload, attempts, max_attempts";

#[async_trait::async_trait]
impl JobStore for SqlStore {
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<bool> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, dedupe_key, created_at) \
             VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(JobId::new().0)
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind(job.dedupe_key.clone())
        .bind(job.run_at)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        Ok(n == 1)
    }

    async fn claim_job(&self, worker: &str, now: DateTime<Utc>, lease: Duration) -> StoreResult<Option<Job>> {
        on_db!(&self.db, pool => sqlx::query(BURY_ABANDONED).bind(now).execute(pool).await.map(|_| ()).map_err(map_err)?);
        let until = now + lease;
        let row: Option<JobRow> = match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_as(CLAIM_SQLITE).bind(worker).bind(until).bind(now).fetch_optional(pool).await
            }
            Db::Postgres(pool) => {
                sqlx::query_as(CLAIM_POSTGRES).bind(worker).bind(until).bind(now).fetch_optional(pool).await
            }
        }
        .map_err(map_err)?;
        Ok(row.map(|r| Job {
            id: r.id.into(),
            kind: r.kind,
            payload: r.payload,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
        }))
    }

    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $2, locked_by = NULL, locked_until = NULL WHERE id = $1",
        )
        .bind(id.0)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn fail_job(
        &self,
        id: JobId,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(2000).collect();
        // Given up: no retry, or no attempts left. `$4` is true when there is a retry.
        on_db!(&self.db, pool => sqlx::query(
            "UPDATE jobs SET last_error = $2, locked_by = NULL, locked_until = NULL, \
             run_at = CASE WHEN $4 THEN $3 ELSE run_at END, \
             state = CASE WHEN NOT $4 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             finished_at = CASE WHEN NOT $4 OR attempts >= max_attempts THEN $5 ELSE NULL END \
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(error)
        .bind(retry_at.unwrap_or(now))
        .bind(retry_at.is_some())
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn job_counts(&self) -> StoreResult<JobCounts> {
        let rows: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as("SELECT state, count(*) FROM jobs GROUP BY state")
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        let mut c = JobCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => c.queued = n,
                "done" => c.done = n,
                "dead" => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
