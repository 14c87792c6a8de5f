//! Changing a connection's status, from either end: the service answering in its inbox (and
//! soon a partner system through FHIR Task), or the referring link worker cancelling. One rule
//! for which moves are allowed and who may make them, one audit.

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::connections::{Connection, ConnectionEvent, DeclineReason, Side, TaskStatus};
use crate::ids::ConnectionId;
use crate::ports::ConnectionScope;

/// A status change as a face received it.
#[derive(Clone, Debug, Default)]
pub struct StatusChange {
    pub to: String,
    pub reason: String,
    pub note: String,
    /// The connection version the person saw.
    pub version: i32,
}

/// Move connection `id` (found only within `scope`) to a new status: allowed from where it is
/// and for this side; a decline needs its coded reason; a note of at most 2,000 characters. A
/// stale version is `Conflict::Version`. Audited as a change to the person's record. When the
/// service answers, the worker who referred is emailed if they asked to be (a link to the
/// record at `public_url`, never the person's details).
pub async fn change_status(
    s: Services<'_>,
    caller: &Caller<'_>,
    scope: ConnectionScope<'_>,
    id: ConnectionId,
    change: &StatusChange,
    public_url: &str,
) -> Result<Connection, Failure> {
    let Actor::User(user) = caller.actor else { return Err(Failure::NotFound) };
    let side = match scope {
        ConnectionScope::Tenant(_) => Side::Referring,
        ConnectionScope::Receiving(_) => Side::Receiving,
    };
    let c = s.store.get_connection(scope, id).await?;
    let mut p = Problems::default();
    let to = change.to.parse::<TaskStatus>().ok().filter(|t| c.status.may_become(*t) && t.settable_by(side));
    if to.is_none() {
        p.add(
            "status",
            match change.to.parse::<TaskStatus>() {
                Ok(t) => format!(
                    "A referral that is {} cannot be marked {}",
                    c.status.label().to_lowercase(),
                    t.label().to_lowercase()
                ),
                Err(_) => "Choose what has happened".into(),
            },
        );
    }
    let reason = Some(change.reason.trim()).filter(|r| !r.is_empty()).and_then(|r| r.parse::<DeclineReason>().ok());
    if to == Some(TaskStatus::Rejected) && reason.is_none() {
        p.add("reason", "Choose why you are declining");
    }
    let note = change.note.trim().to_owned();
    if note.chars().count() > 2000 {
        p.add("note", "Keep the note to 2,000 characters");
    }
    p.check()?;
    let Some(to) = to else { unreachable!("checked above") };
    let now = s.clock.now();
    let event = ConnectionEvent {
        connection_id: c.id,
        status: to,
        reason: reason.filter(|_| to == TaskStatus::Rejected),
        note,
        at: now,
        by: user.id,
        by_name: user.display_name.clone(),
    };
    let changed = s.store.change_connection(&Connection { version: change.version, ..c.clone() }, &event, side).await?;
    let entry = caller.entry(AuditEntry {
        person_id: Some(c.person_id),
        record_id: Some(c.id.to_string()),
        reason: Some(to.as_str().into()),
        ..AuditEntry::new(now, AuditAction::Update, "connection")
    });
    // The connection's tenant, whichever end acted (a service's staff belong to the VCSE).
    s.audit.record(vec![AuditEntry { org_id: Some(c.org_id), ..entry }]).await?;
    if side == Side::Receiving {
        tell_the_referrer(s, &changed, public_url).await?;
    }
    Ok(changed)
}

/// Email the worker who made the referral that the service has answered, if they asked to be.
async fn tell_the_referrer(s: Services<'_>, c: &Connection, public_url: &str) -> Result<(), Failure> {
    if !s.store.email_on_answer(c.created_by).await? {
        return Ok(());
    }
    let worker = s.store.get_user(c.created_by).await?;
    if worker.disabled {
        return Ok(());
    }
    let msg = crate::notifications::OutboxMessage {
        id: crate::ids::MessageId::new(),
        org_id: Some(c.org_id),
        channel: "email".into(),
        recipient: worker.email.to_string(),
        subject: "A service has answered a referral you made".into(),
        body: format!(
            "Hello {},\n\n{} has answered a referral you made (it is now: {}). Read it on the person's record:\n\n{}/people/{}#connections\n\nSign in to read it. You can turn these emails off at {}/account/notifications.\n",
            worker.display_name,
            c.service_name,
            c.status.label().to_lowercase(),
            public_url.trim_end_matches('/'),
            c.person_id,
            public_url.trim_end_matches('/'),
        ),
        status: crate::notifications::MessageStatus::Pending,
        created_at: s.clock.now(),
        sent_at: None,
    };
    s.store.enqueue_message(&msg).await?;
    Ok(())
}
