//! What the architecture issue (13) promises, tested: one rule for closed episodes across every
//! casework write, found by walking the route table so a new write route is covered the day it
//! is added.

use crate::journey::{ada_accepted, form, setup};
use axum::http::{Method, StatusCode};
use linkwork_testkit::{TestApp, app_test};

app_test!(every_casework_write_on_a_discharged_episode_is_refused, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _, eid) = ada_accepted(&app, &s).await;
    let episode = format!("/episodes/{eid}");
    // Something of each kind to act on after discharge: a goal, a holding period, an appointment.
    for (step, fields) in [
        ("goal", vec![("domain", "loneliness"), ("own_words", "Get out twice a week")]),
        (
            "holding",
            vec![("reason", "waiting"), ("started_on", "2026-11-24"), ("review_on", "2026-12-20"), ("note", "")],
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
        // Reopening is the one write a closed episode takes (journey_faults item 3 tests it).
        if route.path == "/episodes/{id}/reopen" {
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
                r.body.contains("This episode is closed") && r.body.contains(&format!("/episodes/{eid}/reopen")),
                "POST {} says why and offers to reopen it: {}",
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

app_test!(the_api_and_the_command_line_create_organisations_by_one_rule, |app: TestApp| async move {
    use crate::helpers::{pcn, user};
    use crate::journey::signed_in;
    use linkwork_domain::access::audit::{AuditAction, AuditFilter};
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let mine = pcn(store, clock, "Rule PCN").await;
    user(store, clock, &mine, "admin@rule.test", &["administrator"]).await;
    let mut admin = signed_in(&app, "admin@rule.test").await;
    // The same bad input, by both faces: the same sentences.
    for (name, kind, ods) in [("X", "practice", "U1"), ("Lonely Surgery", "practice", ""), ("Clinic", "hospital", "")] {
        let cli = linkwork::admin::create_org(store, clock, name, kind, Some(ods).filter(|o| !o.is_empty()), None)
            .await
            .unwrap_err()
            .to_string();
        let api = admin
            .post_json(
                "/api/v1/organisations",
                &serde_json::json!({ "name": name, "kind": kind, "ods_code": ods }).to_string(),
                &[],
            )
            .await;
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", api.body);
        let messages: Vec<String> = api.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect();
        for m in &messages {
            // The administrator is also told to stay inside their tenant; the operator is not.
            if m.starts_with("Give your own organisation") {
                continue;
            }
            assert!(cli.contains(m.as_str()), "the command line says {m:?} too: {cli}");
        }
    }
    // Both faces audit what they create, through the one use case.
    let by_api = admin
        .post_json(
            "/api/v1/organisations",
            &format!(r#"{{"name":"Rule Surgery","kind":"practice","parent_id":"{}"}}"#, mine.id),
            &[],
        )
        .await;
    assert_eq!(by_api.status, StatusCode::CREATED, "{}", by_api.body);
    let by_cli = linkwork::admin::create_org(store, clock, "Rule Surgery Two", "practice", None, Some("Rule PCN"))
        .await
        .unwrap();
    let creates = store
        .search_audit(&AuditFilter { action: Some(AuditAction::Create), limit: 100, ..Default::default() })
        .await
        .unwrap();
    let by = |id: String| {
        creates
            .iter()
            .filter(|e| e.entry.record_type == "organisation" && e.entry.record_id.as_deref() == Some(id.as_str()))
            .count()
    };
    assert_eq!(by(by_api.json()["id"].as_str().unwrap().to_owned()), 1, "the API's create is audited once");
    assert_eq!(by(by_cli.id.to_string()), 1, "the command line's create is audited once");
});

app_test!(the_form_and_the_api_take_a_referral_by_one_rule, |app: TestApp| async move {
    use crate::journey::{ADA, signed_in};
    let s = setup(&app).await;
    let other = crate::helpers::pcn(app.store.as_ref(), app.clock.as_ref(), "Elsewhere PCN").await;
    let stranger_team = linkwork_domain::access::organisations::Team {
        id: linkwork_domain::ids::TeamId::new(),
        org_id: other.id,
        name: "Not yours".into(),
        created_at: linkwork_domain::Clock::now(app.clock.as_ref()),
    };
    app.store.create_team(&stranger_team).await.unwrap();
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let team = stranger_team.id.to_string();
    let mut fields = ADA.to_vec();
    fields.push(("team_id", &team));
    fields.retain(|(k, _)| *k != "consent");
    let page = gp.post_form("/referrals/new", &form(&fields)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let mut json = serde_json::Map::new();
    for (k, v) in &fields {
        if *k != "needs" {
            json.insert((*k).into(), serde_json::Value::String((*v).into()));
        }
    }
    json.insert("needs".into(), serde_json::json!(["loneliness"]));
    let api = gp.post_json("/api/v1/referrals", &serde_json::Value::Object(json).to_string(), &[]).await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", api.body);
    let problems = api.json()["errors"].as_array().unwrap().clone();
    let fields_api: Vec<&str> = problems.iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields_api.contains(&"team_id") && fields_api.contains(&"consent"), "{fields_api:?}");
    for e in &problems {
        let message = e["message"].as_str().unwrap();
        assert!(page.body.contains(message), "the form says {message:?} too");
    }
    assert_eq!(app.store.count_referrals(s.org.id).await.unwrap(), 0, "nothing stored by either");
});
