//! Who may do what: the permission rules, in one place, as data. Every route in the web layer
//! names one [`Permission`]; [`granted`] decides from the user's roles. domain.md section 2 is
//! the source: what each role needs, and what it must never see.

use crate::access::accounts::{Role, User};
use serde::Serialize;

/// Something a route lets a person do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    /// No sign-in needed: the sign-in page, health, assets, the API root.
    Public,
    /// Any signed-in user: their home page, signing out.
    SignedIn,
    /// Browse the community directory (no personal data).
    ViewDirectory,
    /// See the team's caseload and open person records (within the legitimate-relationship rule).
    ViewCaseload,
    /// List organisations (names, kinds, ODS codes: no personal data).
    ViewOrganisations,
    /// Create organisations.
    ManageOrganisations,
    /// Read the notification outbox and job status (messages may name people).
    ViewNotifications,
    /// Search the audit trail and produce access reports.
    ViewAudit,
    /// Unlock accounts, disable users, revoke sessions.
    ManageUsers,
    /// Refer a person to social prescribing and follow one's own referrals' status.
    MakeReferral,
    /// Triage referrals: the waiting list, accept, decline, redirect; bulk import.
    Triage,
    /// Record casework on people in the caseload: conversations, plans, contacts, holding,
    /// appointments, barriers, discharge; search people; see one's own practice profile.
    RecordCasework,
    /// Set the team's micro-discretions (accepted referrals, defaults, allowed places).
    ManageTeam,
    /// See the practice profiles of the team one supervises.
    SuperviseTeam,
    /// Keep the directory trustworthy: resolve problem reports, approve claims, edit any listing.
    ManageDirectory,
    /// Edit listings (voluntary groups their own; directory staff any), set capacity, verify.
    EditListings,
    /// A voluntary group's inbox of referrals to its services: accept, decline, attendance.
    AnswerReferrals,
}

impl Permission {
    /// Every permission, for exhaustive tests.
    pub const ALL: [Permission; 17] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::ViewDirectory,
        Permission::ViewCaseload,
        Permission::ViewOrganisations,
        Permission::ManageOrganisations,
        Permission::ViewNotifications,
        Permission::ViewAudit,
        Permission::ManageUsers,
        Permission::MakeReferral,
        Permission::Triage,
        Permission::RecordCasework,
        Permission::ManageTeam,
        Permission::SuperviseTeam,
        Permission::ManageDirectory,
        Permission::EditListings,
        Permission::AnswerReferrals,
    ];
}

/// The rule table: which roles hold each permission beyond `Public` and `SignedIn`.
pub const RULES: &[(Permission, &[Role])] = &[
    (Permission::ViewDirectory, &Role::ALL),
    (Permission::ViewOrganisations, &Role::ALL),
    (Permission::ViewCaseload, &[Role::LinkWorker, Role::Manager]),
    (Permission::ManageOrganisations, &[Role::Administrator]),
    (Permission::ViewNotifications, &[Role::Administrator]),
    (Permission::ViewAudit, &[Role::Administrator]),
    (Permission::ManageUsers, &[Role::Administrator]),
    (Permission::MakeReferral, &[Role::Referrer, Role::AgencyReferrer, Role::LinkWorker, Role::Manager]),
    (Permission::Triage, &[Role::LinkWorker, Role::Manager]),
    (Permission::RecordCasework, &[Role::LinkWorker, Role::Manager]),
    (Permission::ManageTeam, &[Role::Manager, Role::Administrator]),
    (Permission::SuperviseTeam, &[Role::Manager]),
    (Permission::ManageDirectory, &[Role::Administrator, Role::Manager]),
    (Permission::EditListings, &[Role::VcsePartner, Role::Administrator, Role::Manager]),
    (Permission::AnswerReferrals, &[Role::VcsePartner]),
];

/// Whether `role` holds `permission`. `Public` and `SignedIn` hold for every role.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    match permission {
        Permission::Public | Permission::SignedIn => true,
        p => RULES.iter().any(|(rule, roles)| *rule == p && roles.contains(&role)),
    }
}

/// Whether a signed-in user (any of their roles) holds `permission`. Disabled users hold nothing.
pub fn granted(user: &User, permission: Permission) -> bool {
    !user.disabled && user.roles.iter().any(|g| role_allows(g.role, permission))
}

/// How long a break-glass reason opens a record for.
pub const BREAK_GLASS_FOR: chrono::Duration = chrono::Duration::hours(1);

/// The legitimate-relationship rule: a person is in a worker's caseload when one of their
/// referrals went to a team the worker belongs to. Outside it, a record opens only with a
/// recorded reason (break glass), which managers are told about.
pub fn in_caseload(user_teams: &[crate::ids::TeamId], person_teams: &[crate::ids::TeamId]) -> bool {
    person_teams.iter().any(|t| user_teams.contains(t))
}

/// A break-glass reason: said in words, 10 to 500 characters.
pub fn parse_break_glass_reason(input: &str) -> Result<String, crate::values::InvalidValue> {
    let s = input.trim();
    match s.chars().count() {
        0 => Err(crate::values::InvalidValue("Say why you need to open this record".into())),
        1..=9 => Err(crate::values::InvalidValue("Give a fuller reason, of at least 10 characters".into())),
        501.. => Err(crate::values::InvalidValue("Keep the reason to 500 characters or fewer".into())),
        _ => Ok(s.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caseload_and_break_glass_rules() {
        use crate::ids::TeamId;
        let (a, b) = (TeamId::new(), TeamId::new());
        assert!(in_caseload(&[a], &[b, a]));
        assert!(!in_caseload(&[a], &[b]));
        assert!(!in_caseload(&[], &[a]));
        assert!(parse_break_glass_reason("  ").is_err());
        assert!(parse_break_glass_reason("covering").is_err());
        assert!(parse_break_glass_reason(&"x".repeat(501)).is_err());
        assert_eq!(
            parse_break_glass_reason(" Covering for a colleague on leave ").unwrap(),
            "Covering for a colleague on leave"
        );
    }

    #[test]
    fn every_permission_has_a_rule_or_is_universal() {
        for p in Permission::ALL {
            let universal = matches!(p, Permission::Public | Permission::SignedIn);
            let ruled = RULES.iter().filter(|(r, _)| *r == p).count();
            assert!(universal ^ (ruled == 1), "{p:?} needs exactly one rule (or to be universal)");
        }
    }

    #[test]
    fn administration_is_for_administrators_only() {
        for p in [
            Permission::ManageOrganisations,
            Permission::ViewAudit,
            Permission::ManageUsers,
            Permission::ViewNotifications,
        ] {
            for r in Role::ALL {
                assert_eq!(role_allows(r, p), r == Role::Administrator, "{r:?} {p:?}");
            }
        }
    }
}
