//! linkwork's domain: the nouns of social prescribing, the rules about them, and the narrow
//! storage ports the rest of the system implements. Nothing here knows about HTTP or SQL, so the
//! rules can be read and tested on their own.

pub mod access;
pub mod casework;
pub mod clock;
pub mod connections;
pub mod directory;
pub mod exports;
pub mod ids;
pub mod intake;
pub mod jobs;
pub mod notifications;
pub mod outcomes;
pub mod people;
pub mod ports;
pub mod uktime;
pub mod usecases;
pub mod values;
pub mod vocab;

pub use clock::{Clock, FixedClock, SystemClock};
pub use ports::{StoreError, StoreResult};
