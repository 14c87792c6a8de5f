//! Discharging an episode: closing it with a coded reason and the summary note, then sending
//! the message back (a link, never personal details) to the referrer and the referring staff of
//! the person's GP practice.
//!
//! The face has opened the episode under the legitimate-relationship rule (the break-glass
//! grant lives in the web session); this use case keeps the episode's own rules.

use super::{Caller, Failure, Problems, Services};
use crate::access::accounts::{Role, User};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::casework::{DischargeReason, Episode, parse_words};
use crate::ids::MessageId;
use crate::notifications::{MessageStatus, OutboxMessage};
use crate::ports::{Conflict, Discharge};
use crate::uktime::UkTime;

/// A discharge as a face received it.
#[derive(Clone, Debug, Default)]
pub struct DischargeInput {
    /// The episode version the worker saw.
    pub version: i32,
    pub reason: String,
    pub note: String,
}

/// Discharge `episode`: refused once it is closed; the reason one of the coded ones, the note
/// required; a stale version is `Conflict::Version`. Closing ends holding and cancels future
/// appointments (one transaction, in the store); then the change is audited and the message
/// back queued. `public_url` is where the summary's link points.
pub async fn discharge(
    s: Services<'_>,
    caller: &Caller<'_>,
    episode: &Episode,
    input: &DischargeInput,
    public_url: &str,
) -> Result<(), Failure> {
    if !episode.is_open() {
        return Err(Failure::Conflict(Conflict::EpisodeClosed));
    }
    let mut p = Problems::default();
    let reason = match input.reason.parse::<DischargeReason>() {
        Ok(r) => Some(r),
        Err(_) => {
            p.add("reason", "Choose why the episode is ending");
            None
        }
    };
    let note = p.take("note", parse_words(&input.note, 5000, "a summary for the GP and the referrer"));
    p.check()?;
    let (Some(reason), Some(note)) = (reason, note) else { unreachable!("checked above: both parsed") };
    let now = s.clock.now();
    s.store
        .discharge(&Discharge {
            org_id: episode.org_id,
            episode_id: episode.id,
            version: input.version,
            reason,
            note,
            at: now,
        })
        .await?;
    let entry = caller.entry(AuditEntry {
        person_id: Some(episode.person_id),
        record_id: Some(episode.id.to_string()),
        reason: Some(format!("discharged: {}", reason.as_str())),
        ..AuditEntry::new(now, AuditAction::Update, "episode")
    });
    s.audit.record(vec![entry]).await?;
    send_message_back(s, episode, public_url).await
}

/// Tell the referrer and the referring staff of the person's practice that the summary is
/// ready: an email with a link to it (sign-in required), no personal details.
async fn send_message_back(s: Services<'_>, e: &Episode, public_url: &str) -> Result<(), Failure> {
    let referral = s.store.get_referral(e.org_id, e.referral_id).await?;
    let person = s.store.get_person(e.org_id, e.person_id).await?;
    let mut recipients: Vec<User> = vec![];
    if let Some(referrer) = referral.referred_by {
        recipients.push(s.store.get_user(referrer).await?);
    }
    if let Some(practice) = person.practice_id {
        recipients.extend(s.store.list_org_users(practice).await?.into_iter().filter(|u| u.has_role(Role::Referrer)));
    }
    recipients.retain(|u| !u.disabled);
    recipients.sort_by_key(|u| u.id);
    recipients.dedup_by_key(|u| u.id);
    let now = s.clock.now();
    for r in recipients {
        let msg = OutboxMessage {
            id: MessageId::new(),
            org_id: Some(e.org_id),
            channel: "email".into(),
            recipient: r.email.to_string(),
            subject: "A social prescribing discharge summary is ready".into(),
            body: format!(
                "Hello {},\n\nA person {} social prescribing on {} has been discharged. The summary for the GP record is ready:\n\n{}/episodes/{}/summary\n\nSign in to read it.\n",
                r.display_name,
                if referral.referred_by == Some(r.id) {
                    "you referred to"
                } else {
                    "registered with your practice was referred to"
                },
                referral.received_at.uk().format("%d %b %Y"),
                public_url.trim_end_matches('/'),
                e.id
            ),
            status: MessageStatus::Pending,
            created_at: now,
            sent_at: None,
        };
        s.store.enqueue_message(&msg).await?;
    }
    Ok(())
}
