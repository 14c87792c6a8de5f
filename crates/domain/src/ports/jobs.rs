//! Background jobs and the outbox.

use super::StoreResult;
use crate::ids::{JobId, MessageId, OrgId};
use crate::jobs::{Job, JobCounts, NewJob};
use crate::notifications::{MessageStatus, OutboxMessage};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait JobStore: Send + Sync {
    /// Enqueue; `Ok(false)` if a job with the same dedupe key already exists.
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<bool>;
    /// Claim the next due job for `lease`; a job whose lease ran out is due again.
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>, lease: chrono::Duration) -> StoreResult<Option<Job>>;
    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Record a failure at `now`: retried at `retry_at`, or dead when there is no retry (a
    /// permanent failure) or the attempts are used up.
    async fn fail_job(
        &self,
        id: JobId,
        error: &str,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn job_counts(&self) -> StoreResult<JobCounts>;
}

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    /// Store a message and the job that delivers it, atomically.
    async fn enqueue_message(&self, msg: &OutboxMessage) -> StoreResult<()>;
    async fn get_message(&self, id: MessageId) -> StoreResult<OutboxMessage>;
    async fn mark_message(&self, id: MessageId, status: MessageStatus, at: DateTime<Utc>) -> StoreResult<()>;
    /// A tenant's newest messages (the outbox page: messages name people and say they are in
    /// social prescribing, so an administrator sees only their own organisation's).
    async fn recent_messages(&self, org: OrgId, limit: i64) -> StoreResult<Vec<OutboxMessage>>;
}
