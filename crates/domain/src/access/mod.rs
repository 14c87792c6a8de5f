//! Accounts and access: users and roles, the organisation tree, who may do what, throttles and
//! the audit trail.

pub mod accounts;
pub mod audit;
pub mod organisations;
pub mod permissions;
pub mod throttle;
