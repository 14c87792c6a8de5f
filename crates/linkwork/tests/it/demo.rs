//! Demo data: realistic, complete, and explorable at once.

use crate::helpers::Client;
use axum::http::StatusCode;
use linkwork::demo::{
    DEMO_PASSWORD, DemoOptions, LINK_WORKERS_PER_PCN, PEOPLE_PER_PCN, REFERRALS_PER_WORKER_YEAR, SERVICES_PER_PCN,
};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::Role;
use linkwork_domain::access::organisations::OrgKind;
use linkwork_domain::ports::{IntakeStore, OrgStore};
use linkwork_testkit::{TestApp, app_test};

app_test!(two_pcns_of_demo_data_and_every_role_can_sign_in, |app: TestApp| async move {
    let summary =
        linkwork::demo::generate(app.store.as_ref(), app.clock.as_ref(), &DemoOptions { scale: 2, seed: 9 }, false)
            .await
            .unwrap();
    assert_eq!(summary.people, 2 * PEOPLE_PER_PCN);
    assert_eq!(summary.referrals, 2 * LINK_WORKERS_PER_PCN * REFERRALS_PER_WORKER_YEAR);
    let orgs = app.store.list_orgs().await.unwrap();
    let pcns: Vec<_> = orgs.iter().filter(|o| o.kind == OrgKind::Pcn).collect();
    assert_eq!(pcns.len(), 2);
    assert_eq!(orgs.iter().filter(|o| o.kind == OrgKind::Practice).count(), 10);
    assert_eq!(orgs.iter().filter(|o| o.kind == OrgKind::Icb).count(), 1);
    for p in &pcns {
        assert_eq!(app.store.count_people(p.id).await.unwrap(), PEOPLE_PER_PCN as i64, "people are held by their PCN");
        let recent = app.store.recent_referrals(p.id, 50).await.unwrap();
        assert_eq!(recent.len(), 50);
        assert!(recent.iter().all(|(r, person)| r.org_id == p.id && person.org_id == p.id));
        assert!(recent.iter().all(|(_, person)| person.nhs_number.as_ref().is_some_and(|n| n.is_test_number())));
    }
    assert_eq!(app.store.count_services().await.unwrap(), 2 * SERVICES_PER_PCN as i64);

    // Casework written in bulk reads back whole on both backends: every episode of a worker's
    // caseload has its referral code, and the counts add up.
    assert!(summary.episodes > 1500 && summary.contacts > summary.episodes * 3, "{summary:?}");
    let worker = app.store.find_user_by_email("linkworker1@pcn1.demo.test").await.unwrap();
    let teams = app.store.user_teams(worker.id).await.unwrap();
    let mine = app.store.caseload(worker.org_id, &teams, Some(worker.id), app.clock.now()).await.unwrap();
    assert!(mine.len() > 50, "an open caseload: {}", mine.len());
    assert!(mine.iter().any(|i| i.holding()) && mine.iter().all(|i| i.contacts > 0));
    let first = &mine[0].episode;
    let codes = app.store.coded_events(worker.org_id, first.person_id).await.unwrap();
    assert_eq!(codes.iter().filter(|c| c.episode_id == Some(first.id)).count(), 1);
    assert!(!app.store.goals(worker.org_id, first.id).await.unwrap().is_empty());
    assert!(!app.store.needs(worker.org_id, first.id).await.unwrap().is_empty());

    let users = app.store.list_users().await.unwrap();
    for role in Role::ALL {
        assert!(users.iter().any(|u| u.has_role(role)), "a demo user with role {role}");
    }
    assert!(users.iter().all(|u| u.is_demo));
    // The demo referrer's list shows every stage (issue 12, item 7).
    let mut referrer = Client::new(&app.router);
    assert_eq!(referrer.sign_in("referrer@pcn1.demo.test", DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let list = referrer.get("/referrals").await.body;
    for stage in ["Waiting for triage", "In progress", "Discharged", "Read the summary", "Declined", "Redirected"] {
        assert!(list.contains(stage), "the demo referrer sees a referral {stage:?}");
    }
    for email in ["linkworker1@pcn1.demo.test", "commissioner@icb.demo.test", "vcse@pcn2.demo.test"] {
        let mut c = Client::new(&app.router);
        assert_eq!(c.sign_in(email, DEMO_PASSWORD).await.status, StatusCode::SEE_OTHER, "{email}");
        let home = c.get("/home").await;
        assert!(home.body.contains("Demonstration system"), "the demo banner shows");
    }
});

#[test]
fn the_same_seed_gives_the_same_people() {
    // Determinism is what makes benchmark runs comparable; checked through the public generator
    // on two SQLite databases.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut names = Vec::new();
        for _ in 0..2 {
            let db = linkwork_testkit::TestDb::new(linkwork_testkit::Backend::Sqlite).await.unwrap();
            let clock = linkwork_domain::FixedClock::new(linkwork_testkit::test_epoch());
            linkwork::demo::generate(&db.store, &clock, &DemoOptions { scale: 1, seed: 42 }, false).await.unwrap();
            let pcn = db.store.find_org("U10001").await.unwrap();
            let mut refs: Vec<String> = db
                .store
                .recent_referrals(pcn.id, 20)
                .await
                .unwrap()
                .into_iter()
                .map(|(r, p)| format!("{} {} {} {}", p.given_name, p.family_name, p.date_of_birth, r.reason))
                .collect();
            refs.sort();
            names.push(refs);
        }
        assert_eq!(names[0], names[1]);
    });
}
