//! Background jobs: a durable queue in the database, claimed with a lease so that several
//! stateless instances can share one PostgreSQL. A job whose worker dies is claimed again once
//! its lease runs out, so handlers must be idempotent.

use crate::ids::JobId;
use chrono::{DateTime, Duration, Utc};

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    /// The handler's name, e.g. `deliver_message`.
    pub kind: String,
    /// JSON arguments for the handler.
    pub payload: String,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// Enqueueing twice with the same key is a no-op, so callers may retry freely.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    /// A job that may run now, with the default five attempts.
    pub fn now(kind: &str, payload: String, now: DateTime<Utc>) -> Self {
        Self { kind: kind.to_owned(), payload, run_at: now, max_attempts: 5, dedupe_key: None }
    }

    /// The same job, enqueued at most once for `key`.
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    /// Attempts so far, including this one.
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting to run, running under a lease, or waiting to retry.
    Queued,
    Done,
    /// Failed on its last allowed attempt; kept for an administrator to see.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

/// How long to wait before retrying after `attempts` failures: 30 s doubling, at most an hour.
pub fn retry_delay(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30_i64 << exp).min(3600))
}

/// Counts of jobs by state, for administrators and `linkwork check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: i64,
    pub done: i64,
    pub dead: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_backs_off_and_caps() {
        assert_eq!(retry_delay(1), Duration::seconds(30));
        assert_eq!(retry_delay(2), Duration::seconds(60));
        assert_eq!(retry_delay(4), Duration::seconds(240));
        assert_eq!(retry_delay(20), Duration::seconds(3600));
    }
}

/// Why a job failed, and whether it is worth running again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Running it again cannot succeed (a malformed payload, an address that cannot take the
    /// message): the job is given up at once.
    #[error("{0}")]
    Permanent(String),
    /// It may succeed later (the database or a provider unreachable): retried with backoff.
    #[error("{0}")]
    Transient(String),
}

impl JobError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, JobError::Permanent(_))
    }
}

impl From<crate::ports::StoreError> for JobError {
    fn from(e: crate::ports::StoreError) -> Self {
        if e.is_transient() { JobError::Transient(e.to_string()) } else { JobError::Permanent(e.to_string()) }
    }
}

impl From<crate::notifications::DeliveryError> for JobError {
    fn from(e: crate::notifications::DeliveryError) -> Self {
        match e {
            crate::notifications::DeliveryError::Permanent(m) => JobError::Permanent(m),
            crate::notifications::DeliveryError::Transient(m) => JobError::Transient(m),
        }
    }
}
