//! Organisations: creating one, from the API (an administrator, inside their own tenant) or the
//! command line (the operator, anywhere in the tree).

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::access::organisations::{OrgKind, Organisation, parse_name};
use crate::ids::OrgId;
use crate::ports::{Created, IdempotencyKey, Store, StoreError};
use crate::values::OdsCode;

/// A new organisation as a face received it.
#[derive(Clone, Debug, Default)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: String,
    pub ods_code: Option<String>,
    pub parent_id: Option<OrgId>,
}

/// Whether `org` is `ancestor` or lies below it (its parent, its parent's parent…).
pub async fn is_within(store: &dyn Store, org: &Organisation, ancestor: OrgId) -> Result<bool, StoreError> {
    let mut current = Some(org.clone());
    // The hierarchy is at most ICB → PCN → practice; the bound guards against a loop in data.
    for _ in 0..8 {
        let Some(o) = current else { return Ok(false) };
        if o.id == ancestor {
            return Ok(true);
        }
        current = match o.parent_id {
            Some(p) => Some(store.get_org(p).await?),
            None => None,
        };
    }
    Ok(false)
}

/// Create an organisation: a name, a kind that fits under its parent (ICB → PCN → practice;
/// VCSE beside), an ODS code if it has one. An administrator adds organisations inside their
/// own tenant only (under their own organisation or one below it); top-level organisations and
/// other tenants' are the operator's. Audited; a create retried with its idempotency key
/// answers the first result and completes a missing audit event.
pub async fn create_organisation(
    s: Services<'_>,
    caller: &Caller<'_>,
    input: &NewOrganisation,
    idem: Option<&IdempotencyKey>,
) -> Result<Created<Organisation>, Failure> {
    let mut p = Problems::default();
    let name = p.take("name", parse_name(&input.name));
    let kind = p.take("kind", input.kind.parse::<OrgKind>());
    let ods_code = match input.ods_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => p.take("ods_code", OdsCode::parse(code)),
        None => None,
    };
    let parent = match input.parent_id {
        None => None,
        Some(id) => match s.store.get_org(id).await {
            Ok(o) => Some(o),
            Err(StoreError::NotFound) => {
                p.add("parent_id", "No organisation has this id");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    if let Some(k) = kind
        && !p.has("parent_id")
        && let Err(e) = k.check_parent(parent.as_ref().map(|o| o.kind))
    {
        p.add("parent_id", e);
    }
    if let Actor::User(user) = caller.actor
        && !p.has("parent_id")
    {
        let inside = match &parent {
            Some(o) => is_within(s.store, o, user.org_id).await?,
            None => false,
        };
        if !inside {
            p.add("parent_id", "Give your own organisation, or one below it, as the parent");
        }
    }
    p.check()?;
    let (Some(name), Some(kind)) = (name, kind) else { unreachable!("checked above: both parsed") };
    let org = Organisation {
        id: OrgId::new(),
        name,
        kind,
        ods_code,
        parent_id: parent.map(|o| o.id),
        created_at: s.clock.now(),
    };
    let created = s.store.create_org(&org, idem).await?;
    let (org, replayed) = match &created {
        Created::New(o) => (o, false),
        Created::Replayed(o) => (o, true),
    };
    // Every acknowledged create is audited: a retry completes the event if the first attempt
    // committed the record but died before its audit write.
    if !replayed || !s.store.audited(AuditAction::Create, "organisation", &org.id.to_string()).await? {
        let entry = caller.entry(AuditEntry {
            record_id: Some(org.id.to_string()),
            org_id: Some(org.id),
            reason: replayed.then(|| "recorded when the request was retried".to_owned()),
            ..AuditEntry::new(s.clock.now(), AuditAction::Create, "organisation")
        });
        s.audit.record(vec![entry]).await?;
    }
    Ok(created)
}

/// Every event of organisation `org` about `person` (their record touched, or shown in a list),
/// newest first, read a page at a time: the whole trail, for a subject access request.
pub async fn person_trail(
    s: Services<'_>,
    org: OrgId,
    person: crate::ids::PersonId,
) -> Result<Vec<crate::access::audit::AuditEvent>, Failure> {
    const PAGE: i64 = 1000;
    let mut all = vec![];
    let mut before = None;
    loop {
        let filter = crate::access::audit::AuditFilter {
            org_id: Some(org),
            person_id: Some(person),
            before_seq: before,
            limit: PAGE,
            ..Default::default()
        };
        let page = s.store.search_audit(&filter).await?;
        let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
        before = page.last().map(|e| e.seq);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}
