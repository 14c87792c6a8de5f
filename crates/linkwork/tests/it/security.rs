//! The findings of the attack on a running instance (issue 11), one test each, named for the
//! finding's number. Each failed on the code before its fix. Storage behaviour runs on both
//! databases.

use crate::helpers::{Client, PASSWORD, pcn, user};
use crate::journey::{ADA, Setup, ada_accepted, form, refer, setup, signed_in, triage};
use axum::http::StatusCode;
use linkwork::directory::{Feed, import};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::Role;
use linkwork_domain::access::audit::{AuditAction, AuditFilter};
use linkwork_domain::access::throttle::{self, ACCOUNT_LIMIT, SELF_REFERRAL_LIMIT};
use linkwork_domain::ids::{OrgId, PersonId};
use linkwork_testkit::{TestApp, TestDb, app_test, db_test, test_epoch};
use serde_json::json;

fn claim_form(name: &str, email: &str) -> String {
    form(&[("name", name), ("email", email), ("role", "Coordinator"), ("evidence", "Charity 1234567")])
}

/// A PCN stewarding two directory organisations: one its voluntary group manages, one nobody
/// has claimed. Returns (pcn, owned id, unclaimed id).
async fn stewarded_directory(app: &TestApp) -> (linkwork_domain::access::organisations::Organisation, String, String) {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Claim PCN").await;
    let vcse = linkwork::admin::create_org(store, clock, "Claim Walkers", "vcse", None, None).await.unwrap();
    store.set_org_requires_two_factor(vcse.id, false).await.unwrap();
    user(store, clock, &vcse, "val@walkers.test", &["vcse_partner"]).await;
    let unclaimed = "0193b000-0000-7000-8000-00000000cc02";
    let mut feed = Feed::default();
    feed.add_json("owned.json", None, json!({
        "id": "0193b000-0000-7000-8000-00000000cc11", "name": "Claim health walks", "status": "active",
        "description": "Walks", "organization": {"id": vcse.id.to_string(), "name": "Claim Walkers", "description": "Walks"}
    }));
    feed.add_json("unclaimed.json", None, json!({
        "id": "0193b000-0000-7000-8000-00000000cc12", "name": "Claim lunch club", "status": "active",
        "description": "Lunch", "organization": {"id": unclaimed, "name": "Claim Lunch Club", "description": "Lunch"}
    }));
    feed.steward = Some(org.id);
    let r = import(store, clock, feed, "test").await.unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    store
        .upsert_directory(&linkwork_domain::ports::DirectoryBatch {
            owners: vec![(vcse.id.0, vcse.id)],
            at: clock.now(),
            ..Default::default()
        })
        .await
        .unwrap();
    (org, vcse.id.to_string(), unclaimed.to_owned())
}

app_test!(finding_01_claims_cannot_take_over_an_owned_organisation, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let (org, owned, unclaimed) = stewarded_directory(&app).await;
    user(store, clock, &org, "manager@claim.test", &["manager"]).await;
    let worker = user(store, clock, &org, "lw@claim.test", &["link_worker"]).await;
    let other = pcn(store, clock, "Other PCN").await;
    user(store, clock, &other, "manager@other.test", &["manager"]).await;

    // An owned organisation's claim page and claim are refused, and nothing is stored.
    let mut public = Client::new(&app.router);
    assert_eq!(public.get(&format!("/directory/organizations/{owned}/claim")).await.status, StatusCode::CONFLICT);
    let r = public
        .post_form(&format!("/directory/organizations/{owned}/claim"), &claim_form("Mallory", "mallory@evil.test"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(store.open_claims(&[org.id]).await.unwrap().is_empty(), "no claim on an owned organisation");

    // A manager cannot approve a claim that names themselves.
    let claim = format!("/directory/organizations/{unclaimed}/claim");
    assert_eq!(public.post_form(&claim, &claim_form("Me", "manager@claim.test")).await.status, StatusCode::OK);
    let mine = store.open_claims(&[org.id]).await.unwrap().remove(0);
    let mut manager = signed_in(&app, "manager@claim.test").await;
    let r = manager.post_form(&format!("/directory/claims/{}", mine.id), "decision=approve").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let uuid: uuid::Uuid = unclaimed.parse().unwrap();
    assert_eq!(store.directory_orgs(&[uuid]).await.unwrap()[0].1, None, "still unclaimed");
    manager.post_form(&format!("/directory/claims/{}", mine.id), "decision=decline").await;

    // Approval never adds a role to an existing account.
    assert_eq!(public.post_form(&claim, &claim_form("Lee", "lw@claim.test")).await.status, StatusCode::OK);
    let existing = store.open_claims(&[org.id]).await.unwrap().remove(0);
    let r = manager.post_form(&format!("/directory/claims/{}", existing.id), "decision=approve").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let lee = store.get_user(worker.id).await.unwrap();
    assert!(!lee.has_role(Role::VcsePartner), "no role added without the account's own acceptance");
    assert_eq!(store.directory_orgs(&[uuid]).await.unwrap()[0].1, None);

    // Directory staff of another organisation neither see nor decide the claim.
    let mut stranger = signed_in(&app, "manager@other.test").await;
    let reports = stranger.get("/directory/reports").await;
    assert_eq!(reports.status, StatusCode::OK);
    assert!(!reports.body.contains("lw@claim.test"), "another steward's claims are not listed");
    let r = stranger.post_form(&format!("/directory/claims/{}", existing.id), "decision=approve").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(manager.get("/directory/reports").await.body.contains("lw@claim.test"), "the steward's staff see it");
    manager.post_form(&format!("/directory/claims/{}", existing.id), "decision=decline").await;

    // A genuine claim by a new address: invited, and the organisation is theirs.
    assert_eq!(public.post_form(&claim, &claim_form("Jo", "jo@lunch.test")).await.status, StatusCode::OK);
    let genuine = store.open_claims(&[org.id]).await.unwrap().remove(0);
    let r = manager.post_form(&format!("/directory/claims/{}", genuine.id), "decision=approve").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let jo = store.find_user_by_email("jo@lunch.test").await.unwrap();
    assert!(jo.has_role(Role::VcsePartner));
    assert_eq!(store.directory_orgs(&[uuid]).await.unwrap()[0].1, Some(OrgId(uuid)));
    // Now owned, it cannot be claimed again.
    assert_eq!(public.get(&claim).await.status, StatusCode::CONFLICT);
    // Every decision is in the audit trail.
    let decisions = store
        .search_audit(&AuditFilter { org_id: Some(org.id), limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.record_type == "directory_claim")
        .count();
    assert_eq!(decisions, 3, "two declined, one approved");
});

app_test!(finding_01_directory_staff_act_only_on_what_they_steward, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let (org, _, _) = stewarded_directory(&app).await;
    user(store, clock, &org, "manager@claim.test", &["manager"]).await;
    let other = pcn(store, clock, "Other PCN").await;
    user(store, clock, &other, "admin@other.test", &["administrator"]).await;
    let service = "0193b000-0000-7000-8000-00000000cc12";
    let mut public = Client::new(&app.router);
    let report = form(&[("kind", "contact_wrong"), ("details", "The phone number is old")]);
    assert_eq!(
        public.post_form(&format!("/directory/services/{service}/report"), &report).await.status,
        StatusCode::OK
    );
    let report_id = store.service_reports(service.parse().unwrap()).await.unwrap()[0].id;

    let mut stranger = signed_in(&app, "admin@other.test").await;
    assert!(!stranger.get("/directory/reports").await.body.contains("The phone number is old"));
    let r = stranger.post_form(&format!("/directory/reports/{report_id}/resolve"), "resolution=done").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another tenant's administrator cannot resolve it");
    let edit = format!("/directory/services/{service}/edit");
    assert_eq!(stranger.get(&edit).await.status, StatusCode::FORBIDDEN, "nor edit the listing");

    let mut manager = signed_in(&app, "manager@claim.test").await;
    assert!(manager.get("/directory/reports").await.body.contains("The phone number is old"));
    assert_eq!(manager.get(&edit).await.status, StatusCode::OK, "the steward's staff may edit");
    let r = manager.post_form(&format!("/directory/reports/{report_id}/resolve"), "resolution=done").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
});

app_test!(finding_02_the_outbox_shows_only_the_tenants_messages, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let one = pcn(store, clock, "One PCN").await;
    let two = pcn(store, clock, "Two PCN").await;
    user(store, clock, &one, "admin@one.test", &["administrator"]).await;
    user(store, clock, &two, "admin@two.test", &["administrator"]).await;
    let mut admin_one = signed_in(&app, "admin@one.test").await;
    let r = admin_one.post_form("/admin/users/invite", "name=Pat+Patient&email=pat%40one.test&role=link_worker").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(admin_one.get("/admin/messages").await.body.contains("pat@one.test"), "their own outbox");
    let mut admin_two = signed_in(&app, "admin@two.test").await;
    let page = admin_two.get("/admin/messages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("pat@one.test"), "another tenant's outbox is not shown");
    // The same for every administrative listing.
    for path in ["/admin/users", "/admin/audit", "/directory/reports", "/admin/messages"] {
        let page = admin_two.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains("pat@one.test") && !page.body.contains("admin@one.test"),
            "{path} shows tenant one"
        );
    }
    let search = admin_two.post_form("/admin/audit", "actor=admin%40one.test").await;
    assert!(search.body.contains("No events match"), "another tenant's trail cannot be searched");
});

app_test!(finding_03_parallel_sign_ins_cannot_race_the_lockout, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Race PCN").await;
    user(store, clock, &org, "target@race.test", &["link_worker"]).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(&router);
            let password = if i == 30 { PASSWORD } else { "not the password" };
            c.sign_in("target@race.test", password).await.status
        }));
    }
    let mut refused = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    let wrong = store
        .search_audit(&AuditFilter {
            org_id: Some(org.id),
            action: Some(AuditAction::SignInFailed),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.reason.as_deref() == Some("wrong password"))
        .count();
    // Without the password at most the limit's worth are tried per lock; the one right attempt
    // can start the count again once, so twice the limit bounds it (all 59 were tried before).
    let limit = usize::try_from(ACCOUNT_LIMIT).unwrap();
    assert!(wrong < 2 * limit, "{wrong} wrong passwords were hashed");
    assert!(refused >= 60 - 2 * limit, "only {refused} of 60 were refused as locked");
    // A guessing run afterwards, however parallel, still stops at the limit.
    let mut more = Vec::new();
    for _ in 0..30 {
        let router = app.router.clone();
        more.push(tokio::spawn(async move {
            Client::new(&router).sign_in("target@race.test", "still not it").await.status
        }));
    }
    for t in more {
        t.await.unwrap();
    }
    let states = store.throttle_states(&[throttle::account_key("target@race.test")]).await.unwrap();
    assert!(states.iter().any(|s| s.is_locked(clock.now())), "the account ends locked: {states:?}");
});

app_test!(finding_03_parallel_self_referrals_cannot_race_the_limit, |app: TestApp| async move {
    let s = setup(&app).await;
    let service = s.org.id.to_string();
    let me = form(&crate::journey::self_referral(&service));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (router, me) = (app.router.clone(), me.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(&router);
            c.address = Some("198.51.100.9:5000".parse().unwrap());
            c.post_form("/self-referral", &me).await.status
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stored = app.store.count_referrals(s.org.id).await.unwrap();
    assert_eq!(stored, i64::from(SELF_REFERRAL_LIMIT), "no more than the limit accepted");
});

app_test!(finding_08_a_revoked_session_stays_revoked, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Revoke PCN").await;
    let worker = user(store, clock, &org, "w@revoke.test", &["link_worker"]).await;
    let mut device = signed_in(&app, "w@revoke.test").await;
    assert_eq!(device.get("/home").await.status, StatusCode::OK);
    // A request in flight loaded the session before the revocation and saves it afterwards: the
    // same as writing the old record back.
    let cookie = device.cookie.clone().unwrap();
    let ours = store.load_session(&cookie, clock.now()).await.unwrap().expect("the session is stored");
    store.delete_user_sessions(worker.id).await.unwrap();
    store.save_session(&ours).await.unwrap();
    let r = device.get("/home").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the saved-again session does not sign anyone in");
    assert_eq!(r.header("location"), "/sign-in");
});

app_test!(finding_09_using_a_link_voids_the_users_other_links, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Links PCN").await;
    user(store, clock, &org, "admin@links.test", &["administrator"]).await;
    let mut admin = signed_in(&app, "admin@links.test").await;
    admin.post_form("/admin/users/invite", "name=Lee+Link&email=lee%40links.test&role=link_worker").await;
    let invitation = crate::account::last_link(&app.db.store, "lee@links.test").await;
    // Lee also asks for a reset before using the invitation.
    let mut lee = Client::new(&app.router);
    lee.post_form("/account/reset", "email=lee%40links.test").await;
    let reset = crate::account::last_link(&app.db.store, "lee@links.test").await;
    assert_ne!(invitation, reset);
    lee.get(&reset).await;
    let set = "password=kettle+orbit+lantern&confirm=kettle+orbit+lantern";
    assert_eq!(lee.post_form("/account/set-password", set).await.status, StatusCode::OK);
    // Whoever holds the old invitation can no longer use it.
    let mut holder = Client::new(&app.router);
    let r = holder.get(&invitation).await;
    assert_eq!(r.status, StatusCode::GONE, "the invitation was voided when the password was set");
});

/// Another team of the same PCN, with its own worker.
async fn second_team(app: &TestApp, s: &Setup) -> linkwork_domain::access::organisations::Team {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let team = linkwork_domain::access::organisations::Team {
        id: linkwork_domain::ids::TeamId::new(),
        org_id: s.org.id,
        name: "Other team".into(),
        created_at: clock.now(),
    };
    store.create_team(&team).await.unwrap();
    let other = user(store, clock, &s.org, "other@seacroft.test", &["link_worker"]).await;
    store.add_team_member(team.id, other.id).await.unwrap();
    team
}

/// A person referred straight to `team`, as an import would bring them.
async fn person_for(
    app: &TestApp,
    s: &Setup,
    team: &linkwork_domain::access::organisations::Team,
    given: &str,
) -> PersonId {
    let person = linkwork_domain::people::Person {
        org_id: s.org.id,
        given_name: given.into(),
        family_name: "Okafor".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1948, 5, 2).unwrap(),
        created_at: app.clock.now(),
        ..Default::default()
    };
    let referral = linkwork_domain::intake::referrals::Referral {
        id: linkwork_domain::ids::ReferralId::new(),
        org_id: s.org.id,
        person_id: person.id,
        team_id: Some(team.id),
        reason: "Lonely".into(),
        consent: true,
        received_at: app.clock.now(),
        ..Default::default()
    };
    app.store.import_referrals(std::slice::from_ref(&person), &[referral]).await.unwrap();
    person.id
}

app_test!(finding_04_merging_needs_access_to_both_records, |app: TestApp| async move {
    let s = setup(&app).await;
    let (_, ada, _) = ada_accepted(&app, &s).await;
    let team = second_team(&app, &s).await;
    // The other team's worker makes a look-alike record of Ada (same name and birth date) in
    // their own caseload, then tries to merge the protected record into it.
    let decoy = person_for(&app, &s, &team, "Ada").await;
    let mut other = signed_in(&app, "other@seacroft.test").await;
    assert_eq!(other.get(&format!("/people/{decoy}")).await.status, StatusCode::OK);
    assert_eq!(other.get(&format!("/people/{decoy}/merge/{ada}")).await.status, StatusCode::FORBIDDEN);
    let r = other.post_form(&format!("/people/{decoy}/merge/{ada}"), "confirm=yes").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(app.store.get_person(s.org.id, ada).await.unwrap().merged_into.is_none());
    assert!(app.store.person_episodes(s.org.id, decoy).await.unwrap().is_empty(), "nothing moved into view");
});

app_test!(finding_05_nested_ids_must_belong_to_the_episode_in_the_path, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _, ada_episode) = ada_accepted(&app, &s).await;
    // A second person in the same caseload, with a holding period and an appointment.
    let bea = person_for(&app, &s, &s.team, "Bea").await;
    let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
    let (_, _) = triage(&mut lw, &app, &s, &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)]).await;
    let bea_episode = app.store.person_episodes(s.org.id, bea).await.unwrap()[0].id;
    lw.post_form(
        &format!("/episodes/{bea_episode}/holding"),
        "reason=waiting&started_on=2026-11-24&review_on=2026-12-20",
    )
    .await;
    let holding = app.store.holdings(s.org.id, bea_episode).await.unwrap().remove(0);
    // Bea's holding period, through Ada's episode: refused, and Bea's stays open.
    let r = lw.post_form(&format!("/episodes/{ada_episode}/holding/{}/end", holding.id), "how=service_started").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.store.holdings(s.org.id, bea_episode).await.unwrap()[0].ended_on.is_none());
    // Through her own episode it works, and the audit names her.
    let r = lw.post_form(&format!("/episodes/{bea_episode}/holding/{}/end", holding.id), "how=service_started").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let trail =
        app.store.search_audit(&AuditFilter { person_id: Some(bea), limit: 50, ..Default::default() }).await.unwrap();
    assert!(trail.iter().any(|e| e.entry.record_type == "holding" && e.entry.person_id == Some(bea)));
});

app_test!(finding_06_a_known_nhs_number_never_reveals_the_stored_identity, |app: TestApp| async move {
    let s = setup(&app).await;
    let (_, ada, _) = ada_accepted(&app, &s).await;
    // A referrer probes with Ada's NHS number and a made-up name.
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let probe = format!(
        r#"{{"given_name":"Probe","family_name":"Person","date_of_birth":"1990-01-01","nhs_number":"9434765919","reason":"Probe","needs":["loneliness"],"consent":true,"team_id":"{}"}}"#,
        s.team.id
    );
    let r = gp.post_json("/api/v1/referrals", &probe, &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let probe_person: PersonId = r.json()["person_id"].as_str().unwrap().parse().unwrap();
    assert_ne!(probe_person, ada, "not attached to the real record");
    assert_eq!(app.store.person_referrals(s.org.id, ada).await.unwrap().len(), 1, "Ada's record is untouched");
    let mine = gp.get("/referrals").await;
    assert!(mine.body.contains("Probe Person"), "the referrer sees only what they typed");
    let probe_referral = app.store.person_referrals(s.org.id, probe_person).await.unwrap().remove(0);
    // The worker sees it held for reconciling.
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let page = lw.get(&format!("/referrals/{}/triage", probe_referral.id)).await;
    assert!(page.body.contains("the name or date of birth differ"), "{}", page.body);
    // The genuine identity still joins up.
    let genuine = format!(
        r#"{{"given_name":"Ada","family_name":"Okafor","date_of_birth":"1948-05-02","nhs_number":"9434765919","reason":"Again","needs":["loneliness"],"consent":true,"team_id":"{}"}}"#,
        s.team.id
    );
    let r = gp.post_json("/api/v1/referrals", &genuine, &[]).await;
    assert_eq!(r.json()["person_id"].as_str().unwrap(), ada.to_string());
});

app_test!(finding_07_the_summary_is_readable_only_after_discharge, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _, eid) = ada_accepted(&app, &s).await;
    user(app.store.as_ref(), app.clock.as_ref(), &s.practice, "nurse@seacroft.test", &["referrer"]).await;
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let mut nurse = signed_in(&app, "nurse@seacroft.test").await;
    for path in [format!("/episodes/{eid}/summary"), format!("/episodes/{eid}/summary.json")] {
        assert_eq!(gp.get(&path).await.status, StatusCode::NOT_FOUND, "the referrer waits for discharge: {path}");
        assert_eq!(nurse.get(&path).await.status, StatusCode::NOT_FOUND, "so does the practice: {path}");
    }
    assert_eq!(lw.get(&format!("/episodes/{eid}/summary")).await.status, StatusCode::OK, "the worker may look");
    let e = app.store.get_episode(s.org.id, eid).await.unwrap();
    lw.post_form(
        &format!("/episodes/{eid}/discharge"),
        &form(&[("version", &e.version.to_string()), ("reason", "connected"), ("note", "Goes to the lunch club")]),
    )
    .await;
    assert_eq!(gp.get(&format!("/episodes/{eid}/summary.json")).await.status, StatusCode::OK);
    assert_eq!(nurse.get(&format!("/episodes/{eid}/summary")).await.status, StatusCode::OK);
});

app_test!(finding_10_exported_cells_cannot_be_formulas, |app: TestApp| async move {
    let s = setup(&app).await;
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let mut evil = ADA.to_vec();
    evil.retain(|(k, _)| *k != "given_name" && *k != "nhs_number");
    evil.push(("given_name", "=HYPERLINK(\"http://x.test\",\"y\")"));
    assert_eq!(refer(&mut gp, &s, &evil).await.status, StatusCode::SEE_OTHER);
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
    let (r, _) = triage(&mut lw, &app, &s, &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)]).await;
    // The code comes with the first contact.
    let pid: linkwork_domain::ids::PersonId =
        crate::journey::id_after(r.header("location"), "/people/").parse().unwrap();
    let eid = app.store.person_episodes(s.org.id, pid).await.unwrap()[0].id;
    let contact = form(&[("happened_on", "2026-11-24"), ("minutes", "45"), ("mode", "phone"), ("location", "remote")]);
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/contact"), &contact).await.status, StatusCode::SEE_OTHER);
    let csv = lw.get("/codes.csv?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
    for line in csv.body.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "a formula cell: {line}");
        }
    }
});

app_test!(finding_11_a_retried_create_completes_its_audit_event, |app: TestApp| async move {
    let s = setup(&app).await;
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let body = format!(
        r#"{{"given_name":"Ada","family_name":"Okafor","date_of_birth":"1948-05-02","reason":"Lonely","needs":["loneliness"],"consent":true,"team_id":"{}"}}"#,
        s.team.id
    );
    // The first attempt committed the referral and died before its audit write.
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("idempotency-key", "crash-1".parse().unwrap());
    let bytes = axum::body::Bytes::from(body.clone());
    let key = linkwork_web::api::idempotency_key(
        &headers,
        format!("user:{}", s.referrer.id),
        "POST /api/v1/referrals",
        &bytes,
    )
    .unwrap();
    let raw: linkwork_domain::intake::RawReferral = serde_json::from_str(&body).unwrap();
    let mut intake = linkwork_domain::intake::parse_referral(
        &raw,
        s.org.id,
        app.clock.now(),
        linkwork_domain::intake::Channel::Professional,
    )
    .unwrap();
    intake.referral.team_id = Some(s.team.id);
    intake.referral.referred_by = Some(s.referrer.id);
    let created = app.store.create_referral(Some(&intake.person), &intake.referral, key.as_ref()).await.unwrap();
    let id = match created {
        linkwork_domain::ports::Created::New(r) => r.id,
        linkwork_domain::ports::Created::Replayed(r) => r.id,
    };
    assert!(!app.store.audited(AuditAction::Create, "referral", &id.to_string()).await.unwrap());
    // The client retries with the same key: the answer is the first referral, now audited.
    let retry = gp.post_json("/api/v1/referrals", &body, &[("idempotency-key", "crash-1")]).await;
    assert_eq!((retry.status, retry.header("idempotent-replayed")), (StatusCode::CREATED, "true"));
    assert_eq!(retry.json()["id"], id.to_string());
    assert!(app.store.audited(AuditAction::Create, "referral", &id.to_string()).await.unwrap());
    // And only once: a further retry adds nothing.
    gp.post_json("/api/v1/referrals", &body, &[("idempotency-key", "crash-1")]).await;
    let creates = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::Create), limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.record_id.as_deref() == Some(&id.to_string()))
        .count();
    assert_eq!(creates, 1);
});

app_test!(finding_13_administrators_create_organisations_inside_their_tenant_only, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let mine = pcn(store, clock, "Mine PCN").await;
    let theirs = pcn(store, clock, "Theirs PCN").await;
    user(store, clock, &mine, "admin@mine.test", &["administrator"]).await;
    let mut admin = signed_in(&app, "admin@mine.test").await;
    let body = |name: &str, parent: OrgId| format!(r#"{{"name":"{name}","kind":"practice","parent_id":"{parent}"}}"#);
    let r = admin.post_json("/api/v1/organisations", &body("Planted Surgery", theirs.id), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["field"], "parent_id");
    assert!(store.child_orgs(theirs.id).await.unwrap().is_empty(), "nothing appears in the other PCN");
    let r = admin.post_json("/api/v1/organisations", r#"{"name":"Top Level","kind":"icb"}"#, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "top-level organisations are the operator's");
    let r = admin.post_json("/api/v1/organisations", &body("Own Surgery", mine.id), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

app_test!(finding_14_password_resets_take_the_same_time_and_are_throttled, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Reset PCN").await;
    user(store, clock, &org, "real@reset.test", &["link_worker"]).await;
    let mut anon = Client::new(&app.router);
    anon.address = Some("203.0.113.20:4000".parse().unwrap());
    let mut took = vec![];
    for email in ["real%40reset.test", "ghost%40reset.test"] {
        let started = std::time::Instant::now();
        let r = anon.post_form("/account/reset", &format!("email={email}")).await;
        took.push(started.elapsed());
        assert_eq!(r.status, StatusCode::OK);
    }
    for t in &took {
        assert!(*t >= std::time::Duration::from_millis(250), "every answer waits the same floor: {took:?}");
    }
    // Ten requests from one address in the window; the eleventh is refused.
    for _ in 0..8 {
        anon.post_form("/account/reset", "email=ghost%40reset.test").await;
    }
    assert_eq!(
        anon.post_form("/account/reset", "email=ghost%40reset.test").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
});

app_test!(finding_15_uploads_get_the_text_guard, |app: TestApp| async move {
    let s = setup(&app).await;
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let csv = "given_name,family_name,date_of_birth,reason,consent\nAda\u{0},Okafor,1948-05-02,Lonely,yes\n\"Ben\nBen\",Hughes,1950-01-01,\"Two\nlines are fine here\",yes\n";
    let r = lw.send(crate::journey::multipart(&s.team.id.to_string(), csv)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("control character") && r.body.contains("line break"), "{}", r.body);
    assert_eq!(app.store.count_referrals(s.org.id).await.unwrap(), 0, "nothing imported");
});

app_test!(finding_15_open_referral_imports_check_every_record, |app: TestApp| async move {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = r#"{"id":"0193b000-0000-7000-8000-00000000dd01","name":"Checks","description":"x"}"#;
    let service = |id: &str, name: &str, extra: &str| {
        format!(
            r#"{{"id":"0193b000-0000-7000-8000-0000000000{id}","name":"{name}","status":"active","description":"d"{extra},"organization":{org}}}"#
        )
    };
    let huge_description = format!(r#","description":"{}""#, "x".repeat(5 * 1024 * 1024));
    let feed_text = format!(
        "[{},{},{},{},{}]",
        service("01", "Fine walks", ""),
        service("02", "Nul\\u0000name", ""),
        service("03", &"n".repeat(1024 * 1024), ""),
        service("04", "Big", &huge_description),
        service("05", "Bad number", r#","minimum_age":1e999"#),
    );
    let mut feed = Feed::default();
    feed.add_json_text("checks.json", None, &feed_text);
    let report = import(store, clock, feed, "checks.json").await.unwrap();
    assert_eq!(report.counts.created, 1, "the sound record is imported: {:?}", report.errors);
    assert_eq!(report.errors.len(), 4, "each bad record is reported on its own: {:?}", report.errors);
    let text: String = report.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" | ");
    assert!(text.contains("control character") && text.contains("500 characters") && text.contains("20000"), "{text}");
    assert!(text.contains("record 5 is not valid JSON"), "{text}");
    // A file over the size limit is refused whole, with the reason.
    let dir = linkwork_testkit::temp_dir("oruk-cap");
    let big = dir.join("services.json");
    std::fs::File::create(&big).unwrap().set_len(linkwork::directory::MAX_FILE_BYTES + 1).unwrap();
    let e = Feed::read_path(&big).err().expect("refused").to_string();
    assert!(e.contains("MiB"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
});

app_test!(finding_16_duplicate_candidates_shown_are_audited_views, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, ada, _) = ada_accepted(&app, &s).await;
    let twin = person_for(&app, &s, &s.team, "Adaa").await;
    let page = lw.get(&format!("/people/{ada}")).await;
    assert!(page.body.contains("Adaa Okafor"), "the duplicate is shown");
    let waiting = app.store.person_referrals(s.org.id, twin).await.unwrap().remove(0);
    lw.get(&format!("/referrals/{}/triage", waiting.id)).await;
    let trail =
        app.store.search_audit(&AuditFilter { person_id: Some(twin), limit: 50, ..Default::default() }).await.unwrap();
    let duplicate_views = trail.iter().filter(|e| e.entry.record_type == "duplicates").count();
    assert!(duplicate_views >= 1, "naming the twin on Ada's record is a view of the twin");
    let trail =
        app.store.search_audit(&AuditFilter { person_id: Some(ada), limit: 50, ..Default::default() }).await.unwrap();
    assert!(
        trail.iter().any(|e| e.entry.record_type == "duplicates"),
        "naming Ada on the twin's triage page is a view of Ada"
    );
});

app_test!(finding_17_the_origin_scheme_counts_and_big_bodies_get_a_problem, |app: TestApp| async move {
    let mut c = Client::new(&app.router);
    let post = |origin: &str| {
        axum::http::Request::post("/sign-in")
            .header("host", "linkwork.test")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("email=a%40b.test&password=x"))
            .unwrap()
    };
    let r = c.send(post("https://linkwork.test")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an https origin on an http server: {}", r.body);
    assert!(r.body.contains("another site"));
    let r = c.send(post("http://linkwork.test")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the same origin reaches the form: {}", r.body);
    let huge = format!(r#"{{"name":"{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let r = c.post_json("/api/v1/referrals", &huge, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.header("content-type"), "application/problem+json", "{}", r.body);
    let r = c
        .send(
            axum::http::Request::post("/sign-in")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .header("content-length", (2 * 1024 * 1024).to_string())
                .body(axum::body::Body::from(format!("email={}", "a".repeat(2 * 1024 * 1024 - 6))))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.header("content-type").starts_with("text/html"), "a page, not a bare status line");
});

db_test!(finding_12_deleting_the_end_of_the_audit_trail_is_detected, |db: TestDb| async move {
    use linkwork::admin::{Verified, verify_anchored, verify_audit};
    use linkwork_domain::access::audit::AuditEntry;
    use linkwork_domain::ports::AuditStore;
    use linkwork_storage::Db;
    let entries: Vec<AuditEntry> = (1..=40_i64)
        .map(|i| AuditEntry {
            actor: format!("worker{i}@test.nhs.uk"),
            ..AuditEntry::new(test_epoch() + chrono::Duration::milliseconds(i), AuditAction::View, "person")
        })
        .collect();
    db.store.append_audit(&entries).await.unwrap();
    let dir = linkwork_testkit::temp_dir("anchors");
    let anchors = linkwork::audit_anchor::Anchors::open(&dir, None).unwrap();
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    assert_eq!(anchors.record(&db.store, &clock).await.unwrap().map(|a| a.seq), Some(40));
    assert!(anchors.record(&db.store, &clock).await.unwrap().is_none(), "the same head is not anchored twice");
    assert!(matches!(verify_anchored(&db.store, &anchors).await.unwrap(), Verified::Intact { events: 40, .. }));

    // Someone with the database drops the protection and deletes the last 25 events.
    let sql = |drop: bool, keep: i64| {
        if drop {
            "DROP TRIGGER audit_events_no_delete".to_owned()
        } else {
            format!("DELETE FROM audit_events WHERE seq > {keep}")
        }
    };
    let run = |statement: String| async {
        match db.store.db() {
            Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(statement)).execute(p).await.map(|_| ()).unwrap(),
            Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(statement)).execute(p).await.map(|_| ()).unwrap(),
        }
    };
    let drop = match db.store.db() {
        Db::Sqlite(_) => sql(true, 0),
        Db::Postgres(_) => format!("{} ON audit_events", sql(true, 0)),
    };
    run(drop).await;
    run(sql(false, 15)).await;
    assert!(
        matches!(verify_audit(&db.store).await.unwrap(), Verified::Intact { events: 15, .. }),
        "the chain alone cannot tell"
    );
    match verify_anchored(&db.store, &anchors).await.unwrap() {
        Verified::Cut(why) => assert!(why.contains("ends at event 15") && why.contains("40"), "{why}"),
        other => panic!("a cut trail verified: {other:?}"),
    }
    run(sql(false, 0)).await;
    assert!(matches!(verify_anchored(&db.store, &anchors).await.unwrap(), Verified::Cut(_)), "all of it deleted");

    // Nor can a shorter anchor be slipped in without the key.
    let forged = linkwork_domain::access::audit::Anchor::new(b"not the key at all", 0, "x", test_epoch());
    let line = format!("{} {} {} {}\n", forged.seq, forged.hash, forged.at.to_rfc3339(), forged.mac);
    let log = dir.join("audit-anchors.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(&line);
    std::fs::write(&log, text).unwrap();
    assert!(anchors.latest().is_err(), "a forged anchor is refused");
    let _ = std::fs::remove_dir_all(dir);
});
