//! Who looks after a directory organisation: its steward tenant and the organisations above it.

use crate::{AppError, AppState};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::organisations::{OrgKind, Organisation};
use linkwork_domain::access::permissions::{Permission, granted};
use linkwork_domain::directory::Listing;
use linkwork_domain::ids::OrgId;

/// The tenants whose directory `user` looks after as directory staff: the organisations in which
/// they hold a directory-staff role, and every organisation below those (an ICB's staff look
/// after its PCNs' directories). Empty for everyone else. Directory staff act only on
/// organisations whose steward is in this list.
pub(crate) async fn stewardship(state: &AppState, user: &User) -> Result<Vec<OrgId>, AppError> {
    let mut out: Vec<OrgId> = vec![];
    let mut frontier: Vec<Organisation> = vec![];
    for g in staff_grants(user) {
        frontier.push(state.store.get_org(g).await?);
    }
    while let Some(o) = frontier.pop() {
        if out.contains(&o.id) {
            continue;
        }
        out.push(o.id);
        // Practices and voluntary groups have nothing below them.
        if matches!(o.kind, OrgKind::Icb | OrgKind::Pcn) {
            frontier.extend(state.store.child_orgs(o.id).await?);
        }
    }
    Ok(out)
}

/// The organisations in which `user` holds a directory-staff role.
pub(super) fn staff_grants(user: &User) -> Vec<OrgId> {
    user.roles
        .iter()
        .filter(|g| linkwork_domain::access::permissions::role_allows(g.role, Permission::ManageDirectory))
        .map(|g| g.org_id)
        .collect()
}

/// Whether `user` is directory staff for `steward`: it is one of their staff organisations or
/// lies below one. Walks up from the steward (at most the depth of the tree), so a page that
/// asks once per listing stays cheap.
pub(super) async fn stewards(state: &AppState, user: &User, steward: OrgId) -> Result<bool, AppError> {
    let grants = staff_grants(user);
    if grants.is_empty() {
        return Ok(false);
    }
    let steward = state.store.get_org(steward).await?;
    for g in grants {
        if crate::access::organisations::is_within(state, &steward, g).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `user` may edit `listing`: directory staff those their organisation stewards; a
/// voluntary group its own.
pub(crate) async fn may_edit(state: &AppState, user: &User, listing: &Listing) -> Result<bool, AppError> {
    if granted(user, Permission::EditListings)
        && listing.owner_org_id.is_some_and(|o| user.roles.iter().any(|g| g.org_id == o))
    {
        return Ok(true);
    }
    match listing.steward_org_id {
        Some(steward) if granted(user, Permission::ManageDirectory) => stewards(state, user, steward).await,
        _ => Ok(false),
    }
}
