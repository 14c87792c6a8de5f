//! User accounts and roles. A user belongs to one home organisation and may hold several roles,
//! each granted within an organisation. Permission rules built on these roles come with the
//! access-control work; this module owns the vocabulary.

use crate::ids::{OrgId, UserId};
use crate::values::Email;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a user holds within an organisation (domain.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Manager,
    LinkWorker,
    Referrer,
    /// Refers from an agency (social services, housing, the police, a school): the same rules
    /// as a practice's referrer, for the referrals they make.
    AgencyReferrer,
    VcsePartner,
    Commissioner,
    Researcher,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::Administrator,
        Role::Manager,
        Role::LinkWorker,
        Role::Referrer,
        Role::AgencyReferrer,
        Role::VcsePartner,
        Role::Commissioner,
        Role::Researcher,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Manager => "manager",
            Role::LinkWorker => "link_worker",
            Role::Referrer => "referrer",
            Role::AgencyReferrer => "agency_referrer",
            Role::VcsePartner => "vcse_partner",
            Role::Commissioner => "commissioner",
            Role::Researcher => "researcher",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Manager => "Manager or supervisor",
            Role::LinkWorker => "Link worker",
            Role::Referrer => "Referrer",
            Role::AgencyReferrer => "Agency referrer",
            Role::VcsePartner => "Voluntary sector partner",
            Role::Commissioner => "Commissioner",
            Role::Researcher => "Researcher",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|r| r.as_str() == norm || (norm == "supervisor" && *r == Role::Manager)).ok_or_else(
            || {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}: use one of {}", names.join(", "))
            },
        )
    }
}

/// A role granted within an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub org_id: OrgId,
    pub role: Role,
}

/// A user account. The password hash never leaves the server and is redacted from `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub display_name: String,
    pub password_hash: String,
    pub disabled: bool,
    /// Created by `linkwork demo`: the only accounts that may ever be exempt from two-factor.
    pub is_demo: bool,
    pub roles: Vec<RoleGrant>,
    pub created_at: DateTime<Utc>,
    /// Moves on each time all of the user's sessions are revoked. A session remembers the
    /// generation it was signed in under and stops working once the user's has moved on, so a
    /// revoked session cannot come back (a request in flight saving it again, a sign-in
    /// finishing after a password reset).
    pub session_generation: i32,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("is_demo", &self.is_demo)
            .field("roles", &self.roles)
            .field("session_generation", &self.session_generation)
            .finish()
    }
}

impl User {
    /// Whether the user holds `role` in any organisation.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|g| g.role == role)
    }
}

/// A one-time link for setting a password: `invite` (a new account) or `reset`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountToken {
    /// SHA-256 of the token; the token itself is only ever in the email.
    pub token_hash: String,
    pub user_id: UserId,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountToken").field("user_id", &self.user_id).field("purpose", &self.purpose).finish()
    }
}

/// How long an invitation link lasts.
pub const INVITE_VALID: chrono::Duration = chrono::Duration::days(7);
/// How long a password reset link lasts.
pub const RESET_VALID: chrono::Duration = chrono::Duration::hours(1);

/// A user's authenticator (TOTP) registration.
#[derive(Clone, PartialEq, Eq)]
pub struct TwoFactor {
    /// Base32 secret shared with the authenticator app.
    pub secret: String,
    /// When the user proved the authenticator works; until then it is not used at sign-in.
    pub enabled_at: Option<DateTime<Utc>>,
    /// The last 30-second step accepted (codes are never accepted twice).
    pub last_step: Option<i64>,
}

impl fmt::Debug for TwoFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwoFactor").field("secret", &"<redacted>").field("enabled_at", &self.enabled_at).finish()
    }
}

/// Roles that can see person-identifiable (or pseudonymised personal) data. Holding any of them
/// makes two-factor sign-in required, where the organisation requires it (the default).
/// Commissioners see aggregates only.
pub const ROLES_SEEING_PERSONAL_DATA: [Role; 7] = [
    Role::Administrator,
    Role::Manager,
    Role::LinkWorker,
    Role::Referrer,
    Role::AgencyReferrer,
    Role::VcsePartner,
    Role::Researcher,
];

/// Whether `user` must use a second factor to sign in. Only accounts made by the demo data
/// generator are ever exempt (`is_demo` is set nowhere else).
pub fn two_factor_required(user: &User, org_requires: bool) -> bool {
    !user.is_demo && org_requires && user.roles.iter().any(|g| ROLES_SEEING_PERSONAL_DATA.contains(&g.role))
}

/// A stored session: opaque data owned by the web layer, plus the user it belongs to so every
/// session of a user can be revoked at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: Option<UserId>,
    pub data: String,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role], demo: bool) -> User {
        let org = crate::ids::OrgId::new();
        User {
            id: UserId::new(),
            org_id: org,
            email: Email::parse("a@b.test").unwrap(),
            display_name: "A".into(),
            password_hash: String::new(),
            disabled: false,
            is_demo: demo,
            roles: roles.iter().map(|r| RoleGrant { org_id: org, role: *r }).collect(),
            created_at: chrono::DateTime::default(),
            session_generation: 0,
        }
    }

    #[test]
    fn two_factor_rules() {
        assert!(two_factor_required(&user(&[Role::LinkWorker], false), true));
        assert!(!two_factor_required(&user(&[Role::LinkWorker], false), false), "the organisation turned it off");
        assert!(!two_factor_required(&user(&[Role::Commissioner], false), true), "aggregates only");
        assert!(two_factor_required(&user(&[Role::Commissioner, Role::Researcher], false), true));
        assert!(!two_factor_required(&user(&[Role::Administrator], true), true), "demo accounts are exempt");
    }

    #[test]
    fn roles_parse_leniently_and_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert_eq!("Link worker".parse::<Role>().unwrap(), Role::LinkWorker);
        assert_eq!("supervisor".parse::<Role>().unwrap(), Role::Manager);
        assert!("superuser".parse::<Role>().is_err());
    }
}
