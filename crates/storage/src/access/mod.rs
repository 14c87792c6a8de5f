//! Accounts and access on both backends: organisations and teams, users and roles, sessions,
//! one-time links, second factors, throttles and the audit trail.

pub(crate) mod audit;
mod orgs;
pub(crate) mod rows;
mod sessions;
mod throttle;
mod tokens;
mod two_factor;
mod users;
