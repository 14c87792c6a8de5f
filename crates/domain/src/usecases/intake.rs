//! Taking in a referral, by any channel that sends one at a time: the referral form, the
//! public self-referral form and the JSON API (the CSV import, all-or-nothing, has its own bulk
//! path over the same validation). One validation, one way of finding the person, one audit.

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::access::organisations::{OrgKind, referral_tenant};
use crate::ids::{OrgId, TeamId};
use crate::intake::referrals::Referral;
use crate::intake::{Channel, Intake, RawReferral, parse_referral};
use crate::people::{DuplicateReason, Person, likely_duplicate};
use crate::ports::{Created, IdempotencyKey, Store, StoreError};

/// The service a member of the public is asking: the PCN of the GP practice they chose; without
/// one, the PCN whose teams serve their postcode district; or a PCN named as `service` (forms
/// saved before practices were offered). Nobody is asked to know what a PCN is.
async fn public_service(s: Services<'_>, raw: &RawReferral, service: Option<OrgId>) -> Result<Option<OrgId>, Failure> {
    let orgs = s.store.list_orgs().await?;
    let practice = raw.practice_id.trim();
    if !practice.is_empty() {
        let pcn = orgs
            .iter()
            .find(|o| o.kind == OrgKind::Practice && o.id.to_string() == practice)
            .and_then(|o| o.parent_id)
            .filter(|parent| orgs.iter().any(|o| o.id == *parent && o.kind == OrgKind::Pcn));
        return Ok(pcn);
    }
    if let Some(id) = service {
        return Ok(orgs.iter().find(|o| o.id == id && o.kind == OrgKind::Pcn).map(|o| o.id));
    }
    let Ok(postcode) = crate::values::Postcode::parse(&raw.postcode) else { return Ok(None) };
    let district = postcode.outward().to_uppercase();
    for pcn in orgs.iter().filter(|o| o.kind == OrgKind::Pcn) {
        for team in s.store.list_teams(pcn.id).await? {
            let settings = s.store.team_settings(pcn.id, team.id).await?;
            if settings.areas.iter().any(|a| a.trim().eq_ignore_ascii_case(&district)) {
                return Ok(Some(pcn.id));
            }
        }
    }
    Ok(None)
}

/// Check a referral: which tenant receives it (a practice refers to its PCN; a member of the
/// public is found theirs from their GP practice or postcode), its team and GP practice within that tenant, and
/// every field (`domain::intake::parse_referral`). Every problem comes back at once; nothing
/// is stored.
pub async fn check_referral(
    s: Services<'_>,
    caller: &Caller<'_>,
    raw: &RawReferral,
    service: Option<OrgId>,
) -> Result<Intake, Failure> {
    let mut p = Problems::default();
    let (tenant, channel) = match caller.actor {
        Actor::User(u) => (Some(referral_tenant(&s.store.get_org(u.org_id).await?)), Channel::Professional),
        // The command line brings referrals in bulk (`linkwork import referrals`), not one by one.
        Actor::Operator | Actor::Link => {
            p.add("service", "Import referrals from the command line with `linkwork import referrals`");
            return Err(Failure::Invalid(p.0));
        }
        Actor::Public => {
            let pcn = public_service(s, raw, service).await?;
            if pcn.is_none() {
                p.add(
                    "practice_id",
                    "Choose your GP practice: we could not find a social prescribing service for your postcode",
                );
            }
            (pcn, Channel::SelfReferral)
        }
    };
    let team = match (tenant, raw.team_id.trim(), channel) {
        (_, "", _) | (_, _, Channel::SelfReferral) => None,
        (Some(t), id, Channel::Professional) => {
            let teams = s.store.list_teams(t).await?;
            let found = id.parse::<TeamId>().ok().filter(|id| teams.iter().any(|x| x.id == *id));
            if found.is_none() {
                p.add("team_id", "Choose a team from the list");
            }
            found
        }
        (None, _, _) => None,
    };
    if let (Some(t), practice) = (tenant, raw.practice_id.trim())
        && !practice.is_empty()
    {
        let practices = s.store.child_orgs(t).await?;
        if !practices.iter().any(|o| o.kind == OrgKind::Practice && o.id.to_string() == practice) {
            p.add("practice_id", "Choose a GP practice from the list");
        }
    }
    let parsed = parse_referral(raw, tenant.unwrap_or_default(), s.clock.now(), channel);
    let mut intake = match parsed {
        Ok(i) => i,
        Err(errors) => {
            for e in errors {
                // One problem per field: the tenant's own check speaks first.
                if !p.has(e.field) {
                    p.0.push(e);
                }
            }
            return Err(Failure::Invalid(p.0));
        }
    };
    p.check()?;
    intake.referral.team_id = team;
    match caller.actor {
        Actor::User(u) => intake.referral.referred_by = Some(u.id),
        Actor::Public | Actor::Operator | Actor::Link => intake.referral.referrer_name = "Self-referral".into(),
    }
    Ok(intake)
}

/// Find the person a referral is about: an existing record in the tenant with the same NHS
/// number, date of birth and name (within a typo) is the same person. A matching NHS number
/// with another name or date of birth is not trusted: the referral brings a new record, which
/// triage shows beside the other for a worker to reconcile, and the referrer never learns what
/// the stored record says. Returns the new person to store, if any.
pub async fn resolve_person(store: &dyn Store, intake: &mut Intake) -> Result<Option<Person>, StoreError> {
    let candidates = store
        .duplicate_candidates(intake.person.org_id, intake.person.nhs_number.as_ref(), intake.person.date_of_birth)
        .await?;
    if let Some(existing) =
        candidates.into_iter().find(|c| likely_duplicate(&intake.person, c) == Some(DuplicateReason::SameNhsNumber))
    {
        intake.referral.person_id = existing.id;
        intake.person = existing;
        return Ok(None);
    }
    Ok(Some(intake.person.clone()))
}

/// Record a checked referral: its person found (professionals' referrals; a self-referral's
/// identity is unverified, so it always brings a new record), the referral stored (with its
/// idempotency key, when the face has one) and audited. A replay answers the first result and
/// completes a missing audit event.
pub async fn record_referral(
    s: Services<'_>,
    caller: &Caller<'_>,
    mut intake: Intake,
    idem: Option<&IdempotencyKey>,
) -> Result<Created<Referral>, Failure> {
    let new_person = match caller.actor {
        Actor::User(_) => resolve_person(s.store, &mut intake).await?,
        Actor::Public | Actor::Operator | Actor::Link => Some(intake.person.clone()),
    };
    let created = s.store.create_referral(new_person.as_ref(), &intake.referral, idem).await?;
    let (r, replayed) = match &created {
        Created::New(r) => (r, false),
        Created::Replayed(r) => (r, true),
    };
    if !replayed || !s.store.audited(AuditAction::Create, "referral", &r.id.to_string()).await? {
        let entry = caller.entry(AuditEntry {
            record_id: Some(r.id.to_string()),
            person_id: Some(r.person_id),
            reason: replayed.then(|| "recorded when the request was retried".to_owned()),
            ..AuditEntry::new(s.clock.now(), AuditAction::Create, "referral")
        });
        // The referral's tenant, whoever sent it (a practice's referrer belongs to the practice).
        s.audit.record(vec![AuditEntry { org_id: Some(r.org_id), ..entry }]).await?;
    }
    Ok(created)
}

/// Check and record in one step, for faces with nothing to do between (the form, the API).
pub async fn take_referral(
    s: Services<'_>,
    caller: &Caller<'_>,
    raw: &RawReferral,
    service: Option<OrgId>,
    idem: Option<&IdempotencyKey>,
) -> Result<Created<Referral>, Failure> {
    let intake = check_referral(s, caller, raw, service).await?;
    record_referral(s, caller, intake, idem).await
}
