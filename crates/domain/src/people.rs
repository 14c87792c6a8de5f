//! People referred to social prescribing. The full record (demographics, contact preferences,
//! duplicates and merging) grows with the casework; this is the identifying core every other
//! record hangs from.

use crate::ids::{OrgId, PersonId};
use crate::values::{NhsNumber, Postcode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A person, always held by exactly one tenant organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    /// The tenant that holds this record.
    pub org_id: OrgId,
    /// The primary identifier; absent for some self-referrals until it is traced.
    pub nhs_number: Option<NhsNumber>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: Option<Postcode>,
    pub created_at: DateTime<Utc>,
}
