//! Foundation benchmarks. Run: `cargo bench -p linkwork --bench foundation` (add `-- --quick`
//! for a smoke run). Every figure is reported as a ratio against a baseline measured in the same
//! run, because these machines are noisy; absolute times are printed for context only.
//!
//! 1. Durability: single-row commits with SQLite `synchronous=FULL` against `NORMAL`, and
//!    PostgreSQL `synchronous_commit=on` against `off`.
//! 2. Demo generation: time per PCN at scale 1 against scale N (does it stay linear?), and
//!    PostgreSQL against SQLite.
//! 3. Requests through the whole stack in-process, 8 at a time: `/health` (one database round
//!    trip), `/sign-in` (a template) and a signed-in `/home` (session load, user, organisation and
//!    three counts), and a link worker's `/caseload` (open episodes and recent referrals listed)
//!    against a static asset, which passes every layer but touches no database.
//! 4. Audit: 64 concurrent writers recording one event each, repeatedly, through the group-commit
//!    writer against one transaction per event (the baseline).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::Request;
use linkwork_domain::Clock;
use linkwork_testkit::{Backend, TestApp, TestDb, test_epoch};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

async fn sqlite_commits(sync: SqliteSynchronous, n: usize) -> Duration {
    let dir = linkwork_testkit::temp_dir("bench");
    let opts = SqliteConnectOptions::new()
        .filename(dir.join("b.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(sync);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").execute(&pool).await.unwrap();
    let start = Instant::now();
    for i in 0..n {
        sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(format!("row {i}")).execute(&pool).await.unwrap();
    }
    let t = start.elapsed();
    pool.close().await;
    let _ = std::fs::remove_dir_all(dir);
    t
}

async fn postgres_commits(synchronous: bool, n: usize) -> Option<Duration> {
    let db = TestDb::empty(Backend::Postgres).await?;
    let url = db.url();
    let opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let opts = opts.options([("synchronous_commit", if synchronous { "on" } else { "off" })]);
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
    sqlx::query("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)").execute(&pool).await.unwrap();
    let start = Instant::now();
    for i in 0..n {
        sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(format!("row {i}")).execute(&pool).await.unwrap();
    }
    let t = start.elapsed();
    pool.close().await;
    Some(t)
}

async fn demo_seconds_per_pcn(backend: Backend, scale: u32) -> Option<f64> {
    let db = TestDb::new(backend).await?;
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    let start = Instant::now();
    linkwork::demo::generate(&db.store, &clock, &linkwork::demo::DemoOptions { scale, seed: 1 }, false).await.unwrap();
    Some(start.elapsed().as_secs_f64() / f64::from(scale))
}

/// Requests per second for `path`, `total` requests, `conc` at a time, with an optional cookie.
async fn throughput(router: &axum::Router, path: &str, cookie: Option<&str>, total: usize, conc: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let router = router.clone();
        let path = path.to_owned();
        let cookie = cookie.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / conc {
                let mut req = Request::get(path.as_str()).body(Body::empty()).unwrap();
                if let Some(c) = &cookie {
                    req.headers_mut().insert("cookie", c.parse().unwrap());
                }
                let res = router.clone().oneshot(req).await.unwrap();
                assert!(res.status().is_success(), "{path}: {}", res.status());
                let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (total / conc * conc) as f64 / start.elapsed().as_secs_f64()
}

async fn sign_in_cookie(app: &TestApp, who: &str) -> String {
    let req = Request::post("/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("email={who}%40pcn1.demo.test&password={}", linkwork::demo::DEMO_PASSWORD)))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let sc = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    sc.split(';').next().unwrap().to_owned()
}

async fn http(backend: Backend, total: usize) -> Option<[f64; 5]> {
    let app = TestApp::spawn(backend).await?.with_demo().await;
    let cookie = sign_in_cookie(&app, "admin").await;
    let worker = sign_in_cookie(&app, "linkworker1").await;
    let _ = app.clock.now();
    // Warm up, then measure.
    throughput(&app.router, "/home", Some(&cookie), 200, 8).await;
    let bare = throughput(&app.router, "/assets/app.css", None, total, 8).await;
    let health = throughput(&app.router, "/health", None, total, 8).await;
    let sign_in = throughput(&app.router, "/sign-in", None, total, 8).await;
    let home = throughput(&app.router, "/home", Some(&cookie), total, 8).await;
    let caseload = throughput(&app.router, "/caseload", Some(&worker), total / 4, 8).await;
    Some([bare, health, sign_in, home, caseload])
}

/// Audit events per second from 64 concurrent writers, `per_writer` events each.
async fn audit_rate(store: &linkwork_storage::SqlStore, group: bool, per_writer: usize) -> f64 {
    use linkwork_domain::access::audit::{AuditAction, AuditEntry, AuditLog};
    use linkwork_domain::ports::AuditStore;
    let writer = std::sync::Arc::new(linkwork_storage::GroupCommitAudit::start(std::sync::Arc::new(store.clone())));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..64 {
        let writer = writer.clone();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let e = AuditEntry {
                    actor: format!("worker{w}@bench.test"),
                    record_id: Some(i.to_string()),
                    ..AuditEntry::new(test_epoch(), AuditAction::View, "person")
                };
                if group { writer.record(vec![e]).await.unwrap() } else { store.append_audit(&[e]).await.unwrap() }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (64 * per_writer) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let q = quick();
    let commits = if q { 200 } else { 2000 };
    println!("## Durability: {commits} single-row commits, one connection\n");
    let full = sqlite_commits(SqliteSynchronous::Full, commits).await;
    let normal = sqlite_commits(SqliteSynchronous::Normal, commits).await;
    println!("| backend | setting | commits/s | ratio to baseline |");
    println!("| --- | --- | ---: | ---: |");
    let cps = |d: Duration| commits as f64 / d.as_secs_f64();
    println!("| SQLite | synchronous=NORMAL (baseline) | {:.0} | 1.00 |", cps(normal));
    println!("| SQLite | synchronous=FULL (linkwork) | {:.0} | {:.2} |", cps(full), cps(full) / cps(normal));
    if let (Some(off), Some(on)) = (postgres_commits(false, commits).await, postgres_commits(true, commits).await) {
        println!("| PostgreSQL | synchronous_commit=off (baseline) | {:.0} | 1.00 |", cps(off));
        println!("| PostgreSQL | synchronous_commit=on (linkwork) | {:.0} | {:.2} |", cps(on), cps(on) / cps(off));
    }

    let big = if q { 2 } else { 10 };
    println!("\n## Demo generation (10,000 people, 1,200 referrals, 60 services per PCN)\n");
    println!("| backend | scale | seconds per PCN | ratio to SQLite scale 1 |");
    println!("| --- | ---: | ---: | ---: |");
    let base = demo_seconds_per_pcn(Backend::Sqlite, 1).await.unwrap();
    println!("| SQLite | 1 (baseline) | {base:.3} | 1.00 |");
    let s_big = demo_seconds_per_pcn(Backend::Sqlite, big).await.unwrap();
    println!("| SQLite | {big} | {s_big:.3} | {:.2} |", s_big / base);
    if let Some(p1) = demo_seconds_per_pcn(Backend::Postgres, 1).await {
        println!("| PostgreSQL | 1 | {p1:.3} | {:.2} |", p1 / base);
        let p_big = demo_seconds_per_pcn(Backend::Postgres, big).await.unwrap();
        println!("| PostgreSQL | {big} | {p_big:.3} | {:.2} |", p_big / base);
    }

    let per_writer = if q { 5 } else { 40 };
    println!("\n## Audit events: 64 concurrent writers, {per_writer} events each\n");
    println!("| backend | how | events/s | ratio to one transaction per event |");
    println!("| --- | --- | ---: | ---: |");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(db) = TestDb::new(backend).await {
            let single = audit_rate(&db.store, false, per_writer).await;
            let group = audit_rate(&db.store, true, per_writer).await;
            println!("| {backend:?} | one transaction per event (baseline) | {single:.0} | 1.00 |");
            println!("| {backend:?} | group commit (linkwork) | {group:.0} | {:.2} |", group / single);
        }
    }

    let total = if q { 400 } else { 4000 };
    println!("\n## Requests through the full stack, in-process, 8 concurrent, {total} each\n");
    println!("| backend | route | requests/s | ratio to static asset |");
    println!("| --- | --- | ---: | ---: |");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some([bare, h, s, home, caseload]) = http(backend, total).await {
            println!("| {backend:?} | /assets/app.css (baseline: every layer, no database) | {bare:.0} | 1.00 |");
            println!("| {backend:?} | /health (one database round trip) | {h:.0} | {:.2} |", h / bare);
            println!("| {backend:?} | /sign-in (template, no session) | {s:.0} | {:.2} |", s / bare);
            println!(
                "| {backend:?} | /home signed in (session, user, organisation, 3 counts) | {home:.0} | {:.2} |",
                home / bare
            );
            println!(
                "| {backend:?} | /caseload (a worker's open episodes and recent referrals; one audit event) | {caseload:.0} | {:.3} |",
                caseload / bare
            );
        }
    }
}
