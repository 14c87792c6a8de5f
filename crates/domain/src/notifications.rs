//! The notification outbox. A message is written in the same transaction as the change that
//! caused it, together with a job that delivers it; delivery happens later, by email through SMTP
//! when configured, otherwise to the log, where administrators can still see it.

use crate::ids::{MessageId, OrgId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The job kind that delivers an outbox message.
pub const DELIVER_MESSAGE_JOB: &str = "deliver_message";

/// A message waiting to go, or gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub org_id: Option<OrgId>,
    /// `email` or `sms` (appointment reminders by text, through the `SmsSender`).
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Delivery state of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Pending,
    /// Handed to the SMTP server.
    Sent,
    /// No mail server configured: written to the log instead.
    Logged,
    /// Gave up after the last attempt.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Logged => "logged",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Logged, Self::Failed].into_iter().find(|m| m.as_str() == s)
    }
}

/// Why a message was not delivered, and whether trying again can help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Trying again cannot help: an address that cannot take the message, a message the
    /// provider refused for good. The message is marked failed at once.
    #[error("{0}")]
    Permanent(String),
    /// The provider could not be reached or deferred the message: retried with backoff.
    #[error("{0}")]
    Transient(String),
}

/// Something that can deliver an email. Implemented by the binary (SMTP or log).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Deliver one message; `Ok(status)` says how (sent or logged). Transient errors are retried.
    async fn deliver(&self, message: &OutboxMessage) -> Result<MessageStatus, DeliveryError>;
}

/// Something that can deliver a text message (SMS). Implemented by the binary: written to the
/// log by default, or sent through a configured provider.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Deliver one message whose recipient is a phone number. Transient errors are retried.
    async fn send(&self, message: &OutboxMessage) -> Result<MessageStatus, DeliveryError>;
}

/// The job kind that sends an appointment reminder.
pub const APPOINTMENT_REMINDER_JOB: &str = "appointment_reminder";

/// A UK phone number as an SMS provider wants it: digits only, `+44` for a leading `0`.
pub fn sms_number(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let international = if phone.trim_start().starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("44{rest}")
    } else {
        digits
    };
    (10..=15).contains(&international.len()).then_some(international)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_for_sms() {
        assert_eq!(sms_number("07700 900123").as_deref(), Some("447700900123"));
        assert_eq!(sms_number("+44 7700 900123").as_deref(), Some("447700900123"));
        assert_eq!(sms_number("123"), None);
    }
}
