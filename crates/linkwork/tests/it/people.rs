//! The legitimate-relationship rule: team caseload, break glass, tenant isolation, and every
//! person shown audited.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use linkwork_domain::Clock;
use linkwork_domain::access::audit::{AuditAction, AuditFilter};
use linkwork_domain::access::organisations::{Organisation, Team};
use linkwork_domain::ids::{PersonId, ReferralId, TeamId};
use linkwork_domain::intake::referrals::{Referral, ReferralSource, ReferralStatus};
use linkwork_domain::people::Person;
use linkwork_domain::values::NhsNumber;
use linkwork_testkit::{TestApp, app_test};

async fn team(app: &TestApp, org: &Organisation, name: &str) -> Team {
    let t = Team { id: TeamId::new(), org_id: org.id, name: name.into(), created_at: app.clock.now() };
    app.store.create_team(&t).await.unwrap();
    t
}

/// A person referred to `team`.
async fn referred(app: &TestApp, org: &Organisation, team: &Team, given: &str) -> Person {
    let p = Person {
        id: PersonId::new(),
        org_id: org.id,
        nhs_number: Some(NhsNumber::parse("943 476 5919").unwrap()),
        given_name: given.into(),
        family_name: "Okafor".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1948, 5, 2).unwrap(),
        postcode: None,
        created_at: app.clock.now(),
        ..Person::default()
    };
    app.store.insert_people(std::slice::from_ref(&p)).await.unwrap();
    let r = Referral {
        id: ReferralId::new(),
        org_id: org.id,
        person_id: p.id,
        team_id: Some(team.id),
        source: ReferralSource::Gp,
        reason: "Lonely since bereavement".into(),
        status: ReferralStatus::Accepted,
        received_at: app.clock.now(),
        ..Referral::default()
    };
    app.store.insert_referrals(&[r]).await.unwrap();
    p
}

app_test!(workers_open_their_teams_caseload_and_break_glass_for_the_rest, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Harehills PCN").await;
    let north = team(&app, &org, "North").await;
    let south = team(&app, &org, "South").await;
    let worker = user(app.store.as_ref(), app.clock.as_ref(), &org, "w@harehills.test", &["link_worker"]).await;
    let manager = user(app.store.as_ref(), app.clock.as_ref(), &org, "m@harehills.test", &["manager"]).await;
    app.store.add_team_member(north.id, worker.id).await.unwrap();
    app.store.add_team_member(south.id, manager.id).await.unwrap();
    let ours = referred(&app, &org, &north, "Ada").await;
    let theirs = referred(&app, &org, &south, "Bea").await;

    let mut c = Client::new(&app.router);
    c.sign_in("w@harehills.test", PASSWORD).await;
    let list = c.get("/caseload").await;
    assert!(
        list.body.contains("Ada Okafor") && !list.body.contains("Bea Okafor"),
        "only the team's caseload is listed"
    );
    let listed = app
        .store
        .search_audit(&AuditFilter { person_id: Some(ours.id), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed[0].entry.record_type, "caseload", "being listed is an audited view");

    let record = c.get(&format!("/people/{}", ours.id)).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(
        record.body.contains("Ada Okafor")
            && record.body.contains("943 476 5919")
            && record.body.contains("Lonely since bereavement")
    );

    // Outside the caseload: no personal detail, a form asking why.
    let refused = c.get(&format!("/people/{}", theirs.id)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("Bea") && refused.body.contains("not in your team"));
    let short = c.post_form(&format!("/people/{}/break-glass", theirs.id), "reason=because").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("at least 10 characters") && short.body.contains("value=\"because\""));
    let opened =
        c.post_form(&format!("/people/{}/break-glass", theirs.id), "reason=Covering+for+a+colleague+on+leave").await;
    assert_eq!(opened.header("location"), format!("/people/{}", theirs.id));
    let record = c.get(&format!("/people/{}", theirs.id)).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(record.body.contains("Bea Okafor") && record.body.contains("Covering for a colleague on leave"));

    let report = app
        .store
        .search_audit(&AuditFilter { person_id: Some(theirs.id), limit: 10, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<AuditAction> = report.iter().map(|e| e.entry.action).collect();
    // Oldest last: Bea was named as a possible duplicate (the same NHS number) on Ada's record,
    // which is a view of Bea too (issue 11, finding 16).
    assert_eq!(actions, [AuditAction::View, AuditAction::BreakGlass, AuditAction::AccessDenied, AuditAction::View]);
    assert_eq!(report[3].entry.record_type, "duplicates");
    assert_eq!(report[1].entry.reason.as_deref(), Some("Covering for a colleague on leave"));
    let mail = app.db.store.all_messages(10).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].recipient, "m@harehills.test", "the manager is told");
    assert!(!mail[0].body.contains("Bea"), "the email does not name the person");

    // The grant lasts an hour.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(21)); // active all along: the session stays
        assert_eq!(c.get("/home").await.status, StatusCode::OK);
    }
    assert_eq!(c.get(&format!("/people/{}", theirs.id)).await.status, StatusCode::FORBIDDEN);
});

app_test!(other_organisations_people_do_not_exist, |app: TestApp| async move {
    let leeds = pcn(app.store.as_ref(), app.clock.as_ref(), "Leeds PCN").await;
    let bradford = pcn(app.store.as_ref(), app.clock.as_ref(), "Bradford PCN").await;
    let leeds_team = team(&app, &leeds, "Leeds team").await;
    let bradford_team = team(&app, &bradford, "Bradford team").await;
    let w = user(app.store.as_ref(), app.clock.as_ref(), &leeds, "w@leeds.test", &["link_worker"]).await;
    app.store.add_team_member(leeds_team.id, w.id).await.unwrap();
    // A worker who, wrongly, is also in the other organisation's team still cannot see its people.
    app.store.add_team_member(bradford_team.id, w.id).await.unwrap();
    let elsewhere = referred(&app, &bradford, &bradford_team, "Cal").await;

    let mut c = Client::new(&app.router);
    c.sign_in("w@leeds.test", PASSWORD).await;
    assert_eq!(c.get(&format!("/people/{}", elsewhere.id)).await.status, StatusCode::NOT_FOUND);
    let glass = c.post_form(&format!("/people/{}/break-glass", elsewhere.id), "reason=I+really+want+to+see+this").await;
    assert_eq!(glass.status, StatusCode::NOT_FOUND, "break glass never crosses organisations");
    assert!(!c.get("/caseload").await.body.contains("Cal Okafor"));
    assert_eq!(c.get("/people/not-a-uuid").await.status, StatusCode::NOT_FOUND);
    assert!(
        app.store
            .search_audit(&AuditFilter { person_id: Some(elsewhere.id), limit: 10, ..Default::default() })
            .await
            .unwrap()
            .is_empty()
    );

    let mut referrer = Client::new(&app.router);
    user(app.store.as_ref(), app.clock.as_ref(), &leeds, "r@leeds.test", &["referrer"]).await;
    referrer.sign_in("r@leeds.test", PASSWORD).await;
    assert_eq!(referrer.get("/caseload").await.status, StatusCode::FORBIDDEN, "referrers never browse the caseload");
});
