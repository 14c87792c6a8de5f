//! The background worker: claims due jobs from the jobs table and runs their handlers. Several
//! instances may run workers against one PostgreSQL; the lease keeps them off each other's jobs,
//! and a job whose worker died is claimed again when its lease runs out, so every handler is
//! idempotent. On shutdown the worker finishes the job in hand and stops.

use linkwork_domain::Clock;
use linkwork_domain::casework::AppointmentStatus;
use linkwork_domain::ids::MessageId;
use linkwork_domain::ids::{AppointmentId, OrgId};
use linkwork_domain::jobs::{Job, JobError, retry_delay};
use linkwork_domain::notifications::{
    APPOINTMENT_REMINDER_JOB, DELIVER_MESSAGE_JOB, Mailer, MessageStatus, OutboxMessage, SmsSender,
};
use linkwork_domain::ports::Store;
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Whether a delivery failure ends the message: it cannot succeed, or this was the last try.
fn e_is_final(e: &linkwork_domain::notifications::DeliveryError, job: &Job) -> bool {
    matches!(e, linkwork_domain::notifications::DeliveryError::Permanent(_)) || job.attempts >= job.max_attempts
}

/// How long a claimed job is ours before another worker may take it.
pub const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// How often remembered Open Referral UK feeds are synced (`import oruk --url --keep-in-sync`).
pub const FEED_SYNC_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// What the worker needs.
#[derive(Clone)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    /// Delivers text messages (appointment reminders by SMS).
    pub sms: Arc<dyn SmsSender>,
    /// Identifies this worker in the jobs table (host and process).
    pub name: String,
    /// Days before an unanswered referral reminds the service (and again before it is marked
    /// not answered).
    pub nudge_days: i64,
    /// The installation's address, for links in messages (questionnaire reminders).
    pub public_url: String,
}

impl Worker {
    /// Claim and run one due job. `Ok(false)` when there was none.
    pub async fn run_once(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let Some(job) = self.store.claim_job(&self.name, now, LEASE).await? else {
            return Ok(false);
        };
        match self.handle(&job).await {
            Ok(()) => self.store.complete_job(job.id, self.clock.now()).await?,
            Err(cause) => {
                let now = self.clock.now();
                // A permanent failure is given up at once; only what can succeed is retried.
                let retry_at = (!cause.is_permanent()).then(|| now + retry_delay(job.attempts));
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %cause, retry = retry_at.is_some(), "job failed");
                self.store.fail_job(job.id, &cause.to_string(), now, retry_at).await?;
            }
        }
        Ok(true)
    }

    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        match job.kind.as_str() {
            DELIVER_MESSAGE_JOB => self.deliver_message(job).await,
            APPOINTMENT_REMINDER_JOB => self.appointment_reminder(job).await,
            // Perhaps written by a newer version during a rolling upgrade: another instance may
            // know it, so it is retried rather than given up.
            other => Err(JobError::Transient(format!("no handler for job kind {other:?}"))),
        }
    }

    /// Idempotent: a message already delivered is not delivered again.
    async fn deliver_message(&self, job: &Job) -> Result<(), JobError> {
        #[derive(serde::Deserialize)]
        struct Payload {
            message_id: MessageId,
        }
        let p: Payload =
            serde_json::from_str(&job.payload).map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let msg = self.store.get_message(p.message_id).await?;
        if msg.status != MessageStatus::Pending {
            return Ok(());
        }
        let outcome = if msg.channel == "sms" { self.sms.send(&msg).await } else { self.mailer.deliver(&msg).await };
        match outcome {
            Ok(status) => Ok(self.store.mark_message(msg.id, status, self.clock.now()).await?),
            // Given up: for good, or after the last attempt. Administrators see it failed.
            Err(e) if e_is_final(&e, job) => {
                self.store.mark_message(msg.id, MessageStatus::Failed, self.clock.now()).await?;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Remind the person of a booked appointment by their chosen channel: email, or a text
    /// message. Nothing is sent for an appointment no longer booked, or for people who asked to
    /// be contacted by phone or letter. The message says when and where, not why. Idempotent:
    /// the reminder's message id is the appointment's, so a second run cannot send twice.
    async fn appointment_reminder(&self, job: &Job) -> Result<(), JobError> {
        #[derive(serde::Deserialize)]
        struct Payload {
            org_id: OrgId,
            appointment_id: AppointmentId,
        }
        let p: Payload =
            serde_json::from_str(&job.payload).map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let a = match self.store.get_appointment(p.org_id, p.appointment_id).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let now = self.clock.now();
        if a.status != AppointmentStatus::Booked || a.starts_at <= now {
            return Ok(());
        }
        let person = self.store.get_person(p.org_id, a.person_id).await?;
        let (channel, recipient) = match person.message_channel() {
            Some(c) => c,
            None => {
                tracing::info!(appointment = %a.id, "no reminder sent: the person prefers phone or letter, or gave no address for their channel");
                return Ok(());
            }
        };
        // The person's own clock: UK time, with summer time (never "UTC" in a reminder).
        let when = a.starts_at.uk().format("%A %-d %B at %H:%M");
        let msg = OutboxMessage {
            id: linkwork_domain::ids::MessageId(a.id.0),
            org_id: Some(p.org_id),
            channel: channel.into(),
            recipient,
            subject: "Reminder: your appointment with your link worker".into(),
            body: format!(
                "Reminder: you have an appointment with your social prescribing link worker on {when} ({}, {}). If you cannot come, please contact your GP practice.",
                a.mode.label().to_lowercase(),
                a.location.label().to_lowercase()
            ),
            status: MessageStatus::Pending,
            created_at: now,
            sent_at: None,
        };
        match self.store.enqueue_message(&msg).await {
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Housekeeping: delete sessions that have expired (they no longer load, but they hold a
    /// user id and should not linger).
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        let removed = self.store.delete_expired_sessions(self.clock.now()).await?;
        self.nudge_referrals().await?;
        self.remind_reviews().await?;
        self.remind_questionnaires().await?;
        if let Err(e) = crate::directory::sync_feeds(self.store.as_ref(), self.clock.as_ref(), FEED_SYNC_EVERY).await {
            tracing::warn!(cause = %e, "directory feeds could not be synced");
        }
        Ok(removed)
    }

    /// An email sent for `org` (whose administrators see it in the outbox).
    fn email(&self, org: Option<OrgId>, to: &str, subject: &str, body: String) -> OutboxMessage {
        OutboxMessage {
            id: MessageId::new(),
            org_id: org,
            channel: "email".into(),
            recipient: to.to_owned(),
            subject: subject.to_owned(),
            body,
            status: MessageStatus::Pending,
            created_at: self.clock.now(),
            sent_at: None,
        }
    }

    /// Referrals out that a service has not answered: remind the service after
    /// `nudge_days`, then mark them not answered for the link worker (domain rule
    /// [`linkwork_domain::connections::nudge`]). Idempotent: each step is stamped.
    pub async fn nudge_referrals(&self) -> Result<(u64, u64), StoreError> {
        use linkwork_domain::connections::{Nudge, nudge};
        let now = self.clock.now();
        let (mut reminded, mut marked) = (0, 0);
        for c in self.store.unanswered(1000).await? {
            match nudge(&c, now, self.nudge_days) {
                Nudge::Nothing => {}
                Nudge::Remind => {
                    let listing = self.store.get_listing(c.service_id).await?;
                    if let Some(to) = &listing.email {
                        // Sent for the tenant whose worker referred: its administrators see it.
                        let msg = self.email(
                            Some(c.org_id),
                            to,
                            "A referral is waiting for your answer",
                            format!(
                                "Hello,\n\nA link worker's referral to {} has waited {} days. Please sign in to your linkwork inbox and accept or decline it, so the person is not left waiting.\n",
                                listing.name, self.nudge_days
                            ),
                        );
                        self.store.enqueue_message(&msg).await?;
                    }
                    self.store.mark_nudged(c.id, Some(now), None).await?;
                    reminded += 1;
                }
                Nudge::MarkUnanswered => {
                    self.store.mark_nudged(c.id, None, Some(now)).await?;
                    marked += 1;
                }
            }
        }
        if reminded + marked > 0 {
            tracing::info!(reminded, marked, "nudged unanswered referrals");
        }
        Ok((reminded, marked))
    }

    /// Questionnaire links a week old and unanswered: remind the person once, with a new token
    /// for the same link (`usecases::outcomes::remind_links`).
    pub async fn remind_questionnaires(&self) -> Result<u64, StoreError> {
        let audit = linkwork_domain::access::audit::Direct(self.store.as_ref());
        let services = linkwork_domain::usecases::Services {
            store: self.store.as_ref(),
            audit: &audit,
            clock: self.clock.as_ref(),
        };
        match linkwork_domain::usecases::outcomes::remind_links(services, &self.public_url).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(reminded = n, "reminded unanswered questionnaire links");
                }
                Ok(n)
            }
            Err(linkwork_domain::usecases::Failure::Store(e)) => Err(e),
            Err(e) => Err(StoreError::Database(e.to_string())),
        }
    }

    /// Listings past their review date: remind the service once per review period.
    pub async fn remind_reviews(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut n = 0;
        for l in self.store.listings_due_review(now, 500).await? {
            if let Some(to) = &l.email {
                let msg = self.email(
                    l.steward_org_id.or(l.owner_org_id),
                    to,
                    "Please check your listing in the community directory",
                    format!(
                        "Hello,\n\nLink workers rely on {} being right. It was due for checking on {}. Please sign in, check it and tick that it is correct.\n",
                        l.name,
                        l.review_due().uk().format("%d %B %Y")
                    ),
                );
                self.store.enqueue_message(&msg).await?;
            }
            self.store.mark_review_reminded(l.id, now).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Run until `shutdown` turns true: drain due jobs, then poll every `idle`; sweep every
    /// ten minutes.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, idle: Duration) {
        tracing::info!(worker = %self.name, "background worker started");
        let mut last_sweep: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let now = self.clock.now();
            if last_sweep.is_none_or(|t| now - t >= chrono::Duration::minutes(10)) {
                last_sweep = Some(now);
                match self.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "removed expired sessions"),
                    Err(cause) => tracing::error!(%cause, "could not remove expired sessions"),
                }
            }
            let worked = match self.run_once().await {
                Ok(w) => w,
                Err(cause) => {
                    tracing::error!(%cause, "background worker could not reach the database");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.name, "background worker stopped");
    }
}
