//! The use-case layer: every operation that more than one face performs (the pages, the JSON
//! API, the command line, the worker; soon FHIR and the exports) is written once, here. A use
//! case validates its input (every field's problem at once), checks the rule, writes through
//! the ports and records the audit event, in that order, and answers with a typed [`Failure`]
//! that each face turns into its own form: an NHS error summary, a problem document, a sentence
//! on the command line. The faces keep only what is theirs: parsing their input format, the
//! page or document they answer with.
//!
//! The layer lives in the domain crate, beside the ports it calls, because every face already
//! depends on the domain and nothing here needs more than the ports, the audit trail and the
//! clock: no axum, no sqlx, so a rule stays testable against either database.

pub mod access;
pub mod casework;
pub mod connections;
pub mod intake;
pub mod message_back;
pub mod outcomes;
pub mod people;

use crate::Clock;
use crate::access::accounts::User;
use crate::access::audit::{AuditEntry, AuditError, AuditLog};
use crate::intake::FieldError;
use crate::ports::{Conflict, Store, StoreError};

/// What a use case reaches: the ports, the audit trail and the clock.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub store: &'a dyn Store,
    pub audit: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
}

/// Who asks.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A signed-in user, within their organisation's rules.
    User(&'a User),
    /// The operator at the command line, trusted with the whole installation.
    Operator,
    /// A member of the public (the self-referral form).
    Public,
    /// A person answering a questionnaire from the secure link they were sent.
    Link,
}

/// Who asks and from where: what the audit trail records of the caller.
#[derive(Clone, Debug)]
pub struct Caller<'a> {
    pub actor: Actor<'a>,
    /// The client's address, when there is one.
    pub source: Option<String>,
}

impl<'a> Caller<'a> {
    pub fn user(user: &'a User, source: Option<String>) -> Self {
        Caller { actor: Actor::User(user), source }
    }

    pub fn operator() -> Self {
        Caller { actor: Actor::Operator, source: None }
    }

    /// An audit entry made by this caller.
    pub fn entry(&self, entry: AuditEntry) -> AuditEntry {
        let entry = AuditEntry { source: self.source.clone(), ..entry };
        match self.actor {
            Actor::User(u) => entry.by(u),
            Actor::Operator => AuditEntry { actor: "command line".into(), ..entry },
            Actor::Public => AuditEntry { actor: "self-referral form".into(), ..entry },
            Actor::Link => AuditEntry { actor: "questionnaire link".into(), ..entry },
        }
    }
}

/// Why a use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Input that cannot be used: every field's problem, to show beside each field.
    #[error("{} field(s) not valid", .0.len())]
    Invalid(Vec<FieldError>),
    /// Nothing the caller may see has this id.
    #[error("not found")]
    NotFound,
    /// The data says no: see [`Conflict`].
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// The audit trail could not record the change, so the caller must not be told it is done.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Failure::NotFound,
            StoreError::Conflict(c) => Failure::Conflict(c),
            other => Failure::Store(other),
        }
    }
}

/// Field problems collected while a use case reads its input, so all of them are answered at
/// once.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    /// The value, or `None` with the problem noted against `field`.
    pub fn take<T, E: std::fmt::Display>(&mut self, field: &'static str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError { field, message: message.into() });
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(Failure::Invalid)` when anything was noted.
    pub fn check(self) -> Result<(), Failure> {
        if self.0.is_empty() { Ok(()) } else { Err(Failure::Invalid(self.0)) }
    }
}
