//! The casework ports on both databases: referrals with their people, triage in one
//! transaction with the coding rule backed by the schema, optimistic concurrency, the caseload
//! query, merging, search, team settings, all-or-nothing imports, and tenant scoping throughout.

use chrono::{Duration, NaiveDate};
use linkwork_domain::Clock;
use linkwork_domain::access::organisations::{Organisation, Team};
use linkwork_domain::casework::coding::{CodedEvent, REFERRAL_TO_SOCIAL_PRESCRIBING};
use linkwork_domain::casework::message_back::{Reopening, SentMessageBack};
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Contact, ContactLocation, ContactMode, DischargeReason, Episode, EpisodeWork, Goal,
    GoalReview, GoalStatus, HoldingEnd, HoldingPeriod, HoldingReason, NeedDomain, TeamSettings,
};
use linkwork_domain::ids::{
    AppointmentId, CodedEventId, ContactId, EpisodeId, GoalId, HoldingId, MessageBackId, OrgId, PersonId, ReferralId,
    TeamId,
};
use linkwork_domain::intake::referrals::{Referral, ReferralStatus, Urgency};
use linkwork_domain::jobs::NewJob;
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender, Person};
use linkwork_domain::ports::{
    CaseworkStore, Conflict, Created, Discharge, EpisodeStore, IdempotencyKey, IntakeStore, JobStore, OrgStore,
    PeopleQuery, PeopleStore, StoreError, TriageDecision,
};
use linkwork_domain::values::{NhsNumber, Postcode};
use linkwork_domain::{FixedClock, access::accounts::User};
use linkwork_storage::SqlStore;
use linkwork_testkit::{TestDb, db_test, test_epoch};

/// A message back as sent, version `version`, saying `summary`.
fn sent(org: OrgId, episode: EpisodeId, version: i32, summary: &str) -> SentMessageBack {
    use linkwork_domain::casework::message_back::*;
    let day = Day(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let document = MessageBack {
        standard: "PRSB Social Prescribing Information Standard v1.1".into(),
        person: Demographics {
            nhs_number: Some("9434765919".into()),
            name: "Bea O'Brien".into(),
            date_of_birth: Day(NaiveDate::from_ymd_opt(1950, 1, 2).unwrap()),
            address: "1 Kentmere Avenue".into(),
            postcode: Some("LS14 6AB".into()),
            gender: "Female".into(),
            ethnicity: "Not stated".into(),
            gp_practice: Some(("Seacroft Surgery".into(), Some("B86001".into()))),
        },
        referral: ReferralPart {
            received: day,
            source: "GP".into(),
            referrer: "Dr Shah".into(),
            reason: "Lonely".into(),
        },
        opened: day,
        discharged: Some(day),
        discharge_reason: Some("Goals met".into()),
        link_worker: "Lee Worker".into(),
        needs_and_concerns: vec!["Loneliness: \u{201C}I see nobody\u{201D}".into()],
        support_offered: SupportPart {
            contacts: 1,
            minutes: 50,
            modes: vec!["Home visit (Home)".into()],
            holding: vec![],
            barriers: vec![],
        },
        outcomes: vec![GoalPart {
            goal: "Join the choir".into(),
            area: "Loneliness".into(),
            status: "Achieved".into(),
            progress_out_of_10: 9,
        }],
        measures: vec![],
        connections: vec![],
        summary: summary.into(),
        codes: vec![CodePart {
            code: "871731000000106".into(),
            term: "Referral to social prescribing service".into(),
            date: day,
        }],
    };
    SentMessageBack {
        id: MessageBackId::new(),
        org_id: org,
        episode_id: episode,
        version,
        document,
        changes: (version > 1).then(|| "The choir's answer came after the first summary".into()),
        sent_at: test_epoch() + Duration::minutes(i64::from(version)),
        sent_by: None,
    }
}

/// Merge `merged` into `kept` as read now, keeping the kept record's details.
async fn merging(
    s: &SqlStore,
    org: OrgId,
    kept: PersonId,
    merged: PersonId,
    open_episodes: Option<linkwork_domain::ports::OpenEpisodes>,
) -> Result<(), StoreError> {
    let kept = match s.get_person(org, kept).await {
        Ok(p) => p,
        Err(_) => Person { id: kept, org_id: org, ..Person::default() },
    };
    s.merge_people(&linkwork_domain::ports::MergePlan { kept, merged, open_episodes, at: test_epoch() }).await
}

struct World {
    org: Organisation,
    other: Organisation,
    team: Team,
    worker: User,
}

async fn world(s: &SqlStore) -> World {
    let clock = FixedClock::new(test_epoch());
    linkwork::admin::create_org(s, &clock, "West Yorkshire ICB", "icb", None, None).await.unwrap();
    let org = linkwork::admin::create_org(s, &clock, "Chapeltown PCN", "pcn", None, Some("West Yorkshire ICB"))
        .await
        .unwrap();
    let other =
        linkwork::admin::create_org(s, &clock, "Otley PCN", "pcn", None, Some("West Yorkshire ICB")).await.unwrap();
    let team = Team { id: TeamId::new(), org_id: org.id, name: "North".into(), created_at: clock.now() };
    s.create_team(&team).await.unwrap();
    let worker = linkwork::admin::create_user(
        s,
        &clock,
        "w@chapeltown.test",
        None,
        &["link_worker".into()],
        &org.name,
        "kettle orbit lantern",
    )
    .await
    .unwrap();
    World { org, other, team, worker }
}

fn person(org: OrgId, given: &str, nhs: Option<&str>) -> Person {
    Person {
        id: PersonId::new(),
        org_id: org,
        nhs_number: nhs.map(|n| NhsNumber::parse(n).unwrap()),
        given_name: given.into(),
        family_name: "O'Brien".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1951, 7, 14).unwrap(),
        postcode: Some(Postcode::parse("LS7 3AB").unwrap()),
        address: "1 Mill Road".into(),
        phone: Some("07700 900123".into()),
        email: None,
        contact_by: ContactChannel::Text,
        language: "Polish".into(),
        interpreter: true,
        gender: Gender::Female,
        ethnicity: Ethnicity::WhiteOther,
        version: 1,
        created_at: test_epoch(),
        ..Person::default()
    }
}

fn referral(org: OrgId, p: &Person, team: Option<TeamId>) -> Referral {
    Referral {
        id: ReferralId::new(),
        org_id: org,
        person_id: p.id,
        team_id: team,
        reason: "Lonely since moving here".into(),
        needs: vec![NeedDomain::Loneliness, NeedDomain::Digital],
        urgency: Urgency::Soon,
        consent: true,
        tried: "Church group".into(),
        referrer_name: "Dr Ahmed".into(),
        received_at: test_epoch(),
        ..Referral::default()
    }
}

fn episode(w: &World, p: &Person, r: &Referral) -> Episode {
    Episode {
        id: EpisodeId::new(),
        org_id: w.org.id,
        person_id: p.id,
        referral_id: r.id,
        team_id: w.team.id,
        worker_id: Some(w.worker.id),
        work: EpisodeWork::Connecting,
        opened_at: test_epoch(),
        follow_up_on: Some(test_epoch().date_naive() + Duration::days(14)),
        version: 1,
        ..Episode::default()
    }
}

fn code(w: &World, p: &Person, r: &Referral, e: Option<EpisodeId>) -> CodedEvent {
    CodedEvent {
        id: CodedEventId::new(),
        org_id: w.org.id,
        person_id: p.id,
        referral_id: r.id,
        episode_id: e,
        contact_id: None,
        code: REFERRAL_TO_SOCIAL_PRESCRIBING.0.into(),
        term: REFERRAL_TO_SOCIAL_PRESCRIBING.1.into(),
        recorded_at: test_epoch(),
        recorded_by: None,
    }
}

async fn accept(s: &SqlStore, w: &World, p: &Person, r: &Referral) -> Episode {
    let e = episode(w, p, r);
    s.decide_referral(&TriageDecision {
        org_id: w.org.id,
        referral_id: r.id,
        status: ReferralStatus::Accepted,
        reason: None,
        note: None,
        by: w.worker.id,
        at: test_epoch(),
        open_episode: Some(e.clone()),
        codes: vec![code(w, p, r, Some(e.id))],
    })
    .await
    .unwrap();
    e
}

db_test!(referrals_and_their_people_round_trip_idempotently, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let p = person(w.org.id, "Zofia", Some("943 476 5919"));
    let r = referral(w.org.id, &p, Some(w.team.id));
    let key = IdempotencyKey { scope: "user:x".into(), key: "k1".into(), request_hash: "h1".into() };
    assert!(matches!(s.create_referral(Some(&p), &r, Some(&key)).await.unwrap(), Created::New(_)));
    // A retry with the same key creates nothing and returns the first referral.
    let again = s.create_referral(Some(&p), &referral(w.org.id, &p, None), Some(&key)).await.unwrap();
    assert_eq!(again, Created::Replayed(r.clone()));
    let other_body = IdempotencyKey { request_hash: "h2".into(), ..key.clone() };
    assert!(matches!(
        s.create_referral(None, &referral(w.org.id, &p, None), Some(&other_body)).await,
        Err(StoreError::Conflict(linkwork_domain::ports::Conflict::IdempotencyKeyReused))
    ));
    assert_eq!(s.get_referral(w.org.id, r.id).await.unwrap(), r, "every field survives the database");
    assert_eq!(s.get_person(w.org.id, p.id).await.unwrap(), p);
    assert!(matches!(s.get_referral(w.other.id, r.id).await, Err(StoreError::NotFound)), "tenant scoped");
    // Duplicate candidates: by NHS number or by date of birth, never across tenants.
    let nhs = NhsNumber::parse("9434765919").unwrap();
    let found =
        s.duplicate_candidates(w.org.id, Some(&nhs), NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(s.duplicate_candidates(w.other.id, Some(&nhs), p.date_of_birth).await.unwrap().is_empty());
    // Waiting list: for the team or for no team; made-by list for the referrer.
    let unassigned = referral(w.org.id, &p, None);
    s.create_referral(None, &unassigned, None).await.unwrap();
    assert_eq!(s.waiting_referrals(w.org.id, &[w.team.id]).await.unwrap().len(), 2);
    assert_eq!(s.waiting_referrals(w.org.id, &[]).await.unwrap().len(), 1, "no team yet: everyone's list");
    assert_eq!(s.count_waiting(w.org.id, &[w.team.id]).await.unwrap(), 2);
    assert_eq!(s.count_waiting(w.org.id, &[]).await.unwrap(), 1);
    assert_eq!(s.count_waiting(w.other.id, &[w.team.id]).await.unwrap(), 0);
    let icb = s.find_org("West Yorkshire ICB").await.unwrap();
    let children: Vec<String> = s.child_orgs(icb.id).await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(children, ["Chapeltown PCN", "Otley PCN"]);
    assert!(s.child_orgs(w.org.id).await.unwrap().is_empty());
    assert!(s.referrals_made_by(w.worker.id, 10).await.unwrap().is_empty());
});

db_test!(triage_is_one_transaction_and_codes_once_per_episode, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let p = person(w.org.id, "Ada", None);
    let r1 = referral(w.org.id, &p, Some(w.team.id));
    let r2 = referral(w.org.id, &p, Some(w.team.id));
    s.create_referral(Some(&p), &r1, None).await.unwrap();
    s.create_referral(None, &r2, None).await.unwrap();
    let e = accept(s, &w, &p, &r1).await;
    // Deciding again (a second worker's stale page) changes nothing.
    let again = TriageDecision {
        org_id: w.org.id,
        referral_id: r1.id,
        status: ReferralStatus::Declined,
        reason: Some("other".into()),
        note: None,
        by: w.worker.id,
        at: test_epoch(),
        open_episode: None,
        codes: vec![],
    };
    assert!(matches!(s.decide_referral(&again).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.get_referral(w.org.id, r1.id).await.unwrap().status, ReferralStatus::Accepted);
    // The schema refuses a second referral code in the same episode, and the whole decision with it.
    let twice = TriageDecision {
        referral_id: r2.id,
        status: ReferralStatus::Accepted,
        codes: vec![code(&w, &p, &r2, Some(e.id))],
        ..again.clone()
    };
    assert!(matches!(s.decide_referral(&twice).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.get_referral(w.org.id, r2.id).await.unwrap().status, ReferralStatus::Received, "rolled back");
    assert_eq!(s.coded_events(w.org.id, p.id).await.unwrap().len(), 1);
    let episodes = s.person_episodes(w.org.id, p.id).await.unwrap();
    assert_eq!(episodes, vec![e]);
});

db_test!(casework_with_versions_and_the_caseload, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let p = person(w.org.id, "Bea", Some("943 476 5919"));
    let r = referral(w.org.id, &p, Some(w.team.id));
    s.create_referral(Some(&p), &r, None).await.unwrap();
    let e = accept(s, &w, &p, &r).await;
    let now = test_epoch();
    let today = now.date_naive();

    // Goals: a review from a stale page is refused.
    let g = Goal {
        id: GoalId::new(),
        org_id: w.org.id,
        episode_id: e.id,
        domain: NeedDomain::Loneliness,
        own_words: "Go to the choir".into(),
        steps: String::new(),
        status: GoalStatus::NotStarted,
        progress: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    s.add_goal(&g).await.unwrap();
    let review = GoalReview {
        goal_id: g.id,
        org_id: w.org.id,
        status: GoalStatus::InProgress,
        progress: 4,
        note: "Went once".into(),
        at: now,
        by: Some(w.worker.id),
    };
    let g2 = s.review_goal(&review, 1).await.unwrap();
    assert_eq!((g2.status, g2.progress, g2.version), (GoalStatus::InProgress, 4, 2));
    assert!(matches!(
        s.review_goal(&review, 1).await,
        Err(StoreError::Conflict(linkwork_domain::ports::Conflict::Version))
    ));
    assert_eq!(s.goal_reviews(w.org.id, e.id).await.unwrap().len(), 1);

    // People: the same.
    let mut edited = s.get_person(w.org.id, p.id).await.unwrap();
    edited.phone = Some("0113 496 0000".into());
    let saved = s.update_person(&edited).await.unwrap();
    assert_eq!((saved.version, saved.phone.as_deref()), (2, Some("0113 496 0000")));
    assert!(matches!(s.update_person(&edited).await, Err(StoreError::Conflict(_))), "stale version 1");

    // Contacts move the follow-up; holding turns connecting into both.
    let c = Contact {
        id: ContactId::new(),
        org_id: w.org.id,
        episode_id: e.id,
        worker_id: Some(w.worker.id),
        happened_on: today - Duration::days(20),
        happened_at: None,
        minutes: 50,
        mode: ContactMode::HomeVisit,
        location: ContactLocation::Home,
        present: "Son".into(),
        notes: "Talked about the choir".into(),
        outside_usual: true,
        created_at: now,
    };
    s.add_contact(&c, Some(today - Duration::days(6)), &[]).await.unwrap();
    assert_eq!(s.contacts(w.org.id, e.id).await.unwrap(), vec![c.clone()]);
    assert_eq!(s.worker_contacts(w.org.id, w.worker.id, today - Duration::days(365)).await.unwrap().len(), 1);
    assert!(s.worker_contacts(w.other.id, w.worker.id, today - Duration::days(365)).await.unwrap().is_empty());
    let h = HoldingPeriod {
        id: HoldingId::new(),
        org_id: w.org.id,
        episode_id: e.id,
        reason: HoldingReason::Waiting,
        started_on: today - Duration::days(100),
        review_on: today - Duration::days(1),
        ended_on: None,
        ended_how: None,
        note: "Waiting for talking therapies".into(),
    };
    s.start_holding(&h).await.unwrap();
    assert_eq!(s.get_episode(w.org.id, e.id).await.unwrap().work, EpisodeWork::Both);
    let a = Appointment {
        id: AppointmentId::new(),
        org_id: w.org.id,
        episode_id: e.id,
        person_id: p.id,
        worker_id: Some(w.worker.id),
        starts_at: now + Duration::hours(3),
        minutes: 45,
        mode: ContactMode::FaceToFace,
        location: ContactLocation::Practice,
        status: AppointmentStatus::Booked,
        remind: true,
        created_at: now,
    };
    let job = NewJob::now("appointment_reminder", "{}".into(), now).dedupe(format!("reminder:{}", a.id));
    s.add_appointment(&a, Some(&job)).await.unwrap();
    assert_eq!(s.job_counts().await.unwrap().queued, 1, "the reminder job commits with the appointment");

    let items = s.caseload(w.org.id, &[w.team.id], Some(w.worker.id), now).await.unwrap();
    assert_eq!(items.len(), 1);
    let it = &items[0];
    assert_eq!(it.person_name, "Bea O'Brien");
    assert_eq!((it.contacts, it.last_contact), (1, Some(c.happened_on)));
    assert_eq!(it.holding_since, Some(h.started_on));
    assert_eq!(it.next_appointment, Some(a.starts_at));
    assert!(it.overdue(today) && it.holding() && it.appointment_today(today));
    assert!(s.caseload(w.other.id, &[w.team.id], None, now).await.unwrap().is_empty(), "tenant scoped");

    // Discharge: stale versions refused; holding ends; future appointments are cancelled.
    let current = s.get_episode(w.org.id, e.id).await.unwrap();
    let d = Discharge {
        org_id: w.org.id,
        episode_id: e.id,
        version: current.version - 1,
        reason: DischargeReason::GoalsMet,
        note: "Goes to the choir".into(),
        at: now,
        message_back: sent(w.org.id, e.id, 1, "Goes to the choir"),
    };
    assert!(matches!(s.discharge(&d).await, Err(StoreError::Conflict(_))));
    assert!(s.message_backs(w.org.id, e.id).await.unwrap().is_empty(), "a refused discharge sends nothing");
    s.discharge(&Discharge { version: current.version, ..d.clone() }).await.unwrap();
    let closed = s.get_episode(w.org.id, e.id).await.unwrap();
    assert!(!closed.is_open() && closed.discharge_reason == Some(DischargeReason::GoalsMet));
    assert_eq!(s.holdings(w.org.id, e.id).await.unwrap()[0].ended_how, Some(HoldingEnd::Closed));
    assert_eq!(s.appointments(w.org.id, e.id).await.unwrap()[0].status, AppointmentStatus::Cancelled);
    assert!(s.caseload(w.org.id, &[w.team.id], None, now).await.unwrap().is_empty());
    assert_eq!(s.message_backs(w.org.id, e.id).await.unwrap(), vec![d.message_back.clone()], "kept as sent");
    assert!(s.message_backs(w.other.id, e.id).await.unwrap().is_empty(), "tenant scoped");

    // Reopening: a stale version is refused; the reason is kept; the summary sent stays.
    let mut reopening = Reopening {
        org_id: w.org.id,
        episode_id: e.id,
        version: closed.version - 1,
        reason: "The choir wrote back".into(),
        closed_at: closed.closed_at.unwrap(),
        at: now + Duration::hours(1),
        by: Some(w.worker.id),
    };
    assert!(matches!(s.reopen(&reopening).await, Err(StoreError::Conflict(Conflict::Version))));
    reopening.version = closed.version;
    assert!(
        matches!(s.reopen(&Reopening { org_id: w.other.id, ..reopening.clone() }).await, Err(StoreError::NotFound)),
        "another tenant's episode is not there"
    );
    s.reopen(&reopening).await.unwrap();
    let reopened = s.get_episode(w.org.id, e.id).await.unwrap();
    assert!(reopened.is_open() && reopened.discharge_reason.is_none() && reopened.version == closed.version + 1);
    assert!(matches!(s.reopen(&reopening).await, Err(StoreError::Conflict(Conflict::Version))), "already open");
    let history = s.reopenings(w.org.id, e.id).await.unwrap();
    assert_eq!((history.len(), history[0].reason.as_str()), (1, "The choir wrote back"));
    assert_eq!(history[0].closed_at, closed.closed_at.unwrap());
    assert!(s.reopenings(w.other.id, e.id).await.unwrap().is_empty());
    let again = Discharge {
        version: reopened.version,
        at: now + Duration::hours(2),
        message_back: sent(w.org.id, e.id, 2, "Goes to the choir every week"),
        ..d
    };
    s.discharge(&again).await.unwrap();
    let versions: Vec<i32> = s.message_backs(w.org.id, e.id).await.unwrap().iter().map(|m| m.version).collect();
    assert_eq!(versions, [1, 2]);
    s.reopen(&Reopening { version: reopened.version + 1, ..reopening }).await.unwrap();
    // A third discharge that reuses version 2's number is refused whole: still open, two versions.
    let same_number = Discharge { version: reopened.version + 2, ..again };
    assert!(matches!(s.discharge(&same_number).await, Err(StoreError::Conflict(Conflict::Unique(_)))));
    assert!(s.get_episode(w.org.id, e.id).await.unwrap().is_open(), "the discharge rolled back");
    assert_eq!(s.message_backs(w.org.id, e.id).await.unwrap().len(), 2);
});

db_test!(merging_keeps_both_records_and_search_escapes_wildcards, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let a = person(w.org.id, "Margaret", None);
    let b = Person {
        id: PersonId::new(),
        given_name: "Margret".into(),
        lone_working: Some("Two dogs: meet at the practice".into()),
        ..a.clone()
    };
    let ra = referral(w.org.id, &a, Some(w.team.id));
    let rb = referral(w.org.id, &b, Some(w.team.id));
    s.create_referral(Some(&a), &ra, None).await.unwrap();
    s.create_referral(Some(&b), &rb, None).await.unwrap();
    let ea = accept(s, &w, &a, &ra).await;
    let eb = accept(s, &w, &b, &rb).await;
    assert!(matches!(
        merging(s, w.org.id, a.id, b.id, None).await,
        Err(StoreError::Conflict(linkwork_domain::ports::Conflict::BothEpisodesOpen))
    ));
    s.discharge(&Discharge {
        org_id: w.org.id,
        episode_id: eb.id,
        version: 1,
        reason: DischargeReason::Other,
        note: "Duplicate".into(),
        at: test_epoch(),
        message_back: sent(w.org.id, eb.id, 1, "Duplicate"),
    })
    .await
    .unwrap();
    assert!(matches!(merging(s, w.other.id, a.id, b.id, None).await, Err(StoreError::NotFound)), "not across tenants");
    merging(s, w.org.id, a.id, b.id, None).await.unwrap();
    assert_eq!(s.person_referrals(w.org.id, a.id).await.unwrap().len(), 2);
    assert_eq!(s.person_episodes(w.org.id, a.id).await.unwrap().len(), 2);
    assert_eq!(s.coded_events(w.org.id, a.id).await.unwrap().len(), 2);
    let merged = s.get_person(w.org.id, b.id).await.unwrap();
    assert_eq!(merged.merged_into, Some(a.id), "the merged record is kept");
    let kept = s.get_person(w.org.id, a.id).await.unwrap();
    assert_eq!(kept.lone_working, b.lone_working, "a flag the kept record lacked is carried over");
    assert!(matches!(merging(s, w.org.id, a.id, b.id, None).await, Err(StoreError::NotFound)), "merged once");
    let _ = ea;
    // The merged record's closed episode cannot reopen beside the open one.
    let closed = s.get_episode(w.org.id, eb.id).await.unwrap();
    let reopening = Reopening {
        org_id: w.org.id,
        episode_id: eb.id,
        version: closed.version,
        reason: "More support".into(),
        closed_at: closed.closed_at.unwrap(),
        at: test_epoch(),
        by: None,
    };
    assert!(matches!(s.reopen(&reopening).await, Err(StoreError::Conflict(Conflict::AnotherEpisodeOpen))));

    let q = |name: &str| PeopleQuery { name: Some(name.into()), ..PeopleQuery::default() };
    assert_eq!(s.search_people(w.org.id, &q("marg"), 10).await.unwrap().len(), 1, "merged records are not found");
    assert_eq!(s.search_people(w.org.id, &q("o'brien"), 10).await.unwrap().len(), 1);
    assert_eq!(s.search_people(w.org.id, &q("margaret o'b"), 10).await.unwrap().len(), 1);
    assert!(s.search_people(w.org.id, &q("%"), 10).await.unwrap().is_empty(), "% is a letter, not a wildcard");
    assert!(s.search_people(w.org.id, &q("_argaret"), 10).await.unwrap().is_empty());
    assert!(s.search_people(w.other.id, &q("marg"), 10).await.unwrap().is_empty());
    let by_dob = PeopleQuery { date_of_birth: Some(a.date_of_birth), ..PeopleQuery::default() };
    assert_eq!(s.search_people(w.org.id, &by_dob, 10).await.unwrap().len(), 1);
});

db_test!(team_settings_default_save_and_detect_stale_edits, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let fresh = s.team_settings(w.org.id, w.team.id).await.unwrap();
    assert_eq!(fresh, TeamSettings::defaults(w.team.id, w.org.id));
    let mut edit = fresh.clone();
    edit.accepted_needs = vec![NeedDomain::Money, NeedDomain::Housing];
    edit.areas = vec!["LS7".into(), "LS8".into()];
    edit.exclusions = vec!["crisis".into(), "under 16".into()];
    edit.allowed_locations = vec![ContactLocation::Practice];
    edit.max_age = Some(90);
    let saved = s.save_team_settings(&edit).await.unwrap();
    assert_eq!(saved, TeamSettings { version: 1, ..edit.clone() });
    assert!(matches!(s.save_team_settings(&edit).await, Err(StoreError::Conflict(_))), "two first saves");
    let again = s.save_team_settings(&TeamSettings { default_minutes: 60, ..saved.clone() }).await.unwrap();
    assert_eq!((again.default_minutes, again.version), (60, 2));
    assert!(matches!(s.save_team_settings(&saved).await, Err(StoreError::Conflict(_))), "stale version 1");
    assert_eq!(s.team_settings(w.other.id, w.team.id).await.unwrap().version, 0, "another tenant sees no settings");
});

db_test!(imports_are_all_or_nothing, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    let people: Vec<Person> = (0..50).map(|i| person(w.org.id, &format!("P{i}"), None)).collect();
    let mut referrals: Vec<Referral> = people.iter().map(|p| referral(w.org.id, p, None)).collect();
    // The last row breaks a rule the database enforces (the same id twice).
    let dup = referrals[0].clone();
    referrals.push(dup);
    assert!(s.import_referrals(&people, &referrals).await.is_err());
    assert_eq!(s.count_people(w.org.id).await.unwrap(), 0, "nothing half-applied");
    assert_eq!(s.count_referrals(w.org.id).await.unwrap(), 0);
    referrals.pop();
    s.import_referrals(&people, &referrals).await.unwrap();
    assert_eq!(s.count_referrals(w.org.id).await.unwrap(), 50);
});

db_test!(a_merge_of_two_open_episodes_combines_or_closes_and_keeps_the_chosen_details, |db: TestDb| async move {
    use linkwork_domain::ports::{MergePlan, OpenEpisodes};
    let s = &db.store;
    let w = world(s).await;
    for how in [OpenEpisodes::Combine, OpenEpisodes::CloseOther] {
        let a = Person { phone: Some("0113 496 0000".into()), ..person(w.org.id, "Margaret", None) };
        let b = Person {
            id: PersonId::new(),
            given_name: "Margret".into(),
            phone: Some("07700 900999".into()),
            ..a.clone()
        };
        let (ra, rb) = (referral(w.org.id, &a, Some(w.team.id)), referral(w.org.id, &b, Some(w.team.id)));
        s.create_referral(Some(&a), &ra, None).await.unwrap();
        s.create_referral(Some(&b), &rb, None).await.unwrap();
        let (ea, eb) = (accept(s, &w, &a, &ra).await, accept(s, &w, &b, &rb).await);
        let c = Contact {
            id: ContactId::new(),
            org_id: w.org.id,
            episode_id: eb.id,
            worker_id: None,
            happened_on: test_epoch().date_naive(),
            happened_at: None,
            minutes: 30,
            mode: ContactMode::Phone,
            location: ContactLocation::Remote,
            present: String::new(),
            notes: "On the duplicate".into(),
            outside_usual: false,
            created_at: test_epoch(),
        };
        s.add_contact(&c, None, &[]).await.unwrap();
        let measure = linkwork_domain::outcomes::OutcomeRecord {
            id: linkwork_domain::ids::OutcomeId::new(),
            org_id: w.org.id,
            person_id: b.id,
            episode_id: eb.id,
            instrument: linkwork_domain::outcomes::Instrument::Ucla3,
            version: "ucla3-2004".into(),
            point: linkwork_domain::outcomes::MeasurePoint::Baseline,
            status: linkwork_domain::outcomes::RecordStatus::Completed,
            via: linkwork_domain::outcomes::Via::WithWorker,
            source: None,
            answers: vec![linkwork_domain::outcomes::Answer { item: "isolated".into(), value: 3 }],
            total: None,
            language: None,
            completed_on: test_epoch().date_naive(),
            recorded_at: test_epoch(),
            recorded_by: None,
        };
        use linkwork_domain::ports::OutcomeStore;
        s.import_outcomes(std::slice::from_ref(&measure)).await.unwrap();
        // The kept record takes the other's phone, as chosen; a stale read is refused whole.
        let read = s.get_person(w.org.id, a.id).await.unwrap();
        let kept = Person { phone: b.phone.clone(), ..read.clone() };
        let plan = MergePlan { kept: kept.clone(), merged: b.id, open_episodes: None, at: test_epoch() };
        assert!(matches!(s.merge_people(&plan).await, Err(StoreError::Conflict(Conflict::BothEpisodesOpen))));
        let stale = MergePlan {
            kept: Person { version: read.version - 1, ..kept.clone() },
            open_episodes: Some(how),
            ..plan.clone()
        };
        assert!(matches!(s.merge_people(&stale).await, Err(StoreError::Conflict(Conflict::Version))));
        assert!(s.get_person(w.org.id, b.id).await.unwrap().merged_into.is_none(), "nothing half-done");
        s.merge_people(&MergePlan { open_episodes: Some(how), ..plan }).await.unwrap();
        let now = s.get_person(w.org.id, a.id).await.unwrap();
        assert_eq!(now.phone.as_deref(), Some("07700 900999"), "the chosen value survives");
        let other = s.get_episode(w.org.id, eb.id).await.unwrap();
        assert!(!other.is_open(), "{how:?}: one open episode is left");
        assert!(s.get_episode(w.org.id, ea.id).await.unwrap().is_open());
        let moved = s.contacts(w.org.id, ea.id).await.unwrap().iter().any(|x| x.id == c.id);
        assert_eq!(moved, how == OpenEpisodes::Combine, "{how:?}: the contact moves only when combining");
        // Outcome measures follow the person, and the episode when combining.
        let measures = s.person_outcomes(w.org.id, a.id).await.unwrap();
        let m = measures.iter().find(|r| r.id == measure.id).expect("the measure follows the kept record");
        assert_eq!(m.episode_id == ea.id, how == OpenEpisodes::Combine, "{how:?}");
        assert_eq!(m.answers, measure.answers);
        assert!(s.person_outcomes(w.org.id, b.id).await.unwrap().is_empty());
        assert!(s.message_backs(w.org.id, eb.id).await.unwrap().is_empty(), "no summary is sent for a duplicate");
        // Next round: discharge the kept episode so a new pair can be made.
        let e = s.get_episode(w.org.id, ea.id).await.unwrap();
        s.discharge(&Discharge {
            org_id: w.org.id,
            episode_id: ea.id,
            version: e.version,
            reason: DischargeReason::Other,
            note: "Done".into(),
            at: test_epoch(),
            message_back: sent(w.org.id, ea.id, 1, "Done"),
        })
        .await
        .unwrap();
    }
});

db_test!(two_reopenings_of_one_persons_episodes_at_once_leave_one_open, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    for round in 0..5 {
        let p = person(w.org.id, &format!("Round{round}"), None);
        let mut closed = vec![];
        for k in 0..2 {
            let r = referral(w.org.id, &p, Some(w.team.id));
            s.create_referral((k == 0).then_some(&p), &r, None).await.unwrap();
            let e = accept(s, &w, &p, &r).await;
            let v = s.get_episode(w.org.id, e.id).await.unwrap().version;
            s.discharge(&Discharge {
                org_id: w.org.id,
                episode_id: e.id,
                version: v,
                reason: DischargeReason::GoalsMet,
                note: "Done".into(),
                at: test_epoch(),
                message_back: sent(w.org.id, e.id, 1, "Done"),
            })
            .await
            .unwrap();
            closed.push(s.get_episode(w.org.id, e.id).await.unwrap());
        }
        let reopening = |e: &Episode| Reopening {
            org_id: w.org.id,
            episode_id: e.id,
            version: e.version,
            reason: "More support".into(),
            closed_at: e.closed_at.unwrap(),
            at: test_epoch(),
            by: None,
        };
        let (a, b) = (reopening(&closed[0]), reopening(&closed[1]));
        let (ra, rb) = tokio::join!(s.reopen(&a), s.reopen(&b));
        assert_eq!(
            u8::from(ra.is_ok()) + u8::from(rb.is_ok()),
            1,
            "round {round}: exactly one reopens ({ra:?}, {rb:?})"
        );
        let open = s.person_episodes(w.org.id, p.id).await.unwrap().into_iter().filter(|e| e.is_open()).count();
        assert_eq!(open, 1);
    }
});

db_test!(two_acceptances_for_one_person_at_once_open_one_episode, |db: TestDb| async move {
    let s = &db.store;
    let w = world(s).await;
    for round in 0..5 {
        let p = person(w.org.id, &format!("Twice{round}"), None);
        let (r1, r2) = (referral(w.org.id, &p, Some(w.team.id)), referral(w.org.id, &p, Some(w.team.id)));
        s.create_referral(Some(&p), &r1, None).await.unwrap();
        s.create_referral(None, &r2, None).await.unwrap();
        // Two workers each saw no open episode and accept at once.
        let decide = |r: &Referral| TriageDecision {
            org_id: w.org.id,
            referral_id: r.id,
            status: ReferralStatus::Accepted,
            reason: None,
            note: None,
            by: w.worker.id,
            at: test_epoch(),
            open_episode: Some(episode(&w, &p, r)),
            codes: vec![],
        };
        let (a, b) = (decide(&r1), decide(&r2));
        let (ra, rb) = tokio::join!(s.decide_referral(&a), s.decide_referral(&b));
        assert_eq!(u8::from(ra.is_ok()) + u8::from(rb.is_ok()), 1, "round {round}: ({ra:?}, {rb:?})");
        let refused = if ra.is_err() { ra } else { rb };
        assert!(matches!(refused, Err(StoreError::Conflict(Conflict::AnotherEpisodeOpen))));
        let open = s.person_episodes(w.org.id, p.id).await.unwrap().into_iter().filter(|e| e.is_open()).count();
        assert_eq!(open, 1, "one open episode");
    }
});
