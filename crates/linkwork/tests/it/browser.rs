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
    // Console messages are kept by chromedriver and read after each page (`console_errors`).
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
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

/// A chromedriver command fantoccini has no method for: `POST /session/{id}/{path}`.
#[derive(Debug)]
struct Chromedriver {
    path: &'static str,
    body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Chromedriver {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.body.to_string()))
    }
}

/// Errors the page wrote to the browser console since the last call (chromedriver keeps the
/// log; reading it empties it). The page's own 4xx status (a form with errors answers 400, an
/// unknown page 404, by design) is not an error of the page; anything else is.
async fn console_errors(c: &Client) -> Vec<String> {
    let here = c.current_url().await.expect("the current page").to_string();
    let own_status = format!("{here} - Failed to load resource: the server responded with a status of 4");
    let log = c
        .issue_cmd(Chromedriver { path: "se/log", body: json!({ "type": "browser" }) })
        .await
        .expect("read the browser console");
    log.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .filter(|m| !m.starts_with(&own_status))
                .collect()
        })
        .unwrap_or_default()
}

/// Show the page as a screen `width` CSS pixels wide (a phone is 320; 200% zoom on a 1280 px
/// screen is 640), through the DevTools protocol: a desktop window cannot be made that narrow.
async fn viewport(c: &Client, width: u32) {
    let params = json!({ "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 700 });
    c.issue_cmd(Chromedriver {
        path: "goog/cdp/execute",
        body: json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params }),
    })
    .await
    .expect("set the viewport");
    // Let the header script move links that no longer fit into its menu.
    c.execute("window.dispatchEvent(new Event('resize'))", vec![]).await.expect("resize");
    tokio::time::sleep(Duration::from_millis(150)).await;
}

/// How far the page scrolls sideways, in CSS pixels (0 when it reflows, as WCAG 1.4.10 asks).
async fn sideways(c: &Client) -> i64 {
    c.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
        .await
        .expect("measure the page")
        .as_i64()
        .unwrap_or(i64::MAX)
}

/// One width's checks: no serious or critical accessibility violation, no sideways scrolling
/// below desktop width. With `LINKWORK_SCREENSHOTS=DIR` set, also save a screenshot there.
async fn check_at(c: &Client, axe: &str, page: &str, width: u32) {
    if width != 1280 {
        viewport(c, width).await;
    }
    let name = format!("{page} at {width}px");
    if let Ok(dir) = std::env::var("LINKWORK_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(Path::new(&dir).join(format!("{}.png", name.replace(' ', "-"))), png).unwrap();
    }
    let bad = serious_violations(c, axe, &name).await;
    assert!(bad.is_empty(), "serious or critical accessibility violations on {name}: {bad:#?}");
    if width < 1280 {
        let overflow = sideways(c).await;
        assert!(overflow <= 0, "{name} scrolls sideways by {overflow}px");
        c.issue_cmd(Chromedriver {
            path: "goog/cdp/execute",
            body: json!({ "cmd": "Emulation.clearDeviceMetricsOverride", "params": {} }),
        })
        .await
        .expect("reset the viewport");
        c.execute("window.dispatchEvent(new Event('resize'))", vec![]).await.expect("resize");
    }
}

/// Every check of the current page, at desktop width and on a phone (320 px): accessibility,
/// reflow and a clean console.
async fn assert_accessible(c: &Client, axe: &str, page: &str) {
    assert_accessible_at(c, axe, page, &[1280, 320]).await;
}

/// The same at the widths given (a manager's pages are also checked at 200% zoom, 640 px).
async fn assert_accessible_at(c: &Client, axe: &str, page: &str, widths: &[u32]) {
    for w in widths {
        check_at(c, axe, page, *w).await;
    }
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "the browser console has errors on {page}: {errors:#?}");
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
    // Our module script ran under the strict CSP and started the NHS.UK frontend; no other
    // script is shipped (every page works as plain HTML forms).
    let scripted = c
        .execute(
            "return [document.body.classList.contains('nhsuk-frontend-supported'), document.scripts.length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(scripted, json!([true, 1]));
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
    assert_eq!(text(&c, "h1").await, "Find a service");
    assert_accessible(&c, &axe, "directory").await;
    c.goto(&format!("{base}/directory?q=walking&postcode=LS14%201AA&miles=5")).await.unwrap();
    assert!(text(&c, "#results").await.contains("service"));
    assert_accessible(&c, &axe, "directory search by distance").await;
    let first = c.find(fantoccini::Locator::Css(".nhsuk-card__heading a")).await.unwrap();
    let href = first.attr("href").await.unwrap().unwrap();
    c.goto(&format!("{base}{href}")).await.unwrap();
    assert!(text(&c, "h1").await.contains("Walking"));
    assert_accessible(&c, &axe, "service page").await;
    c.goto(&format!("{base}{href}/report")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Report a problem with this listing");
    assert_accessible(&c, &axe, "report a problem").await;

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

    // Issue 12 item 11: a subject access request, from finding the person to the whole report.
    c.find(Locator::LinkText("find the person and their whole access report")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/admin/subject-access").await;
    assert_accessible(&c, &axe, "subject access lookup").await;
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert_accessible(&c, &axe, "subject access lookup with errors").await;
    let admin = app.store.find_user_by_email("admin@pcn1.demo.test").await.unwrap();
    let (_, person) = app
        .store
        .recent_referrals(admin.org_id, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, p)| p.nhs_number.is_some())
        .expect("a demo person with an NHS number");
    let nhs = person.nhs_number.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default();
    c.find(Locator::Id("nhs_number")).await.unwrap().send_keys(&nhs).await.unwrap();
    c.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::LinkText(&format!("Access report for {}", person.full_name())))
        .await
        .ok();
    assert!(text(&c, "main").await.contains(&person.full_name()));
    assert_accessible(&c, &axe, "subject access results").await;
    c.find(Locator::Css("main table a")).await.unwrap().click().await.unwrap();
    wait_for_h1(&c, &format!("Access report: {}", person.full_name())).await;
    assert!(text(&c, "main").await.contains("subject_access_lookup"), "the search itself is in the report");
    assert_accessible(&c, &axe, "subject access report").await;

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
    let code =
        linkwork_web::access::two_factor::code_at(&secret, linkwork_domain::Clock::now(app.clock.as_ref())).unwrap();
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
    follow(&c, "Email notifications").await;
    wait_for_h1(&c, "Email notifications").await;
    assert_accessible(&c, &axe, "email notifications").await;
    c.back().await.unwrap();
    wait_for_path(&c, "/caseload").await;
    // Issue 12 item 2: every overdue tag says what is overdue.
    let tags: Vec<String> = c
        .execute(
            "return [...document.querySelectorAll('main .nhsuk-tag')].map(t => t.textContent.trim()).filter(t => /overdue/i.test(t));",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(
        tags.iter().all(|t| t == "Follow-up overdue"
            || t.starts_with("Holding review overdue: due ")
            || t.ends_with(" baseline overdue")
            || t.ends_with(" review overdue")),
        "each tag names what is overdue: {tags:?}"
    );
    c.find(Locator::Css("main table a")).await.unwrap().click().await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-summary-list")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/people/"));
    assert_accessible(&c, &axe, "person record").await;

    c.close().await.unwrap();
}

/// Set a field's value the way a person would type it (date inputs take their value directly:
/// typing into them depends on the browser's locale).
async fn fill(c: &Client, id: &str, value: &str) {
    c.execute(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(id), json!(value)],
    )
    .await
    .unwrap_or_else(|e| panic!("fill {id}: {e}"));
}

/// Tick a checkbox or choose a radio by clicking its label, as a person would.
async fn choose(c: &Client, input_id: &str) {
    c.find(Locator::Css(&format!("label[for='{input_id}']")))
        .await
        .unwrap_or_else(|e| panic!("label for {input_id}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Choose `value` in the select `id`.
async fn pick(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("select {id}: {e}")).select_by_value(value).await.unwrap();
}

async fn submit(c: &Client) {
    c.find(Locator::Css("main form[method=post] button[type=submit]")).await.unwrap().click().await.unwrap();
}

async fn follow(c: &Client, link: &str) {
    c.find(Locator::LinkText(link)).await.unwrap_or_else(|e| panic!("link {link:?}: {e}")).click().await.unwrap();
}

async fn wait_for_h1(c: &Client, h1: &str) {
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css("h1")).await
            && el.text().await.unwrap_or_default() == h1
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no page titled {h1:?}: on {} showing {:?}", c.current_url().await.unwrap(), text(c, "h1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_workers_journey_in_chromium_is_accessible() {
    let Some(driver) = start_driver().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap().with_demo().await;
    let axe = axe_source();
    let c = browser(&driver).await;
    let base = &app.base_url;

    // A member of the public asks for help: from the sign-in page, naming their GP practice
    // (never a PCN), their date of birth as day, month and year (issue 12 item 9).
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    follow(&c, "Ask for help from a social prescribing link worker").await;
    wait_for_h1(&c, "Ask for help from a social prescribing link worker").await;
    assert_accessible(&c, &axe, "self-referral").await;
    assert!(c.find(Locator::Css("input[type=date]")).await.is_err(), "no browser date picker");
    assert!(text(&c, "main").await.contains("Your GP practice"));
    assert!(c.find(Locator::Css("select[name=service]")).await.is_err(), "nobody is asked to choose a PCN");
    fill(&c, "given_name", "Sam").await;
    fill(&c, "date_of_birth-day", "31").await;
    fill(&c, "date_of_birth-month", "3").await;
    fill(&c, "date_of_birth-year", "58").await;
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert!(
        text(&c, ".nhsuk-error-summary").await.contains("Enter a real date of birth"),
        "a two-digit year is refused"
    );
    assert_eq!(
        c.find(Locator::Id("date_of_birth-year")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("58"),
        "what was typed comes back"
    );
    assert_accessible(&c, &axe, "self-referral with errors").await;

    // A GP refers: first with a mistake, then properly.
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    sign_in(&c, "referrer@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    follow(&c, "Refer someone").await;
    wait_for_h1(&c, "Refer someone to social prescribing").await;
    assert_accessible(&c, &axe, "referral form").await;
    c.find(Locator::Id("given_name")).await.unwrap().send_keys("Winifred").await.unwrap();
    c.find(Locator::Id("family_name")).await.unwrap().send_keys("Quayle").await.unwrap();
    // The GOV.UK date pattern: day, month and year, never the browser's mm/dd/yyyy.
    fill(&c, "date_of_birth-day", "11").await;
    fill(&c, "date_of_birth-month", "2").await;
    fill(&c, "date_of_birth-year", "1946").await;
    c.find(Locator::Id("reason"))
        .await
        .unwrap()
        .send_keys("Housebound since a fall; misses her allotment friends")
        .await
        .unwrap();
    choose(&c, "needs-1").await;
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert!(text(&c, ".nhsuk-error-summary__list").await.contains("Confirm the person agreed to be referred"));
    assert_eq!(
        c.find(Locator::Id("given_name")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Winifred"),
        "nothing typed is lost"
    );
    assert_accessible(&c, &axe, "referral form with errors").await;
    choose(&c, "consent").await;
    submit(&c).await;
    wait_for_path(&c, "/referrals").await;
    assert!(text(&c, "main").await.contains("Referral sent"));
    assert_accessible(&c, &axe, "your referrals").await;
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;

    // The link worker triages it and works with Winifred.
    sign_in(&c, "linkworker1@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    follow(&c, "Waiting list").await;
    wait_for_h1(&c, "Waiting list").await;
    assert_accessible(&c, &axe, "waiting list").await;
    follow(&c, "Winifred Quayle").await;
    wait_for_h1(&c, "Triage the referral").await;
    assert!(text(&c, "main").await.contains("Housebound since a fall"));
    assert_accessible(&c, &axe, "triage").await;
    choose(&c, "decision-1").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(!text(&c, "main").await.contains("871731000000106"), "nobody has spoken to her yet: no referral code");
    // The triage decision is confirmed with the NHS success notification.
    assert!(text(&c, "main").await.contains("Referral accepted"), "the decision is confirmed");
    assert_accessible(&c, &axe, "person record").await;
    let mut record = c.current_url().await.unwrap();
    record.set_query(None);

    follow(&c, "What matters to you").await;
    wait_for_h1(&c, "What matters to you").await;
    assert_accessible(&c, &axe, "what matters").await;
    choose(&c, "domain-1").await;
    c.find(Locator::Id("own_words")).await.unwrap().send_keys("I miss my friends at the allotment").await.unwrap();
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;

    follow(&c, "Add a goal").await;
    wait_for_h1(&c, "Add a goal to the plan").await;
    assert_accessible(&c, &axe, "goal").await;
    pick(&c, "domain", "loneliness").await;
    c.find(Locator::Id("own_words")).await.unwrap().send_keys("Get back to the allotment once a week").await.unwrap();
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;

    follow(&c, "Record a contact").await;
    wait_for_h1(&c, "Record a contact").await;
    assert_accessible(&c, &axe, "contact").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "main").await.contains("1 contact, 45 minutes in all"), "one contact, not \"1 contacts\"");
    assert!(text(&c, "main").await.contains("871731000000106"), "the first contact records the referral code");

    follow(&c, "Start holding").await;
    wait_for_h1(&c, "Start holding").await;
    assert_accessible(&c, &axe, "holding").await;
    choose(&c, "reason-2").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "main").await.contains("Sustaining while preparing for change"));

    follow(&c, "Book an appointment").await;
    wait_for_h1(&c, "Book an appointment").await;
    assert_accessible(&c, &axe, "appointment").await;
    // Issue 12 item 1: 10:00 on a July day is 10:00 on the record, not 09:00.
    fill(&c, "day-day", "14").await;
    fill(&c, "day-month", "7").await;
    fill(&c, "day-year", "2027").await;
    fill(&c, "time", "10:00").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    let page = text(&c, "main").await;
    assert!(page.contains("Wed 14 Jul 2027, 10:00") && !page.contains("14 Jul 2027, 09:00"), "{page}");

    follow(&c, "Record a barrier").await;
    wait_for_h1(&c, "Record a barrier").await;
    assert_accessible(&c, &axe, "barrier").await;
    // An untouched form records nothing: the list starts on "Choose…" (issue 22).
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert!(text(&c, ".nhsuk-error-summary").await.contains("Choose one of the options"), "the barrier must be chosen");
    assert_accessible(&c, &axe, "barrier with errors").await;
    pick(&c, "code", "money").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "main").await.contains("Money"));
    assert_accessible(&c, &axe, "person record with casework").await;

    follow(&c, "Discharge").await;
    wait_for_h1(&c, "Discharge").await;
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert_accessible(&c, &axe, "discharge with errors").await;
    choose(&c, "reason-1").await;
    c.find(Locator::Id("note"))
        .await
        .unwrap()
        .send_keys("Back at the allotment with a lift from a neighbour")
        .await
        .unwrap();
    submit(&c).await;
    wait_for_h1(&c, "Discharge summary").await;
    assert!(text(&c, "main").await.contains("Back at the allotment"));
    assert_accessible(&c, &axe, "discharge summary").await;
    c.goto(record.as_str()).await.unwrap();
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "main").await.contains("Episode closed"));

    // Issue 12 item 3: the summary sent is kept; reopening and discharging again sends version 2.
    follow(&c, "Reopen the episode").await;
    wait_for_h1(&c, "Reopen the episode").await;
    assert_accessible(&c, &axe, "reopen").await;
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert_accessible(&c, &axe, "reopen with errors").await;
    c.find(Locator::Id("reason")).await.unwrap().send_keys("Her neighbour can no longer drive her").await.unwrap();
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "main").await.contains("Episode reopened"));
    assert!(text(&c, "main").await.contains("Her neighbour can no longer drive her"));
    follow(&c, "Discharge").await;
    wait_for_h1(&c, "Discharge").await;
    assert_accessible(&c, &axe, "discharge again").await;
    choose(&c, "reason-1").await;
    c.find(Locator::Id("changes")).await.unwrap().send_keys("She now goes by community transport").await.unwrap();
    submit(&c).await;
    wait_for_h1(&c, "Discharge summary").await;
    let summary = text(&c, "main").await;
    assert!(summary.contains("She now goes by community transport") && summary.contains("Version 1"), "{summary}");
    assert_accessible(&c, &axe, "corrected discharge summary").await;

    // Issue 12 item 7: her referrer sees the outcome and reads the summary sent.
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "referrer@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    c.goto(&format!("{base}/referrals")).await.unwrap();
    wait_for_path(&c, "/referrals").await;
    let list = text(&c, "main").await;
    assert!(list.contains("Winifred Quayle") && list.contains("Discharged"), "{list}");
    c.find(Locator::XPath("//main//tr[contains(., 'Winifred Quayle')]//a[contains(@href, '/summary')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_h1(&c, "Discharge summary").await;
    assert!(text(&c, "main").await.contains("She now goes by community transport"), "the version sent last");
    assert_accessible(&c, &axe, "the referrer reads the summary").await;
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "linkworker1@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    c.goto(record.as_str()).await.unwrap();
    wait_for_h1(&c, "Winifred Quayle").await;

    // A second record of her arrives (a typo in her name); the worker checks it before merging.
    let winifred: linkwork_domain::ids::PersonId =
        record.path().trim_start_matches("/people/").split('/').next().unwrap().parse().unwrap();
    let her = app.store.get_person(winifred_org(&app).await, winifred).await.unwrap();
    let referral = app.store.person_referrals(her.org_id, her.id).await.unwrap().remove(0);
    let twin = linkwork_domain::people::Person {
        id: linkwork_domain::ids::PersonId::new(),
        given_name: "Winnifred".into(),
        nhs_number: None,
        version: 1,
        ..her.clone()
    };
    let twin_referral = linkwork_domain::intake::referrals::Referral {
        id: linkwork_domain::ids::ReferralId::new(),
        person_id: twin.id,
        ..referral
    };
    app.store.import_referrals(std::slice::from_ref(&twin), &[twin_referral]).await.unwrap();
    c.goto(record.as_str()).await.unwrap();
    wait_for_h1(&c, "Winifred Quayle").await;
    c.find(Locator::Css("main a[href*='/merge/']")).await.unwrap().click().await.unwrap();
    wait_for_h1(&c, "Merge duplicate records").await;
    assert_accessible(&c, &axe, "merge").await;
    c.goto(record.as_str()).await.unwrap();
    wait_for_h1(&c, "Winifred Quayle").await;

    // She is connected to a voluntary group's service; the group answers in its inbox.
    follow(&c, "Find a service").await;
    wait_for_h1(&c, "Find a service").await;
    assert!(text(&c, "main").await.contains("Searching for Winifred Quayle"));
    assert_accessible(&c, &axe, "find a service for a person").await;
    let partner = app.store.find_user_by_email("vcse@pcn1.demo.test").await.unwrap();
    let query = linkwork_domain::directory::DirectoryQuery {
        organization: Some(partner.org_id.0),
        active_only: true,
        capacity: vec![linkwork_domain::directory::Capacity::Accepting],
        ..Default::default()
    };
    let (hits, _) = app.store.search_directory(&query, 0, 1).await.unwrap();
    c.goto(&format!("{record}/connect/{}", hits[0].listing.id)).await.unwrap();
    wait_for_h1(&c, "Connect to a service").await;
    assert_accessible(&c, &axe, "connect to a service").await;
    choose(&c, "kind-1").await;
    c.find(Locator::Id("need")).await.unwrap().select_by_value("loneliness").await.unwrap();
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert!(text(&c, ".nhsuk-error-summary").await.contains("agreement to share"));
    assert_accessible(&c, &axe, "connect without consent").await;
    choose(&c, "consent").await;
    submit(&c).await;
    wait_for_h1(&c, "Winifred Quayle").await;
    assert!(text(&c, "#connections ~ .app-table-region table").await.contains("Sent, awaiting reply"));
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "vcse@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    follow(&c, "Referrals to us").await;
    wait_for_h1(&c, "Referrals to your services").await;
    assert_accessible(&c, &axe, "partner inbox").await;
    follow(&c, "Winifred Quayle").await;
    wait_for_h1(&c, "Referral").await;
    assert_accessible(&c, &axe, "a referral in the partner inbox").await;
    choose(&c, "status-1").await;
    submit(&c).await;
    wait_for_path(&c, "/partner").await;
    assert!(text(&c, "main").await.contains("Accepted"));
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "linkworker1@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;

    for (path, h1, page) in [
        ("/caseload", "My caseload", "caseload"),
        ("/people/search", "Find a person", "search"),
        ("/profile", "Your practice profile", "practice profile"),
        ("/referrals/import", "Import referrals from a file", "import"),
        ("/codes", "Codes for GP records", "codes for GP records"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for_h1(&c, h1).await;
        assert_accessible(&c, &axe, page).await;
    }
    c.goto(&format!("{base}/people/search")).await.unwrap();
    c.find(Locator::Id("name")).await.unwrap().send_keys("Quayle").await.unwrap();
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::LinkText("Winifred Quayle")).await.unwrap();
    assert_accessible(&c, &axe, "search results").await;

    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "manager@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    // Managers' pages also at 200% zoom (640 CSS pixels on a 1280 px screen).
    const ZOOMED: &[u32] = &[1280, 320, 640];
    follow(&c, "Team").await;
    wait_for_h1(&c, "Team").await;
    assert_accessible_at(&c, &axe, "team", ZOOMED).await;
    c.find(Locator::Css("a[href$='/settings']")).await.unwrap().click().await.unwrap();
    wait_for_h1(&c, "Team settings").await;
    assert_accessible_at(&c, &axe, "team settings", ZOOMED).await;
    c.goto(&format!("{base}/team")).await.unwrap();
    wait_for_h1(&c, "Team").await;
    follow(&c, "Unmet need: what link workers could not find or get").await;
    wait_for_h1(&c, "Unmet need").await;
    assert_accessible_at(&c, &axe, "unmet need", ZOOMED).await;
    // The roles whose areas are still to come see their home page and the directory.
    for email in ["commissioner@icb.demo.test", "researcher@icb.demo.test"] {
        c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
        wait_for_path(&c, "/sign-in").await;
        sign_in(&c, email, DEMO_PASSWORD).await;
        wait_for_path(&c, "/home").await;
        assert_accessible(&c, &axe, &format!("home for {email}")).await;
        c.goto(&format!("{base}/directory")).await.unwrap();
        wait_for_path(&c, "/directory").await;
        assert_accessible(&c, &axe, &format!("directory for {email}")).await;
    }
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    sign_in(&c, "manager@pcn1.demo.test", DEMO_PASSWORD).await;
    wait_for_path(&c, "/home").await;
    for (path, page) in [
        ("/caseload", "manager's caseload"),
        ("/triage", "manager's waiting list"),
        ("/directory/reports", "directory reports"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for_path(&c, path).await;
        assert_accessible_at(&c, &axe, page, ZOOMED).await;
    }
    c.close().await.unwrap();
}

/// The demo's first PCN, where the walk's people are.
async fn winifred_org(app: &TestApp) -> linkwork_domain::ids::OrgId {
    app.store.find_org("U10001").await.expect("the demo's first PCN").id
}

/// Issue 14's walk: a worker takes ONS4 and UCLA-3 with the person (one mistake first), sends a
/// SWEMWBS link once test wording is loaded, the person answers it on a phone-sized window,
/// and the scores and chart show on the record and in the discharge summary. Axe on each page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_measures_in_chromium_are_accessible() {
    use crate::helpers::PASSWORD;
    let Some(driver) = start_driver().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let s = crate::journey::setup(&app).await;
    let (mut lw, pid, eid) = crate::journey::ada_accepted(&app, &s).await;
    let day = linkwork_domain::Clock::now(app.clock.as_ref()).date_naive().format("%Y-%m-%d").to_string();
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/contact"),
            &crate::journey::form(&[
                ("happened_on", &day),
                ("minutes", "45"),
                ("mode", "face_to_face"),
                ("location", "practice"),
            ]),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER);
    crate::outcomes::load_test_wording(&app).await;
    let axe = axe_source();
    let c = browser(&driver).await;
    let base = &app.base_url;
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    sign_in(&c, "lw@seacroft.test", PASSWORD).await;
    wait_for_path(&c, "/home").await;
    c.goto(&format!("{base}/people/{pid}")).await.unwrap();
    wait_for_h1(&c, "Ada Okafor").await;
    assert!(text(&c, "#outcomes ~ .nhsuk-warning-callout").await.contains("ONS4 baseline due"));

    follow(&c, "Ask ONS4").await;
    wait_for_h1(&c, "ONS personal well-being (ONS4)").await;
    assert_accessible(&c, &axe, "ONS4 with the person").await;
    for (q, n) in [("life_satisfaction", 5), ("worthwhile", 6), ("happy", 4), ("anxious", 8)] {
        choose(&c, &format!("{q}-{}", n + 1)).await;
    }
    submit(&c).await;
    wait_for_h1(&c, "Ada Okafor").await;
    assert!(text(&c, ".nhsuk-notification-banner, main").await.contains("Outcome measure recorded"));

    follow(&c, "Ask UCLA-3").await;
    wait_for_h1(&c, "UCLA 3-item loneliness scale").await;
    choose(&c, "companionship-3").await;
    choose(&c, "left_out-2").await;
    submit(&c).await;
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".nhsuk-error-summary")).await.unwrap();
    assert!(text(&c, ".nhsuk-error-summary").await.contains("Question 3: choose an answer"));
    assert_eq!(
        c.find(Locator::Id("companionship-3")).await.unwrap().prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "the answers chosen come back"
    );
    assert_accessible(&c, &axe, "UCLA-3 with an unanswered question").await;
    choose(&c, "isolated-3").await;
    submit(&c).await;
    wait_for_h1(&c, "Ada Okafor").await;
    assert!(text(&c, "main").await.contains("UCLA-3 (loneliness)"));
    assert!(c.find(Locator::Css("svg.app-chart title")).await.is_ok(), "a chart with a text title");
    assert_accessible(&c, &axe, "record with outcome measures").await;

    follow(&c, "Send a questionnaire link to answer alone").await;
    wait_for_h1(&c, "Send a questionnaire link").await;
    assert_accessible(&c, &axe, "send a questionnaire link").await;
    let swemwbs = c
        .execute(
            "return [...document.querySelectorAll('input[name=instrument]')].find(i => i.value === 'swemwbs').id;",
            vec![],
        )
        .await
        .unwrap();
    choose(&c, swemwbs.as_str().unwrap()).await;
    choose(&c, "point-1").await;
    submit(&c).await;
    wait_for_h1(&c, "Ada Okafor").await;
    assert!(text(&c, "main").await.contains("Waiting for an answer"));

    // Ada, on her phone, with the link from her text message.
    let msg = app.db.store.all_messages(20).await.unwrap().into_iter().find(|m| m.body.contains("/q/")).unwrap();
    let at = msg.body.find("/q/").unwrap();
    let link = msg.body[at..at + 67].to_owned();
    c.find(Locator::Css(".nhsuk-header__account-button")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/sign-in").await;
    viewport(&c, 375).await;
    c.goto(&format!("{base}{link}")).await.unwrap();
    wait_for_h1(&c, "Ada, a few questions").await;
    assert!(!text(&c, "main").await.contains("Okafor"), "nothing of her beyond a first name");
    assert_accessible_at(&c, &axe, "the questionnaire link on a phone", &[375, 320]).await;
    for n in 1..=7 {
        choose(&c, &format!("item{n}-{}", if n % 2 == 0 { 4 } else { 3 })).await;
    }
    submit(&c).await;
    wait_for_h1(&c, "Thank you").await;
    assert_accessible_at(&c, &axe, "answers sent", &[375]).await;
    c.goto(&format!("{base}{link}")).await.unwrap();
    wait_for_h1(&c, "This link cannot be used").await;
    assert_accessible_at(&c, &axe, "a used link", &[375]).await;

    // Back at the practice: the scores on the record, then in the discharge summary.
    viewport(&c, 1280).await;
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    sign_in(&c, "lw@seacroft.test", PASSWORD).await;
    wait_for_path(&c, "/home").await;
    c.goto(&format!("{base}/people/{pid}")).await.unwrap();
    wait_for_h1(&c, "Ada Okafor").await;
    assert!(text(&c, "main").await.contains("SWEMWBS (mental wellbeing (metric score))"));
    c.goto(&format!("{base}/outcomes")).await.unwrap();
    wait_for_h1(&c, "Outcome recording").await;
    assert_accessible(&c, &axe, "outcome recording").await;
    c.goto(&format!("{base}/episodes/{eid}/discharge")).await.unwrap();
    wait_for_h1(&c, "Discharge").await;
    choose(&c, "reason-1").await;
    fill(&c, "note", "Goes to the lunch club; feels less alone").await;
    submit(&c).await;
    wait_for_path(&c, &format!("/episodes/{eid}/summary")).await;
    let summary = text(&c, "main").await;
    assert!(summary.contains("Outcome measures") && summary.contains("Loneliness"), "{summary}");
    assert_accessible(&c, &axe, "discharge summary with outcome measures").await;
}
