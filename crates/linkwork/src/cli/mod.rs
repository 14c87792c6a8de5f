//! The command line. Every failure ends in one sentence saying what to do, and exit code 1.

mod run;

pub use run::run;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "linkwork", version, about = "linkwork: open-source social prescribing")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web server (and the background worker).
    Serve {
        /// Load demonstration data first if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Check the configuration, that the database is reachable and the schema is current.
    Check,
    /// Configuration help.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Fill the database with realistic synthetic data.
    Demo {
        /// How many PCNs' worth of data: each about 10,000 people, 1,200 referrals a year, 60 services.
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Random seed: the same seed gives the same people and referrals.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Do not show a progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Take a consistent copy of the database while the server runs (SQLite), checked, with the
    /// data folder's audit anchors, into a new folder. For PostgreSQL, says to use pg_dump.
    Backup { dest: std::path::PathBuf },
    /// Restore a backup folder into an empty data folder (never over a database), check it and
    /// verify its audit trail, and say how long it took.
    Restore { src: std::path::PathBuf },
    /// Outcome measures: the instruments and the wording loaded for them.
    Outcomes {
        #[command(subcommand)]
        command: OutcomesCommand,
    },
}

#[derive(Subcommand)]
pub enum OutcomesCommand {
    /// List the instruments: how each is scored, its licence, and whether it can be offered.
    List,
    /// Load the wording of an instrument you are licensed to use (SWEMWBS and WEMWBS need it
    /// before they can be offered), or a translation of one: a JSON file with `instrument`,
    /// `language`, `licence`, `items` (one per item) and `responses` (one list of labels per
    /// response scale). Checked against the instrument's declaration; nothing is loaded if any
    /// part is wrong.
    LoadWording { file: std::path::PathBuf },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import referrals from a CSV file (for example a search exported from a GP system). Every
    /// row is checked first; if any has a problem, nothing is imported.
    Referrals {
        /// The CSV file: a header row naming the columns, then one referral per row.
        file: std::path::PathBuf,
        /// The receiving organisation (the tenant), by ODS code or name.
        #[arg(long)]
        org: String,
        /// The receiving team, by name (optional: otherwise decided at triage).
        #[arg(long)]
        team: Option<String>,
    },
    /// Import an Open Referral UK feed into the directory: a JSON file (list or full form), a
    /// folder of JSON files, or a folder of the CSV form (with services.csv). Each record is
    /// checked on its own: problems are reported with the record's id and the rest imported;
    /// running it again updates in place.
    Oruk {
        /// The file or folder.
        #[arg(required_unless_present = "url", conflicts_with = "url")]
        path: Option<std::path::PathBuf>,
        /// Read a live Open Referral UK API instead, by its base URL (paging through
        /// /services, then each service in full).
        #[arg(long)]
        url: Option<String>,
        /// With --url: remember the feed and sync it daily (services changed since the last
        /// sync, by modified_after) from the background worker of `linkwork serve`.
        #[arg(long, requires = "url")]
        keep_in_sync: bool,
        /// The organisation (ODS code or name) whose managers and administrators look after
        /// these listings: problem reports, claims and edits. Without it, only a listing's own
        /// organisation can change it.
        #[arg(long, conflicts_with = "url")]
        steward: Option<String>,
    },
    /// Import postcode centroids (ONS Postcode Directory CSV, or Code-Point Open CSV) for
    /// distance search, and optionally deprivation deciles by LSOA.
    Postcodes {
        file: std::path::PathBuf,
        /// English Indices of Deprivation CSV (an LSOA code column and a decile column).
        #[arg(long)]
        deprivation: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every link of the hash chain and that it reaches the latest anchor; report the
    /// first broken link or the missing end. A verified trail is anchored again.
    Verify,
    /// Record the trail's head as an anchor in the data folder now (`serve` does so every ten
    /// minutes).
    Anchor,
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print every setting with its documented default.
    Example,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        #[arg(long)]
        name: String,
        /// icb, pcn, practice, vcse or agency (social services, housing, police, school).
        #[arg(long)]
        kind: String,
        /// NHS ODS code.
        #[arg(long)]
        ods: Option<String>,
        /// The parent organisation, by ODS code or name.
        #[arg(long)]
        parent: Option<String>,
    },
    /// List organisations.
    List,
    /// Require two-factor sign-in for the organisation's users who can see personal data (on, the
    /// default), or not (off).
    TwoFactor {
        /// The organisation, by ODS code or name.
        org: String,
        /// on or off.
        setting: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Display name (defaults to the part of the email before the @).
        #[arg(long)]
        name: Option<String>,
        /// A role: administrator, manager, link_worker, referrer, vcse_partner, commissioner,
        /// researcher. Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The organisation, by ODS code or name.
        #[arg(long)]
        org: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable { email: String },
    /// Lift the lock put on an account (or an email address) after failed sign-ins.
    Unlock { email: String },
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    // Colour only for a person at a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// The entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start ({e})");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
