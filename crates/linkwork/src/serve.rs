//! Starting and stopping: open and migrate the database, build the app, listen, run the worker,
//! and on Ctrl-C or SIGTERM stop accepting, finish requests and the job in hand, close the pool.

use crate::config::Config;
use crate::worker::Worker;
use anyhow::Context;
use linkwork_domain::ports::{OrgStore, Store, UserStore};
use linkwork_domain::{Clock, SystemClock};
use linkwork_storage::SqlStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Open the configured database and bring its schema up to date.
pub async fn open_and_migrate(cfg: &Config, clock: &dyn Clock) -> anyhow::Result<SqlStore> {
    let store = SqlStore::open(&cfg.database()?).await?;
    let report = store.migrate(&clock.now().format("%Y%m%dT%H%M%SZ").to_string()).await?;
    if let Some(b) = &report.backup {
        tracing::info!(backup = %b.display(), "backed up the database before migrating");
    }
    if !report.applied.is_empty() {
        tracing::info!(migrations = ?report.applied, "database migrated");
    }
    Ok(store)
}

/// Bind the listening socket, explaining the usual failures in one sentence.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "the address {addr} is already in use; stop the other program using it or choose another with --listen or LINKWORK_LISTEN"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "not allowed to listen on {addr}; choose a port above 1024 with --listen or LINKWORK_LISTEN"
        ),
        _ => anyhow::anyhow!("cannot listen on {addr} ({e}); choose another address with --listen or LINKWORK_LISTEN"),
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing requests in progress");
}

/// `linkwork serve`.
pub async fn serve(cfg: &Config, with_demo: bool) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let addr = cfg.listen_addr()?;
    let mut web = cfg.web()?;
    let mailer = cfg.mailer()?;
    let store = open_and_migrate(cfg, clock.as_ref()).await?;
    if with_demo {
        if store.list_orgs().await?.is_empty() {
            let summary =
                crate::demo::generate(&store, clock.as_ref(), &crate::demo::DemoOptions::default(), true).await?;
            crate::demo::print_summary(&summary);
        } else {
            println!("The database already has data: demo data was not loaded again.");
        }
    }
    if store.list_users().await?.is_empty() {
        println!("No accounts yet. Create the organisations and a first administrator, or restart with --demo:");
        println!("  linkwork org create --name \"West Yorkshire ICB\" --kind icb --ods QWO");
        println!("  linkwork org create --name \"Leeds Central PCN\" --kind pcn --ods U12345 --parent QWO");
        println!(
            "  linkwork user create --email you@example.nhs.uk --role administrator --org U12345 --password-stdin"
        );
    }
    web.demo = crate::demo::accounts(&store).await?;
    let listener = bind(addr).await?;
    let audit = Arc::new(linkwork_storage::GroupCommitAudit::start(Arc::new(store.clone())));
    let store: Arc<dyn Store> = Arc::new(store);
    let state = linkwork_web::AppState { store: store.clone(), clock: clock.clone(), config: Arc::new(web), audit };
    let app = linkwork_web::router(state).map_err(anyhow::Error::msg)?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = Worker {
        store: store.clone(),
        clock: clock.clone(),
        sms: cfg.sms(mailer.clone()),
        mailer,
        name: format!("{}:{}", hostname(), std::process::id()),
        nudge_days: cfg.referral_nudge_days.max(1),
        public_url: cfg.web()?.public_url,
    };
    let worker_task = tokio::spawn(worker.run(stop_rx.clone(), Duration::from_secs(2)));
    let anchor_task = tokio::spawn(keep_anchored(cfg.anchors()?, store.clone(), clock.clone(), stop_rx));

    let local = listener.local_addr().context("reading the listening address")?;
    println!("linkwork is running on http://{local} (database: {}). Press Ctrl-C to stop.", store.backend());
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving requests")?;

    let _ = stop_tx.send(true);
    let _ = worker_task.await;
    let _ = anchor_task.await;
    tracing::info!("stopped");
    Ok(())
}

/// Anchor the audit trail every ten minutes, and once more on the way out.
async fn keep_anchored(
    anchors: crate::audit_anchor::Anchors,
    store: Arc<dyn Store>,
    clock: Arc<dyn linkwork_domain::Clock>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = anchors.record(store.as_ref(), clock.as_ref()).await {
            tracing::warn!(cause = %e, "the audit trail could not be anchored");
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = stop.changed() => {}
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "linkwork".to_owned())
}
