//! Faults a new user found in the journey (issue 12), one test per item, named for its number.

use crate::journey::{ada_accepted, form, setup};
use chrono::{NaiveDate, TimeZone, Utc};
use linkwork_domain::Clock;
use linkwork_testkit::{TestApp, app_test};

app_test!(item_01_times_are_uk_local_either_side_of_both_clock_changes, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    // 10:00 on the clock in the UK, either side of the spring and autumn changes of 2027, and in July.
    let days = [
        ("2027-03-27", 10, "Sat 27 Mar 2027, 10:00"),
        ("2027-03-29", 9, "Mon 29 Mar 2027, 10:00"),
        ("2027-07-14", 9, "Wed 14 Jul 2027, 10:00"),
        ("2027-10-30", 9, "Sat 30 Oct 2027, 10:00"),
        ("2027-11-01", 10, "Mon 01 Nov 2027, 10:00"),
    ];
    for (day, _, _) in days {
        let remind = if day == "2027-07-14" { "yes" } else { "" };
        let r = lw
            .post_form(
                &format!("/episodes/{eid}/appointment"),
                &form(&[
                    ("day", day),
                    ("time", "10:00"),
                    ("minutes", "45"),
                    ("mode", "face_to_face"),
                    ("location", "practice"),
                    ("remind", remind),
                ]),
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{day}: {}", r.body);
    }
    let mut booked = app.store.appointments(s.org.id, eid).await.unwrap();
    booked.sort_by_key(|a| a.starts_at);
    for (a, (day, utc_hour, _)) in booked.iter().zip(days) {
        let d: NaiveDate = day.parse().unwrap();
        let expected = Utc.from_utc_datetime(&d.and_hms_opt(utc_hour, 0, 0).unwrap());
        assert_eq!(a.starts_at, expected, "{day} 10:00 UK time is stored as the instant it is");
    }
    let record = lw.get(&format!("/people/{pid}")).await;
    for (_, _, shown) in days {
        assert!(record.body.contains(shown), "the record shows {shown}");
    }
    assert!(!record.body.contains(", 09:00"), "no appointment shows an hour early");

    // The July reminder, the day before, says 10:00 and names no time zone.
    let july = booked.iter().find(|a| a.remind).unwrap();
    app.clock.advance(july.starts_at - chrono::Duration::hours(23) - app.clock.now());
    let w = app.worker();
    while w.run_once().await.unwrap() {}
    let sms = app.db.store.all_messages(20).await.unwrap().into_iter().find(|m| m.channel == "sms").expect("a text");
    assert!(sms.body.contains("Wednesday 14 July at 10:00"), "{}", sms.body);
    assert!(!sms.body.contains("UTC") && !sms.body.contains("09:00"), "{}", sms.body);
});

app_test!(item_09_self_referral_is_linked_and_corrections_do_not_lock_anyone_out, |app: TestApp| async move {
    let s = setup(&app).await;
    let mut public = crate::helpers::Client::new(&app.router);
    public.address = Some("198.51.100.30:5000".parse().unwrap());
    let sign_in = public.get("/sign-in").await;
    assert!(sign_in.body.contains("href=\"/self-referral\""), "a way in for the public");
    let service = s.org.id.to_string();
    let me = crate::journey::self_referral(&service);
    let mut wrong = me.clone();
    wrong.retain(|(k, _)| *k != "phone");
    // A person corrects their form many times: never locked out, and then it is accepted.
    for _ in 0..8 {
        let r = public.post_form("/self-referral", &form(&wrong)).await;
        assert_eq!(r.status, axum::http::StatusCode::BAD_REQUEST, "an error summary, not a lock-out");
    }
    assert_eq!(public.post_form("/self-referral", &form(&me)).await.status, axum::http::StatusCode::OK);
    assert_eq!(app.store.count_referrals(s.org.id).await.unwrap(), 1);
});

app_test!(item_02_each_overdue_tag_says_what_is_overdue_beside_its_own_date, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _, eid) = ada_accepted(&app, &s).await;
    // A contact today with a follow-up still to come, and a holding period whose review passed.
    let today = app.clock.now().date_naive();
    let next_week = (today + chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
    lw.post_form(
        &format!("/episodes/{eid}/contact"),
        &form(&[
            ("happened_on", &today.format("%Y-%m-%d").to_string()),
            ("minutes", "30"),
            ("mode", "phone"),
            ("location", "remote"),
            ("follow_up_on", &next_week),
        ]),
    )
    .await;
    let holding = linkwork_domain::casework::HoldingPeriod {
        id: linkwork_domain::ids::HoldingId::new(),
        org_id: s.org.id,
        episode_id: eid,
        reason: linkwork_domain::casework::HoldingReason::Waiting,
        started_on: today - chrono::Duration::days(40),
        review_on: today - chrono::Duration::days(5),
        ended_on: None,
        ended_how: None,
        note: String::new(),
    };
    app.store.start_holding(&holding).await.unwrap();
    let page = lw.get("/caseload").await;
    let row = page.body.split("<tr class=\"nhsuk-table__row\">").find(|r| r.contains("Ada Okafor")).unwrap().to_owned();
    assert!(!row.contains("Follow-up overdue"), "the follow-up date still to come is not called overdue: {row}");
    let review = (today - chrono::Duration::days(5)).format("%d %b %Y").to_string();
    assert!(row.contains(&format!("Holding review overdue: due {review}")), "{row}");
    assert!(page.body.contains("Overdue follow-ups or holding reviews"));
});

app_test!(item_04_dates_are_checked_against_the_episode, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _, eid) = ada_accepted(&app, &s).await;
    // The episode opened on the test day, 24 November 2026.
    let episode = format!("/episodes/{eid}");
    let holding = |start: &'static str, review: &'static str| {
        form(&[("reason", "waiting"), ("started_on", start), ("review_on", review), ("note", "")])
    };
    let r = lw.post_form(&format!("{episode}/holding"), &holding("2026-08-01", "2026-12-20")).await;
    crate::journey::assert_error_summary(&r, "started_on", "cannot be before the episode opened on 24 November 2026");
    let r = lw.post_form(&format!("{episode}/holding"), &holding("2026-12-01", "2026-12-20")).await;
    crate::journey::assert_error_summary(&r, "started_on", "cannot be in the future");
    let contact = |day: &'static str, follow: &'static str| {
        form(&[
            ("happened_on", day),
            ("minutes", "30"),
            ("mode", "phone"),
            ("location", "home"),
            ("follow_up_on", follow),
        ])
    };
    let r = lw.post_form(&format!("{episode}/contact"), &contact("2026-11-01", "2026-12-08")).await;
    crate::journey::assert_error_summary(&r, "happened_on", "cannot be before the episode opened");
    let r = lw.post_form(&format!("{episode}/contact"), &contact("2026-11-24", "2026-11-20")).await;
    crate::journey::assert_error_summary(&r, "follow_up_on", "must be today or later");
    let org = s.org.id;
    assert!(
        app.store.holdings(org, eid).await.unwrap().is_empty()
            && app.store.contacts(org, eid).await.unwrap().is_empty()
    );
    // The same days inside the episode are fine.
    let r = lw.post_form(&format!("{episode}/holding"), &holding("2026-11-24", "2026-12-20")).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    let r = lw.post_form(&format!("{episode}/contact"), &contact("2026-11-24", "2026-12-08")).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    // An overdue follow-up may stay as it is while something else on the episode changes.
    app.clock.advance(chrono::Duration::days(30));
    let e = app.store.get_episode(org, eid).await.unwrap();
    let worker = s.worker.id.to_string();
    let r = lw
        .post_form(
            &format!("{episode}/work"),
            &form(&[
                ("version", &e.version.to_string()),
                ("work", "both"),
                ("worker_id", &worker),
                ("follow_up_on", "2026-12-08"),
            ]),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
});

app_test!(
    item_16_the_plan_and_the_summary_say_who_to_reach_what_was_connected_and_use_iso_dates_in_json,
    |app: TestApp| async move {
        let s = setup(&app).await;
        let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
        let feed = linkwork::directory::Feed::read_path(
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../share/oruk/examples"),
        )
        .unwrap();
        linkwork::directory::import(app.store.as_ref(), app.clock.as_ref(), feed, "examples").await.unwrap();
        let service = "ac148810-d857-441c-9679-408f346de14b";
        let service_name = app.store.get_listing(service.parse().unwrap()).await.unwrap().name;
        let r = lw
            .post_form(
                &format!("/people/{pid}/connect/{service}"),
                &form(&[("kind", "signpost"), ("need", "loneliness")]),
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
        let r = lw
            .post_form(
                &format!("/episodes/{eid}/goal"),
                &form(&[("domain", "loneliness"), ("own_words", "Go to the lunch club")]),
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER);

        // The plan: who to reach and how, the services connected, the goal's status in the record's words.
        let plan = lw.get(&format!("/episodes/{eid}/plan.pdf")).await;
        assert_eq!(plan.header("content-type"), "application/pdf");
        for wanted in
            ["How to reach your link worker", "lw@seacroft.test", "Seacroft team", &service_name, "Not started"]
        {
            assert!(plan.body.contains(wanted), "the plan says {wanted:?}");
        }
        assert!(!plan.body.contains("Just started"), "one label per status");

        let contact = [("happened_on", "2026-11-24"), ("minutes", "45"), ("mode", "phone"), ("location", "remote")];
        let r = lw.post_form(&format!("/episodes/{eid}/contact"), &form(&contact)).await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
        let version = app.store.get_episode(s.org.id, eid).await.unwrap().version.to_string();
        let r = lw
            .post_form(
                &format!("/episodes/{eid}/discharge"),
                &form(&[("version", &version), ("reason", "goals_met"), ("note", "Goes to lunch club")]),
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
        let page = lw.get(&format!("/episodes/{eid}/summary")).await;
        assert!(page.body.contains("Connections to services") && page.body.contains(&service_name), "{}", page.body);
        assert!(page.body.contains("24 November 2026"), "pages read as UK dates");
        let json = lw.get(&format!("/episodes/{eid}/summary.json")).await.json();
        assert_eq!(json["opened"], "2026-11-24");
        assert_eq!(json["discharged"], "2026-11-24");
        assert_eq!(json["referral"]["received"], "2026-11-24");
        assert_eq!(json["person"]["date_of_birth"], "1948-05-02");
        assert_eq!(json["codes"][0]["date"], "2026-11-24");
        assert_eq!(json["connections"][0]["service"], service_name.as_str());
        assert_eq!(json["connections"][0]["outcome"], "Signposted");
        let pdf = lw.get(&format!("/episodes/{eid}/summary.pdf")).await;
        assert!(pdf.body.contains("Connections to services") && pdf.body.contains(&service_name));
    }
);

app_test!(item_15_every_saved_change_is_confirmed_with_the_nhs_success_notification, |app: TestApp| async move {
    use crate::journey::{ADA, refer, signed_in, triage};
    let s = setup(&app).await;
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let practice = s.practice.id.to_string();
    refer(&mut gp, &s, &[ADA, &[("practice_id", practice.as_str())]].concat()).await;
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
    let (r, _) = triage(&mut lw, &app, &s, &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)]).await;
    assert!(r.header("location").ends_with("?done=accepted"), "{}", r.header("location"));
    let record = lw.get(r.header("location")).await;
    assert!(record.body.contains("nhsuk-notification-banner--success") && record.body.contains("Referral accepted"));
    // A casework change comes back to the record, saying it was saved.
    let eid = app
        .store
        .person_episodes(s.org.id, crate::journey::id_after(r.header("location"), "/people/").parse().unwrap())
        .await
        .unwrap()[0]
        .id;
    let need = lw
        .post_form(
            &format!("/episodes/{eid}/need"),
            &form(&[("domain", "loneliness"), ("own_words", "I miss my friends")]),
        )
        .await;
    assert!(lw.get(need.header("location")).await.body.contains("Saved."));
    // A decline comes back to the waiting list, saying so.
    let mut other = ADA.to_vec();
    other.retain(|(k, _)| *k != "nhs_number" && *k != "given_name");
    other.push(("given_name", "Bea"));
    refer(&mut gp, &s, &other).await;
    let (r, _) = triage(&mut lw, &app, &s, &[("decision", "decline"), ("decline_reason", "needs_clinical")]).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    assert!(lw.get(r.header("location")).await.body.contains("Referral declined"));
    // Only our own sentences: whatever else a link carries shows nothing.
    let plain = lw.get("/triage?done=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!plain.body.contains("nhsuk-notification-banner") && !plain.body.contains("alert(1)"));
});

app_test!(item_07_the_referrer_sees_where_each_referral_stands_and_reads_the_summary, |app: TestApp| async move {
    use crate::journey::{ADA, refer, signed_in, triage};
    let s = setup(&app).await;
    let mut gp = signed_in(&app, "gp@seacroft.test").await;
    let practice = s.practice.id.to_string();
    refer(&mut gp, &s, &[ADA, &[("practice_id", practice.as_str())]].concat()).await;
    assert!(gp.get("/referrals").await.body.contains("Waiting for triage"));
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
    let (r, _) = triage(&mut lw, &app, &s, &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)]).await;
    let pid: linkwork_domain::ids::PersonId =
        crate::journey::id_after(r.header("location"), "/people/").parse().unwrap();
    let eid = app.store.person_episodes(s.org.id, pid).await.unwrap()[0].id;
    assert!(gp.get("/referrals").await.body.contains("Waiting for a first contact"));
    lw.post_form(
        &format!("/episodes/{eid}/contact"),
        &form(&[("happened_on", "2026-11-24"), ("minutes", "30"), ("mode", "phone"), ("location", "home")]),
    )
    .await;
    assert!(gp.get("/referrals").await.body.contains("In progress"));
    let version = app.store.get_episode(s.org.id, eid).await.unwrap().version.to_string();
    lw.post_form(
        &format!("/episodes/{eid}/discharge"),
        &form(&[("version", &version), ("reason", "goals_met"), ("note", "Goes to lunch club")]),
    )
    .await;
    let list = gp.get("/referrals").await.body;
    assert!(list.contains("Discharged") && list.contains(&format!("/episodes/{eid}/summary")), "{list}");
    assert_eq!(gp.get(&format!("/episodes/{eid}/summary")).await.status, axum::http::StatusCode::OK);
    // A decline says why.
    let mut other = ADA.to_vec();
    other.retain(|(k, _)| *k != "nhs_number" && *k != "given_name");
    other.push(("given_name", "Bea"));
    refer(&mut gp, &s, &other).await;
    triage(&mut lw, &app, &s, &[("decision", "decline"), ("decline_reason", "out_of_area")]).await;
    let list = gp.get("/referrals").await.body;
    assert!(list.contains("Declined") && list.contains("Lives outside the area served"), "{list}");
});

app_test!(item_20_the_import_reads_gp_system_exports_needs_consent_and_offers_a_template, |app: TestApp| async move {
    use crate::journey::{multipart, signed_in};
    let s = setup(&app).await;
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let team = s.team.id.to_string();
    let page = lw.get("/referrals/import").await;
    assert!(page.body.contains("/referrals/import/template.csv") && page.body.contains("consent (yes for each person"));
    // The template downloads and imports as it is.
    let template = lw.get("/referrals/import/template.csv").await;
    assert!(template.header("content-type").starts_with("text/csv"));
    assert!(template.header("content-disposition").starts_with("attachment"));
    assert!(template.body.starts_with("given_name,family_name,date_of_birth,reason,consent,"));
    let r = lw.send(multipart(&team, &template.body)).await;
    assert!(r.body.contains("1 referrals imported"), "{}", r.body);
    // An EMIS Web or SystmOne search export, with its own column names.
    let emis = "Forename,Surname,NHS Number,Date of Birth,Postcode,Reason for Referral,Consent\n\
                Zofia,Nowak,401 023 2137,28/02/1949,LS9 7AB,Isolated after a fall,yes\n";
    let r = lw.send(multipart(&team, emis)).await;
    assert!(r.body.contains("1 referrals imported"), "{}", r.body);
    let people = app
        .store
        .search_people(
            s.org.id,
            &linkwork_domain::ports::PeopleQuery { name: Some("nowak".into()), ..Default::default() },
            5,
        )
        .await
        .unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].nhs_number.as_ref().map(|n| n.as_str().to_owned()), Some("4010232137".into()));
    // Consent is required, and the page says what to write; nothing is imported.
    let no_consent = "Forename,Surname,Date of Birth,Reason for Referral\nSam,Hughes,1990-01-01,Debt\n";
    let r = lw.send(multipart(&team, no_consent)).await;
    assert_eq!(r.status, axum::http::StatusCode::BAD_REQUEST);
    assert!(r.body.contains("write yes for each person who agreed to be referred"), "{}", r.body);
    // One column under two names is refused, not guessed.
    let twice = "Forename,given_name,Surname,Date of Birth,Reason,Consent\nA,B,C,1990-01-01,D,yes\n";
    assert!(lw.send(multipart(&team, twice)).await.body.contains("appears twice"));
});

app_test!(item_13_the_caseload_comes_a_page_at_a_time_and_its_counts_open_their_groups, |app: TestApp| async move {
    linkwork::demo::generate(
        app.store.as_ref(),
        app.clock.as_ref(),
        &linkwork::demo::DemoOptions { scale: 1, seed: 3 },
        false,
    )
    .await
    .unwrap();
    let mut lw = crate::helpers::Client::new(&app.router);
    lw.sign_in("linkworker1@pcn1.demo.test", linkwork::demo::DEMO_PASSWORD).await;
    let page = lw.get("/caseload").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let rows = page.body.matches("<tr class=\"nhsuk-table__row\">").count();
    // 25 people at most, plus the header rows and the recent referrals (at most 20).
    assert!(rows <= 25 + 20 + 2, "one page, not the whole caseload: {rows} rows");
    assert!(page.body.contains("page 1 of") && page.body.contains("nhsuk-pagination"), "the caseload is paged");
    assert!(page.body.contains("/caseload?show=overdue&#38;page=1"), "the overdue count opens its group");
    let next = lw.get("/caseload?show=&page=2").await;
    assert!(next.body.contains("page 2 of"), "the next page");
    // A group holds only its people.
    let holding = lw.get("/caseload?show=holding&page=1").await.body;
    let region = holding.split("Recent referrals to your team").next().unwrap();
    assert!(region.contains("<h2 id=\"people\">Holding"));
    assert!(region.matches("Holding since").count() >= 1 && !region.contains("None in this group"));
    // The team view keeps its view across pages.
    assert!(lw.get("/caseload?view=team").await.body.contains("/caseload?view=team&#38;show=overdue&#38;page=1"));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_14_a_demo_installation_says_so_on_its_public_pages_and_offers_its_accounts() {
    use crate::helpers::Client;
    const BANNER: &str = "Demonstration system: every person and record here is synthetic";
    let demo = TestApp::spawn_demo(linkwork_testkit::Backend::Sqlite).await.expect("SQLite is always there");
    let mut visitor = Client::new(&demo.router);
    for path in ["/sign-in", "/self-referral", "/account/reset", "/directory/no-such-page"] {
        let page = visitor.get(path).await;
        assert!(page.body.contains(BANNER), "{path} carries the demo banner");
    }
    let sign_in = visitor.get("/sign-in").await.body;
    for account in
        ["linkworker1@pcn1.demo.test", "referrer@pcn1.demo.test", "manager@pcn1.demo.test", "admin@pcn1.demo.test"]
    {
        assert!(sign_in.contains(account), "the sign-in page offers {account}");
    }
    assert!(sign_in.contains(linkwork::demo::DEMO_PASSWORD), "and the shared demo password");
    let mut worker = Client::new(&demo.router);
    assert_eq!(
        worker.sign_in("linkworker1@pcn1.demo.test", linkwork::demo::DEMO_PASSWORD).await.status,
        axum::http::StatusCode::SEE_OTHER
    );

    // A real installation says none of it.
    let real = TestApp::spawn(linkwork_testkit::Backend::Sqlite).await.expect("SQLite is always there");
    let page = Client::new(&real.router).get("/sign-in").await.body;
    assert!(!page.contains(BANNER) && !page.contains("Demonstration accounts"));
}

app_test!(item_05_the_referral_code_is_recorded_at_the_first_contact_once_and_names_it, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    let codes = app.store.coded_events(s.org.id, pid).await.unwrap();
    assert!(codes.is_empty(), "accepting is not an interaction with the person: {codes:?}");
    let contact = |time: &'static str| {
        form(&[
            ("happened_on", "2026-11-24"),
            ("happened_at", time),
            ("minutes", "45"),
            ("mode", "phone"),
            ("location", "remote"),
        ])
    };
    let r = lw.post_form(&format!("/episodes/{eid}/contact"), &contact("08:15")).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    let r = lw.post_form(&format!("/episodes/{eid}/contact"), &contact("09:05")).await;
    assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    let contacts = app.store.contacts(s.org.id, eid).await.unwrap();
    let first = contacts.iter().find(|c| c.happened_at.is_some_and(|t| t.format("%H:%M").to_string() == "08:15"));
    let codes = app.store.coded_events(s.org.id, pid).await.unwrap();
    assert_eq!(codes.len(), 1, "once per episode, however many contacts: {codes:?}");
    assert_eq!(codes[0].code, "871731000000106");
    assert_eq!(codes[0].contact_id, first.map(|c| c.id), "the code names the contact it came from");

    let page = lw.get("/codes").await.body;
    assert!(page.contains("Contact on 24 Nov 2026, 08:15 (phone)"), "the export page names the contact");
    let csv = lw.get("/codes.csv").await.body;
    let row = csv.lines().find(|l| l.contains("871731000000106")).expect("the code is in the CSV");
    assert!(row.ends_with(",2026-11-24,08:15,phone"), "{row}");
});

app_test!(item_16_contacts_keep_their_time_of_day_in_uk_time, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    let post = |day: &'static str, time: &'static str| {
        form(&[
            ("happened_on", day),
            ("happened_at", time),
            ("minutes", "30"),
            ("mode", "phone"),
            ("location", "remote"),
        ])
    };
    // The clock says 09:30 on 24 November: later today is the future.
    let r = lw.post_form(&format!("/episodes/{eid}/contact"), &post("2026-11-24", "14:45")).await;
    crate::journey::assert_error_summary(&r, "happened_at", "cannot be in the future");
    let r = lw.post_form(&format!("/episodes/{eid}/contact"), &post("2026-11-24", "quarter past")).await;
    crate::journey::assert_error_summary(&r, "happened_at", "Enter the time like 14:30");
    assert!(r.body.contains("quarter past"), "what was typed is kept");
    for (day, time) in [("2026-11-24", "09:00"), ("2026-11-24", "")] {
        let r = lw.post_form(&format!("/episodes/{eid}/contact"), &post(day, time)).await;
        assert_eq!(r.status, axum::http::StatusCode::SEE_OTHER, "{}", r.body);
    }
    let contacts = app.store.contacts(s.org.id, eid).await.unwrap();
    let timed = contacts.iter().find(|c| c.happened_at.is_some()).expect("the timed contact");
    assert_eq!(timed.happened_at, Some(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    assert_eq!(contacts.iter().filter(|c| c.happened_at.is_none()).count(), 1, "the time is optional");
    let record = lw.get(&format!("/people/{pid}")).await.body;
    assert!(record.contains("24 Nov 2026, 09:00"), "the record shows the time of day");
});

app_test!(
    item_03_what_was_sent_stays_as_sent_and_a_reopened_episode_sends_a_corrected_version,
    |app: TestApp| async move {
        use axum::http::StatusCode;
        let s = setup(&app).await;
        let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
        let contact =
            form(&[("happened_on", "2026-11-24"), ("minutes", "45"), ("mode", "phone"), ("location", "remote")]);
        assert_eq!(lw.post_form(&format!("/episodes/{eid}/contact"), &contact).await.status, StatusCode::SEE_OTHER);
        let discharge = |version: i32, note: &str, changes: &str| {
            form(&[("version", &version.to_string()), ("reason", "goals_met"), ("note", note), ("changes", changes)])
        };
        let v = app.store.get_episode(s.org.id, eid).await.unwrap().version;
        let r = lw.post_form(&format!("/episodes/{eid}/discharge"), &discharge(v, "Goes to lunch club", "")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let first = lw.get(&format!("/episodes/{eid}/summary")).await.body;
        assert!(first.contains("Version") && first.contains("1, sent 24 November 2026 at 09:30 by"), "{first}");

        // Closed: writes are refused with a way to reopen; the record offers it too.
        let r = lw.post_form(&format!("/episodes/{eid}/contact"), &contact).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains(&format!("/episodes/{eid}/reopen")));
        assert!(lw.get(&format!("/people/{pid}")).await.body.contains("Reopen the episode"));

        // Reopening needs a reason, and keeps it.
        let v = app.store.get_episode(s.org.id, eid).await.unwrap().version;
        let r = lw
            .post_form(&format!("/episodes/{eid}/reopen"), &form(&[("version", &v.to_string()), ("reason", "")]))
            .await;
        crate::journey::assert_error_summary(&r, "reason", "Enter why the episode is being reopened");
        let why = "The lunch club wrote back after discharge";
        let r = lw
            .post_form(&format!("/episodes/{eid}/reopen"), &form(&[("version", &v.to_string()), ("reason", why)]))
            .await;
        assert_eq!(r.header("location"), format!("/people/{pid}?done=reopened"));
        let record = lw.get(&format!("/people/{pid}?done=reopened")).await.body;
        assert!(
            record.contains("Episode reopened") && record.contains(why) && record.contains("Version 1, 24 Nov 2026")
        );
        app.clock.advance(chrono::Duration::days(1));
        let mut lw = crate::journey::signed_in(&app, "lw@seacroft.test").await;
        assert_eq!(lw.post_form(&format!("/episodes/{eid}/contact"), &contact).await.status, StatusCode::SEE_OTHER);

        // What was sent has not moved: one contact, as sent, and the referrer can still read it.
        let v1 = lw.get(&format!("/episodes/{eid}/summary.json")).await;
        assert_eq!(v1.status, StatusCode::OK, "{:?} {}", v1.header("location"), v1.body);
        let v1 = v1.json();
        assert_eq!((v1["version"].as_i64(), v1["support_offered"]["contacts"].as_i64()), (Some(1), Some(1)));
        assert_eq!(v1["sent_at"], "2026-11-24T09:30:00Z");
        let mut gp = crate::journey::signed_in(&app, "gp@seacroft.test").await;
        let read = gp.get(&format!("/episodes/{eid}/summary")).await;
        assert_eq!(read.status, StatusCode::OK);
        assert!(read.body.contains("The episode was reopened after this summary was sent"));

        // Discharging again asks what changed, and sends version 2 saying so.
        let v = app.store.get_episode(s.org.id, eid).await.unwrap().version;
        let page = lw.get(&format!("/episodes/{eid}/discharge")).await.body;
        assert!(page.contains("What changed since the last summary was sent") && page.contains("Goes to lunch club"));
        let r =
            lw.post_form(&format!("/episodes/{eid}/discharge"), &discharge(v, "Goes to lunch club weekly", "")).await;
        crate::journey::assert_error_summary(
            &r,
            "changes",
            "Enter what changed since the summary sent on 24 November 2026",
        );
        let changes = "Added the second contact; she now goes weekly";
        let r = lw
            .post_form(&format!("/episodes/{eid}/discharge"), &discharge(v, "Goes to lunch club weekly", changes))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let latest = gp.get(&format!("/episodes/{eid}/summary")).await.body;
        assert!(latest.contains("2, sent 25 November 2026") && latest.contains(changes));
        assert!(latest.contains(&format!("/episodes/{eid}/summary?version=1")), "the earlier version is listed");
        let earlier = gp.get(&format!("/episodes/{eid}/summary?version=1")).await.body;
        assert!(earlier.contains("This is an earlier version") && !earlier.contains("weekly"), "kept as it was");
        let v2 = gp.get(&format!("/episodes/{eid}/summary.json?version=2")).await.json();
        assert_eq!((v2["support_offered"]["contacts"].as_i64(), v2["changes"].as_str()), (Some(2), Some(changes)));
        assert_eq!(gp.get(&format!("/episodes/{eid}/summary?version=3")).await.status, StatusCode::NOT_FOUND);
        let pdf = gp.get(&format!("/episodes/{eid}/summary.pdf?version=2")).await;
        assert!(pdf.body.contains("What changed") && pdf.body.contains(changes));

        // The referrer is told a corrected version is ready.
        let mail = app.db.store.all_messages(50).await.unwrap();
        assert!(mail.iter().any(|m| m.subject.contains("corrected") && m.body.contains("summary?version=2")));
    }
);

app_test!(item_17_flags_keep_their_history_and_lone_working_risks_are_flagged_everywhere, |app: TestApp| async move {
    use axum::http::StatusCode;
    use linkwork_domain::people::{FlagAction, FlagKind};
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    let flag = |kind: &'static str, words: &'static str| form(&[("kind", kind), ("concern", words)]);
    let flags = format!("/people/{pid}/flags");
    for (kind, words) in [
        ("lone_working", "Large dog: ask for it to be shut away"),
        ("lone_working", "Large dog: ask for it to be shut away"),
        ("lone_working", "Two dogs now: meet at the practice"),
        ("staff_risk", "Son was aggressive on the phone"),
        ("staff_risk", ""),
    ] {
        let r = lw.post_form(&flags, &flag(kind, words)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // The safeguarding banner, from the address used before flags had kinds.
    let r = lw.post_form(&format!("/people/{pid}/safeguarding"), &form(&[("concern", "Son manages her money")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = lw.post_form(&flags, &flag("fire_risk", "Smokes in bed")).await;
    crate::journey::assert_error_summary(&r, "kind", "Choose one of the listed options");
    assert!(r.body.contains("Smokes in bed"), "what was typed is kept");

    let history = app.store.flag_history(s.org.id, pid).await.unwrap();
    let seen: Vec<(FlagKind, FlagAction)> = history.iter().map(|c| (c.kind, c.action)).collect();
    assert_eq!(
        seen,
        [
            (FlagKind::LoneWorking, FlagAction::Raised),
            (FlagKind::LoneWorking, FlagAction::Changed),
            (FlagKind::StaffRisk, FlagAction::Raised),
            (FlagKind::StaffRisk, FlagAction::Cleared),
            (FlagKind::Safeguarding, FlagAction::Raised),
        ],
        "saving the same words twice records nothing"
    );
    assert!(history.iter().all(|c| c.by == Some(s.worker.id)));

    // Every page of the person carries the flags as they stand; the record keeps the history.
    let record = lw.get(&format!("/people/{pid}")).await.body;
    for wanted in
        ["Lone-working risk", "Two dogs now: meet at the practice", "Son manages her money", "History of the flags"]
    {
        assert!(record.contains(wanted), "the record shows {wanted:?}");
    }
    assert!(record.contains("Large dog: ask for it to be shut away") && record.contains("Cleared"), "the history");
    let form_page = lw.get(&format!("/episodes/{eid}/appointment")).await.body;
    assert!(form_page.contains("Two dogs now: meet at the practice"), "booking a visit shows the lone-working risk");
    assert!(!form_page.contains("aggressive"), "a cleared flag is not shown");
    let caseload = lw.get("/caseload").await.body;
    assert!(caseload.contains("Lone-working risk") && caseload.contains("Safeguarding"));
    let audited = app
        .store
        .search_audit(&linkwork_domain::access::audit::AuditFilter {
            person_id: Some(pid),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.iter().filter(|e| e.entry.record_type == "person_flag").count(), 5);
});

app_test!(
    item_12_freshness_shows_from_the_feed_claims_are_linked_and_owners_edit_their_hours,
    |app: TestApp| async move {
        use axum::http::StatusCode;
        use linkwork_domain::directory::oruk;
        let app = app.with_demo().await;
        // An imported listing carries its publisher's assurance date and reviewer; one without says so.
        let feed = |assured: Option<&str>, name: &str, id: uuid::Uuid| oruk::Service {
            id,
            name: name.into(),
            status: "active".into(),
            description: Some("Walks for all".into()),
            assured_date: assured.map(str::to_owned),
            assurer_email: assured.map(|_| "checks@walkers.test".to_owned()),
            ..Default::default()
        };
        let (old, fresh, never) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let org = oruk::Organization { id: uuid::Uuid::now_v7(), name: "Walkers".into(), ..Default::default() };
        let mut services = vec![];
        for (assured, name, id) in [
            (Some("2025-06-02"), "Old walks", old),
            (Some("2026-11-02"), "Fresh walks", fresh),
            (None, "Never walks", never),
        ] {
            let (entry, _) = oruk::check_service(feed(assured, name, id), Some(org.id), &Default::default()).unwrap();
            services.push(entry);
        }
        let batch = linkwork_domain::ports::DirectoryBatch {
            organizations: vec![org.clone()],
            services,
            source: "walkers.json".into(),
            at: app.clock.now(),
            ..Default::default()
        };
        app.store.upsert_directory(&batch).await.unwrap();
        let mut lw = crate::helpers::Client::new(&app.router);
        assert_eq!(
            lw.sign_in("linkworker1@pcn1.demo.test", linkwork::demo::DEMO_PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let page = lw.get(&format!("/directory/services/{old}")).await.body;
        assert!(
            page.contains("Checked 02 June 2025 by checks@walkers.test") && page.contains("Due for checking"),
            "{page}"
        );
        let page = lw.get(&format!("/directory/services/{fresh}")).await.body;
        assert!(page.contains("Checked 02 November 2026") && !page.contains("Due for checking"));
        let page = lw.get(&format!("/directory/services/{never}")).await.body;
        assert!(page.contains("Not yet checked"));
        assert!(page.contains(&format!("/directory/organizations/{}/claim", org.id)), "unclaimed: the claim link");
        // An older feed never overrides a newer check.
        let (again, _) =
            oruk::check_service(feed(Some("2024-01-01"), "Fresh walks", fresh), Some(org.id), &Default::default())
                .unwrap();
        app.store
            .upsert_directory(&linkwork_domain::ports::DirectoryBatch { services: vec![again], ..batch.clone() })
            .await
            .unwrap();
        let l = app.store.get_listing(fresh.into()).await.unwrap();
        assert_eq!(l.verified_at.map(|t| t.date_naive().to_string()).as_deref(), Some("2026-11-02"));

        // The demo directory: most listings checked, some due, some never; claimed ones offer no claim.
        let (hits, _) = app.store.search_directory(&Default::default(), 0, 500).await.unwrap();
        let now = app.clock.now();
        let checked = hits.iter().filter(|h| h.listing.verified_at.is_some()).count();
        let stale = hits.iter().filter(|h| h.listing.verified_at.is_some() && h.listing.is_stale(now)).count();
        assert!(
            checked > hits.len() / 2 && stale > 0 && checked < hits.len(),
            "{checked} checked, {stale} stale of {}",
            hits.len()
        );
        let owned = hits.iter().find(|h| h.listing.owner_org_id.is_some()).expect("a claimed demo listing");
        let page = lw.get(&format!("/directory/services/{}", owned.listing.id)).await.body;
        assert!(!page.contains("/claim"), "a claimed organisation is not offered for claiming");

        // Its owner edits the opening times; a closing time before the opening is refused.
        let mut vcse = crate::helpers::Client::new(&app.router);
        assert_eq!(
            vcse.sign_in("vcse@pcn1.demo.test", linkwork::demo::DEMO_PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let partner = app.store.find_user_by_email("vcse@pcn1.demo.test").await.unwrap();
        let mine = hits.iter().find(|h| h.listing.owner_org_id == Some(partner.org_id)).expect("the partner's listing");
        let edit = format!("/directory/services/{}/edit", mine.listing.id);
        assert!(vcse.get(&edit).await.body.contains("Tuesday: opens"));
        let l = &mine.listing;
        let version = l.version.to_string();
        let mut fields = vec![
            ("capacity", "accepting"),
            ("name", l.name.as_str()),
            ("description", l.description.as_str()),
            ("status", "active"),
            ("review_months", "12"),
            ("version", version.as_str()),
            ("opens_1", "10:00"),
            ("closes_1", "09:00"),
        ];
        for d in [0, 2, 3, 4, 5, 6] {
            fields.push((["opens_0", "", "opens_2", "opens_3", "opens_4", "opens_5", "opens_6"][d], ""));
            fields.push((["closes_0", "", "closes_2", "closes_3", "closes_4", "closes_5", "closes_6"][d], ""));
        }
        let r = vcse.post_form(&edit, &form(&fields)).await;
        crate::journey::assert_error_summary(&r, "closes_1", "The closing time must be after the opening time");
        fields[7] = ("closes_1", "12:30");
        let r = vcse.post_form(&edit, &form(&fields)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = lw.get(&format!("/directory/services/{}", l.id)).await.body;
        assert!(page.contains("Tuesday 10:00–12:30"), "{page}");
        let saved = app.store.get_listing(l.id).await.unwrap();
        assert_eq!(
            linkwork_domain::directory::weekly_hours(&saved.document)[1],
            Some(("10:00".into(), "12:30".into()))
        );
        assert!(linkwork_domain::directory::weekly_hours(&saved.document)[0].is_none(), "the cleared days are closed");
        let history = app.store.listing_history(l.id, 5).await.unwrap();
        assert!(history[0].what.contains("opening times changed"));
    }
);

app_test!(item_09_the_public_give_their_practice_or_postcode_and_dates_are_day_month_year, |app: TestApp| async move {
    use axum::http::StatusCode;
    let s = setup(&app).await;
    let mut settings = app.store.team_settings(s.org.id, s.team.id).await.unwrap();
    settings.areas = vec!["LS14".into()];
    app.store.save_team_settings(&settings).await.unwrap();
    let mut public = crate::helpers::Client::new(&app.router);
    public.address = Some("198.51.100.31:5000".parse().unwrap());
    let page = public.get("/self-referral").await.body;
    assert!(!page.contains("Primary Care Network") && !page.contains("name=\"service\""), "nobody is asked for a PCN");
    assert!(page.contains("Your GP practice") && page.contains("Seacroft Surgery (Seacroft PCN)"));
    assert!(page.contains("Your postcode") && page.contains("Needed"), "the required postcode says so");
    assert!(!page.contains("type=\"date\""), "no browser date picker: the GOV.UK day, month and year");
    assert!(page.contains("name=\"date_of_birth-day\"") && page.contains("name=\"date_of_birth-year\""));
    let person = |practice: &str, postcode: &str, year: &str| {
        form(&[
            ("practice_id", practice),
            ("given_name", "Sam"),
            ("family_name", "Hughes"),
            ("date_of_birth-day", "31"),
            ("date_of_birth-month", "3"),
            ("date_of_birth-year", year),
            ("postcode", postcode),
            ("phone", "07700 900456"),
            ("reason", "I feel very alone since I moved here"),
        ])
    };
    // A two-digit year is not taken for the year 58, and what was typed comes back.
    let practice = s.practice.id.to_string();
    let r = public.post_form("/self-referral", &person(&practice, "LS14 6AB", "58")).await;
    crate::journey::assert_error_summary(&r, "date_of_birth", "Enter a real date of birth");
    assert!(r.body.contains("value=\"31\"") && r.body.contains("value=\"58\""), "the parts are kept");
    // From the practice; from the postcode; neither.
    assert_eq!(public.post_form("/self-referral", &person(&practice, "LS14 6AB", "1990")).await.status, StatusCode::OK);
    assert_eq!(public.post_form("/self-referral", &person("none", "LS14 7ZZ", "1990")).await.status, StatusCode::OK);
    let r = public.post_form("/self-referral", &person("none", "SW1A 1AA", "1990")).await;
    crate::journey::assert_error_summary(&r, "practice_id", "Choose your GP practice");
    let referrals = app.store.recent_referrals(s.org.id, 10).await.unwrap();
    assert_eq!(referrals.len(), 2, "both reached the PCN");
    let people: Vec<_> = referrals.iter().map(|r| r.1.clone()).collect();
    assert!(people.iter().all(|p| p.date_of_birth == NaiveDate::from_ymd_opt(1990, 3, 31).unwrap()));
    assert_eq!(
        people.iter().filter(|p| p.practice_id == Some(s.practice.id)).count(),
        1,
        "the chosen practice is kept"
    );

    // Over the limit, the form comes back with everything typed, and says when to try again.
    for _ in 0..3 {
        assert_eq!(
            public.post_form("/self-referral", &person(&practice, "LS14 6AB", "1990")).await.status,
            StatusCode::OK
        );
    }
    let r = public.post_form("/self-referral", &person(&practice, "LS14 6AB", "1990")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("There is a problem") && r.body.contains("Wait 15 minutes"));
    assert!(
        r.body.contains("I feel very alone since I moved here") && r.body.contains("value=\"Hughes\""),
        "nothing lost"
    );

    // Staff forms use the same pattern.
    let (mut lw, _, eid) = ada_accepted(&app, &s).await;
    let contact = lw.get(&format!("/episodes/{eid}/contact")).await.body;
    assert!(
        !contact.contains("type=\"date\"")
            && contact.contains("name=\"happened_on-day\" type=\"text\" inputmode=\"numeric\" value=\"24\"")
    );
});

app_test!(
    item_11_administrators_find_the_person_for_a_subject_access_request_and_get_the_whole_report,
    |app: TestApp| async move {
        use axum::http::StatusCode;
        let s = setup(&app).await;
        let (mut lw, pid, _) = ada_accepted(&app, &s).await;
        // More than a page of the trail (the old report stopped at 200 events).
        for _ in 0..230 {
            assert_eq!(lw.get(&format!("/people/{pid}")).await.status, StatusCode::OK);
        }
        let admin = crate::helpers::user(
            app.store.as_ref(),
            app.clock.as_ref(),
            &s.org,
            "admin@seacroft.test",
            &["administrator"],
        )
        .await;
        let mut a = crate::journey::signed_in(&app, admin.email.as_str()).await;
        assert_eq!(a.get("/people/search").await.status, StatusCode::FORBIDDEN, "no general search for administrators");
        let r = a.post_form("/admin/subject-access", &form(&[("family_name", "Okafor")])).await;
        crate::journey::assert_error_summary(&r, "nhs_number", "or the last name and the date of birth");
        let by_name = form(&[
            ("family_name", "Okafor"),
            ("date_of_birth-day", "2"),
            ("date_of_birth-month", "5"),
            ("date_of_birth-year", "1948"),
        ]);
        let found = a.post_form("/admin/subject-access", &by_name).await.body;
        assert!(found.contains("Ada Okafor") && found.contains(&format!("/admin/subject-access/{pid}")), "{found}");
        let by_nhs = a.post_form("/admin/subject-access", &form(&[("nhs_number", "943 476 5919")])).await.body;
        assert!(by_nhs.contains("Ada Okafor"));
        let lookups = app
            .store
            .search_audit(&linkwork_domain::access::audit::AuditFilter {
                action: Some(linkwork_domain::access::audit::AuditAction::Search),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let lookup = lookups.iter().find(|e| e.entry.record_type == "subject_access_lookup").expect("recorded as such");
        assert_eq!(lookup.entry.reason.as_deref(), Some("subject access request"));
        assert_eq!(lookup.entry.people, vec![pid], "with the people it found");

        let report = a.get(&format!("/admin/subject-access/{pid}")).await.body;
        let views = report.matches("lw@seacroft.test").count();
        assert!(views > 230, "the whole trail, not the first 200: {views}");
        let csv = a.get(&format!("/admin/subject-access/{pid}/report.csv")).await;
        assert!(csv.header("content-type").starts_with("text/csv"));
        assert!(csv.body.lines().count() > 232, "every event, in the download too");
        assert!(csv.body.lines().any(|l| l.contains("subject_access_report")), "reading the report is in it");
        // Another organisation's administrator finds nothing and reads nothing.
        let other = crate::helpers::pcn(app.store.as_ref(), app.clock.as_ref(), "Elsewhere PCN").await;
        let stranger = crate::helpers::user(
            app.store.as_ref(),
            app.clock.as_ref(),
            &other,
            "admin@elsewhere.test",
            &["administrator"],
        )
        .await;
        let mut b = crate::journey::signed_in(&app, stranger.email.as_str()).await;
        assert!(
            !b.post_form("/admin/subject-access", &form(&[("nhs_number", "943 476 5919")])).await.body.contains("Ada")
        );
        assert_eq!(b.get(&format!("/admin/subject-access/{pid}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(lw.get(&format!("/admin/subject-access/{pid}")).await.status, StatusCode::FORBIDDEN);
    }
);

app_test!(item_10_agencies_refer_with_a_role_of_their_own_under_the_practice_rules, |app: TestApp| async move {
    use axum::http::StatusCode;
    let s = setup(&app).await;
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    // An agency sits under the PCN it refers to, never on its own or under the ICB.
    let err = linkwork::admin::create_org(store, clock, "Leeds Housing", "agency", None, None).await.unwrap_err();
    assert!(err.to_string().contains("Primary Care Network"), "{err}");
    let agency =
        linkwork::admin::create_org(store, clock, "Seacroft Adult Social Care", "agency", None, Some(&s.org.name))
            .await
            .unwrap();
    store.set_org_requires_two_factor(agency.id, false).await.unwrap();
    crate::helpers::user(store, clock, &agency, "sw@council.test", &["agency_referrer"]).await;
    let mut sw = crate::journey::signed_in(&app, "sw@council.test").await;
    let page = sw.get("/referrals/new").await.body;
    assert!(page.contains("Refer someone to social prescribing"));
    assert!(page.contains("<option value=\"local_authority\" selected>"), "an agency refers as the local authority");
    assert!(page.contains("Seacroft Surgery"), "the PCN's practices to choose the person's GP from");
    let r = crate::journey::refer(&mut sw, &s, &[crate::journey::ADA, &[("source", "local_authority")]].concat()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // It reaches the PCN's waiting list, like a practice's referral.
    let waiting = store.waiting_referrals(s.org.id, &[s.team.id]).await.unwrap();
    assert_eq!(waiting.len(), 1);
    let sw_user = store.find_user_by_email("sw@council.test").await.unwrap();
    assert_eq!(waiting[0].0.referred_by, Some(sw_user.id));
    // The same rules as a practice's referrer: no caseload, no triage, no records.
    for path in ["/caseload", "/triage", &format!("/people/{}", waiting[0].1.id)] {
        assert_eq!(sw.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Their list says where it stands; once discharged, the summary is theirs to read.
    let mut lw = crate::journey::signed_in(&app, "lw@seacroft.test").await;
    let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
    crate::journey::triage(&mut lw, &app, &s, &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)])
        .await;
    let eid = store.person_episodes(s.org.id, waiting[0].1.id).await.unwrap()[0].id;
    let contact = form(&[("happened_on", "2026-11-24"), ("minutes", "45"), ("mode", "phone"), ("location", "remote")]);
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/contact"), &contact).await.status, StatusCode::SEE_OTHER);
    let v = store.get_episode(s.org.id, eid).await.unwrap().version.to_string();
    let discharge = form(&[("version", &v), ("reason", "goals_met"), ("note", "Goes to lunch club")]);
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/discharge"), &discharge).await.status, StatusCode::SEE_OTHER);
    let list = sw.get("/referrals").await.body;
    assert!(list.contains("Discharged") && list.contains(&format!("/episodes/{eid}/summary")), "{list}");
    assert_eq!(sw.get(&format!("/episodes/{eid}/summary")).await.status, StatusCode::OK);
    let mail = app.db.store.all_messages(20).await.unwrap();
    assert!(mail.iter().any(|m| m.recipient == "sw@council.test" && m.subject.contains("discharge summary")));
    // Another agency's caseworker reads nothing of it.
    let other =
        linkwork::admin::create_org(store, clock, "Seacroft Police", "agency", None, Some(&s.org.name)).await.unwrap();
    store.set_org_requires_two_factor(other.id, false).await.unwrap();
    crate::helpers::user(store, clock, &other, "pc@police.test", &["agency_referrer"]).await;
    let mut pc = crate::journey::signed_in(&app, "pc@police.test").await;
    assert_eq!(pc.get(&format!("/episodes/{eid}/summary")).await.status, StatusCode::NOT_FOUND);
    assert!(!pc.get("/referrals").await.body.contains("Okafor"));
});

app_test!(
    item_06_a_merge_shows_every_difference_lets_the_worker_choose_and_handles_two_open_episodes,
    |app: TestApp| async move {
        use axum::http::StatusCode;
        let s = setup(&app).await;
        let (mut lw, ada, ada_episode) = ada_accepted(&app, &s).await;
        // A second record of her, with a typo, no NHS number and another phone, also accepted.
        let mut gp = crate::journey::signed_in(&app, "gp@seacroft.test").await;
        let mut typo: Vec<(&str, &str)> = crate::journey::ADA
            .iter()
            .copied()
            .filter(|(k, _)| !["given_name", "nhs_number", "phone"].contains(k))
            .collect();
        typo.extend([("given_name", "Adaa"), ("phone", "07700 900456")]);
        crate::journey::refer(&mut gp, &s, &typo).await;
        let (team, worker) = (s.team.id.to_string(), s.worker.id.to_string());
        let (r, _) = crate::journey::triage(
            &mut lw,
            &app,
            &s,
            &[("decision", "accept"), ("team_id", &team), ("worker_id", &worker)],
        )
        .await;
        let twin: linkwork_domain::ids::PersonId =
            crate::journey::id_after(r.header("location"), "/people/").parse().unwrap();
        assert_ne!(twin, ada);
        let twin_episode = app.store.person_episodes(s.org.id, twin).await.unwrap()[0].id;
        let contact =
            form(&[("happened_on", "2026-11-24"), ("minutes", "45"), ("mode", "phone"), ("location", "remote")]);
        assert_eq!(
            lw.post_form(&format!("/episodes/{twin_episode}/contact"), &contact).await.status,
            StatusCode::SEE_OTHER
        );

        // The page shows each differing detail with both values, and asks about the two episodes.
        let url = format!("/people/{ada}/merge/{twin}");
        let page = lw.get(&url).await.body;
        for wanted in [
            "Which record stays",
            "First name",
            "Adaa",
            "NHS number",
            "943 476 5919",
            "07700 900123",
            "07700 900456",
            "Both: 07700 900123 or 07700 900456",
            "GP practice",
            "Seacroft Surgery",
            "Both records have an open episode",
            "Combine the two episodes into one",
        ] {
            assert!(page.contains(wanted), "the merge page shows {wanted:?}");
        }
        assert!(!page.contains(">Postcode<"), "details that agree are not asked about");
        let post = |episodes: &'static str| {
            form(&[
                ("survivor", "second"),
                ("keep_given_name", "first"),
                ("keep_nhs_number", "first"),
                ("keep_phone", "both"),
                ("keep_practice_id", "first"),
                ("open_episodes", episodes),
                ("confirm", "yes"),
            ])
        };
        let r = lw.post_form(&url, &post("")).await;
        crate::journey::assert_error_summary(&r, "open_episodes", "Choose whether to combine the episodes");
        let r = lw.post_form(&url, &post("combine")).await;
        assert_eq!(
            r.header("location"),
            format!("/people/{twin}?done=merged"),
            "the record chosen to stay: {}",
            r.body.split("nhsuk-error-summary__list").nth(1).unwrap_or(&r.body[..r.body.len().min(300)])
        );
        let kept = app.store.get_person(s.org.id, twin).await.unwrap();
        assert_eq!(kept.given_name, "Ada", "the name chosen");
        assert_eq!(kept.nhs_number.as_ref().map(|n| n.as_str()), Some("9434765919"), "the identifier kept");
        assert_eq!(kept.phone.as_deref(), Some("07700 900123 or 07700 900456"), "both numbers kept");
        assert_eq!(kept.practice_id, Some(s.practice.id), "the practice chosen");
        let old = app.store.get_person(s.org.id, ada).await.unwrap();
        assert_eq!(old.merged_into, Some(twin));
        assert_eq!(old.phone.as_deref(), Some("07700 900123"), "the merged record keeps its own details");
        let episodes = app.store.person_episodes(s.org.id, twin).await.unwrap();
        assert_eq!(episodes.iter().filter(|e| e.is_open()).count(), 1, "one open episode after combining");
        assert!(
            !episodes.iter().find(|e| e.id == ada_episode).unwrap().is_open()
                || !episodes.iter().find(|e| e.id == twin_episode).unwrap().is_open()
        );
        let open = episodes.iter().find(|e| e.is_open()).unwrap();
        assert!(!app.store.contacts(s.org.id, open.id).await.unwrap().is_empty(), "the contact came along");
        let record = lw.get(&format!("/people/{twin}")).await.body;
        assert!(record.contains("Records merged") || record.contains("Current episode"));
    }
);
