//! The linkwork binary's library: configuration, the command line, the server's start-up and
//! shutdown, the background worker and the demo data generator. `main.rs` only calls [`cli::main`].

pub mod admin;
pub mod audit_anchor;
pub mod cli;
pub mod config;
pub mod demo;
pub mod directory;
pub mod mailer;
pub mod serve;
pub mod worker;
