//! Connections from a person's record to directory services, and the voluntary group's inbox.
//! Signposting records that the person was told about a service; referring sends the minimum
//! needed (name, the contact route the person agreed to, what for, a note) to the service's inbox,
//! only with the person's consent to share with that service.

mod connect;
mod partner;
mod unmet;

pub(crate) use connect::{ConnectionView, cancel, connect, connect_page, person_connections, unmet};
pub(crate) use partner::{inbox, referral_page, update_referral};
pub(crate) use unmet::unmet_report;
