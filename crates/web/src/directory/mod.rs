//! The community directory for people: search with filters and distance, a service's page with
//! its trust signals (verified when and by whom, stale past review, responsiveness), reporting a
//! problem, staff resolving reports and claims, and owners editing their listings.

mod listing;
pub mod oruk;
mod search;
mod stewardship;
mod trust;

pub(crate) use listing::{edit, edit_page, service};
pub(crate) use search::search;
pub(crate) use trust::{claim, claim_page, decide_claim, report, report_page, reports, resolve};
