//! The organisation tree as the web layer needs it: whether one organisation lies inside
//! another's tenant (ICB → PCN → practice), for rules that stop at a tenant's edge. The walk is
//! the use-case layer's (`usecases::access::is_within`), so the API and the pages agree.

use crate::{AppError, AppState};
use linkwork_domain::access::organisations::Organisation;
use linkwork_domain::ids::OrgId;

/// Whether `org` is `ancestor` or lies below it (its parent, its parent's parent…).
pub(crate) async fn is_within(state: &AppState, org: &Organisation, ancestor: OrgId) -> Result<bool, AppError> {
    Ok(linkwork_domain::usecases::access::is_within(state.store.as_ref(), org, ancestor).await?)
}
