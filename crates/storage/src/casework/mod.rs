//! Casework on both backends: episodes and everything recorded in them.

mod episodes;
mod records;
mod rows;
mod sent;
mod tables;
