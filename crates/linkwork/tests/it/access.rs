//! Access control: every route has a rule (the router is built from the rule table), and every
//! route × role combination does what the rule says, leaking nothing when it refuses.

use crate::helpers::{Client, PASSWORD, Resp, pcn, user};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use linkwork_domain::access::accounts::Role;
use linkwork_domain::access::permissions::{Permission, role_allows};
use linkwork_testkit::{TestApp, app_test};
use std::collections::HashSet;

async fn call(c: &mut Client, method: &Method, path: &str) -> Resp {
    let req = if *method == Method::GET {
        Request::get(path).body(Body::empty()).unwrap()
    } else if path.starts_with("/api/") {
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap()
    } else {
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap()
    };
    c.send(req).await
}

fn refused_as_anonymous(r: &Resp, path: &str) -> bool {
    if path.starts_with("/api/") { r.status == StatusCode::UNAUTHORIZED } else { r.header("location") == "/sign-in" }
}

#[test]
fn the_route_table_has_one_rule_per_route() {
    let table = linkwork_web::routes::table();
    let mut seen = HashSet::new();
    for r in &table {
        assert!(seen.insert((r.method.clone(), r.path)), "{} {} is declared twice", r.method, r.path);
    }
    assert!(table.iter().any(|r| r.permission == Permission::ManageOrganisations), "the table is the real one");
}

app_test!(every_route_for_every_role, |app: TestApp| async move {
    let store = app.store.as_ref();
    let clock = app.clock.as_ref();
    let org = pcn(store, clock, "Roundhay PCN").await;
    let vcse = linkwork::admin::create_org(store, clock, "Roundhay Befrienders", "vcse", None, None).await.unwrap();
    store.set_org_requires_two_factor(vcse.id, false).await.unwrap();
    for role in Role::ALL {
        let home = if role == Role::VcsePartner { &vcse } else { &org };
        user(store, clock, home, &format!("{}@roundhay.test", role.as_str()), &[role.as_str()]).await;
    }
    let table = linkwork_web::routes::table();
    let mut checked = 0;
    for spec in &table {
        // The second sign-in step is public, but sends anyone without a password step behind them
        // back to the sign-in page, by design.
        let second_step = spec.path == "/sign-in/code" || spec.path == "/two-factor/setup";
        // Anonymous visitors reach public routes only.
        let mut anon = Client::new(&app.router);
        let r = call(&mut anon, &spec.method, spec.path).await;
        if spec.permission == Permission::Public {
            assert!(
                (second_step || !refused_as_anonymous(&r, spec.path))
                    && r.status != StatusCode::FORBIDDEN
                    && r.status != StatusCode::UNAUTHORIZED,
                "{} {} is public",
                spec.method,
                spec.path
            );
        } else {
            assert!(
                refused_as_anonymous(&r, spec.path),
                "{} {} must refuse anonymous visitors: {}",
                spec.method,
                spec.path,
                r.status
            );
        }
        for role in Role::ALL {
            let mut c = Client::new(&app.router);
            assert_eq!(
                c.sign_in(&format!("{}@roundhay.test", role.as_str()), PASSWORD).await.status,
                StatusCode::SEE_OTHER
            );
            let r = call(&mut c, &spec.method, spec.path).await;
            let allowed = role_allows(role, spec.permission);
            if allowed && second_step {
                assert_eq!(r.header("location"), "/sign-in", "{role:?}: no pending sign-in, back to the start");
            } else if allowed && spec.path == "/sign-out" {
                // Signing out sends you to the sign-in page by design: check it really happened.
                assert_eq!(r.status, StatusCode::SEE_OTHER);
                assert!(c.cookie.is_none(), "{role:?}: the session cookie is removed");
            } else if allowed {
                assert!(
                    r.status != StatusCode::FORBIDDEN
                        && r.status != StatusCode::UNAUTHORIZED
                        && r.header("location") != "/sign-in",
                    "{role:?} may {} {}: got {}",
                    spec.method,
                    spec.path,
                    r.status
                );
                assert!(!r.status.is_server_error(), "{role:?} {} {}: {}", spec.method, spec.path, r.body);
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?} may not {} {}", spec.method, spec.path);
                assert!(!r.body.contains("Roundhay"), "a refusal leaks nothing: {}", r.body);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, table.len() * Role::ALL.len());
});
