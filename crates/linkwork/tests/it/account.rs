//! Invitations and password resets by one-time link through the outbox.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::http::StatusCode;
use chrono::Duration;
use linkwork_testkit::{TestApp, app_test};

/// The path and query of the last link emailed to `to`.
pub(crate) async fn last_link(store: &linkwork_storage::SqlStore, to: &str) -> String {
    let msgs = store.all_messages(50).await.unwrap();
    let m = msgs.iter().find(|m| m.recipient == to).unwrap_or_else(|| panic!("no email to {to}"));
    let start = m.body.find("/account/set-password?token=").unwrap();
    m.body[start..].split_whitespace().next().unwrap().to_owned()
}

app_test!(an_invited_user_sets_a_password_once, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Morley PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@morley.test", &["administrator"]).await;
    let mut admin = Client::new(&app.router);
    admin.sign_in("admin@morley.test", PASSWORD).await;

    let form = admin.get("/admin/users/invite").await;
    assert!(
        form.body.contains("Invite a user")
            && form.body.contains("Link worker")
            && !form.body.contains("Voluntary sector partner")
    );
    let bad = admin.post_form("/admin/users/invite", "name=&email=not-an-email&role=superuser").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for f in ["#name", "#email", "#role"] {
        assert!(bad.body.contains(&format!("href=\"{f}\"")), "{f} in the error summary");
    }
    assert!(bad.body.contains("value=\"not-an-email\""), "what was typed is kept");
    let dup =
        admin.post_form("/admin/users/invite", "name=Admin+Again&email=admin%40morley.test&role=link_worker").await;
    assert!(dup.body.contains("already has an account"));

    let ok = admin.post_form("/admin/users/invite", "name=Lee+Worker&email=lee%40morley.test&role=link_worker").await;
    assert_eq!(ok.header("location"), "/admin/users?done=invited");
    let link = last_link(&app.db.store, "lee@morley.test").await;
    let mut c = Client::new(&app.router);
    assert_eq!(c.sign_in("lee@morley.test", PASSWORD).await.status, StatusCode::BAD_REQUEST, "no usable password yet");

    // The link moves the token into the session and leaves a clean address.
    let opened = c.get(&link).await;
    assert_eq!(opened.header("location"), "/account/set-password");
    let page = c.get("/account/set-password").await;
    assert!(page.body.contains("Choose your password"));
    let weak = c.post_form("/account/set-password", "password=password1234&confirm=password1234").await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("too common"));
    let mismatch =
        c.post_form("/account/set-password", "password=kettle+orbit+lantern&confirm=kettle+orbit+lanterns").await;
    assert!(mismatch.body.contains("Type the same password twice") && mismatch.body.contains("href=\"#confirm\""));
    let done = c.post_form("/account/set-password", "password=kettle+orbit+lantern&confirm=kettle+orbit+lantern").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Your password is set"));
    assert_eq!(c.sign_in("lee@morley.test", PASSWORD).await.header("location"), "/home");

    let mut again = Client::new(&app.router);
    assert_eq!(again.get(&link).await.status, StatusCode::GONE, "a link works once");
});

app_test!(resets_reveal_nothing_expire_and_end_old_sessions, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Otley PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "w@otley.test", &["link_worker"]).await;
    let mut old_device = Client::new(&app.router);
    old_device.sign_in("w@otley.test", PASSWORD).await;

    let mut c = Client::new(&app.router);
    assert!(c.get("/sign-in").await.body.contains("href=\"/account/reset\""));
    let known = c.post_form("/account/reset", "email=W%40otley.test").await;
    let unknown = c.post_form("/account/reset", "email=nobody%40otley.test").await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, unknown.body, "the same answer either way");
    let empty = c.post_form("/account/reset", "email=").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let emails = app.db.store.all_messages(50).await.unwrap();
    assert_eq!(emails.len(), 1, "only the real account is emailed");
    c.post_form("/account/reset", "email=w%40otley.test").await;
    assert_eq!(app.db.store.all_messages(50).await.unwrap().len(), 1, "at most one email per five minutes");

    let link = last_link(&app.db.store, "w@otley.test").await;
    app.clock.advance(Duration::minutes(61));
    assert_eq!(c.get(&link).await.status, StatusCode::GONE, "a reset link lasts an hour");

    app.clock.advance(Duration::minutes(5));
    c.post_form("/account/reset", "email=w%40otley.test").await;
    let link = last_link(&app.db.store, "w@otley.test").await;
    c.get(&link).await;
    let done = c.post_form("/account/set-password", "password=copper+meadow+violin&confirm=copper+meadow+violin").await;
    assert!(done.body.contains("Your password is set"));
    assert_eq!(old_device.get("/home").await.header("location"), "/sign-in", "old sessions end");
    assert_eq!(c.sign_in("w@otley.test", PASSWORD).await.status, StatusCode::BAD_REQUEST, "the old password is gone");
    assert_eq!(c.sign_in("w@otley.test", "copper meadow violin").await.header("location"), "/home");
});
