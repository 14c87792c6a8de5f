//! Directory benchmarks on a synthetic national directory (default 100,000 services from 20,000
//! organisations across England), on both databases: import speed, then the public Open
//! Referral UK API and the search's storage step for the searches link workers make. Run:
//! `cargo bench -p linkwork --bench directory` (`-- --quick` for 5,000 services, `-- --services N`).
//! Request rates are ratios against a static asset fetched through every layer in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::Request;
use linkwork_domain::Clock;
use linkwork_domain::directory::DirectoryQuery;
use linkwork_testkit::{Backend, TestApp};
use std::time::Instant;
use tower::ServiceExt;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Requests per second: `total` GETs of `path`, 8 at a time.
async fn rate(router: &axum::Router, total: usize, path: &str) -> f64 {
    let conc = 8;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let router = router.clone();
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / conc {
                let res =
                    router.clone().oneshot(Request::get(path.as_str()).body(Body::empty()).unwrap()).await.unwrap();
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: usize = arg("--services").and_then(|s| s.parse().ok()).unwrap_or(if quick { 5_000 } else { 100_000 });
    let total = if quick { 160 } else { 400 };
    let mut steps = vec![];
    println!("## The directory: {n} synthetic services, 8 concurrent, {total} requests each\n");
    println!("| backend | route | requests/s | ratio to static asset |");
    println!("| --- | --- | ---: | ---: |");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn(backend).await else { continue };
        let batches = linkwork::demo::national_directory(n, 7, app.clock.now()).unwrap();
        let started = Instant::now();
        for b in &batches {
            app.store.upsert_directory(b).await.unwrap();
        }
        let import = started.elapsed().as_secs_f64();
        app.store.analyze().await.unwrap();
        // One postcode in Leeds, for the distance search.
        app.store
            .import_postcodes(
                &[linkwork_domain::ports::PostcodePoint {
                    postcode: "LS1 1BA".into(),
                    latitude: 53.797,
                    longitude: -1.548,
                    lsoa: None,
                }],
                &[],
            )
            .await
            .unwrap();
        let term = "0193a000-0000-7000-8000-000000001003"; // Money and debt
        let one = batches[0].services[0].document.id;
        rate(&app.router, 40, "/openreferral/services?per_page=20").await; // warm up
        let bare = rate(&app.router, total * 2, "/assets/app.css").await;
        let routes = [
            ("/openreferral/services?search=walking&per_page=20", "words: one common word (1 in 12 services)"),
            ("/openreferral/services?search=debt%20clinic%20advice&per_page=20", "words: three, all required"),
            ("/openreferral/services?search=zzzz", "words: matching nothing"),
            (&*format!("/openreferral/services?taxonomy_term_id={term}&per_page=20"), "a category"),
            (
                "/openreferral/services?postcode=LS1%201BA&proximity=8000&per_page=20",
                "within 8 km of a postcode, nearest first",
            ),
            ("/openreferral/services?search=choir&postcode=LS1%201BA&proximity=16000", "a word within 16 km"),
            (
                "/openreferral/services?day=MO&start_time=10:00&minimum_age=70&per_page=20",
                "open Monday 10:00, suits a 70-year-old",
            ),
            ("/openreferral/services?page=200&per_page=50", "page 200 of everything"),
            (&*format!("/openreferral/services/{one}"), "one service in full"),
        ];
        println!("| {backend:?} | /assets/app.css (baseline: every layer, no database) | {bare:.0} | 1.00 |");
        for (path, what) in routes {
            let r = rate(&app.router, total, path).await;
            println!(
                "| {backend:?} | {what} (`{}`) | {r:.0} | {:.4} |",
                path.split('?').nth(1).unwrap_or(path),
                r / bare
            );
        }
        println!("| {backend:?} | (import: {n} services in {import:.1} s, {:.0} services/s) | | |", n as f64 / import);

        // The storage step alone, one call at a time.
        let near = Some((53.797, -1.548));
        let cases = [
            ("one common word", DirectoryQuery { text: "walking".into(), ..Default::default() }),
            ("three words", DirectoryQuery { text: "debt clinic advice".into(), ..Default::default() }),
            ("within 8 km", DirectoryQuery { near, radius_km: 8.0, ..Default::default() }),
            ("no criteria (count everything)", DirectoryQuery::default()),
        ];
        let mut rows = vec![];
        for (what, q) in cases {
            let t = Instant::now();
            let mut found = 0;
            for _ in 0..20 {
                found = app.store.search_directory(&q, 0, 20).await.unwrap().1;
            }
            rows.push((what, found, t.elapsed().as_secs_f64() * 1000.0 / 20.0));
        }
        steps.push((backend, rows));
    }
    println!("\n## search_directory alone (ms per call, mean of 20; first page of 20 and the total)\n");
    println!("| backend | search | matches | ms |");
    println!("| --- | --- | ---: | ---: |");
    for (backend, rows) in steps {
        for (what, found, ms) in rows {
            println!("| {backend:?} | {what} | {found} | {ms:.1} |");
        }
    }
}
