//! The command line. Every failure ends in one sentence saying what to do, and exit code 1.

use crate::config::{Config, EXAMPLE};
use crate::{admin, demo, serve};
use anyhow::Context;
use clap::{Parser, Subcommand};
use linkwork_domain::access::audit::AuditAction;
use linkwork_domain::ports::DirectoryImportStore;
use linkwork_domain::ports::{AuditStore, OrgStore, Store, ThrottleStore, TwoFactorStore, UserStore};
use linkwork_domain::{Clock, SystemClock};
use linkwork_storage::SqlStore;
use std::io::Read;
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
        /// icb, pcn, practice or vcse.
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

/// Run one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let cfg = cli.config;
    let clock = SystemClock;
    match cli.command {
        Command::Serve { demo } => serve::serve(&cfg, demo).await?,
        Command::Migrate => {
            let store = SqlStore::open(&cfg.database()?).await?;
            let report = store.migrate(&clock.now().format("%Y%m%dT%H%M%SZ").to_string()).await?;
            if let Some(b) = report.backup {
                println!("Backed up the database to {} first.", b.display());
            }
            if report.applied.is_empty() {
                println!("The database schema is already current.");
            } else {
                println!("Applied {} migration(s): {:?}.", report.applied.len(), report.applied);
            }
            store.close().await;
        }
        Command::Check => return check(&cfg).await,
        Command::Audit { command: AuditCommand::Verify } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let anchors = cfg.anchors()?;
            let result = admin::verify_anchored(&store, &anchors).await?;
            match result {
                admin::Verified::Intact { events, last_hash } => {
                    // What was verified becomes the new anchor.
                    anchors.record(&store, &clock).await?;
                    store.close().await;
                    let anchored = anchors.latest()?.map_or(0, |a| a.seq);
                    println!(
                        "The audit trail is intact: {events} events, last hash {last_hash}; it reaches the latest anchor (event {anchored})."
                    );
                }
                admin::Verified::Cut(why) => {
                    store.close().await;
                    println!(
                        "The audit trail is not complete: {why}. Restore the database from a backup and investigate."
                    );
                    return Ok(ExitCode::FAILURE);
                }
                admin::Verified::Broken(b) => {
                    store.close().await;
                    println!(
                        "{b}. Events from {} on cannot be trusted; restore the database from a backup and investigate.",
                        b.seq
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Audit { command: AuditCommand::Anchor } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let anchors = cfg.anchors()?;
            let written = anchors.record(&store, &clock).await?;
            store.close().await;
            match written.or(anchors.latest()?) {
                Some(a) => println!("The audit trail is anchored at event {} ({}).", a.seq, a.hash),
                None => println!("The audit trail is empty: nothing to anchor yet."),
            }
        }
        Command::Config { command: ConfigCommand::Example } => print!("{EXAMPLE}"),
        Command::Import { command: ImportCommand::Referrals { file, org, team } } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}; check the path", file.display()))?;
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let org = admin::find_org(&store, &org).await?;
            let team = match team {
                None => None,
                Some(name) => Some(
                    store
                        .list_teams(org.id)
                        .await?
                        .into_iter()
                        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
                        .map(|t| t.id)
                        .ok_or_else(|| anyhow::anyhow!("{} has no team called {name:?}; check the name", org.name))?,
                ),
            };
            let raws = match linkwork_web::intake::import::parse_csv(&bytes) {
                Ok(r) => r,
                Err(rows) => return Ok(report_rows(&rows)),
            };
            match linkwork_web::intake::import::import(&store, org.id, team, None, clock.now(), &raws).await {
                Ok((report, referrals)) => {
                    let entries = referrals
                        .iter()
                        .map(|r| linkwork_domain::access::audit::AuditEntry {
                            org_id: Some(org.id),
                            person_id: Some(r.person_id),
                            record_id: Some(r.id.to_string()),
                            reason: Some(format!("bulk import from {}", file.display())),
                            actor: "command line".into(),
                            ..linkwork_domain::access::audit::AuditEntry::new(
                                clock.now(),
                                AuditAction::Create,
                                "referral",
                            )
                        })
                        .collect::<Vec<_>>();
                    store.append_audit(&entries).await?;
                    println!(
                        "Imported {} referrals into {} (people new to the service: {}; already known by NHS number: {}).",
                        report.referrals, org.name, report.new_people, report.existing_people
                    );
                }
                Err(linkwork_web::intake::import::ImportError::Rows(rows)) => return Ok(report_rows(&rows)),
                Err(linkwork_web::intake::import::ImportError::Store(e)) => return Err(e.into()),
            }
            store.close().await;
        }
        Command::Import { command: ImportCommand::Oruk { path, url, keep_in_sync, steward } } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let started = clock.now();
            let steward = match steward {
                Some(s) => Some(admin::find_org(&store, &s).await?.id),
                None => None,
            };
            let report = match (path, &url) {
                (Some(path), _) => {
                    let mut feed = crate::directory::Feed::read_path(&path)?;
                    feed.steward = steward;
                    let source = path
                        .file_name()
                        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                    crate::directory::import(&store, &clock, feed, &source).await?
                }
                (None, Some(url)) => crate::directory::import_url(&store, &clock, url, None).await?,
                (None, None) => anyhow::bail!("give a file or folder, or --url"),
            };
            if let (Some(url), true) = (&url, keep_in_sync) {
                store.save_feed(url.trim().trim_end_matches('/'), Some(started), "first import").await?;
                println!("The worker of `linkwork serve` will sync {url} daily.");
            }
            store.analyze().await?;
            store.close().await;
            for w in &report.warnings {
                println!("warning: {} record {}: {}", w.place, w.id, w.message);
            }
            for e in &report.errors {
                println!("error: {} record {}: {}", e.place, e.id, e.message);
            }
            println!(
                "Services: {} new, {} updated, {} unchanged; {} organisations, {} taxonomies, {} terms; {} records not imported, {} warnings.",
                report.counts.created,
                report.counts.updated,
                report.counts.unchanged,
                report.organizations,
                report.taxonomies,
                report.terms,
                report.errors.len(),
                report.warnings.len()
            );
            if !report.errors.is_empty() {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Import { command: ImportCommand::Postcodes { file, deprivation } } => {
            let (points, problems) = crate::directory::read_postcodes(&file)?;
            let deciles = match &deprivation {
                Some(d) => crate::directory::read_deciles(d)?,
                None => vec![],
            };
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            store.import_postcodes(&points, &deciles).await?;
            store.close().await;
            for p in problems.iter().take(20) {
                println!("skipped {} {}: {}", p.place, p.id, p.message);
            }
            println!(
                "Imported {} postcodes and {} deprivation deciles; skipped {} rows.",
                points.len(),
                deciles.len(),
                problems.len()
            );
        }
        Command::Demo { scale, seed, quiet } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            if !store.list_orgs().await?.is_empty() {
                anyhow::bail!(
                    "the database already has data; demo data goes only into an empty database (use another --data folder or database)"
                );
            }
            let opts = demo::DemoOptions { scale, seed };
            let summary = demo::generate(&store, &clock, &opts, !quiet).await?;
            demo::print_summary(&summary);
            store.close().await;
        }
        Command::Org { command } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            match command {
                OrgCommand::Create { name, kind, ods, parent } => {
                    // Audited by the use case, as from the API.
                    let org =
                        admin::create_org(&store, &clock, &name, &kind, ods.as_deref(), parent.as_deref()).await?;
                    println!("Created {} {} ({}).", org.kind.label(), org.name, org.id);
                }
                OrgCommand::TwoFactor { org, setting } => {
                    let required = match setting.as_str() {
                        "on" => true,
                        "off" => false,
                        other => anyhow::bail!("say on or off, not {other:?}"),
                    };
                    let org = admin::find_org(&store, &org).await?;
                    store.set_org_requires_two_factor(org.id, required).await?;
                    let what = format!("{} two-factor {setting}", org.id);
                    admin::audit_cli(&store, &clock, AuditAction::Update, "organisation", what, Some(org.id)).await?;
                    println!("Two-factor sign-in for {} is now {setting}.", org.name);
                }
                OrgCommand::List => {
                    for o in store.list_orgs().await? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            o.id,
                            o.kind,
                            o.ods_code.map(String::from).unwrap_or_default(),
                            o.name
                        );
                    }
                }
            }
            store.close().await;
        }
        Command::User { command } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            match command {
                UserCommand::Create { email, name, roles, org, password_stdin: _ } => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_to_string(&mut password)
                        .context("reading the password from standard input")?;
                    let password = password.trim_end_matches(['\r', '\n']);
                    let user =
                        admin::create_user(&store, &clock, &email, name.as_deref(), &roles, &org, password).await?;
                    admin::audit_cli(
                        &store,
                        &clock,
                        AuditAction::Create,
                        "user",
                        user.id.to_string(),
                        Some(user.org_id),
                    )
                    .await?;
                    println!("Created user {} ({}).", user.email, user.id);
                }
                UserCommand::List => {
                    for u in store.list_users().await? {
                        let roles: Vec<&str> = u.roles.iter().map(|g| g.role.as_str()).collect();
                        let state = if u.disabled { "disabled" } else { "active" };
                        println!("{}\t{}\t{}\t{}", u.email, state, roles.join(","), u.display_name);
                    }
                }
                UserCommand::Unlock { email } => {
                    store.clear_throttle(&linkwork_domain::access::throttle::account_key(&email)).await?;
                    let org = store.find_user_by_email(&email).await.ok().map(|u| u.org_id);
                    admin::audit_cli(&store, &clock, AuditAction::Update, "user", format!("{email} unlocked"), org)
                        .await?;
                    println!("Unlocked {email}: it can be used to sign in again.");
                }
                UserCommand::Disable { email } => {
                    let ended = admin::disable_user(&store, &email).await?;
                    let u = store.find_user_by_email(&email).await?;
                    admin::audit_cli(
                        &store,
                        &clock,
                        AuditAction::Update,
                        "user",
                        format!("{} disabled", u.id),
                        Some(u.org_id),
                    )
                    .await?;
                    println!("Disabled {email}; ended {ended} session(s).");
                }
            }
            store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Print every row problem and say that nothing was imported.
fn report_rows(rows: &[linkwork_web::intake::import::RowError]) -> ExitCode {
    for r in rows {
        eprintln!("{r}");
    }
    eprintln!(
        "error: {} problem(s) in the file; nothing was imported. Correct the file and run the import again.",
        rows.len()
    );
    ExitCode::FAILURE
}

/// `linkwork check`: configuration valid, database reachable, schema current.
async fn check(cfg: &Config) -> anyhow::Result<ExitCode> {
    cfg.listen_addr()?;
    cfg.web()?;
    let location = cfg.database()?;
    println!("Configuration: valid");
    let store = SqlStore::open(&location).await?;
    store.ping().await.context("the database did not answer")?;
    println!("Database: {} reachable", store.backend());
    let status = store.schema_status().await?;
    store.close().await;
    if let Some(v) = status.dirty {
        println!(
            "Schema: migration {v} did not finish; restore the backup in the data folder, then run `linkwork migrate`"
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(v) = status.unknown().first() {
        println!("Schema: has migration {v}, newer than this linkwork; run the newer version");
        return Ok(ExitCode::FAILURE);
    }
    let pending = status.pending();
    if !pending.is_empty() {
        println!("Schema: {} migration(s) pending; run `linkwork migrate`", pending.len());
        return Ok(ExitCode::FAILURE);
    }
    println!("Schema: current ({} migration(s) applied)", status.applied.len());
    Ok(ExitCode::SUCCESS)
}
