//! The `linkwork` binary as an operator meets it: every failure is one sentence saying what to
//! do, exit code 1, and nothing is damaged.

use linkwork_testkit::{Backend, TestDb, temp_dir};
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn linkwork(data: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_linkwork"));
    cmd.arg("--data").arg(data).args(args);
    cmd.env_remove("LINKWORK_DATABASE_URL").env_remove("LINKWORK_LISTEN").env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run linkwork");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The error line printed on failure (log lines may precede it).
fn error_line(o: &Out) -> String {
    o.stderr.lines().filter(|l| l.starts_with("error: ")).collect::<Vec<_>>().join("\n")
}

fn assert_one_sentence(o: &Out, needle: &str) {
    assert_eq!(o.code, 1, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    let line = error_line(o);
    assert_eq!(line.lines().count(), 1, "exactly one error line: {}", o.stderr);
    assert!(line.contains(needle), "expected {needle:?} in {line:?}");
}

#[tokio::test]
async fn migrate_and_check_on_a_fresh_data_folder() {
    let data = temp_dir("cli");
    let first = linkwork(&data, &["check"], None).await;
    assert_eq!(first.code, 1);
    assert!(first.stdout.contains("12 migration(s) pending; run `linkwork migrate`"), "{}", first.stdout);
    let m = linkwork(&data, &["migrate"], None).await;
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert!(m.stdout.contains("Applied 12 migration(s)"));
    let again = linkwork(&data, &["migrate"], None).await;
    assert!(again.stdout.contains("already current"));
    let ok = linkwork(&data, &["check"], None).await;
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.contains("Database: sqlite reachable") && ok.stdout.contains("Schema: current"));
    assert!(data.join("linkwork.db").exists());
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn check_and_migrate_on_postgres_by_url() {
    let Some(db) = TestDb::empty(Backend::Postgres).await else { return };
    let data = temp_dir("cli");
    let url = db.url();
    let pending = linkwork(&data, &["--database-url", &url, "check"], None).await;
    assert_eq!(pending.code, 1);
    assert_eq!(linkwork(&data, &["--database-url", &url, "migrate"], None).await.code, 0);
    let ok = linkwork(&data, &["--database-url", &url, "check"], None).await;
    assert_eq!(ok.code, 0, "{} {}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("Database: postgres reachable"));
    assert!(!data.join("linkwork.db").exists(), "no SQLite file when PostgreSQL is used");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn bad_database_settings_get_one_clear_sentence_and_no_secret() {
    let data = temp_dir("cli");
    let bad = linkwork(&data, &["--database-url", "postgres://lw:hunter2@[::1:5432/lw", "check"], None).await;
    assert_one_sentence(&bad, "is not valid");
    let scheme = linkwork(&data, &["--database-url", "mysql://lw:hunter2@localhost/lw", "check"], None).await;
    assert_one_sentence(&scheme, "must start with postgres://");
    let down = linkwork(&data, &["--database-url", "postgres://lw:hunter2@127.0.0.1:1/lw", "check"], None).await;
    assert_one_sentence(&down, "cannot open the database at postgres://lw:***@127.0.0.1:1/lw");
    for o in [&bad, &scheme, &down] {
        assert!(!o.stderr.contains("hunter2") && !o.stdout.contains("hunter2"), "password leaked: {}", o.stderr);
    }
    let proxy = linkwork(&data, &["--trusted-proxy", "proxy.internal", "check"], None).await;
    assert_one_sentence(&proxy, "is not an IP address");
    let missing_file = linkwork(&data, &["--database-url-file", "/nonexistent/url", "check"], None).await;
    assert_one_sentence(&missing_file, "cannot read the database URL file");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn an_unwritable_data_folder_is_explained() {
    let dir = temp_dir("cli");
    let file = dir.join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let o = linkwork(&file.join("data"), &["migrate"], None).await;
    assert_one_sentence(&o, "cannot be written");
    assert!(error_line(&o).contains("--data or LINKWORK_DATA"));
    assert_eq!(std::fs::read(&file).unwrap(), b"x", "nothing damaged");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_port_in_use_is_explained() {
    let data = temp_dir("cli");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = linkwork(&data, &["serve", "--listen", &addr], None).await;
    assert_one_sentence(&o, "is already in use");
    let bad = linkwork(&data, &["serve", "--listen", "localhost"], None).await;
    assert_one_sentence(&bad, "is not valid; use HOST:PORT");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn a_half_migrated_database_stops_the_server_with_advice() {
    let data = temp_dir("cli");
    assert_eq!(linkwork(&data, &["migrate"], None).await.code, 0);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", data.join("linkwork.db").display())).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET success = 0").execute(&pool).await.unwrap();
    pool.close().await;
    let check = linkwork(&data, &["check"], None).await;
    assert_eq!(check.code, 1);
    assert!(check.stdout.contains("did not finish"), "{}", check.stdout);
    let serve = linkwork(&data, &["serve", "--listen", "127.0.0.1:0"], None).await;
    assert_one_sentence(&serve, "half-migrated");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn bootstrap_organisations_and_users_from_the_command_line() {
    let data = temp_dir("cli");
    let icb =
        linkwork(&data, &["org", "create", "--name", "West Yorkshire ICB", "--kind", "icb", "--ods", "qwo"], None)
            .await;
    assert_eq!(icb.code, 0, "{}", icb.stderr);
    let pcn = linkwork(
        &data,
        &["org", "create", "--name", "Leeds PCN", "--kind", "pcn", "--ods", "U12345", "--parent", "QWO"],
        None,
    )
    .await;
    assert_eq!(pcn.code, 0, "{}", pcn.stderr);
    let orphan = linkwork(&data, &["org", "create", "--name", "Lonely Practice", "--kind", "practice"], None).await;
    assert_one_sentence(&orphan, "must have Primary Care Network as its parent");
    let kind = linkwork(&data, &["org", "create", "--name", "Hospital", "--kind", "hospital"], None).await;
    assert_one_sentence(&kind, "unknown organisation kind");
    let off = linkwork(&data, &["org", "two-factor", "U12345", "off"], None).await;
    assert!(off.stdout.contains("Two-factor sign-in for Leeds PCN is now off"), "{}", off.stderr);
    let bad = linkwork(&data, &["org", "two-factor", "U12345", "maybe"], None).await;
    assert_one_sentence(&bad, "say on or off");
    let list = linkwork(&data, &["org", "list"], None).await;
    assert!(list.stdout.contains("QWO") && list.stdout.contains("Leeds PCN"));

    let args = [
        "user",
        "create",
        "--email",
        "Amy@Leeds.test",
        "--role",
        "link_worker",
        "--role",
        "manager",
        "--org",
        "U12345",
        "--password-stdin",
    ];
    let weak = linkwork(&data, &args, Some("password\n")).await;
    assert_one_sentence(&weak, "at least 12 characters");
    let made = linkwork(&data, &args, Some("kettle orbit lantern\n")).await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    let dup = linkwork(&data, &args, Some("kettle orbit lantern\n")).await;
    assert_one_sentence(&dup, "already exists");
    let users = linkwork(&data, &["user", "list"], None).await;
    assert!(
        users.stdout.contains("amy@leeds.test\tactive\tlink_worker,manager")
            || users.stdout.contains("amy@leeds.test\tactive\tmanager,link_worker"),
        "{}",
        users.stdout
    );
    assert!(!users.stdout.contains("argon2"), "no hashes printed");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", data.join("linkwork.db").display())).await.unwrap();
    sqlx::query("INSERT INTO sign_in_throttle (key, failures, window_started_at, locked_until) VALUES ('account:amy@leeds.test', 10, '2026-01-01T00:00:00+00:00', '2999-01-01T00:00:00+00:00')")
        .execute(&pool)
        .await
        .unwrap();
    let unlocked = linkwork(&data, &["user", "unlock", "Amy@Leeds.test"], None).await;
    assert!(unlocked.stdout.contains("Unlocked"), "{}", unlocked.stderr);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_in_throttle").fetch_one(&pool).await.unwrap();
    assert_eq!(left, 0, "the lock is gone");
    pool.close().await;
    let off = linkwork(&data, &["user", "disable", "amy@leeds.test"], None).await;
    assert!(off.stdout.contains("Disabled amy@leeds.test"));
    assert!(linkwork(&data, &["user", "list"], None).await.stdout.contains("amy@leeds.test\tdisabled"));
    let nobody = linkwork(&data, &["user", "disable", "nobody@leeds.test"], None).await;
    assert_one_sentence(&nobody, "no user has the email");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn config_example_and_demo_only_into_an_empty_database() {
    let data = temp_dir("cli");
    let ex = linkwork(&data, &["config", "example"], None).await;
    assert!(ex.stdout.contains("LINKWORK_LISTEN=127.0.0.1:8080") && ex.stdout.contains("LINKWORK_DATABASE_URL_FILE"));
    let demo = linkwork(&data, &["demo", "--quiet"], None).await;
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    assert!(demo.stdout.contains("10000 people") && demo.stdout.contains("admin@pcn1.demo.test"));
    let again = linkwork(&data, &["demo", "--quiet"], None).await;
    assert_one_sentence(&again, "already has data");
    let _ = std::fs::remove_dir_all(data);
}

async fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    Some(buf)
}

#[tokio::test]
async fn serve_runs_and_stops_gracefully_on_sigterm() {
    let data = temp_dir("cli");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_linkwork"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--demo", "--listen", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut body = None;
    for _ in 0..100 {
        if let Some(r) = http_get(&addr, "/health").await {
            body = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let body = body.expect("the server answered /health");
    assert!(body.starts_with("HTTP/1.1 200") && body.contains("\"status\":\"ok\""), "{body}");
    let sign_in = http_get(&addr, "/sign-in").await.unwrap();
    assert!(sign_in.contains("Sign in to linkwork"));
    let pid = child.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(15), child.wait()).await.expect("stopped in time").unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
    assert!(out.contains(&format!("linkwork is running on http://{addr}")), "{out}");
    assert!(out.contains("password for all"), "demo accounts printed: {out}");
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn audit_verify_reports_intact_then_the_first_broken_link() {
    let data = temp_dir("cli");
    assert_eq!(linkwork(&data, &["org", "create", "--name", "Audit ICB", "--kind", "icb"], None).await.code, 0);
    assert_eq!(
        linkwork(&data, &["org", "create", "--name", "Audit PCN", "--kind", "pcn", "--parent", "Audit ICB"], None)
            .await
            .code,
        0
    );
    let ok = linkwork(&data, &["audit", "verify"], None).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("The audit trail is intact: 2 events"), "{}", ok.stdout);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", data.join("linkwork.db").display())).await.unwrap();
    sqlx::query("DROP TRIGGER audit_events_no_delete").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = 1").execute(&pool).await.unwrap();
    pool.close().await;
    let broken = linkwork(&data, &["audit", "verify"], None).await;
    assert_eq!(broken.code, 1);
    assert!(broken.stdout.contains("broken at event 1") && broken.stdout.contains("missing"), "{}", broken.stdout);
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn import_referrals_from_csv_all_or_nothing() {
    let data = temp_dir("cli");
    assert_eq!(linkwork(&data, &["org", "create", "--name", "Import ICB", "--kind", "icb"], None).await.code, 0);
    let pcn = ["org", "create", "--name", "Import PCN", "--kind", "pcn", "--ods", "U54321", "--parent", "Import ICB"];
    assert_eq!(linkwork(&data, &pcn, None).await.code, 0);
    let file = data.join("search.csv");
    std::fs::write(
        &file,
        "given_name,family_name,date_of_birth,reason,nhs_number,consent\n\
         Ada,Okafor,1948-05-02,Lonely,943 476 5919,yes\n\
         Bo,Smith,1990-02-30,Debt,,no\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let bad = linkwork(&data, &["import", "referrals", path, "--org", "U54321"], None).await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("Row 3, date_of_birth: Enter a real date of birth"), "{}", bad.stderr);
    assert!(bad.stderr.contains("Row 3, consent:") && !bad.stderr.contains("Row 2"), "{}", bad.stderr);
    assert!(error_line(&bad).contains("nothing was imported"));
    let missing_team = linkwork(&data, &["import", "referrals", path, "--org", "U54321", "--team", "Nope"], None).await;
    assert_one_sentence(&missing_team, "has no team called \"Nope\"");
    std::fs::write(
        &file,
        "given_name,family_name,date_of_birth,reason,nhs_number,consent\n\
         Ada,Okafor,1948-05-02,Lonely,943 476 5919,yes\n\
         Bo,Smith,1990-02-28,Debt,,yes\n",
    )
    .unwrap();
    let ok = linkwork(&data, &["import", "referrals", path, "--org", "U54321"], None).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains(
            "Imported 2 referrals into Import PCN (people new to the service: 2; already known by NHS number: 0)"
        ),
        "{}",
        ok.stdout
    );
    let again = linkwork(&data, &["import", "referrals", path, "--org", "U54321"], None).await;
    assert!(
        again.stdout.contains("(people new to the service: 1; already known by NHS number: 1)"),
        "Ada is found by her NHS number; Bo, with none, is a new record to merge if need be: {}",
        again.stdout
    );
    let verify = linkwork(&data, &["audit", "verify"], None).await;
    assert_eq!(verify.code, 0, "imports are in the audit trail and the chain holds: {}", verify.stdout);
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn import_oruk_feeds_and_postcodes_from_the_command_line() {
    let data = temp_dir("cli-oruk");
    let share = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../share");
    let examples = share.join("oruk/examples");
    let ok = linkwork(&data, &["import", "oruk", examples.to_str().unwrap()], None).await;
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("Services: 1 new, 0 updated, 0 unchanged"), "{}", ok.stdout);
    assert!(ok.stdout.contains("warning: ") && ok.stdout.contains("not on Earth"), "{}", ok.stdout);
    let again = linkwork(&data, &["import", "oruk", examples.join("csv").to_str().unwrap()], None).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(again.stdout.contains("0 new"), "{}", again.stdout);
    // A bad record: exit code 2, the record named, the rest imported.
    let bad = data.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"id": "0193b000-0000-7000-8000-000000000031", "name": "Good", "status": "active", "organization_id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"},
            {"id": "0193b000-0000-7000-8000-000000000032", "name": "Bad", "status": "closed", "organization_id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"}]"#,
    )
    .unwrap();
    let out = linkwork(&data, &["import", "oruk", bad.to_str().unwrap()], None).await;
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("error: bad.json (service) record 0193b000-0000-7000-8000-000000000032: status \"closed\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Services: 1 new"), "{}", out.stdout);
    // Neither a path nor --url: clap explains.
    assert_ne!(linkwork(&data, &["import", "oruk"], None).await.code, 0);
    // Postcodes with deprivation deciles.
    let pc = linkwork(
        &data,
        &[
            "import",
            "postcodes",
            share.join("postcodes-sample.csv").to_str().unwrap(),
            "--deprivation",
            share.join("deprivation-sample.csv").to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert_eq!(pc.code, 0, "{}{}", pc.stdout, pc.stderr);
    assert!(pc.stdout.contains("Imported 351 postcodes and 351 deprivation deciles; skipped 0 rows."), "{}", pc.stdout);
}

/// Licensed wording is loaded by the deployer: checked against the declaration (nothing loaded
/// when it does not fit), listed as offered once loaded.
#[tokio::test]
async fn outcomes_load_wording_checks_the_file_and_makes_the_instrument_offered() {
    let data = temp_dir("cli-wording");
    assert_eq!(linkwork(&data, &["migrate"], None).await.code, 0);
    let before = linkwork(&data, &["outcomes", "list"], None).await;
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(
        before.stdout.contains("swemwbs") && before.stdout.contains("NOT offered until its wording is loaded"),
        "{}",
        before.stdout
    );
    let bad = data.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"instrument":"swemwbs","language":"English","licence":"x","items":["one"],"responses":[["a"]]}"#,
    )
    .unwrap();
    let refused = linkwork(&data, &["outcomes", "load-wording", bad.to_str().unwrap()], None).await;
    assert_one_sentence(&refused, "has 7 items; the file has 1");
    let good = data.join("swemwbs.json");
    std::fs::write(&good, crate::outcomes::TEST_SWEMWBS).unwrap();
    let loaded = linkwork(&data, &["outcomes", "load-wording", good.to_str().unwrap()], None).await;
    assert_eq!(loaded.code, 0, "{}", loaded.stderr);
    assert!(loaded.stdout.contains("Loaded the English wording of Short Warwick-Edinburgh"), "{}", loaded.stdout);
    let after = linkwork(&data, &["outcomes", "list"], None).await;
    assert!(after.stdout.contains("offered (wording loaded: English)"), "{}", after.stdout);
}

/// `linkwork backup` takes a consistent copy while another process writes (its audit chain
/// verifies, so no write is half in it), refuses a folder in use; `linkwork restore` goes only
/// into an empty data folder, restores every table's content as backed up, verifies the trail
/// and says how long it took.
#[tokio::test]
async fn backup_under_writes_and_restore_into_an_empty_data_folder() {
    use linkwork_domain::access::audit::{AuditAction, AuditEntry};
    use linkwork_domain::ports::AuditStore;
    let data = temp_dir("cli-backup");
    assert_eq!(linkwork(&data, &["migrate"], None).await.code, 0);
    let store =
        linkwork_storage::SqlStore::open(&linkwork_storage::DatabaseLocation::SqliteFile(data.join("linkwork.db")))
            .await
            .unwrap();
    // Writes go on, in this process, while the binary takes the backup.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut n = 0u32;
            loop {
                let e = AuditEntry::new(linkwork_testkit::test_epoch(), AuditAction::Update, "load");
                if store.append_audit(&[e.clone(), e]).await.is_ok() {
                    n += 2;
                }
                if n >= 400 {
                    break n;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dest = data.join("backups").join("one");
    let b = linkwork(&data, &["backup", dest.to_str().unwrap()], None).await;
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert!(b.stdout.contains("passed its integrity check"), "{}", b.stdout);
    let written = writer.await.unwrap();
    assert!(written >= 400);
    let again = linkwork(&data, &["backup", dest.to_str().unwrap()], None).await;
    assert_one_sentence(&again, "is not empty");
    let backed_up = linkwork_storage::backup::file_digests(&dest.join("linkwork.db")).await.unwrap();
    assert!(backed_up.len() > 30, "{backed_up:?}");

    // Never over a live database.
    let over = linkwork(&data, &["restore", dest.to_str().unwrap()], None).await;
    assert_one_sentence(&over, "already holds a database");
    let fresh = temp_dir("cli-restore");
    let r = linkwork(&fresh, &["restore", dest.to_str().unwrap()], None).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Restored") && r.stdout.contains(" ms."), "{}", r.stdout);
    assert!(r.stdout.contains("The restored audit trail is intact"), "a consistent copy: {}", r.stdout);
    let restored = linkwork_storage::backup::file_digests(&fresh.join("linkwork.db")).await.unwrap();
    assert_eq!(restored, backed_up, "every table's content as backed up");
    store.close().await;
}
