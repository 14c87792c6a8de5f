//! Accounts and access: signing in (password, two-factor), one-time links, sessions, the
//! administrators' pages (users, audit) and the organisation tree's edges.

pub(crate) mod account;
pub(crate) mod admin;
pub mod auth;
pub(crate) mod notifications;
pub(crate) mod organisations;
pub mod passwords;
pub(crate) mod session_store;
pub(crate) mod subject_access;
pub mod two_factor;
