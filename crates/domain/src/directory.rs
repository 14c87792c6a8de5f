//! The community directory: services run by voluntary and community organisations. The full
//! Open Referral UK model grows from this core.

use crate::ids::{OrgId, ServiceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A service a link worker can connect people to. Not person-identifiable; owned by the
/// organisation that runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    /// Open Referral status: active, inactive, defunct, temporarily closed.
    pub status: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}
