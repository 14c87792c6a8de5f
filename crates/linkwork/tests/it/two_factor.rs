//! Two-factor sign-in: required for roles that see personal data, set up on first sign-in,
//! codes never accepted twice, recovery codes single-use, demo accounts the only exemption.

use crate::helpers::{Client, PASSWORD, user};
use axum::http::StatusCode;
use chrono::Duration;
use linkwork_domain::Clock;
use linkwork_domain::access::audit::{AuditAction, AuditFilter};
use linkwork_domain::access::organisations::Organisation;
use linkwork_testkit::{TestApp, app_test};
use linkwork_web::access::two_factor::code_at;

/// A PCN with the default setting: two-factor required.
async fn strict_pcn(app: &TestApp, name: &str) -> Organisation {
    let icb =
        linkwork::admin::create_org(app.store.as_ref(), app.clock.as_ref(), &format!("{name} ICB"), "icb", None, None)
            .await
            .unwrap();
    let org = linkwork::admin::create_org(app.store.as_ref(), app.clock.as_ref(), name, "pcn", None, Some(&icb.name))
        .await
        .unwrap();
    assert!(app.store.org_requires_two_factor(org.id).await.unwrap(), "required by default");
    org
}

/// Enrol through the web pages; returns the secret and the recovery codes shown.
async fn enrol(app: &TestApp, c: &mut Client, email: &str) -> (String, Vec<String>) {
    let r = c.sign_in(email, PASSWORD).await;
    assert_eq!(r.header("location"), "/two-factor/setup");
    let setup = c.get("/two-factor/setup").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("<svg class=\"app-qr\"") && setup.body.contains("Key: <code"));
    let u = app.store.find_user_by_email(email).await.unwrap();
    let secret = app.store.two_factor(u.id).await.unwrap().unwrap().secret;
    assert!(setup.body.contains(&secret[..4]), "the key is shown for typing in");
    let again = c.get("/two-factor/setup").await;
    assert_eq!(app.store.two_factor(u.id).await.unwrap().unwrap().secret, secret, "reloading keeps the secret");
    assert!(again.body.contains(&secret[..4]));

    let wrong = c.post_form("/two-factor/setup", "code=123456").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("There is a problem") && wrong.body.contains("href=\"#code\""));
    let code = code_at(&secret, app.clock.now()).unwrap();
    let done = c.post_form("/two-factor/setup", &format!("code={code}")).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Save your recovery codes"));
    let codes: Vec<String> =
        done.body.split("<li><code>").skip(1).map(|s| s.split("</code>").next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

app_test!(first_sign_in_sets_up_an_authenticator_then_codes_are_needed, |app: TestApp| async move {
    let org = strict_pcn(&app, "Chapeltown PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@chapeltown.test", &["link_worker"]).await;
    let mut c = Client::new(&app.router);

    // Password alone is not enough: the session is only pending.
    c.sign_in("w@chapeltown.test", PASSWORD).await;
    assert_eq!(c.get("/home").await.header("location"), "/sign-in");
    let (secret, recovery) = enrol(&app, &mut c, "w@chapeltown.test").await;
    assert_eq!(c.get("/home").await.status, StatusCode::OK, "signed in after setting up");
    c.post_form("/sign-out", "").await;

    // Next time: password, then a code. The code just used for setup cannot be used again.
    assert_eq!(c.sign_in("w@chapeltown.test", PASSWORD).await.header("location"), "/sign-in/code");
    assert_eq!(c.get("/home").await.header("location"), "/sign-in");
    let page = c.get("/sign-in/code").await;
    assert!(page.body.contains("Enter your security code"));
    let replay = c.post_form("/sign-in/code", &format!("code={}", code_at(&secret, app.clock.now()).unwrap())).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "a code is accepted once");
    app.clock.advance(Duration::seconds(30));
    let ok = c.post_form("/sign-in/code", &format!("code={}", code_at(&secret, app.clock.now()).unwrap())).await;
    assert_eq!(ok.header("location"), "/home");
    assert_eq!(c.get("/home").await.status, StatusCode::OK);

    // A recovery code works once.
    let mut lost_phone = Client::new(&app.router);
    lost_phone.sign_in("w@chapeltown.test", PASSWORD).await;
    assert_eq!(
        lost_phone.post_form("/sign-in/code", &format!("code={}", recovery[3].to_uppercase())).await.header("location"),
        "/home"
    );
    let mut again = Client::new(&app.router);
    again.sign_in("w@chapeltown.test", PASSWORD).await;
    assert_eq!(
        again.post_form("/sign-in/code", &format!("code={}", recovery[3])).await.status,
        StatusCode::BAD_REQUEST
    );
    let u = app.store.find_user_by_email("w@chapeltown.test").await.unwrap();
    assert_eq!(app.store.recovery_codes_left(u.id).await.unwrap(), 9);

    // Sign-in is audited only when complete; failed codes are audited as failures.
    let failures = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::SignInFailed), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert!(failures.iter().any(|e| e.entry.reason.as_deref() == Some("wrong or reused second-factor code")));
    let sign_ins = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::SignIn), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(sign_ins.len(), 3);
});

app_test!(the_password_step_expires_and_wrong_codes_lock_the_account, |app: TestApp| async move {
    let org = strict_pcn(&app, "Armley PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@armley.test", &["manager"]).await;
    let mut c = Client::new(&app.router);
    let (secret, _) = enrol(&app, &mut c, "w@armley.test").await;
    c.post_form("/sign-out", "").await;

    c.sign_in("w@armley.test", PASSWORD).await;
    app.clock.advance(Duration::minutes(11));
    assert_eq!(c.get("/sign-in/code").await.header("location"), "/sign-in", "ten minutes to enter the code");

    c.sign_in("w@armley.test", PASSWORD).await;
    for _ in 0..linkwork_domain::access::throttle::ACCOUNT_LIMIT {
        c.post_form("/sign-in/code", "code=000000").await;
    }
    app.clock.advance(Duration::seconds(30));
    let locked = c.post_form("/sign-in/code", &format!("code={}", code_at(&secret, app.clock.now()).unwrap())).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "guessing codes locks the account too");
});

app_test!(who_must_use_two_factor, |app: TestApp| async move {
    let org = strict_pcn(&app, "Beeston PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "c@beeston.test", &["commissioner"]).await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "r@beeston.test", &["referrer"]).await;
    let mut commissioner = Client::new(&app.router);
    assert_eq!(
        commissioner.sign_in("c@beeston.test", PASSWORD).await.header("location"),
        "/home",
        "aggregates only: not required"
    );
    let mut referrer = Client::new(&app.router);
    assert_eq!(referrer.sign_in("r@beeston.test", PASSWORD).await.header("location"), "/two-factor/setup");

    // An organisation can turn the requirement off.
    app.store.set_org_requires_two_factor(org.id, false).await.unwrap();
    let mut later = Client::new(&app.router);
    assert_eq!(later.sign_in("r@beeston.test", PASSWORD).await.header("location"), "/home");
});

app_test!(only_demo_accounts_are_exempt, |app: TestApp| async move {
    let app = app.with_demo().await;
    let pcn = app.store.find_org("U10001").await.unwrap();
    assert!(app.store.org_requires_two_factor(pcn.id).await.unwrap());
    let mut demo = Client::new(&app.router);
    assert_eq!(demo.sign_in("admin@pcn1.demo.test", linkwork::demo::DEMO_PASSWORD).await.header("location"), "/home");
    assert!(demo.get("/home").await.body.contains("Demonstration system"), "with a visible banner");
    // A real account added to the demo organisation gets no exemption.
    user(app.store.as_ref(), app.clock.as_ref(), &pcn, "real@pcn1.test", &["link_worker"]).await;
    let mut real = Client::new(&app.router);
    assert_eq!(real.sign_in("real@pcn1.test", PASSWORD).await.header("location"), "/two-factor/setup");
    assert!(!real.get("/two-factor/setup").await.body.contains("Demonstration system"));
});

app_test!(administrators_reset_a_lost_authenticator, |app: TestApp| async move {
    let org = strict_pcn(&app, "Seacroft PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@seacroft.test", &["administrator"]).await;
    let w = user(app.store.as_ref(), app.clock.as_ref(), &org, "w@seacroft.test", &["link_worker"]).await;
    let mut admin = Client::new(&app.router);
    let _ = enrol(&app, &mut admin, "admin@seacroft.test").await;
    let mut worker = Client::new(&app.router);
    let _ = enrol(&app, &mut worker, "w@seacroft.test").await;

    let r = admin.post_form("/admin/users/reset-two-factor", &format!("user_id={}", w.id)).await;
    assert_eq!(r.header("location"), "/admin/users?done=two-factor-reset");
    assert!(app.store.two_factor(w.id).await.unwrap().is_none());
    assert_eq!(worker.get("/home").await.header("location"), "/sign-in", "their sessions ended");
    let mut again = Client::new(&app.router);
    assert_eq!(again.sign_in("w@seacroft.test", PASSWORD).await.header("location"), "/two-factor/setup");
});
