//! Delivering outbox messages. Without a mail server configured, a message is written to the
//! log (recipient and subject only: bodies may carry personal data and one-time links) and marked
//! `logged`, so administrators can still see it on the notifications page.

use linkwork_domain::notifications::{Mailer, MessageStatus, OutboxMessage};

/// Writes messages to the log instead of sending them.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn deliver(&self, m: &OutboxMessage) -> Result<MessageStatus, String> {
        tracing::info!(message = %m.id, recipient = %m.recipient, subject = %m.subject, "email not sent: no mail server configured");
        Ok(MessageStatus::Logged)
    }
}
