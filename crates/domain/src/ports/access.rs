//! Accounts and access: organisations and teams, users, sessions, the audit trail, throttles, second factors and one-time links.

use super::{Created, IdempotencyKey, StoreResult};
use crate::access::accounts::{AccountToken, RoleGrant, SessionRecord, TwoFactor, User};
use crate::access::audit::{AuditEntry, AuditEvent, AuditFilter};
use crate::access::organisations::{Organisation, Team};
use crate::access::throttle::ThrottleState;
use crate::ids::{OrgId, TeamId, UserId};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, org: &Organisation, idem: Option<&IdempotencyKey>)
    -> StoreResult<Created<Organisation>>;
    async fn get_org(&self, id: OrgId) -> StoreResult<Organisation>;
    /// Find by ODS code (case-insensitive) or else by exact name.
    async fn find_org(&self, ods_or_name: &str) -> StoreResult<Organisation>;
    async fn list_orgs(&self) -> StoreResult<Vec<Organisation>>;
    /// The organisations directly under `parent` (a PCN's practices), by name.
    async fn child_orgs(&self, parent: OrgId) -> StoreResult<Vec<Organisation>>;
    async fn create_team(&self, team: &Team) -> StoreResult<()>;
    async fn list_teams(&self, org: OrgId) -> StoreResult<Vec<Team>>;
    async fn add_team_member(&self, team: TeamId, user: UserId) -> StoreResult<()>;
    /// The teams a user belongs to.
    async fn user_teams(&self, user: UserId) -> StoreResult<Vec<TeamId>>;
}

#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// Create a user with their role grants.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    async fn find_user_by_email(&self, email: &str) -> StoreResult<User>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// The users whose home organisation is `org`.
    async fn list_org_users(&self, org: OrgId) -> StoreResult<Vec<User>>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()>;
    /// Whether the user asked to be emailed when a service answers one of their referrals.
    async fn email_on_answer(&self, id: UserId) -> StoreResult<bool>;
    async fn set_email_on_answer(&self, id: UserId, on: bool) -> StoreResult<()>;
    async fn add_role(&self, user: UserId, grant: RoleGrant) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a new session; `Ok(false)` if the id is taken (the caller picks another).
    async fn create_session(&self, s: &SessionRecord) -> StoreResult<bool>;
    /// Insert or replace.
    async fn save_session(&self, s: &SessionRecord) -> StoreResult<()>;
    /// A session that has not expired at `now`.
    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRecord>>;
    async fn delete_session(&self, id: &str) -> StoreResult<()>;
    /// Revoke every session of a user; returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<u64>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Append entries in one transaction, chaining each to the last stored event. Callers
    /// should go through an [`crate::access::audit::AuditLog`], which batches concurrent entries.
    async fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()>;
    /// Events in sequence order after `after_seq`, for verification.
    async fn audit_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;
    /// Events matching `filter`, newest first.
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// The last event's sequence number and hash (`None` for an empty trail).
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// Whether an event of `action` on this record was ever written (a replayed create checks
    /// that the first attempt's event exists before answering).
    async fn audited(
        &self,
        action: crate::access::audit::AuditAction,
        record_type: &str,
        record_id: &str,
    ) -> StoreResult<bool>;
}

#[async_trait::async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The stored state of each key that has one.
    async fn throttle_states(&self, keys: &[String]) -> StoreResult<Vec<ThrottleState>>;
    /// Reserve one attempt against every key, atomically, before doing the work it guards
    /// ([`ThrottleState::admit`]): `false`, counting nothing, if any key is locked. Concurrent
    /// reservations queue on a lock, so no more attempts go ahead than the limit allows.
    async fn reserve_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<bool>;
    /// Give back the attempts a success reserved ([`ThrottleState::released`]).
    async fn release_attempt(&self, keys: &[String], now: DateTime<Utc>) -> StoreResult<()>;
    /// Forget a key: after a successful sign-in, or when an administrator unlocks an account.
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait TwoFactorStore: Send + Sync {
    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactor>>;
    /// Store a new secret awaiting confirmation; `Conflict` if one is already confirmed.
    async fn begin_two_factor(&self, user: UserId, secret: &str) -> StoreResult<()>;
    /// Confirm the secret and replace the recovery codes (stored as hashes).
    async fn enable_two_factor(&self, user: UserId, recovery_hashes: &[String], at: DateTime<Utc>) -> StoreResult<()>;
    /// Accept a code's time step once: `false` if it (or a later one) was already used.
    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Spend a recovery code: `false` if it is unknown or already spent.
    async fn use_recovery_code(&self, user: UserId, hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64>;
    /// Forget a user's authenticator and recovery codes (lost phone): they set up again.
    async fn reset_two_factor(&self, user: UserId) -> StoreResult<()>;
    async fn org_requires_two_factor(&self, org: OrgId) -> StoreResult<bool>;
    async fn set_org_requires_two_factor(&self, org: OrgId, required: bool) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &AccountToken) -> StoreResult<()>;
    /// A token that is unused and unexpired at `now`.
    async fn find_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AccountToken>>;
    /// Spend a token: `false` if it was used already or has expired. Spending one voids every
    /// other outstanding token of the same user.
    async fn use_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// How many tokens of `purpose` were made for `user` since `since` (to limit reset emails).
    async fn tokens_since(&self, user: UserId, purpose: &str, since: DateTime<Utc>) -> StoreResult<i64>;
    /// Set a user's password hash and void every token of theirs still outstanding.
    async fn set_password(&self, user: UserId, password_hash: &str) -> StoreResult<()>;
}
