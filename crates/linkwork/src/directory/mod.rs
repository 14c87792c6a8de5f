//! `linkwork import oruk`: Open Referral UK feeds into the directory, from JSON (list and full
//! forms, one file or a folder of them), the CSV tabular form (a folder with `services.csv`), or
//! a live API by base URL (paging `/services`, then each service in full). Every record is
//! checked on its own; a bad one is reported with its id and left out, the rest are written in
//! one transaction, and a re-run updates in place by id (unchanged records are counted, not
//! rewritten).

mod feed;
mod import;
mod places;
mod remote;

pub use feed::{Feed, ImportReport, Kind, RecordProblem};
pub use import::import;
pub use places::{osgb_to_wgs84, read_deciles, read_postcodes};
pub use remote::{MAX_FEED_BYTES, MAX_FILE_BYTES, fetch_feed, import_url, sync_feeds};
