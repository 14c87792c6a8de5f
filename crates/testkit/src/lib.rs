//! Test harness for linkwork: a fresh database per test on SQLite or PostgreSQL, and the whole
//! application spawned on a random port against it, with a clock the test can move.
//!
//! PostgreSQL tests use the server at `LINKWORK_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creating and dropping one database per test.
//! When that server is unreachable a PostgreSQL test prints a loud SKIPPED line and returns; when
//! `CI` is set it fails instead, so CI never passes without the PostgreSQL layer.

use chrono::{TimeZone, Utc};
use linkwork_domain::FixedClock;
use linkwork_domain::ports::Store;
use linkwork_storage::{DatabaseLocation, SqlStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The administrative PostgreSQL URL used to create per-test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("LINKWORK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A migrated database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub store: SqlStore,
    pub backend: Backend,
    /// How to reach this database again (for the CLI tests, which run the binary on it).
    pub location: DatabaseLocation,
    /// The SQLite data folder, if any.
    pub data_dir: Option<PathBuf>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase(String),
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::PgDatabase(name) => {
                // Drop runs outside async; use a short-lived runtime on its own thread.
                let name = name.clone();
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                    rt.block_on(async {
                        if let Ok(pool) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&pool)
                            .await;
                            pool.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A fresh temporary folder, removed by the caller.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linkwork-{prefix}-{}", uuid::Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&d);
    d
}

impl TestDb {
    /// An empty database (not migrated), or `None` if PostgreSQL is unavailable outside CI.
    pub async fn empty(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = temp_dir("db");
                let location = DatabaseLocation::SqliteFile(dir.join("linkwork.db"));
                let store = SqlStore::open(&location).await.expect("open a temporary SQLite database");
                Some(TestDb { store, backend, location, data_dir: Some(dir.clone()), cleanup: Cleanup::Dir(dir) })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match sqlx::PgPool::connect(&admin_url).await {
                    Ok(p) => p,
                    Err(e) => {
                        let msg = format!("PostgreSQL is unreachable at {admin_url} ({e})");
                        assert!(!in_ci(), "{msg}: CI must run the PostgreSQL layer");
                        eprintln!(
                            "\n*** SKIPPED a PostgreSQL test: {msg}. Start PostgreSQL or set LINKWORK_TEST_POSTGRES_URL. ***\n"
                        );
                        return None;
                    }
                };
                let name = format!("lw_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create a per-test PostgreSQL database");
                admin.close().await;
                let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
                let location = DatabaseLocation::Url(format!("{base}/{name}"));
                let store = SqlStore::open(&location).await.expect("open the per-test PostgreSQL database");
                Some(TestDb { store, backend, location, data_dir: None, cleanup: Cleanup::PgDatabase(name) })
            }
        }
    }

    /// A migrated, empty database.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let db = Self::empty(backend).await?;
        db.store.migrate("test").await.expect("migrate the test database");
        Some(db)
    }

    /// The URL form of this database, for `--database-url`.
    pub fn url(&self) -> String {
        match &self.location {
            DatabaseLocation::Url(u) => u.clone(),
            DatabaseLocation::SqliteFile(p) => format!("sqlite:{}", p.display()),
        }
    }
}

/// The moment every test's clock starts at: a fixed Tuesday morning.
pub fn test_epoch() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 30, 0).single().expect("valid test epoch")
}

/// The application running on a random local port against a fresh database.
pub struct TestApp {
    pub db: TestDb,
    pub store: Arc<dyn Store>,
    pub clock: Arc<FixedClock>,
    pub addr: SocketAddr,
    pub base_url: String,
    pub router: axum::Router,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Spawn with default web settings.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, linkwork_web::WebConfig::default()).await
    }

    /// Spawn with the given web settings.
    pub async fn spawn_with(backend: Backend, web: linkwork_web::WebConfig) -> Option<TestApp> {
        Some(Self::on(TestDb::new(backend).await?, web).await)
    }

    /// A demonstration installation, as `linkwork serve --demo` starts it: one PCN of demo data,
    /// and the web settings that say so on every page.
    pub async fn spawn_demo(backend: Backend) -> Option<TestApp> {
        let db = TestDb::new(backend).await?;
        let opts = linkwork::demo::DemoOptions::default();
        linkwork::demo::generate(&db.store, &FixedClock::new(test_epoch()), &opts, false)
            .await
            .expect("generate demo data");
        let demo = linkwork::demo::accounts(&db.store).await.expect("read the demo accounts");
        assert!(demo.is_some(), "the demo data has demo accounts");
        Some(Self::on(db, linkwork_web::WebConfig { demo, ..Default::default() }).await)
    }

    async fn on(db: TestDb, web: linkwork_web::WebConfig) -> TestApp {
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let clock = Arc::new(FixedClock::new(test_epoch()));
        let audit = Arc::new(linkwork_storage::GroupCommitAudit::start(Arc::new(db.store.clone())));
        let state = linkwork_web::AppState { store: store.clone(), clock: clock.clone(), config: Arc::new(web), audit };
        let router = linkwork_web::router(state).expect("build the router");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let addr = listener.local_addr().expect("local address");
        let app = router.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        TestApp { db, store, clock, addr, base_url: format!("http://{addr}"), router, server }
    }

    /// A background worker on this app's store and clock, with mail and texts written to the log
    /// (and so to the outbox as "logged").
    pub fn worker(&self) -> linkwork::worker::Worker {
        linkwork::worker::Worker {
            store: self.store.clone(),
            clock: self.clock.clone(),
            mailer: Arc::new(linkwork::mailer::LogMailer),
            sms: Arc::new(linkwork::mailer::LogSms),
            name: "test".into(),
            nudge_days: linkwork_domain::connections::DEFAULT_NUDGE_DAYS,
            public_url: self.base_url.clone(),
        }
    }

    /// Load the demo data (one PCN) into this app's database.
    pub async fn with_demo(self) -> Self {
        linkwork::demo::generate(
            self.store.as_ref(),
            self.clock.as_ref(),
            &linkwork::demo::DemoOptions::default(),
            false,
        )
        .await
        .expect("generate demo data");
        self
    }
}

/// Run an async test body once per backend: `db_test!(name, |db| async move { ... })` defines
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Sqlite).await {
                    ($body)(db).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres).await {
                    ($body)(db).await;
                }
            }
        }
    };
}

/// Like [`db_test!`], with the whole app spawned: `app_test!(name, |app| async move { ... })`.
#[macro_export]
macro_rules! app_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Sqlite).await {
                    ($body)(app).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}
