//! Organisations and teams. Organisations nest ICB → PCN → practice; VCSE organisations stand
//! beside them (optionally within an ICB's area). Every person-identifiable record belongs to
//! exactly one organisation, its tenant.

use crate::ids::{OrgId, TeamId};
use crate::values::OdsCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// Integrated Care Board.
    Icb,
    /// Primary Care Network: employs most link workers.
    Pcn,
    /// A GP practice.
    Practice,
    /// Voluntary, community or social enterprise organisation.
    Vcse,
    /// An agency that refers people (social services, housing, the police, a school), within
    /// the PCN whose service it refers to.
    Agency,
}

impl OrgKind {
    /// All kinds, in hierarchy order.
    pub const ALL: [OrgKind; 5] = [OrgKind::Icb, OrgKind::Pcn, OrgKind::Practice, OrgKind::Vcse, OrgKind::Agency];

    /// The code stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Icb => "icb",
            OrgKind::Pcn => "pcn",
            OrgKind::Practice => "practice",
            OrgKind::Vcse => "vcse",
            OrgKind::Agency => "agency",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            OrgKind::Icb => "Integrated Care Board",
            OrgKind::Pcn => "Primary Care Network",
            OrgKind::Practice => "GP practice",
            OrgKind::Vcse => "Voluntary, community or social enterprise",
            OrgKind::Agency => "Referring agency (social services, housing, police, school)",
        }
    }

    /// Which kinds of parent this kind may have (`None` in the list means "no parent").
    pub fn allowed_parents(self) -> &'static [Option<OrgKind>] {
        match self {
            OrgKind::Icb => &[None],
            OrgKind::Pcn => &[Some(OrgKind::Icb)],
            OrgKind::Practice => &[Some(OrgKind::Pcn)],
            OrgKind::Vcse => &[None, Some(OrgKind::Icb), Some(OrgKind::Pcn)],
            OrgKind::Agency => &[Some(OrgKind::Pcn)],
        }
    }

    /// Check that an organisation of this kind may sit under `parent`.
    pub fn check_parent(self, parent: Option<OrgKind>) -> Result<(), String> {
        if self.allowed_parents().contains(&parent) {
            return Ok(());
        }
        let wanted: Vec<&str> = self.allowed_parents().iter().map(|p| p.map_or("no parent", OrgKind::label)).collect();
        Err(format!("A {} must have {} as its parent", self.label(), wanted.join(" or ")))
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "icb" => Ok(OrgKind::Icb),
            "pcn" => Ok(OrgKind::Pcn),
            "practice" => Ok(OrgKind::Practice),
            "vcse" => Ok(OrgKind::Vcse),
            "agency" => Ok(OrgKind::Agency),
            other => Err(format!("unknown organisation kind {other:?}: use icb, pcn, practice, vcse or agency")),
        }
    }
}

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub ods_code: Option<OdsCode>,
    pub parent_id: Option<OrgId>,
    pub created_at: DateTime<Utc>,
}

/// A team of link workers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub org_id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Validate an organisation or team name: trimmed, 2–200 characters.
pub fn parse_name(input: &str) -> Result<String, crate::values::InvalidValue> {
    let s = input.trim();
    if (2..=200).contains(&s.chars().count()) {
        Ok(s.to_owned())
    } else {
        Err(crate::values::InvalidValue("Enter a name of 2 to 200 characters".into()))
    }
}

/// The tenant that receives a referral made by someone in `org`: a practice or an agency refers
/// to its PCN's social prescribing service; anyone else refers within their own organisation.
pub fn referral_tenant(org: &Organisation) -> OrgId {
    match (org.kind, org.parent_id) {
        (OrgKind::Practice | OrgKind::Agency, Some(pcn)) => pcn,
        _ => org.id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_rules() {
        assert!(OrgKind::Icb.check_parent(None).is_ok());
        assert!(OrgKind::Icb.check_parent(Some(OrgKind::Pcn)).is_err());
        assert!(OrgKind::Pcn.check_parent(Some(OrgKind::Icb)).is_ok());
        assert!(OrgKind::Pcn.check_parent(None).is_err());
        assert!(OrgKind::Practice.check_parent(Some(OrgKind::Pcn)).is_ok());
        assert!(OrgKind::Practice.check_parent(Some(OrgKind::Icb)).is_err());
        assert!(OrgKind::Vcse.check_parent(None).is_ok());
        assert!(OrgKind::Vcse.check_parent(Some(OrgKind::Practice)).is_err());
        let msg = OrgKind::Practice.check_parent(None).unwrap_err();
        assert!(msg.contains("Primary Care Network"), "{msg}");
    }

    #[test]
    fn kinds_round_trip() {
        for k in OrgKind::ALL {
            assert_eq!(k.as_str().parse::<OrgKind>().unwrap(), k);
        }
        assert!("hospital".parse::<OrgKind>().is_err());
    }
}
