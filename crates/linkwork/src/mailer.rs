//! Delivering outbox messages: by SMTP when a mail server is configured (`LINKWORK_SMTP_URL`),
//! otherwise a line in the log naming only the message id (recipients and bodies are personal
//! data and may hold one-time links), and the message is marked `logged` so administrators can
//! read it on the notifications page, where reading it is audited.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use linkwork_domain::notifications::{Mailer, MessageStatus, OutboxMessage, SmsSender, sms_number};
use std::sync::Arc;

/// Writes messages to the log instead of sending them.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn deliver(&self, m: &OutboxMessage) -> Result<MessageStatus, String> {
        tracing::info!(message = %m.id, "email not sent: no mail server configured; see the notifications page");
        Ok(MessageStatus::Logged)
    }
}

/// Sends email through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url` as lettre reads it: `smtps://USER:PASSWORD@HOST:465` (TLS from the start),
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS), or `smtp://HOST:25` (plain, for a
    /// relay on the same host only).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL is not valid ({e}); use smtps://USER:PASSWORD@HOST:465 or smtp://HOST:587?tls=required"))?
            .build();
        let from = from.parse::<Mailbox>().map_err(|e| {
            format!(
                "the sender address {from:?} is not valid ({e}); set LINKWORK_SMTP_FROM like linkwork@example.nhs.uk"
            )
        })?;
        Ok(Self { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn deliver(&self, m: &OutboxMessage) -> Result<MessageStatus, String> {
        let to = m.recipient.parse::<Mailbox>().map_err(|e| format!("bad recipient address: {e}"))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .body(m.body.clone())
            .map_err(|e| format!("could not build the message: {e}"))?;
        self.transport.send(email).await.map_err(|e| format!("SMTP delivery failed: {e}"))?;
        Ok(MessageStatus::Sent)
    }
}

/// Writes text messages to the log (by id only) instead of sending them.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(&self, m: &OutboxMessage) -> Result<MessageStatus, String> {
        tracing::info!(message = %m.id, "text message not sent: no SMS provider configured; see the notifications page");
        Ok(MessageStatus::Logged)
    }
}

/// Sends text messages through an email-to-SMS gateway: the message goes by email to
/// `NUMBER@DOMAIN` (the form most SMS providers accept), through the configured mailer.
pub struct EmailGatewaySms {
    pub mailer: Arc<dyn Mailer>,
    pub domain: String,
}

#[async_trait::async_trait]
impl SmsSender for EmailGatewaySms {
    async fn send(&self, m: &OutboxMessage) -> Result<MessageStatus, String> {
        let number = sms_number(&m.recipient).ok_or("the phone number cannot take a text message")?;
        let email = OutboxMessage { recipient: format!("{number}@{}", self.domain), ..m.clone() };
        self.mailer.deliver(&email).await
    }
}
