//! Journey benchmarks: the link worker's busiest pages on demo data of several PCNs, on both
//! databases. Run: `cargo bench -p linkwork --bench journey` (add `-- --quick` for a smoke run,
//! `-- --scale N` for N PCNs of data; default 5, about 50,000 people and 6,000 referrals).
//! Every figure is a ratio against a static asset fetched through every layer in the same run,
//! because these machines are noisy; absolute rates are printed for context only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::Request;
use linkwork_domain::Clock;
use linkwork_testkit::{Backend, TestApp};
use std::time::Instant;
use tower::ServiceExt;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Requests per second: `total` requests made by `make`, 8 at a time.
async fn rate(
    router: &axum::Router,
    total: usize,
    make: impl Fn() -> Request<Body> + Send + Sync + Clone + 'static,
) -> f64 {
    let conc = 8;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let router = router.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / conc {
                let req = make();
                let path = req.uri().path().to_owned();
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

fn get(path: String, cookie: Option<String>) -> impl Fn() -> Request<Body> + Send + Sync + Clone + 'static {
    move || {
        let mut b = Request::get(path.as_str());
        if let Some(c) = &cookie {
            b = b.header("cookie", c.as_str());
        }
        b.body(Body::empty()).unwrap()
    }
}

/// The caseload page's storage steps, one at a time, in milliseconds per call (mean of 100).
async fn caseload_steps(
    app: &TestApp,
    user: &linkwork_domain::access::accounts::User,
    teams: &[linkwork_domain::ids::TeamId],
) -> Vec<(&'static str, f64)> {
    use linkwork_domain::access::audit::{AuditAction, AuditEntry, AuditLog};
    let n = 100;
    let now = app.clock.now();
    let mut out = vec![];
    let t = Instant::now();
    for _ in 0..n {
        app.store.user_teams(user.id).await.unwrap();
    }
    out.push(("user's teams", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    let t = Instant::now();
    let mut items = vec![];
    for _ in 0..n {
        items = app.store.caseload(user.org_id, teams, Some(user.id), now).await.unwrap();
    }
    out.push(("caseload query and decoding", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    let t = Instant::now();
    for _ in 0..n {
        app.store.waiting_referrals(user.org_id, teams).await.unwrap();
    }
    out.push(("waiting list with people", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    let t = Instant::now();
    for _ in 0..n {
        app.store.team_referrals(user.org_id, teams, 20).await.unwrap();
    }
    out.push(("recent referrals with people", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    let audit = linkwork_storage::GroupCommitAudit::start(std::sync::Arc::new(app.db.store.clone()));
    let t = Instant::now();
    for _ in 0..n {
        let e = AuditEntry::new(now, AuditAction::View, "caseload")
            .by(user)
            .listing(items.iter().map(|i| i.episode.person_id));
        audit.record(vec![e]).await.unwrap();
    }
    out.push(("audit: one event naming the list", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    let t = Instant::now();
    for _ in 0..n {
        audit.record(vec![AuditEntry::new(now, AuditAction::View, "caseload").by(user)]).await.unwrap();
    }
    out.push(("audit: one event naming nobody", t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)));
    out
}

fn search(cookie: &str, name: &str) -> impl Fn() -> Request<Body> + Send + Sync + Clone + 'static {
    let (cookie, body) = (cookie.to_owned(), format!("name={name}&nhs_number=&date_of_birth="));
    move || {
        Request::post("/people/search")
            .header("cookie", cookie.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.clone()))
            .unwrap()
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let steps = run().await;
    println!("\n## The caseload page's storage steps, one request at a time (ms per call, mean of 100)\n");
    println!("| backend | step | ms |");
    println!("| --- | --- | ---: |");
    for (backend, rows) in steps {
        for (step, ms) in rows {
            println!("| {backend:?} | {step} | {ms:.2} |");
        }
    }
}

async fn run() -> Vec<(Backend, Vec<(&'static str, f64)>)> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale: u32 = arg("--scale").and_then(|s| s.parse().ok()).unwrap_or(if quick { 1 } else { 5 });
    let total = if quick { 160 } else { 800 };
    println!("## Link worker pages on {scale} PCNs of demo data, 8 concurrent, {total} requests each\n");
    println!("| backend | route | requests/s | ratio to static asset |");
    println!("| --- | --- | ---: | ---: |");
    let mut steps = vec![];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn(backend).await else { continue };
        let started = Instant::now();
        let summary = linkwork::demo::generate(
            app.store.as_ref(),
            app.clock.as_ref(),
            &linkwork::demo::DemoOptions { scale, seed: 1 },
            false,
        )
        .await
        .unwrap();
        let generation = started.elapsed().as_secs_f64();
        let login = Request::post("/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("email=linkworker1%40pcn1.demo.test&password={}", linkwork::demo::DEMO_PASSWORD)))
            .unwrap();
        let res = app.router.clone().oneshot(login).await.unwrap();
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let user = app.store.find_user_by_email("linkworker1@pcn1.demo.test").await.unwrap();
        let teams = app.store.user_teams(user.id).await.unwrap();
        let items = app.store.caseload(user.org_id, &teams, Some(user.id), app.clock.now()).await.unwrap();
        let person = items[0].episode.person_id;
        let c = Some(cookie.clone());
        rate(&app.router, 80, get("/home".into(), c.clone())).await; // warm up
        let bare = rate(&app.router, total, get("/assets/app.css".into(), None)).await;
        let rows: Vec<(String, f64)> = vec![
            (
                format!("/caseload ({} open episodes listed; one audit event names them)", items.len()),
                rate(&app.router, total / 4, get("/caseload".into(), c.clone())).await,
            ),
            (
                "/people/{id} (record with its episode's casework)".into(),
                rate(&app.router, total, get(format!("/people/{person}"), c.clone())).await,
            ),
            ("/triage (the waiting list)".into(), rate(&app.router, total / 4, get("/triage".into(), c.clone())).await),
            (
                "/referrals/new (the referral form)".into(),
                rate(&app.router, total, get("/referrals/new".into(), c.clone())).await,
            ),
            (
                "POST /people/search, a name prefix matching 50 (one audit event names them)".into(),
                rate(&app.router, total, search(&cookie, "pat")).await,
            ),
            (
                "POST /people/search, a name matching nobody (the query and one audit event)".into(),
                rate(&app.router, total, search(&cookie, "zzz")).await,
            ),
        ];
        println!("| {backend:?} | /assets/app.css (baseline: every layer, no database) | {bare:.0} | 1.00 |");
        for (route, r) in rows {
            println!("| {backend:?} | {route} | {r:.0} | {:.3} |", r / bare);
        }
        println!(
            "| {backend:?} | (demo data: {} people, {} referrals, {} episodes, {} contacts in {generation:.1} s) | | |",
            summary.people, summary.referrals, summary.episodes, summary.contacts
        );
        steps.push((backend, caseload_steps(&app, &user, &teams).await));
    }
    steps
}
