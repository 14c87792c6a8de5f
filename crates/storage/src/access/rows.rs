//! Row types shared by both backends (sqlx's `FromRow` derive is generic over the driver) and
//! their conversion into domain values. A stored value that no longer parses is reported as a
//! database error rather than silently patched.

use chrono::{DateTime, Utc};
use linkwork_domain::StoreError;
use linkwork_domain::access::accounts::{Role, RoleGrant, User};
use linkwork_domain::access::organisations::{Organisation, Team};
use linkwork_domain::notifications::{MessageStatus, OutboxMessage};
use linkwork_domain::values::{Email, OdsCode};
use uuid::Uuid;

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is invalid: {e}"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    name: String,
    kind: String,
    ods_code: Option<String>,
    parent_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self, StoreError> {
        Ok(Organisation {
            id: r.id.into(),
            name: r.name,
            kind: r.kind.parse().map_err(|e| corrupt("organisation kind", e))?,
            ods_code: r.ods_code.map(|c| OdsCode::parse(&c)).transpose().map_err(|e| corrupt("ODS code", e))?,
            parent_id: r.parent_id.map(Into::into),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TeamRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<TeamRow> for Team {
    fn from(r: TeamRow) -> Self {
        Team { id: r.id.into(), org_id: r.org_id.into(), name: r.name, created_at: r.created_at }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    org_id: Uuid,
    email: String,
    display_name: String,
    password_hash: String,
    disabled: bool,
    is_demo: bool,
    created_at: DateTime<Utc>,
    session_generation: i32,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RoleRow {
    pub(crate) user_id: Uuid,
    org_id: Uuid,
    role: String,
}

impl UserRow {
    pub(crate) fn into_user(self, roles: Vec<RoleRow>) -> Result<User, StoreError> {
        let roles = roles
            .into_iter()
            .map(|r| {
                Ok(RoleGrant { org_id: r.org_id.into(), role: r.role.parse::<Role>().map_err(|e| corrupt("role", e))? })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(User {
            id: self.id.into(),
            org_id: self.org_id.into(),
            email: Email::parse(&self.email).map_err(|e| corrupt("email", e))?,
            display_name: self.display_name,
            password_hash: self.password_hash,
            disabled: self.disabled,
            is_demo: self.is_demo,
            session_generation: self.session_generation,
            roles,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: Uuid,
    org_id: Option<Uuid>,
    channel: String,
    recipient: String,
    subject: String,
    body: String,
    status: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(OutboxMessage {
            id: r.id.into(),
            org_id: r.org_id.map(Into::into),
            channel: r.channel,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            status: MessageStatus::parse(&r.status).ok_or_else(|| corrupt("message status", &r.status))?,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}
