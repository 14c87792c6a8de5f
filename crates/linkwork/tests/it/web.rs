//! Pages, sessions, CSRF, security headers and the API, through the real router.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration;
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::SessionRecord;
use linkwork_testkit::{Backend, TestApp, app_test};

async fn admin_client(app: &TestApp) -> Client {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Seacroft PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@seacroft.test", &["administrator"]).await;
    let mut c = Client::new(&app.router);
    let r = c.sign_in("admin@seacroft.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    c
}

app_test!(sign_in_page_is_safe_and_accessible_markup, |app: TestApp| async move {
    let mut c = Client::new(&app.router);
    let r = c.get("/sign-in").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<h1>Sign in to linkwork</h1>"));
    assert!(
        r.body.contains("href=\"#maincontent\"") && r.body.contains("id=\"maincontent\""),
        "skip link and main landmark"
    );
    assert!(!r.body.contains("<script>") && !r.body.contains("onclick"), "no inline script");
    let csp = r.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("x-frame-options"), "DENY");
    assert_eq!(r.header("referrer-policy"), "no-referrer");
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(c.cookie.is_none(), "no session for an anonymous visit");
});

app_test!(signing_in_rotates_the_session_and_signing_out_ends_it, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Chapeltown PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "worker@chapeltown.test", &["link_worker"]).await;
    // An attacker plants a session id in the victim's browser before sign-in.
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let rec = SessionRecord {
        id: planted.into(),
        user_id: None,
        data: "{}".into(),
        expires_at: app.clock.now() + Duration::minutes(60),
    };
    app.store.save_session(&rec).await.unwrap();
    let mut c = Client::new(&app.router);
    c.cookie = Some(planted.into());
    let r = c.sign_in("Worker@Chapeltown.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/home");
    let set_cookie = r.header("set-cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && !set_cookie.contains("Secure"));
    let new_id = c.cookie.clone().unwrap();
    assert_ne!(new_id, planted, "the session id changes at sign-in");
    assert!(app.store.load_session(planted, app.clock.now()).await.unwrap().is_none());

    let home = c.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Chapeltown PCN"));
    assert!(home.body.contains("Link worker"));

    let out = c.post_form("/sign-out", "").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(app.store.load_session(&new_id, app.clock.now()).await.unwrap().is_none(), "deleted server-side");
    let mut replay = Client::new(&app.router);
    replay.cookie = Some(new_id);
    assert_eq!(replay.get("/home").await.header("location"), "/sign-in", "the old cookie is worthless");
});

app_test!(wrong_password_and_unknown_account_look_the_same, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Bramley PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "real@bramley.test", &["referrer"]).await;
    let mut c = Client::new(&app.router);
    let wrong = c.sign_in("real@bramley.test", "not the password").await;
    let unknown = c.sign_in("nobody@bramley.test", "not the password").await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("There is a problem"), "NHS error summary");
        assert!(r.body.contains("Enter a correct email address and password"));
        assert!(r.body.contains("<title>Error: Sign in"));
    }
    assert_eq!(
        wrong.body.replace("real@bramley.test", "X"),
        unknown.body.replace("nobody@bramley.test", "X"),
        "the two answers differ only by the email echoed back"
    );
    assert!(wrong.body.contains("value=\"real@bramley.test\""), "what was typed is kept");
    assert!(c.cookie.is_none());
    let empty = c.sign_in("", "").await;
    assert!(empty.body.contains("Enter your email address") && empty.body.contains("href=\"#email\""));
    let no_pw = c.sign_in("real@bramley.test", "").await;
    assert!(no_pw.body.contains("Enter your password") && no_pw.body.contains("href=\"#password\""));
    assert!(
        no_pw.body.contains("id=\"password-error\"") && !no_pw.body.contains("id=\"email-error\""),
        "the error sits at its field"
    );
    let hostile = c.sign_in("<script>alert(1)</script>", "x' OR '1'='1").await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST);
    assert!(!hostile.body.contains("<script>alert(1)") && hostile.body.contains("alert(1)"), "escaped, not executed");
});

app_test!(pages_need_a_session_and_disabled_users_lose_theirs, |app: TestApp| async move {
    let mut anon = Client::new(&app.router);
    for path in ["/home", "/directory", "/admin/messages"] {
        let r = anon.get(path).await;
        assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, "/sign-in"), "{path}");
    }

    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Morley PCN").await;
    let u = user(app.store.as_ref(), app.clock.as_ref(), &org, "w@morley.test", &["link_worker"]).await;
    let mut c = Client::new(&app.router);
    c.sign_in("w@morley.test", PASSWORD).await;
    assert_eq!(c.get("/home").await.status, StatusCode::OK);
    assert_eq!(c.get("/admin/messages").await.status, StatusCode::FORBIDDEN, "not an administrator");
    app.store.set_user_disabled(u.id, true).await.unwrap();
    assert_eq!(c.get("/home").await.header("location"), "/sign-in");
});

app_test!(sessions_end_when_idle, |app: TestApp| async move {
    let mut c = admin_client(&app).await;
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(c.get("/home").await.status, StatusCode::OK, "activity keeps the session alive");
    }
    app.clock.advance(Duration::minutes(31));
    assert_eq!(c.get("/home").await.header("location"), "/sign-in");
});

app_test!(busy_sessions_are_not_rewritten_on_every_request, |app: TestApp| async move {
    let mut c = admin_client(&app).await;
    let id = c.cookie.clone().unwrap();
    let expiry = || async { app.store.load_session(&id, app.clock.now()).await.unwrap().unwrap().expires_at };
    let first = expiry().await;
    app.clock.advance(Duration::seconds(30));
    c.get("/home").await;
    assert_eq!(expiry().await, first, "within the minute: no write");
    app.clock.advance(Duration::seconds(31));
    c.get("/home").await;
    assert_eq!(expiry().await, app.clock.now() + Duration::minutes(30), "after a minute: expiry slides");
});

#[tokio::test]
async fn sessions_end_at_the_absolute_limit_however_busy() {
    let web = linkwork_web::WebConfig { session_idle: Duration::days(2), ..Default::default() };
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, web).await else { return };
    let mut c = admin_client(&app).await;
    for _ in 0..11 {
        app.clock.advance(Duration::hours(1));
        assert_eq!(c.get("/home").await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(61));
    assert_eq!(c.get("/home").await.header("location"), "/sign-in", "12 hours after sign-in");
}

app_test!(cross_site_posts_are_refused, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Kirkstall PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@kirkstall.test", &["link_worker"]).await;
    let mut c = Client::new(&app.router);
    let form = format!("email=w%40kirkstall.test&password={}", crate::helpers::urlencode(PASSWORD));
    let cross = Request::post("/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(form.clone()))
        .unwrap();
    assert_eq!(c.send(cross).await.status, StatusCode::FORBIDDEN);
    let other_origin = Request::post("/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "linkwork.example.nhs.uk")
        .header("origin", "https://evil.example")
        .body(Body::from(form))
        .unwrap();
    assert_eq!(c.send(other_origin).await.status, StatusCode::FORBIDDEN);
    assert!(c.cookie.is_none());
});

app_test!(api_root_health_and_problem_details, |app: TestApp| async move {
    let mut c = Client::new(&app.router);
    let root = c.get("/api/v1").await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    assert_eq!(root.json()["name"], "linkwork");
    let health = c.get("/health").await;
    assert_eq!(health.json()["status"], "ok");
    let missing = c.get("/api/v1/no-such-thing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    assert_eq!(missing.json()["status"], 404);
    let page = c.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
    let unauth = c.get("/api/v1/organisations").await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauth.json()["title"], "Sign in first");
});

app_test!(api_create_is_validated_and_idempotent, |app: TestApp| async move {
    let mut c = admin_client(&app).await;
    let parent = app.store.find_org("Seacroft PCN ICB").await.unwrap();
    let body = format!(
        r#"{{"name":"Leeds Practice","kind":"practice","ods_code":"b86001","parent_id":"{}"}}"#,
        app.store.find_org("Seacroft PCN").await.unwrap().id
    );
    let key = [("idempotency-key", "4b1c1c1e-create-1")];
    let first = c.post_json("/api/v1/organisations", &body, &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["ods_code"], "B86001");
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(first.header("location"), format!("/api/v1/organisations/{id}"));

    let retry = c.post_json("/api/v1/organisations", &body, &key).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.json()["id"], id.as_str(), "the retry returns the first record");
    assert_eq!(retry.header("idempotent-replayed"), "true");
    assert_eq!(app.store.list_orgs().await.unwrap().len(), 3, "created once");

    let changed = c.post_json("/api/v1/organisations", &body.replace("Leeds Practice", "Other Practice"), &key).await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(changed.json()["title"], "Idempotency-Key reused");

    let again_no_key = c.post_json("/api/v1/organisations", &body, &[]).await;
    assert_eq!(again_no_key.status, StatusCode::CONFLICT);

    let invalid = c
        .post_json(
            "/api/v1/organisations",
            &format!(r#"{{"name":"x","kind":"hospital","ods_code":"!!","parent_id":"{}"}}"#, parent.id),
            &[],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        invalid.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    // The ICB is above the administrator's PCN: outside their tenant (issue 11, finding 13).
    assert_eq!(fields, ["name", "kind", "ods_code", "parent_id"]);

    let wrong_parent =
        c.post_json("/api/v1/organisations", r#"{"name":"Orphan Practice","kind":"practice"}"#, &[]).await;
    assert_eq!(wrong_parent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_parent.json()["errors"][0]["field"], "parent_id");

    let malformed = c.post_json("/api/v1/organisations", "{\"name\": ", &[]).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.header("content-type"), "application/problem+json");
    let unknown_field = c.post_json("/api/v1/organisations", r#"{"name":"A B","kind":"vcse","admin":true}"#, &[]).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);

    let not_json = c
        .send(
            Request::post("/api/v1/organisations")
                .header("content-type", "text/plain")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let listed = c.get("/api/v1/organisations").await;
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 3);
});

app_test!(only_administrators_create_organisations, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Garforth PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@garforth.test", &["link_worker"]).await;
    let mut c = Client::new(&app.router);
    c.sign_in("w@garforth.test", PASSWORD).await;
    let r = c.post_json("/api/v1/organisations", r#"{"name":"Sneaky","kind":"vcse"}"#, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_orgs().await.unwrap().len(), 2);
});

app_test!(oversized_bodies_are_refused, |app: TestApp| async move {
    let mut c = admin_client(&app).await;
    let huge = format!(r#"{{"name":"{}","kind":"vcse"}}"#, "a".repeat(2 * 1024 * 1024));
    let r = c.post_json("/api/v1/organisations", &huge, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
});

app_test!(server_faults_reveal_nothing, |app: TestApp| async move {
    let mut c = admin_client(&app).await;
    app.db.store.close().await; // the database goes away
    let page = c.get("/home").await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let api = Client { router: app.router.clone(), cookie: c.cookie.clone(), address: None }
        .get("/api/v1/organisations")
        .await;
    assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(api.header("content-type"), "application/problem+json");
    let health = c.get("/health").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    for body in [&page.body, &api.body, &health.body] {
        let lower = body.to_lowercase();
        for leak in ["sqlx", "pool", "sqlite", "postgres", "closed", "panicked", "src/"] {
            assert!(!lower.contains(leak), "5xx body mentions {leak:?}: {body}");
        }
    }
    assert!(page.body.contains("Sorry, there is a problem with the service") && page.body.contains("reference"));
});

app_test!(assets_are_served_from_self, |app: TestApp| async move {
    let mut c = Client::new(&app.router);
    for (path, ty) in [
        ("/assets/nhsuk-frontend.min.css", "text/css; charset=utf-8"),
        ("/assets/nhsuk-frontend.min.js", "text/javascript; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/images/favicon.svg", "image/svg+xml"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("content-type"), ty, "{path}");
        assert!(r.body.len() > 100, "{path}");
    }
    assert!(c.get("/assets/nhsuk-frontend.min.css").await.body.contains("nhsuk-header"));
});
