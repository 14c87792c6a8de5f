//! The storage contract: every port behaves the same on SQLite and PostgreSQL.

use crate::helpers::{pcn, user};
use chrono::{Duration, NaiveDate};
use linkwork_domain::access::accounts::{Role, RoleGrant, SessionRecord};
use linkwork_domain::access::organisations::{OrgKind, Organisation, Team};
use linkwork_domain::ids::*;
use linkwork_domain::intake::referrals::{Referral, ReferralSource, ReferralStatus};
use linkwork_domain::people::Person;
use linkwork_domain::ports::*;
use linkwork_domain::values::{NhsNumber, OdsCode, Postcode};
use linkwork_domain::{Clock, FixedClock, StoreError};
use linkwork_testkit::{TestDb, db_test, test_epoch};

fn clock() -> FixedClock {
    FixedClock::new(test_epoch())
}

fn person(org: OrgId, nhs: &str, given: &str) -> Person {
    Person {
        id: PersonId::new(),
        org_id: org,
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        given_name: given.into(),
        family_name: "Okafor".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1950, 3, 1).unwrap(),
        postcode: Some(Postcode::parse("LS7 3AB").unwrap()),
        language: "English".into(),
        version: 1,
        created_at: test_epoch(),
        ..Person::default()
    }
}

db_test!(organisations_round_trip_and_conflict, |db: TestDb| async move {
    let s = &db.store;
    let c = clock();
    let icb = Organisation {
        id: OrgId::new(),
        name: "West Yorkshire ICB".into(),
        kind: OrgKind::Icb,
        ods_code: Some(OdsCode::parse("QWO").unwrap()),
        parent_id: None,
        created_at: c.now(),
    };
    assert_eq!(s.create_org(&icb, None).await.unwrap(), Created::New(icb.clone()));
    assert_eq!(s.get_org(icb.id).await.unwrap(), icb);
    assert_eq!(s.find_org("qwo").await.unwrap().id, icb.id, "ODS code lookup ignores case");
    assert_eq!(s.find_org("West Yorkshire ICB").await.unwrap().id, icb.id);
    assert!(matches!(s.find_org("Nowhere").await, Err(StoreError::NotFound)));
    assert!(matches!(s.get_org(OrgId::new()).await, Err(StoreError::NotFound)));

    let dup_ods = Organisation { id: OrgId::new(), name: "Other".into(), ..icb.clone() };
    assert!(matches!(s.create_org(&dup_ods, None).await, Err(StoreError::Conflict(_))));
    let dup_name = Organisation { id: OrgId::new(), ods_code: None, ..icb.clone() };
    assert!(matches!(s.create_org(&dup_name, None).await, Err(StoreError::Conflict(_))));

    let p = pcn(s, &c, "Leeds Central PCN").await;
    assert!(p.parent_id.is_some());
    let orgs = s.list_orgs().await.unwrap();
    assert_eq!(orgs.len(), 3);

    let team = Team { id: TeamId::new(), org_id: p.id, name: "Social prescribing".into(), created_at: c.now() };
    s.create_team(&team).await.unwrap();
    assert_eq!(s.list_teams(p.id).await.unwrap(), vec![team.clone()]);
    assert!(s.list_teams(icb.id).await.unwrap().is_empty());
    let again = Team { id: TeamId::new(), ..team };
    assert!(matches!(s.create_team(&again).await, Err(StoreError::Conflict(_))));
});

db_test!(idempotent_create_replays_and_rejects_reuse, |db: TestDb| async move {
    let s = &db.store;
    let org = Organisation {
        id: OrgId::new(),
        name: "Harehills PCN".into(),
        kind: OrgKind::Vcse,
        ods_code: None,
        parent_id: None,
        created_at: test_epoch(),
    };
    let key = IdempotencyKey { scope: "user:1".into(), key: "k-1".into(), request_hash: "h1".into() };
    assert_eq!(s.create_org(&org, Some(&key)).await.unwrap(), Created::New(org.clone()));
    // The retry carries a new id (the server would mint one) but must return the first record.
    let retry = Organisation { id: OrgId::new(), ..org.clone() };
    assert_eq!(s.create_org(&retry, Some(&key)).await.unwrap(), Created::Replayed(org.clone()));
    assert_eq!(s.list_orgs().await.unwrap().len(), 1);
    let other_request = IdempotencyKey { request_hash: "h2".into(), ..key.clone() };
    assert!(matches!(
        s.create_org(&retry, Some(&other_request)).await,
        Err(StoreError::Conflict(linkwork_domain::ports::Conflict::IdempotencyKeyReused))
    ));
    // Keys are scoped to their sender: another user's identical key is a new request.
    let theirs = IdempotencyKey { scope: "user:2".into(), ..key };
    let second = Organisation { id: OrgId::new(), name: "Another".into(), ..org };
    assert!(matches!(s.create_org(&second, Some(&theirs)).await.unwrap(), Created::New(_)));
});

db_test!(users_roles_and_disable, |db: TestDb| async move {
    let s = &db.store;
    let c = clock();
    let org = pcn(s, &c, "Armley PCN").await;
    let u = user(s, &c, &org, "Amy.Link@Example.NHS.uk", &["link_worker", "manager"]).await;
    let found = s.find_user_by_email("  AMY.LINK@example.nhs.uk ").await.unwrap();
    assert_eq!(found.id, u.id);
    assert_eq!(found.email.as_str(), "amy.link@example.nhs.uk");
    assert!(found.has_role(Role::LinkWorker) && found.has_role(Role::Manager));
    assert!(!found.has_role(Role::Administrator));
    assert_eq!(s.get_user(u.id).await.unwrap(), found);
    assert!(format!("{found:?}").contains("<redacted>") && !format!("{found:?}").contains("argon2"));

    s.add_role(u.id, RoleGrant { org_id: org.id, role: Role::Administrator }).await.unwrap();
    s.add_role(u.id, RoleGrant { org_id: org.id, role: Role::Administrator }).await.unwrap();
    assert!(s.get_user(u.id).await.unwrap().has_role(Role::Administrator));

    let dup = linkwork::admin::create_user(
        s,
        &c,
        "amy.link@example.nhs.uk",
        None,
        &["referrer".into()],
        &org.name,
        "kettle orbit lantern",
    )
    .await;
    assert!(dup.unwrap_err().to_string().contains("already exists"));

    s.set_user_disabled(u.id, true).await.unwrap();
    assert!(s.get_user(u.id).await.unwrap().disabled);
    assert!(matches!(s.set_user_disabled(UserId::new(), true).await, Err(StoreError::NotFound)));
    let all = s.list_users().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].roles.len(), 3);
});

db_test!(sessions_expire_collide_and_revoke, |db: TestDb| async move {
    let s = &db.store;
    let c = clock();
    let org = pcn(s, &c, "Beeston PCN").await;
    let u = user(s, &c, &org, "worker@beeston.test", &["link_worker"]).await;
    let rec = SessionRecord {
        id: "abc".into(),
        user_id: Some(u.id),
        data: "{}".into(),
        expires_at: c.now() + Duration::minutes(30),
    };
    assert!(s.create_session(&rec).await.unwrap());
    assert!(!s.create_session(&rec).await.unwrap(), "a taken id is reported, not overwritten");
    assert_eq!(s.load_session("abc", c.now()).await.unwrap(), Some(rec.clone()));
    assert_eq!(
        s.load_session("abc", c.now() + Duration::minutes(31)).await.unwrap(),
        None,
        "expired sessions do not load"
    );

    let updated = SessionRecord { data: "{\"x\":1}".into(), ..rec.clone() };
    s.save_session(&updated).await.unwrap();
    assert_eq!(s.load_session("abc", c.now()).await.unwrap().unwrap().data, "{\"x\":1}");

    let other = SessionRecord { id: "def".into(), ..rec.clone() };
    s.save_session(&other).await.unwrap();
    let anon = SessionRecord { id: "anon".into(), user_id: None, ..rec.clone() };
    s.save_session(&anon).await.unwrap();
    assert_eq!(s.delete_user_sessions(u.id).await.unwrap(), 2);
    assert_eq!(s.load_session("def", c.now()).await.unwrap(), None);
    assert!(s.load_session("anon", c.now()).await.unwrap().is_some());
    assert_eq!(s.delete_expired_sessions(c.now() + Duration::hours(1)).await.unwrap(), 1);
    s.delete_session("anon").await.unwrap();
});

db_test!(casework_is_scoped_to_its_tenant, |db: TestDb| async move {
    let s = &db.store;
    let c = clock();
    let leeds = pcn(s, &c, "Leeds PCN").await;
    let bradford = pcn(s, &c, "Bradford PCN").await;
    let mut people = vec![person(leeds.id, "943 476 5919", "Ada")];
    for i in 0..1200u32 {
        // More than one insert chunk, to exercise batching.
        let mut p = person(leeds.id, "943 476 5919", "Bulk");
        p.given_name = format!("Bulk{i}");
        p.nhs_number = None;
        people.push(p);
    }
    s.insert_people(&people).await.unwrap();
    let theirs = person(bradford.id, "999 000 0018", "Bea");
    s.insert_people(std::slice::from_ref(&theirs)).await.unwrap();

    assert_eq!(s.get_person(leeds.id, people[0].id).await.unwrap(), people[0]);
    assert!(
        matches!(s.get_person(leeds.id, theirs.id).await, Err(StoreError::NotFound)),
        "another tenant's person is invisible"
    );
    assert_eq!(s.count_people(leeds.id).await.unwrap(), 1201);
    assert_eq!(s.count_people(bradford.id).await.unwrap(), 1);

    let referral = |org: OrgId, p: &Person, mins: i64| Referral {
        id: ReferralId::new(),
        org_id: org,
        person_id: p.id,
        team_id: None,
        source: ReferralSource::Gp,
        reason: "Lonely; <script>alert(1)</script> ' OR 1=1 --".into(),
        status: ReferralStatus::Received,
        received_at: test_epoch() - Duration::minutes(mins),
        ..Referral::default()
    };
    let older = referral(leeds.id, &people[0], 60);
    let newer = referral(leeds.id, &people[1], 5);
    s.insert_referrals(&[older.clone(), newer.clone(), referral(bradford.id, &theirs, 1)]).await.unwrap();
    let recent = s.recent_referrals(leeds.id, 10).await.unwrap();
    assert_eq!(recent.iter().map(|(r, _)| r.id).collect::<Vec<_>>(), vec![newer.id, older.id]);
    assert_eq!(recent[1].1, people[0]);
    assert_eq!(recent[1].0.reason, older.reason, "text is stored exactly, metacharacters and all");
    assert_eq!(s.count_referrals(leeds.id).await.unwrap(), 2);
    assert_eq!(s.count_referrals(bradford.id).await.unwrap(), 1);
    assert!(s.recent_referrals(OrgId::new(), 10).await.unwrap().is_empty());

    // A person's flags and their history: only within the tenant.
    use linkwork_domain::people::{FlagAction, FlagChange, FlagKind};
    let flag = |org: OrgId, person: PersonId| FlagChange {
        id: FlagId::new(),
        org_id: org,
        person_id: person,
        kind: FlagKind::LoneWorking,
        action: FlagAction::Raised,
        text: Some("Dog".into()),
        at: test_epoch(),
        by: None,
    };
    s.change_flag(&flag(leeds.id, people[0].id)).await.unwrap();
    assert!(
        matches!(s.change_flag(&flag(bradford.id, people[0].id)).await, Err(StoreError::NotFound)),
        "another tenant cannot flag the person"
    );
    assert_eq!(s.flag_history(leeds.id, people[0].id).await.unwrap().len(), 1);
    assert!(s.flag_history(bradford.id, people[0].id).await.unwrap().is_empty(), "nor read the history");
    assert!(s.get_person(bradford.id, people[0].id).await.is_err());
});

db_test!(failed_batch_inserts_nothing, |db: TestDb| async move {
    let s = &db.store;
    let c = clock();
    let org = pcn(s, &c, "Otley PCN").await;
    let good = person(org.id, "943 476 5919", "Good");
    let mut batch: Vec<Person> = (0..600).map(|_| person(org.id, "943 476 5919", "Many")).collect();
    batch.push(good.clone());
    batch.push(good.clone()); // duplicate primary key in the second chunk
    assert!(s.insert_people(&batch).await.is_err());
    assert_eq!(s.count_people(org.id).await.unwrap(), 0, "the first chunk was rolled back too");
});
