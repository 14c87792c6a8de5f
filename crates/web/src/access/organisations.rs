//! The organisation tree as the web layer needs it: whether one organisation lies inside
//! another's tenant (ICB → PCN → practice), for rules that stop at a tenant's edge.

use crate::{AppError, AppState};
use linkwork_domain::access::organisations::Organisation;
use linkwork_domain::ids::OrgId;

/// Whether `org` is `ancestor` or lies below it (its parent, its parent's parent…).
pub(crate) async fn is_within(state: &AppState, org: &Organisation, ancestor: OrgId) -> Result<bool, AppError> {
    let mut current = Some(org.clone());
    // The hierarchy is at most ICB → PCN → practice; the bound guards against a loop in data.
    for _ in 0..8 {
        let Some(o) = current else { return Ok(false) };
        if o.id == ancestor {
            return Ok(true);
        }
        current = match o.parent_id {
            Some(p) => Some(state.store.get_org(p).await?),
            None => None,
        };
    }
    Ok(false)
}
