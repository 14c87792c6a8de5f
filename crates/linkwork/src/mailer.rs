//! Delivering outbox messages: by SMTP when a mail server is configured (`LINKWORK_SMTP_URL`),
//! otherwise a line in the log naming only the message id (recipients and bodies are personal
//! data and may hold one-time links), and the message is marked `logged` so administrators can
//! read it on the notifications page, where reading it is audited.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use linkwork_domain::notifications::{DeliveryError, Mailer, MessageStatus, OutboxMessage, SmsSender, sms_number};
use std::sync::Arc;

/// Writes messages to the log instead of sending them.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn deliver(&self, m: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        tracing::debug!(message = %m.id, "email not sent: no mail server configured");
        note_held_back(Held::Email);
        Ok(MessageStatus::Logged)
    }
}

/// What a log sender kept back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Email,
    Text,
}

/// Messages kept back since the last summary line. Without a mail server every message would
/// otherwise be its own log line (hundreds at the first start of a demo): one line now and then
/// says how many, and each message is at debug level.
#[derive(Debug, Default)]
struct HeldBack {
    emails: u64,
    texts: u64,
    reported: Option<std::time::Instant>,
}

/// How often the summary line may repeat.
const HELD_REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl HeldBack {
    /// Count one message; the summary line to log, when one is due.
    fn note(&mut self, what: Held, now: std::time::Instant) -> Option<String> {
        match what {
            Held::Email => self.emails += 1,
            Held::Text => self.texts += 1,
        }
        if self.reported.is_some_and(|t| now.duration_since(t) < HELD_REPORT_EVERY) {
            return None;
        }
        let line = format!(
            "{} email(s) and {} text message(s) not sent: no mail server or SMS provider is configured; administrators see them on the notifications page",
            self.emails, self.texts
        );
        *self = HeldBack { reported: Some(now), ..HeldBack::default() };
        Some(line)
    }
}

static HELD_BACK: std::sync::Mutex<HeldBack> = std::sync::Mutex::new(HeldBack { emails: 0, texts: 0, reported: None });

fn note_held_back(what: Held) {
    let mut held = HELD_BACK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(line) = held.note(what, std::time::Instant::now()) {
        tracing::info!("{line}");
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
    async fn deliver(&self, m: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        let to = m
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError::Permanent(format!("bad recipient address: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .body(m.body.clone())
            .map_err(|e| DeliveryError::Permanent(format!("could not build the message: {e}")))?;
        // A 5xx answer (no such mailbox, refused for good) cannot succeed later; anything else
        // (no connection, 4xx "try later") may.
        self.transport.send(email).await.map_err(|e| {
            let why = format!("SMTP delivery failed: {e}");
            if e.is_permanent() { DeliveryError::Permanent(why) } else { DeliveryError::Transient(why) }
        })?;
        Ok(MessageStatus::Sent)
    }
}

/// Writes text messages to the log (by id only) instead of sending them.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(&self, m: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        tracing::debug!(message = %m.id, "text message not sent: no SMS provider configured");
        note_held_back(Held::Text);
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
    async fn send(&self, m: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        let number = sms_number(&m.recipient)
            .ok_or_else(|| DeliveryError::Permanent("the phone number cannot take a text message".into()))?;
        let email = OutboxMessage { recipient: format!("{number}@{}", self.domain), ..m.clone() };
        self.mailer.deliver(&email).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_back_mail_is_one_line_a_minute() {
        let t0 = std::time::Instant::now();
        let mut h = HeldBack::default();
        let first = h.note(Held::Email, t0).expect("the first message is reported at once");
        assert!(first.starts_with("1 email(s) and 0 text message(s)"), "{first}");
        for i in 1..300 {
            assert_eq!(h.note(Held::Email, t0 + std::time::Duration::from_millis(i)), None, "no line per message");
        }
        h.note(Held::Text, t0 + std::time::Duration::from_secs(1));
        let next = h.note(Held::Email, t0 + HELD_REPORT_EVERY).expect("a minute on, one line");
        assert!(next.starts_with("300 email(s) and 1 text message(s)"), "{next}");
    }
}
