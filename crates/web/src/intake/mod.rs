//! Referrals in: the referral form, self-referral, triage and the waiting list, the CSV import.
//! Every channel validates through `domain::intake::parse_referral`.

mod csv_file;
pub mod import;
mod refer;
mod self_referral;
mod triage;

pub(crate) use refer::{create, mine, new_page, practice_options, raw_from_form};
pub(crate) use self_referral::{self_page, self_submit};
pub(crate) use triage::{triage, triage_page, waiting};
