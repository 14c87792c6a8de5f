//! Flags on a person: safeguarding, lone-working risk and other risks to staff. Each change is
//! kept (who, when, what it said), and the flag as it stands is on every page of the person.

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::ids::FlagId;
use crate::people::{FlagAction, FlagChange, FlagKind, Person, optional_text};

/// Raise, change or clear the `kind` flag on `person` (empty `text` clears it). Saving the same
/// words again changes nothing and records nothing.
pub async fn set_flag(
    s: Services<'_>,
    caller: &Caller<'_>,
    person: &Person,
    kind: &str,
    text: &str,
) -> Result<Option<FlagAction>, Failure> {
    let mut p = Problems::default();
    let kind = p.take("kind", kind.parse::<FlagKind>());
    let text = p.take("concern", optional_text(text, 1000, "the concern"));
    p.check()?;
    let (Some(kind), Some(text)) = (kind, text) else { unreachable!("checked above") };
    let Some(action) = FlagAction::of(kind.on(person), text.as_deref()) else { return Ok(None) };
    let now = s.clock.now();
    let by = match caller.actor {
        Actor::User(u) => Some(u.id),
        Actor::Operator | Actor::Public => None,
    };
    s.store
        .change_flag(&FlagChange {
            id: FlagId::new(),
            org_id: person.org_id,
            person_id: person.id,
            kind,
            action,
            text,
            at: now,
            by,
        })
        .await?;
    let entry = caller.entry(AuditEntry {
        org_id: Some(person.org_id),
        person_id: Some(person.id),
        record_id: Some(person.id.to_string()),
        reason: Some(format!("{}: {}", kind.label(), action.label().to_lowercase())),
        ..AuditEntry::new(now, AuditAction::Update, "person_flag")
    });
    s.audit.record(vec![entry]).await?;
    Ok(Some(action))
}
