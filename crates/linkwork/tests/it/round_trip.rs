//! Every stored type, every field set (none left at its default), written by each path that
//! writes it (the single insert a page uses and the bulk insert the demo and imports use) and
//! read back equal, on both databases. A column one path forgets fails here.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use linkwork_domain::Clock;
use linkwork_domain::FixedClock;
use linkwork_domain::access::organisations::Team;
use linkwork_domain::casework::coding::CodedEvent;
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Barrier, BarrierCode, BarrierKind, Contact, ContactLocation, ContactMode,
    DischargeReason, Episode, EpisodeWork, Goal, GoalReview, GoalStatus, HoldingEnd, HoldingPeriod, HoldingReason,
    Need, NeedDomain,
};
use linkwork_domain::ids::{
    AppointmentId, BarrierId, CodedEventId, ContactId, EpisodeId, GoalId, HoldingId, NeedId, PersonId, ReferralId,
    TeamId,
};
use linkwork_domain::intake::referrals::{Referral, ReferralSource, ReferralStatus, Urgency};
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender, Person};
use linkwork_domain::ports::{CaseworkBatch, CaseworkStore, EpisodeStore, IntakeStore, OrgStore, PeopleStore};
use linkwork_domain::values::{NhsNumber, Postcode};
use linkwork_storage::SqlStore;
use linkwork_testkit::{TestDb, db_test, test_epoch};

struct Ids {
    org: linkwork_domain::ids::OrgId,
    practice: linkwork_domain::ids::OrgId,
    team: TeamId,
    user: linkwork_domain::ids::UserId,
}

async fn ids(s: &SqlStore) -> Ids {
    let clock = FixedClock::new(test_epoch());
    linkwork::admin::create_org(s, &clock, "Leeds ICB", "icb", None, None).await.unwrap();
    let org = linkwork::admin::create_org(s, &clock, "Harehills PCN", "pcn", None, Some("Leeds ICB")).await.unwrap();
    let practice =
        linkwork::admin::create_org(s, &clock, "Harehills Surgery", "practice", None, Some(&org.name)).await.unwrap();
    let team = Team { id: TeamId::new(), org_id: org.id, name: "East".into(), created_at: clock.now() };
    s.create_team(&team).await.unwrap();
    let user = linkwork::admin::create_user(
        s,
        &clock,
        "rt@harehills.test",
        None,
        &["link_worker".into()],
        &org.name,
        "kettle orbit lantern",
    )
    .await
    .unwrap();
    Ids { org: org.id, practice: practice.id, team: team.id, user: user.id }
}

/// A person with every field away from its default.
fn person(i: &Ids, nhs: &str, merged_into: Option<PersonId>) -> Person {
    Person {
        id: PersonId::new(),
        org_id: i.org,
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        given_name: "Zofia".into(),
        family_name: "Nowak-Hughes".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1949, 2, 28).unwrap(),
        postcode: Some(Postcode::parse("LS9 7AB").unwrap()),
        practice_id: Some(i.practice),
        address: "4 Harehills Lane\nLeeds".into(),
        phone: Some("07700 900777".into()),
        email: Some("zofia@example.test".into()),
        contact_by: ContactChannel::Email,
        language: "Polish".into(),
        interpreter: true,
        gender: Gender::Female,
        ethnicity: Ethnicity::WhiteOther,
        safeguarding: Some("Lives with a son who takes her pension".into()),
        lone_working: Some("Large dog: visit in pairs".into()),
        staff_risk: Some("Son has been aggressive on the phone".into()),
        merged_into,
        version: 3,
        created_at: test_epoch() - Duration::days(40),
    }
}

fn referral(i: &Ids, p: &Person) -> Referral {
    Referral {
        id: ReferralId::new(),
        org_id: i.org,
        person_id: p.id,
        team_id: Some(i.team),
        source: ReferralSource::Housing,
        reason: "Rent arrears and very isolated".into(),
        needs: vec![NeedDomain::Money, NeedDomain::Loneliness],
        urgency: Urgency::Soon,
        consent: true,
        tried: "Citizens Advice once".into(),
        referred_by: Some(i.user),
        referrer_name: "Housing officer K. Bell".into(),
        status: ReferralStatus::Accepted,
        received_at: test_epoch() - Duration::days(30),
        decided_at: Some(test_epoch() - Duration::days(29)),
        decided_by: Some(i.user),
        decision_reason: Some("within criteria".into()),
        decision_note: Some("Seen at the practice".into()),
    }
}

fn episode(i: &Ids, p: &Person, r: &Referral, closed: bool) -> Episode {
    Episode {
        id: EpisodeId::new(),
        org_id: i.org,
        person_id: p.id,
        referral_id: r.id,
        team_id: i.team,
        worker_id: Some(i.user),
        work: EpisodeWork::Both,
        opened_at: test_epoch() - Duration::days(29),
        follow_up_on: Some(NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()),
        closed_at: closed.then(|| test_epoch() - Duration::days(1)),
        discharge_reason: closed.then_some(DischargeReason::ConnectedOnward),
        discharge_note: closed.then(|| "Goes to the credit union".to_owned()),
        version: 4,
    }
}

/// Everything recorded in an episode, each with every field set.
fn casework(i: &Ids, p: &Person, e: &Episode, r: &Referral) -> CaseworkBatch {
    let at = test_epoch() - Duration::days(20);
    let contact = ContactId::new();
    CaseworkBatch {
        episodes: vec![],
        message_backs: vec![],
        codes: vec![CodedEvent {
            id: CodedEventId::new(),
            org_id: i.org,
            person_id: p.id,
            referral_id: r.id,
            episode_id: Some(e.id),
            contact_id: Some(contact),
            code: "871731000000106".into(),
            term: "Referral to social prescribing service".into(),
            recorded_at: at,
            recorded_by: Some(i.user),
        }],
        needs: vec![Need {
            id: NeedId::new(),
            org_id: i.org,
            episode_id: e.id,
            domain: NeedDomain::Money,
            own_words: "I can't keep up with the rent".into(),
            recorded_at: at,
            recorded_by: Some(i.user),
        }],
        goals: vec![Goal {
            id: GoalId::new(),
            org_id: i.org,
            episode_id: e.id,
            domain: NeedDomain::Money,
            own_words: "Sort out the arrears".into(),
            steps: "Book the credit union".into(),
            status: GoalStatus::InProgress,
            progress: 6,
            created_at: at,
            updated_at: at + Duration::days(3),
            version: 2,
        }],
        contacts: vec![Contact {
            id: contact,
            org_id: i.org,
            episode_id: e.id,
            worker_id: Some(i.user),
            happened_on: NaiveDate::from_ymd_opt(2026, 11, 12).unwrap(),
            happened_at: Some(Utc.with_ymd_and_hms(2026, 11, 12, 14, 45, 0).unwrap()),
            minutes: 75,
            mode: ContactMode::Phone,
            location: ContactLocation::Home,
            present: "Her daughter".into(),
            notes: "Talked through the letter".into(),
            outside_usual: true,
            created_at: at,
        }],
        holdings: vec![HoldingPeriod {
            id: HoldingId::new(),
            org_id: i.org,
            episode_id: e.id,
            reason: HoldingReason::Preparing,
            started_on: NaiveDate::from_ymd_opt(2026, 11, 13).unwrap(),
            review_on: NaiveDate::from_ymd_opt(2026, 12, 11).unwrap(),
            ended_on: Some(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()),
            ended_how: Some(HoldingEnd::ServiceStarted),
            note: "Waiting for the debt adviser".into(),
        }],
        appointments: vec![Appointment {
            id: AppointmentId::new(),
            org_id: i.org,
            episode_id: e.id,
            person_id: p.id,
            worker_id: Some(i.user),
            starts_at: test_epoch() + Duration::days(2) + Duration::minutes(90),
            minutes: 40,
            mode: ContactMode::Phone,
            location: ContactLocation::Home,
            status: AppointmentStatus::Attended,
            remind: true,
            created_at: at,
        }],
    }
}

fn barrier(i: &Ids, e: &Episode) -> Barrier {
    Barrier {
        id: BarrierId::new(),
        org_id: i.org,
        episode_id: e.id,
        kind: BarrierKind::Personal,
        code: BarrierCode::Housing,
        note: "Afraid to open post".into(),
        recorded_at: test_epoch() - Duration::days(5),
    }
}

async fn read_back(s: &SqlStore, i: &Ids, e: &Episode) -> CaseworkBatch {
    let person = s.get_episode(i.org, e.id).await.unwrap().person_id;
    let mut codes = s.coded_events(i.org, person).await.unwrap();
    codes.retain(|c| c.episode_id == Some(e.id));
    CaseworkBatch {
        episodes: vec![s.get_episode(i.org, e.id).await.unwrap()],
        message_backs: s.message_backs(i.org, e.id).await.unwrap(),
        codes,
        needs: s.needs(i.org, e.id).await.unwrap(),
        goals: s.goals(i.org, e.id).await.unwrap(),
        contacts: s.contacts(i.org, e.id).await.unwrap(),
        holdings: s.holdings(i.org, e.id).await.unwrap(),
        appointments: s.appointments(i.org, e.id).await.unwrap(),
    }
}

db_test!(every_field_of_every_casework_type_survives_the_bulk_path, |db: TestDb| async move {
    let s = &db.store;
    let i = ids(s).await;
    let kept = person(&i, "943 476 5919", None);
    let merged = person(&i, "401 023 2137", Some(kept.id));
    s.insert_people(&[kept.clone(), merged.clone()]).await.unwrap();
    assert_eq!(s.get_person(i.org, kept.id).await.unwrap(), kept);
    assert_eq!(s.get_person(i.org, merged.id).await.unwrap(), merged, "merged_into and safeguarding kept");
    let r = referral(&i, &kept);
    s.insert_referrals(std::slice::from_ref(&r)).await.unwrap();
    assert_eq!(s.get_referral(i.org, r.id).await.unwrap(), r, "tried, referred_by and referrer_name kept");

    let e = episode(&i, &kept, &r, true);
    let mut batch = casework(&i, &kept, &e, &r);
    batch.episodes = vec![e.clone()];
    s.insert_casework(&batch).await.unwrap();
    assert_eq!(read_back(s, &i, &e).await, batch);
});

db_test!(every_field_of_every_casework_type_survives_the_single_inserts, |db: TestDb| async move {
    let s = &db.store;
    let i = ids(s).await;
    let p = Person { version: 1, merged_into: None, ..person(&i, "943 476 5919", None) };
    let r = Referral {
        status: ReferralStatus::Received,
        decided_at: None,
        decided_by: None,
        decision_reason: None,
        decision_note: None,
        ..referral(&i, &p)
    };
    s.create_referral(Some(&p), &r, None).await.unwrap();
    assert_eq!(s.get_person(i.org, p.id).await.unwrap(), p, "the person a referral brings, every field");
    assert_eq!(s.get_referral(i.org, r.id).await.unwrap(), r, "the referral, every field");

    // An episode is opened by triage; its work and follow-up are saved after.
    let e = Episode { version: 1, ..episode(&i, &p, &r, false) };
    let wanted = casework(&i, &p, &e, &r);
    s.decide_referral(&linkwork_domain::ports::TriageDecision {
        org_id: i.org,
        referral_id: r.id,
        status: ReferralStatus::Accepted,
        reason: None,
        note: None,
        by: i.user,
        at: test_epoch(),
        open_episode: Some(e.clone()),
        // The referral code comes with the first contact, below.
        codes: vec![],
    })
    .await
    .unwrap();
    s.add_need(&wanted.needs[0]).await.unwrap();
    s.add_goal(&wanted.goals[0]).await.unwrap();
    s.add_contact(&wanted.contacts[0], e.follow_up_on, &wanted.codes).await.unwrap();
    s.start_holding(&wanted.holdings[0]).await.unwrap();
    s.add_appointment(&wanted.appointments[0], None).await.unwrap();
    let b = barrier(&i, &e);
    s.add_barrier(&b).await.unwrap();

    let got = read_back(s, &i, &e).await;
    assert_eq!(got.codes, wanted.codes);
    assert_eq!(got.needs, wanted.needs);
    assert_eq!(got.goals, wanted.goals);
    assert_eq!(got.contacts, wanted.contacts);
    assert_eq!(got.holdings, wanted.holdings);
    assert_eq!(got.appointments, wanted.appointments);
    assert_eq!(s.barriers(i.org, e.id).await.unwrap(), vec![b]);
    let stored = &got.episodes[0];
    assert_eq!((stored.worker_id, stored.follow_up_on, stored.opened_at), (e.worker_id, e.follow_up_on, e.opened_at));

    // A review, every field.
    let review = GoalReview {
        goal_id: wanted.goals[0].id,
        org_id: i.org,
        status: GoalStatus::Achieved,
        progress: 10,
        note: "Arrears cleared".into(),
        at: test_epoch() - Duration::hours(3),
        by: Some(i.user),
    };
    s.review_goal(&review, wanted.goals[0].version).await.unwrap();
    assert_eq!(s.goal_reviews(i.org, e.id).await.unwrap(), vec![review]);
});
