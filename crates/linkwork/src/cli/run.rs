//! Running a parsed command: each opens the database (or not), does its work and answers in sentences, with an exit code scripts can test.

use super::{AuditCommand, Cli, Command, ConfigCommand, ImportCommand, OrgCommand, OutcomesCommand, UserCommand};
use crate::config::{Config, EXAMPLE};
use crate::{admin, demo, serve};
use anyhow::Context;
use linkwork_domain::access::audit::AuditAction;
use linkwork_domain::ports::DirectoryImportStore;
use linkwork_domain::ports::{AuditStore, OrgStore, Store, ThrottleStore, TwoFactorStore, UserStore};
use linkwork_domain::{Clock, SystemClock};
use linkwork_storage::SqlStore;
use std::io::Read;
use std::process::ExitCode;

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
        Command::Backup { dest } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let out = admin::backup(&store, &cfg.data_dir, &dest).await;
            store.close().await;
            println!("{}", out?);
        }
        Command::Restore { src } => {
            let location = cfg.database()?;
            println!("{}", admin::restore(&location, &cfg.data_dir, &src).await?);
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let verified = admin::verify_anchored(&store, &cfg.anchors()?).await;
            store.close().await;
            match verified? {
                admin::Verified::Intact { events, .. } => {
                    println!("The restored audit trail is intact: {events} events.")
                }
                other => anyhow::bail!("the restored audit trail does not verify: {other:?}"),
            }
        }
        Command::Outcomes { command } => {
            let store = serve::open_and_migrate(&cfg, &clock).await?;
            let out = match command {
                OutcomesCommand::List => admin::list_instruments(&store).await,
                OutcomesCommand::LoadWording { file } => admin::load_wording(&store, &clock, &file).await,
            };
            store.close().await;
            println!("{}", out?);
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
pub(super) fn report_rows(rows: &[linkwork_web::intake::import::RowError]) -> ExitCode {
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
pub(super) async fn check(cfg: &Config) -> anyhow::Result<ExitCode> {
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
