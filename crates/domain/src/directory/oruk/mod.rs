//! Open Referral UK (HSDS 3 UK profile): the directory's exchange format. These types read the
//! JSON of an Open Referral UK API or file (list and full forms) and write the same shapes back
//! from `/openreferral`. Every id is a UUID, as the profile requires. Unknown fields are dropped;
//! wrong types fail the one record they are in.
//!
//! [`check_service`] is the one validation every import path uses (file, CSV, live API): it
//! turns a feed record into a [`ServiceEntry`] (the nested document we keep and serve, plus the
//! columns search needs) or a list of reasons, and collects warnings that do not stop the record.

mod check;
mod model;
mod schedule;

pub use check::{
    Findings, Modes, Opening, Place, ServiceEntry, check_organization, check_service, check_term, fold_word, words,
};
pub use model::{
    Accessibility, Address, Attribute, Contact, CostOption, Funding, Language, Location, Organization,
    OrganizationIdentifier, Page, Phone, STATUSES, Schedule, Service, ServiceArea, ServiceAtLocation, Taxonomy,
    TaxonomyTerm,
};
pub use schedule::{DAY_NAMES, openings, parse_clock, parse_day};
