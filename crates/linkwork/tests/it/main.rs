//! The one integration-test binary. Each module is a feature; storage behaviour runs on both
//! SQLite and PostgreSQL (`db_test!` / `app_test!` make one test per backend), each test on its
//! own fresh database, so tests run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod access;
mod account;
mod architecture;
mod audit;
mod browser;
mod casework_store;
mod cli;
mod demo;
mod directory;
mod helpers;
mod hostile;
mod jobs;
mod journey;
mod journey_faults;
mod migrations;
mod outcomes;
mod people;
mod round_trip;
mod schema;
mod schema_parity;
mod security;
mod storage;
mod throttle;
mod two_factor;
mod web;
