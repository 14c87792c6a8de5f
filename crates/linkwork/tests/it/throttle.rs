//! Brute force: failed sign-ins are throttled per account and per address; a locked account
//! looks exactly like a locked non-account; administrators can lift locks and end sessions.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::http::StatusCode;
use chrono::Duration;
use linkwork_domain::access::throttle::{ACCOUNT_LIMIT, ADDRESS_LIMIT};
use linkwork_testkit::{TestApp, app_test};

const LOCKED: &str = "Too many failed attempts";

app_test!(accounts_lock_after_repeated_failures_revealing_nothing, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Seacroft PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "real@seacroft.test", &["link_worker"]).await;
    let mut c = Client::new(&app.router);
    let mut last = (None, None);
    for email in ["real@seacroft.test", "ghost@seacroft.test"] {
        for i in 1..=ACCOUNT_LIMIT {
            let r = c.sign_in(email, "wrong password").await;
            let expected = if i == ACCOUNT_LIMIT { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::BAD_REQUEST };
            assert_eq!(r.status, expected, "{email} attempt {i}");
        }
        let r = c.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{email}: even the right password waits");
        assert!(r.body.contains(LOCKED));
        if email.starts_with("real") {
            last.0 = Some(r.body.replace(email, "X"))
        } else {
            last.1 = Some(r.body.replace(email, "X"))
        }
    }
    assert_eq!(last.0, last.1, "a locked account and a locked non-account look the same");

    app.clock.advance(Duration::minutes(61));
    assert_eq!(c.sign_in("real@seacroft.test", PASSWORD).await.status, StatusCode::SEE_OTHER, "the lock runs out");
});

app_test!(a_success_resets_the_count, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Garforth PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@garforth.test", &["link_worker"]).await;
    for _ in 0..3 {
        let mut c = Client::new(&app.router);
        for _ in 1..ACCOUNT_LIMIT {
            c.sign_in("w@garforth.test", "typo").await;
        }
        assert_eq!(c.sign_in("w@garforth.test", PASSWORD).await.status, StatusCode::SEE_OTHER);
    }
});

app_test!(one_address_trying_many_accounts_is_blocked, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Otley PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@otley.test", &["link_worker"]).await;
    let mut attacker = Client::new(&app.router);
    attacker.address = Some("203.0.113.7:40000".parse().unwrap());
    for i in 0..ADDRESS_LIMIT {
        attacker.sign_in(&format!("guess{i}@otley.test"), "password1").await;
    }
    let r = attacker.sign_in("w@otley.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "the address is blocked");
    let mut colleague = Client::new(&app.router);
    colleague.address = Some("198.51.100.2:50000".parse().unwrap());
    assert_eq!(
        colleague.sign_in("w@otley.test", PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "other addresses are not"
    );
});

app_test!(administrators_unlock_and_sign_users_out_everywhere, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Kirkstall PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@kirkstall.test", &["administrator"]).await;
    let worker = user(app.store.as_ref(), app.clock.as_ref(), &org, "w@kirkstall.test", &["link_worker"]).await;
    let other = pcn(app.store.as_ref(), app.clock.as_ref(), "Elsewhere PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &other, "admin@elsewhere.test", &["administrator"]).await;

    // The worker is signed in on two devices, then someone locks their account.
    let (mut phone, mut laptop) = (Client::new(&app.router), Client::new(&app.router));
    phone.sign_in("w@kirkstall.test", PASSWORD).await;
    laptop.sign_in("w@kirkstall.test", PASSWORD).await;
    let mut attacker = Client::new(&app.router);
    for _ in 0..ACCOUNT_LIMIT {
        attacker.sign_in("w@kirkstall.test", "guess").await;
    }

    let mut admin = Client::new(&app.router);
    admin.sign_in("admin@kirkstall.test", PASSWORD).await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("w@kirkstall.test") && page.body.contains("Locked"));
    assert!(!page.body.contains("elsewhere.test"), "only this organisation's users");

    // An administrator elsewhere cannot touch this user.
    let mut foreign = Client::new(&app.router);
    foreign.sign_in("admin@elsewhere.test", PASSWORD).await;
    let form = format!("user_id={}", worker.id);
    assert_eq!(foreign.post_form("/admin/users/unlock", &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.post_form("/admin/users/revoke-sessions", &form).await.status, StatusCode::NOT_FOUND);

    let r = admin.post_form("/admin/users/revoke-sessions", &form).await;
    assert_eq!(r.header("location"), "/admin/users?done=revoked");
    assert_eq!(phone.get("/home").await.header("location"), "/sign-in");
    assert_eq!(laptop.get("/home").await.header("location"), "/sign-in");

    let r = admin.post_form("/admin/users/unlock", &form).await;
    assert_eq!(r.header("location"), "/admin/users?done=unlocked");
    assert!(admin.get("/admin/users?done=unlocked").await.body.contains("The account is unlocked"));
    assert_eq!(phone.sign_in("w@kirkstall.test", PASSWORD).await.status, StatusCode::SEE_OTHER);
});

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts_and_spoofing_does_not() {
    use axum::body::Body;
    use axum::http::Request;
    use linkwork_domain::access::audit::{AuditAction, AuditFilter};
    let web = linkwork_web::WebConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
    let Some(app) = TestApp::spawn_with(linkwork_testkit::Backend::Sqlite, web).await else { return };
    let attempt = |xff: &'static str| {
        Request::post("/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", xff)
            .body(Body::from("email=nobody%40proxy.test&password=x"))
            .unwrap()
    };
    let mut via_proxy = Client::new(&app.router);
    via_proxy.address = Some("127.0.0.1:50000".parse().unwrap());
    via_proxy.send(attempt("10.9.9.9, 203.0.113.50")).await;
    let mut direct = Client::new(&app.router);
    direct.address = Some("192.0.2.1:40000".parse().unwrap());
    direct.send(attempt("203.0.113.99")).await;
    let events = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::SignInFailed), limit: 10, ..Default::default() })
        .await
        .unwrap();
    let sources: Vec<&str> = events.iter().filter_map(|e| e.entry.source.as_deref()).collect();
    assert_eq!(sources, ["192.0.2.1", "203.0.113.50"], "newest first: the direct client's claim is ignored");
}
