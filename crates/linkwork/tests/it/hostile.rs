//! Hostile input on forms and the API: oversized bodies, bad encodings, NUL bytes, script and
//! SQL metacharacters. Each gets a clear 4xx (never a 5xx), and whatever is stored is shown
//! safely.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use linkwork_testkit::{TestApp, app_test};

app_test!(nul_bytes_and_bad_encodings_get_a_clear_4xx, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Hostile PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@hostile.test", &["administrator"]).await;
    let mut anon = Client::new(&app.router);
    for form in ["email=a%00b%40hostile.test&password=x", "email=admin%40hostile.test&password=x%00y"] {
        let r = anon.post_form("/sign-in", form).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}: {}", r.body);
        assert!(r.body.contains("not allowed"), "{}", r.body);
    }
    let r = anon.post_form("/account/reset", "email=%00").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let raw = anon
        .send(
            Request::post("/sign-in")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(vec![b'e', b'm', b'a', b'i', b'l', b'=', 0xff, 0xfe, 0x00]))
                .unwrap(),
        )
        .await;
    assert_eq!(raw.status, StatusCode::BAD_REQUEST);

    let mut admin = Client::new(&app.router);
    admin.sign_in("admin@hostile.test", PASSWORD).await;
    let invite =
        admin.post_form("/admin/users/invite", "name=Ann%00Smith&email=ann%40hostile.test&role=link_worker").await;
    assert_eq!(invite.status, StatusCode::BAD_REQUEST);
    let api = admin.post_json("/api/v1/organisations", r#"{"name":"Nul\u0000Org","kind":"vcse"}"#, &[]).await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.header("content-type"), "application/problem+json");
    let bad_utf8 = admin
        .send(
            Request::post("/api/v1/organisations")
                .header("content-type", "application/json")
                .body(Body::from(vec![b'{', 0xc3, 0x28, b'}']))
                .unwrap(),
        )
        .await;
    assert_eq!(bad_utf8.status, StatusCode::BAD_REQUEST);
    let search = admin.post_form("/admin/audit", "actor=%00").await;
    assert_eq!(search.status, StatusCode::BAD_REQUEST);
    assert!(app.store.find_user_by_email("ann@hostile.test").await.is_err(), "nothing stored");
});

app_test!(script_and_sql_are_stored_as_text_and_shown_escaped, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Escape PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@escape.test", &["administrator"]).await;
    let mut admin = Client::new(&app.router);
    admin.sign_in("admin@escape.test", PASSWORD).await;
    let name = "<script>alert('x')</script> Robert'); DROP TABLE users;--";
    let form = format!("name={}&email=bobby%40escape.test&role=link_worker", crate::helpers::urlencode(name));
    assert_eq!(admin.post_form("/admin/users/invite", &form).await.header("location"), "/admin/users?done=invited");
    let stored = app.store.find_user_by_email("bobby@escape.test").await.unwrap();
    assert_eq!(stored.display_name, name, "stored exactly, as text");
    let page = admin.get("/admin/users").await;
    assert!(!page.body.contains("<script>alert"), "never executed");
    assert!(page.body.contains("alert(") && page.body.contains("DROP TABLE users"), "shown, escaped");
    assert_eq!(app.store.list_users().await.unwrap().len(), 2, "the users table is fine");
    let search = admin.post_form("/admin/audit", "actor=%27+OR+1%3D1+--").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains("No events match"), "SQL metacharacters are just text");
});

app_test!(oversized_forms_are_refused, |app: TestApp| async move {
    let mut anon = Client::new(&app.router);
    let huge = format!("email={}&password=x", "a".repeat(2 * 1024 * 1024));
    assert_eq!(anon.post_form("/sign-in", &huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
});
