//! What the architecture issue (13) promises, tested: one rule for closed episodes across every
//! casework write, found by walking the route table so a new write route is covered the day it
//! is added.

use crate::journey::{ada_accepted, form, setup};
use axum::http::{Method, StatusCode};
use linkwork_testkit::{TestApp, app_test};

app_test!(every_casework_write_on_a_discharged_episode_is_refused, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    let episode = format!("/episodes/{eid}");
    // Something of each kind to act on after discharge: a goal, a holding period, an appointment.
    for (step, fields) in [
        ("goal", vec![("domain", "loneliness"), ("own_words", "Get out twice a week")]),
        (
            "holding",
            vec![("reason", "waiting"), ("started_on", "2026-11-20"), ("review_on", "2026-12-20"), ("note", "")],
        ),
        (
            "appointment",
            vec![
                ("day", "2027-01-05"),
                ("time", "10:00"),
                ("minutes", "45"),
                ("mode", "face_to_face"),
                ("location", "practice"),
            ],
        ),
    ] {
        let r = lw.post_form(&format!("{episode}/{step}"), &form(&fields)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.body);
    }
    let org = s.org.id;
    let goal = app.store.goals(org, eid).await.unwrap()[0].id;
    let holding = app.store.holdings(org, eid).await.unwrap()[0].id;
    let appointment = app.store.appointments(org, eid).await.unwrap()[0].id;
    let version = app.store.get_episode(org, eid).await.unwrap().version.to_string();
    let r = lw
        .post_form(
            &format!("{episode}/discharge"),
            &form(&[("version", &version), ("reason", "goals_met"), ("note", "Goes to lunch club weekly")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let before = app.store.get_episode(org, eid).await.unwrap();
    let counts = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            (
                store.needs(org, eid).await.unwrap().len(),
                store.goals(org, eid).await.unwrap().len(),
                store.goal_reviews(org, eid).await.unwrap().len(),
                store.contacts(org, eid).await.unwrap().len(),
                store.holdings(org, eid).await.unwrap(),
                store.appointments(org, eid).await.unwrap(),
                store.barriers(org, eid).await.unwrap().len(),
            )
        }
    };
    let stored = counts(&app).await;

    // Every write route about an episode or a goal, from the route table, with a body that
    // would be accepted on an open episode.
    let body = form(&[
        ("version", &before.version.to_string()),
        ("domain", "loneliness"),
        ("own_words", "More"),
        ("status", "achieved"),
        ("progress", "9"),
        ("happened_on", "2026-11-30"),
        ("minutes", "30"),
        ("mode", "phone"),
        ("location", "phone"),
        ("reason", "waiting"),
        ("started_on", "2026-11-21"),
        ("review_on", "2026-12-21"),
        ("how", "connected"),
        ("day", "2027-02-01"),
        ("time", "11:00"),
        ("code", "transport"),
        ("kind", "structural"),
        ("work", "holding"),
        ("note", "After discharge"),
    ]);
    let mut walked = vec![];
    for route in linkwork_web::routes::table() {
        if !(route.path.starts_with("/episodes/{id}") || route.path.starts_with("/goals/{id}")) {
            continue;
        }
        let id = if route.path.starts_with("/goals/") { goal.to_string() } else { eid.to_string() };
        let path = route
            .path
            .replace("{id}", &id)
            .replace("{holding}", &holding.to_string())
            .replace("{appointment}", &appointment.to_string());
        if route.method == Method::POST {
            let r = lw.post_form(&path, &body).await;
            assert_eq!(r.status, StatusCode::CONFLICT, "POST {}: {}", route.path, r.body);
            assert!(
                r.body.contains("This episode is closed") && r.body.contains(&format!("/people/{pid}")),
                "POST {} says why and links back to the record: {}",
                route.path,
                r.body
            );
            walked.push(route.path);
        }
    }
    // Ten writes today: need, goal, review, contact, holding (start, end), appointment (book,
    // status), barrier, work, discharge.
    assert!(walked.len() >= 11, "walked only {walked:?}");
    assert_eq!(counts(&app).await, stored, "nothing was stored");
    let after = app.store.get_episode(org, eid).await.unwrap();
    assert_eq!(
        (after.version, after.closed_at, after.discharge_note),
        (before.version, before.closed_at, before.discharge_note)
    );

    // The form pages of a closed episode say the same instead of offering a form.
    for step in ["need", "goal", "contact", "holding", "appointment", "barrier"] {
        let r = lw.get(&format!("{episode}/{step}")).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "GET {step}");
        assert!(!r.body.contains("<form method=\"post\" action=\"/episodes"), "no form on {step}");
    }
    let r = lw.get(&format!("/goals/{goal}/review")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Reading what was sent still works.
    assert_eq!(lw.get(&format!("{episode}/summary")).await.status, StatusCode::OK);
});

app_test!(the_json_faces_answer_json_at_their_roots_and_for_unknown_paths, |app: TestApp| async move {
    let mut anon = crate::helpers::Client::new(&app.router);
    for root in ["/openreferral", "/openreferral/"] {
        let r = anon.get(root).await;
        assert_eq!(r.status, StatusCode::OK, "{root}");
        assert!(r.header("content-type").starts_with("application/json"), "{root}: {}", r.header("content-type"));
    }
    for unknown in
        ["/openreferral/nothing", "/openreferral/services/x/y", "/api", "/api/", "/api/v2/anything", "/fhir/r4/x"]
    {
        let r = anon.get(unknown).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{unknown}");
        assert_eq!(r.header("content-type"), "application/problem+json", "{unknown}: {}", r.body);
        assert!(!r.body.contains("<html"), "{unknown}");
    }
    // Pages elsewhere keep the NHS-style page.
    let r = anon.get("/no-such-page").await;
    assert!(r.status == StatusCode::NOT_FOUND && r.body.contains("Page not found"));
});
