//! Discharging an episode: closing it with a coded reason and the summary note, keeping the
//! message back as sent (a numbered version), then telling the referrer and the referring staff
//! of the person's GP practice (a link, never personal details). Reopening a discharged
//! episode, with a reason; discharging it again sends a corrected version that says what changed.
//!
//! The face has opened the episode under the legitimate-relationship rule (the break-glass
//! grant lives in the web session); this use case keeps the episode's own rules.

use super::message_back::build;
use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::accounts::{Role, User};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::casework::message_back::{Reopening, SentMessageBack};
use crate::casework::{DischargeReason, Episode, parse_words};
use crate::ids::{MessageBackId, MessageId, UserId};
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
    /// For a correction (the episode was discharged before): what changed since the last
    /// version sent. Required then; ignored on a first discharge.
    pub changes: String,
}

fn user_id(caller: &Caller<'_>) -> Option<UserId> {
    match caller.actor {
        Actor::User(u) => Some(u.id),
        Actor::Operator | Actor::Public | Actor::Link => None,
    }
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
    let previous = s.store.message_backs(episode.org_id, episode.id).await?;
    let changes = match previous.last() {
        None => Some(None),
        Some(last) => {
            let what = format!("what changed since the summary sent on {}", last.sent_at.uk().format("%-d %B %Y"));
            p.take("changes", parse_words(&input.changes, 2000, &what)).map(Some)
        }
    };
    p.check()?;
    let (Some(reason), Some(note), Some(changes)) = (reason, note, changes) else {
        unreachable!("checked above: all parsed")
    };
    let now = s.clock.now();
    // The document as it is sent: the record now, with the episode closing.
    let closing = Episode {
        closed_at: Some(now),
        discharge_reason: Some(reason),
        discharge_note: Some(note.clone()),
        follow_up_on: None,
        ..episode.clone()
    };
    let person = s.store.get_person(episode.org_id, episode.person_id).await?;
    let sent = SentMessageBack {
        id: MessageBackId::new(),
        org_id: episode.org_id,
        episode_id: episode.id,
        version: previous.last().map_or(1, |m| m.version + 1),
        document: build(s, &closing, &person).await?,
        changes,
        sent_at: now,
        sent_by: user_id(caller),
    };
    s.store
        .discharge(&Discharge {
            org_id: episode.org_id,
            episode_id: episode.id,
            version: input.version,
            reason,
            note,
            at: now,
            message_back: sent.clone(),
        })
        .await?;
    let entry = caller.entry(AuditEntry {
        person_id: Some(episode.person_id),
        record_id: Some(episode.id.to_string()),
        reason: Some(format!("discharged: {}; message back version {}", reason.as_str(), sent.version)),
        ..AuditEntry::new(now, AuditAction::Update, "episode")
    });
    s.audit.record(vec![entry]).await?;
    send_message_back(s, episode, &sent, public_url).await
}

/// A reopening as a face received it.
#[derive(Clone, Debug, Default)]
pub struct ReopenInput {
    /// The episode version the worker saw.
    pub version: i32,
    pub reason: String,
}

/// Reopen a discharged episode: the reason is required and kept; refused while the person has
/// another open episode (add to that one instead). The summaries already sent stay as sent;
/// the next discharge sends a corrected version.
pub async fn reopen(
    s: Services<'_>,
    caller: &Caller<'_>,
    episode: &Episode,
    input: &ReopenInput,
) -> Result<(), Failure> {
    let Some(closed_at) = episode.closed_at else {
        return Err(Failure::Conflict(Conflict::Version));
    };
    let mut p = Problems::default();
    let reason = p.take("reason", parse_words(&input.reason, 1000, "why the episode is being reopened"));
    p.check()?;
    let Some(reason) = reason else { unreachable!("checked above") };
    let now = s.clock.now();
    s.store
        .reopen(&Reopening {
            org_id: episode.org_id,
            episode_id: episode.id,
            version: input.version,
            reason: reason.clone(),
            closed_at,
            at: now,
            by: user_id(caller),
        })
        .await?;
    let entry = caller.entry(AuditEntry {
        person_id: Some(episode.person_id),
        record_id: Some(episode.id.to_string()),
        reason: Some(format!("reopened: {reason}")),
        ..AuditEntry::new(now, AuditAction::Update, "episode")
    });
    s.audit.record(vec![entry]).await?;
    Ok(())
}

/// Tell the referrer and the referring staff of the person's practice that the summary is
/// ready: an email with a link to it (sign-in required), no personal details.
async fn send_message_back(
    s: Services<'_>,
    e: &Episode,
    sent: &SentMessageBack,
    public_url: &str,
) -> Result<(), Failure> {
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
            subject: if sent.version == 1 {
                "A social prescribing discharge summary is ready".into()
            } else {
                format!("A corrected social prescribing discharge summary is ready (version {})", sent.version)
            },
            body: format!(
                "Hello {},\n\n{} {} social prescribing on {} has been discharged{}. The summary for the GP record is ready:\n\n{}/episodes/{}/summary?version={}\n\nSign in to read it.\n",
                r.display_name,
                if sent.version == 1 { "A person" } else { "A summary was sent earlier; a person" },
                if referral.referred_by == Some(r.id) {
                    "you referred to"
                } else {
                    "registered with your practice was referred to"
                },
                referral.received_at.uk().format("%d %b %Y"),
                if sent.version == 1 { "" } else { " again, and the summary corrected (it says what changed)" },
                public_url.trim_end_matches('/'),
                e.id,
                sent.version
            ),
            status: MessageStatus::Pending,
            created_at: now,
            sent_at: None,
        };
        s.store.enqueue_message(&msg).await?;
    }
    Ok(())
}
