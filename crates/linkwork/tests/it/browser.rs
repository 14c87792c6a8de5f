//! Real pages in real headless Chromium (Debian's `chromium` and `chromium-driver`), with an
//! axe-core accessibility check on every page visited. Without chromedriver the test says so
//! loudly and returns; under CI it fails instead.

use fantoccini::{Client, ClientBuilder, Locator};
use linkwork::demo::DEMO_PASSWORD;
use linkwork_testkit::{Backend, TestApp, temp_dir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core not installed at {} ({e}): run npm ci", path.display()))
}

struct Driver {
    child: tokio::process::Child,
    profile: PathBuf,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn start_driver() -> Option<Driver> {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        let msg = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)";
        assert!(std::env::var("CI").is_err(), "{msg}: CI must run the browser tests");
        eprintln!("\n*** SKIPPED the browser tests: {msg}. ***\n");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some(Driver { child, profile: temp_dir("chromium"), port });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", format!("--user-data-dir={}", driver.profile.display())
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

/// Run axe-core on the current page and return its serious or critical violations.
async fn serious_violations(c: &Client, axe: &str, page: &str) -> Vec<Value> {
    c.execute(axe, vec![]).await.expect("inject axe-core");
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
               .then(r => done({ ok: true, checked: r.passes.length, violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) })) }))
               .catch(e => done({ ok: false, error: String(e) }));",
            vec![],
        )
        .await
        .expect("run axe-core");
    assert_eq!(result["ok"], true, "axe-core failed on {page}: {result}");
    assert!(result["checked"].as_u64().unwrap_or(0) > 5, "axe-core checked almost nothing on {page}: {result}");
    result["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .cloned()
        .collect()
}

/// Fail on any serious or critical accessibility violation on the current page. With
/// `LINKWORK_SCREENSHOTS=DIR` set, also save a screenshot of the page there, to look at.
async fn assert_accessible(c: &Client, axe: &str, page: &str) {
    if let Ok(dir) = std::env::var("LINKWORK_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(Path::new(&dir).join(format!("{}.png", page.replace(' ', "-"))), png).unwrap();
    }
    let bad = serious_violations(c, axe, page).await;
    assert!(bad.is_empty(), "serious or critical accessibility violations on {page}: {bad:#?}");
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

/// Wait (up to ten seconds) for the browser to arrive at `path`.
async fn wait_for_path(c: &Client, path: &str) {
    for _ in 0..100 {
        if c.current_url().await.unwrap().path() == path
            && c.execute("return document.readyState", vec![]).await.unwrap() == "complete"
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser did not reach {path}; it is on {}", c.current_url().await.unwrap());
}

async fn sign_in(c: &Client, email: &str, password: &str) {
    c.find(Locator::Id("email")).await.unwrap().clear().await.unwrap();
    c.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_journey_in_chromium_is_accessible() {
    let Some(driver) = start_driver().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap().with_demo().await;
    let axe = axe_source();
    let c = browser(&driver).await;
    let base = &app.base_url;

    c.goto(&format!("{base}/sign-in")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in – linkwork");
    assert_eq!(text(&c, "h1").await, "Sign in to linkwork");
    // Our module script ran under the strict CSP and started the NHS.UK frontend; htmx loaded.
    let scripted = c
        .execute("return [document.body.classList.contains('nhsuk-frontend-supported'), typeof window.htmx];", vec![])
        .await
        .unwrap();
    assert_eq!(scripted, json!([true, "object"]));
    assert_accessible(&c, &axe, "sign-in").await;
    // Negative control: the checker must catch a real defect, or its passes mean nothing.
    c.execute("document.querySelector('label[for=password]').remove()", vec![]).await.unwrap();
    let caught = serious_violations(&c, &axe, "sign-in without a label").await;
    assert!(caught.iter().any(|v| v["id"] == "label"), "axe-core missed an unlabelled input: {caught:?}");
    c.refresh().await.unwrap();

    sign_in(&c, "admin@pcn1.demo.test", "wrong password").await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert_eq!(text(&c, ".nhsuk-error-summary__title").await, "There is a problem");
    assert!(text(&c, ".nhsuk-error-summary__list").await.contains("Enter a correct email address and password"));
    assert_eq!(
        c.find(Locator::Id("email")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("admin@pcn1.demo.test")
    );
    assert_accessible(&c, &axe, "sign-in with errors").await;

    sign_in(&c, "admin@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    assert_eq!(text(&c, "h1").await, "Hello, Alex Administrator");
    assert!(text(&c, ".app-demo-banner").await.contains("Demonstration system"));
    assert_accessible(&c, &axe, "home").await;

    c.goto(&format!("{base}/directory")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Community directory");
    assert_accessible(&c, &axe, "directory").await;

    c.goto(&format!("{base}/admin/messages")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Notification outbox");
    assert_accessible(&c, &axe, "notifications").await;

    c.goto(&format!("{base}/no-such-page")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Page not found");
    assert_accessible(&c, &axe, "not found").await;

    c.goto(&format!("{base}/admin/users")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Users in Harehills Primary Care Network 1");
    assert_accessible(&c, &axe, "users").await;

    c.goto(&format!("{base}/admin/users/invite")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Invite a user");
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert_accessible(&c, &axe, "invite with errors").await;

    c.goto(&format!("{base}/admin/audit")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Audit trail");
    assert_accessible(&c, &axe, "audit trail").await;

    c.goto(&format!("{base}/home")).await.unwrap();
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    c.goto(&format!("{base}/home")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/sign-in", "signed out for real");

    c.find(Locator::LinkText("Forgotten your password?")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/account/reset").await;
    assert_eq!(text(&c, "h1").await, "Reset your password");
    assert_accessible(&c, &axe, "password reset").await;

    // A real (non-demo) account must set up two-factor sign-in: those pages are checked too.
    linkwork::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref(),
        "nurse@pcn1.test",
        Some("Nia Nurse"),
        &["referrer".into()],
        "U10001",
        "kettle orbit lantern",
    )
    .await
    .unwrap();
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    sign_in(&c, "nurse@pcn1.test", "kettle orbit lantern").await;
    wait_for_path(&c, "/two-factor/setup").await;
    assert_eq!(text(&c, "h1").await, "Set up two-factor sign-in");
    assert_accessible(&c, &axe, "two-factor setup").await;
    let nurse = app.store.find_user_by_email("nurse@pcn1.test").await.unwrap();
    let secret = app.store.two_factor(nurse.id).await.unwrap().unwrap().secret;
    let code = linkwork_web::two_factor::code_at(&secret, linkwork_domain::Clock::now(app.clock.as_ref())).unwrap();
    c.find(Locator::Id("code")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".app-recovery-codes")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Save your recovery codes");
    assert_accessible(&c, &axe, "recovery codes").await;

    // A link worker's caseload and a person's record.
    c.goto(&format!("{base}/home")).await.unwrap();
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "linkworker1@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    c.find(Locator::LinkText("Caseload")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/caseload").await;
    assert_eq!(text(&c, "h1").await, "My caseload");
    assert_accessible(&c, &axe, "caseload").await;
    c.find(Locator::Css("main table a")).await.unwrap().click().await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-summary-list")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/people/"));
    assert_accessible(&c, &axe, "person record").await;

    c.close().await.unwrap();
}
