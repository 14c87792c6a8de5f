//! Outcome measures (issue 14) on both databases: taken with the person, declined, imported,
//! sent as a secure link and answered once, reminded once, seen on the record, the caseload and
//! in the message back, exported; and the licence rule for wording.

use crate::helpers::{Client, user};
use crate::journey::{ada_accepted, assert_error_summary, form, setup, signed_in};
use axum::http::StatusCode;
use linkwork_domain::Clock;
use linkwork_domain::access::audit::AuditAction;
use linkwork_domain::access::audit::{AuditEntry, AuditFilter};
use linkwork_domain::ids::{EpisodeId, PersonId};
use linkwork_domain::outcomes::{Instrument, RecordStatus, Via};
use linkwork_domain::usecases::{Actor, Caller, Failure, Services, outcomes as uc};
use linkwork_testkit::{TestApp, app_test};

/// Test wording for SWEMWBS: the real wording is licensed to each deployer, never shipped.
pub(crate) const TEST_SWEMWBS: &str = r#"{
  "instrument": "swemwbs",
  "language": "English",
  "licence": "Test wording for linkwork's tests (not the licensed items)",
  "items": ["Test statement one", "Test statement two", "Test statement three", "Test statement four",
            "Test statement five", "Test statement six", "Test statement seven"],
  "responses": [["None of the time", "Rarely", "Some of the time", "Often", "All of the time"]]
}"#;

fn services(app: &TestApp) -> (linkwork_domain::access::audit::Direct<'_>, &TestApp) {
    (linkwork_domain::access::audit::Direct(app.store.as_ref()), app)
}

pub(crate) async fn load_test_wording(app: &TestApp) {
    let (audit, app) = services(app);
    let s = Services { store: app.store.as_ref(), audit: &audit, clock: app.clock.as_ref() };
    uc::load_wording(s, &Caller::operator(), TEST_SWEMWBS).await.unwrap();
}

async fn contact(lw: &mut Client, app: &TestApp, eid: EpisodeId) {
    let today = app.clock.now().date_naive().format("%Y-%m-%d").to_string();
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/contact"),
            &form(&[("happened_on", &today), ("minutes", "45"), ("mode", "face_to_face"), ("location", "practice")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// Every audit entry about the person.
async fn audit_of(app: &TestApp, org: linkwork_domain::ids::OrgId, pid: PersonId) -> Vec<AuditEntry> {
    let f = AuditFilter { org_id: Some(org), person_id: Some(pid), limit: 1000, ..AuditFilter::default() };
    app.store.search_audit(&f).await.unwrap().into_iter().map(|e| e.entry).collect()
}

/// The record's outcome measures section, for failure messages.
fn section(body: &str) -> &str {
    let from = body.find("id=\"outcomes\"").unwrap_or(0);
    let to = body.find("Codes for the GP record").unwrap_or(body.len()).max(from);
    &body[from..to]
}

async fn records(
    app: &TestApp,
    org: linkwork_domain::ids::OrgId,
    pid: PersonId,
) -> Vec<linkwork_domain::outcomes::OutcomeRecord> {
    app.store.person_outcomes(org, pid).await.unwrap()
}

app_test!(a_worker_takes_ons4_and_ucla3_with_the_person_and_sees_them_where_they_are_used, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    contact(&mut lw, &app, eid).await;
    let record = lw.get(&format!("/people/{pid}")).await;
    assert!(
        record.body.contains("ONS4 baseline due") && record.body.contains("UCLA-3 baseline due"),
        "due by the team's plan"
    );
    assert!(lw.get("/caseload").await.body.contains("UCLA-3 baseline due"), "due on the caseload");
    let page = lw.get(&format!("/episodes/{eid}/outcomes/new?instrument=ucla3&point=baseline")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("How often do you feel isolated from others?") && page.body.contains("Hardly ever or never")
    );
    // One question left out: UCLA-3 has no total then, so the form comes back with what was chosen.
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes"),
            &form(&[
                ("instrument", "ucla3"),
                ("point", "baseline"),
                ("companionship", "3"),
                ("left_out", "2"),
                ("status", "completed"),
            ]),
        )
        .await;
    assert_error_summary(&r, "isolated", "Question 3: choose an answer");
    assert!(r.body.contains(r#"name="companionship" type="radio" value="3" checked"#), "what was chosen is kept");
    assert!(records(&app, s.org.id, pid).await.is_empty(), "nothing stored half");
    // Out of range is refused too.
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes"),
            &form(&[
                ("instrument", "ucla3"),
                ("point", "baseline"),
                ("companionship", "3"),
                ("left_out", "2"),
                ("isolated", "4"),
            ]),
        )
        .await;
    assert_error_summary(&r, "isolated", "1 to 3");
    let ok = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes"),
            &form(&[
                ("instrument", "ucla3"),
                ("point", "baseline"),
                ("companionship", "3"),
                ("left_out", "2"),
                ("isolated", "3"),
            ]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let ons = [
        ("instrument", "ons4"),
        ("point", "baseline"),
        ("life_satisfaction", "4"),
        ("worthwhile", "5"),
        ("happy", "3"),
        ("anxious", "8"),
    ];
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/outcomes"), &form(&ons)).await.status, StatusCode::SEE_OTHER);
    let stored = records(&app, s.org.id, pid).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].answers.len(), 3, "stored item by item");
    assert_eq!(stored[0].version, "ucla3-2004");
    assert_eq!(stored[0].scores()[0].value, 8.0);
    let record = lw.get(&format!("/people/{pid}")).await;
    assert!(
        record.body.contains("UCLA-3 (loneliness)") && record.body.contains("More lonely"),
        "the score and its band"
    );
    assert!(record.body.contains("ONS4: Anxiety") && record.body.contains("<svg"), "a chart per scale");
    assert!(!record.body.contains("UCLA-3 baseline due"), "no longer due");
    // Asked again inside its interval: refused, saying from when.
    let again = lw.post_form(&format!("/episodes/{eid}/outcomes"), &form(&ons)).await;
    assert_error_summary(&again, "life_satisfaction", "it can be asked again from");
    // Two weeks on, a review with change; the record shows the change from baseline.
    app.clock.advance(chrono::Duration::days(20));
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let review = [
        ("instrument", "ons4"),
        ("point", "review"),
        ("life_satisfaction", "7"),
        ("worthwhile", "6"),
        ("happy", "6"),
        ("anxious", "4"),
    ];
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/outcomes"), &form(&review)).await.status, StatusCode::SEE_OTHER);
    let record = lw.get(&format!("/people/{pid}")).await;
    assert!(
        record.body.contains("Up 3 (better)") && record.body.contains("Down 4 (better)"),
        "change in the scale's direction: {}",
        section(&record.body)
    );
    // Each view and change is audited with the person.
    let events = audit_of(&app, s.org.id, pid).await;
    assert_eq!(events.iter().filter(|e| e.record_type == "outcome" && e.action == AuditAction::Create).count(), 3);
});

app_test!(declined_and_not_able_are_recorded_and_counted_as_not_recorded, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    contact(&mut lw, &app, eid).await;
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes"),
            &form(&[("instrument", "ons4"), ("point", "baseline"), ("status", "declined")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.header("location").contains("done=measure-declined"));
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes"),
            &form(&[("instrument", "ucla3"), ("point", "baseline"), ("status", "not_able")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let stored = records(&app, s.org.id, pid).await;
    assert_eq!(stored.iter().map(|r| r.status).collect::<Vec<_>>(), [RecordStatus::Declined, RecordStatus::NotAble]);
    assert!(stored.iter().all(|r| r.scores().is_empty()));
    let record = lw.get(&format!("/people/{pid}")).await;
    assert!(record.body.contains("declined to answer") && record.body.contains("not able to complete today"));
    let coverage = lw.get("/outcomes").await;
    assert_eq!(coverage.status, StatusCode::OK);
    assert!(coverage.body.contains(">0 (0%)<"), "no baseline: {}", coverage.body);
    assert!(coverage.body.contains(">1</td>"), "one declined, one not able");
});

app_test!(imported_totals_need_a_proprietary_measure_a_range_a_day_and_a_source, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    assert_eq!(lw.get(&format!("/episodes/{eid}/outcomes/import")).await.status, StatusCode::OK);
    let today = app.clock.now().date_naive().format("%Y-%m-%d").to_string();
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes/import"),
            &form(&[
                ("instrument", "pam"),
                ("point", "baseline"),
                ("total", "140"),
                ("taken_on", &today),
                ("source", ""),
            ]),
        )
        .await;
    assert_error_summary(&r, "total", "between 0 and 100");
    assert!(r.body.contains("Say where the total came from"));
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes/import"),
            &form(&[
                ("instrument", "ons4"),
                ("point", "baseline"),
                ("total", "5"),
                ("taken_on", &today),
                ("source", "paper"),
            ]),
        )
        .await;
    assert_error_summary(&r, "instrument", "whose total is imported");
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/outcomes/import"),
            &form(&[
                ("instrument", "pam"),
                ("point", "baseline"),
                ("total", "52.4"),
                ("taken_on", &today),
                ("source", "PAM portal, with the person"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stored = records(&app, s.org.id, pid).await;
    assert_eq!((stored[0].via, stored[0].total), (Via::Imported, Some(52.4)));
    assert_eq!(stored[0].scores()[0].band(), Some("Level 2"));
    assert!(lw.get(&format!("/people/{pid}")).await.body.contains("PAM portal, with the person"));
});

/// The token in the newest message to the person.
async fn token_sent(app: &TestApp) -> String {
    let m = app
        .db
        .store
        .all_messages(50)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.body.contains("/q/"))
        .expect("a link message");
    let at = m.body.find("/q/").unwrap() + 3;
    m.body[at..at + 64].to_owned()
}

app_test!(
    a_licensed_measure_is_offered_once_its_wording_is_loaded_and_its_link_is_answered_once,
    |app: TestApp| async move {
        let s = setup(&app).await;
        let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
        let refused = lw.get(&format!("/episodes/{eid}/outcomes/new?instrument=swemwbs&point=baseline")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.body.contains("no wording has been loaded"), "{}", refused.body);
        let r = lw
            .post_form(
                &format!("/episodes/{eid}/outcomes/link"),
                &form(&[("instrument", "swemwbs"), ("point", "baseline")]),
            )
            .await;
        assert_error_summary(&r, "instrument", "cannot be offered");
        load_test_wording(&app).await;
        let r = lw
            .post_form(
                &format!("/episodes/{eid}/outcomes/link"),
                &form(&[("instrument", "swemwbs"), ("point", "baseline")]),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let msg = app.db.store.all_messages(50).await.unwrap().into_iter().find(|m| m.body.contains("/q/")).unwrap();
        assert_eq!(msg.channel, "sms", "Ada asked for texts");
        assert!(
            !msg.body.contains("Okafor") && !msg.body.to_lowercase().contains("wellbeing"),
            "a first name only: {}",
            msg.body
        );
        let token = token_sent(&app).await;
        let link = app.store.link_by_token(&linkwork_domain::outcomes::hash_token(&token)).await.unwrap();
        assert_ne!(link.token_hash, token, "only the hash is stored");

        let mut phone = Client::new(&app.router);
        phone.address = Some("198.51.100.40:5000".parse().unwrap());
        let page = phone.get(&format!("/q/{token}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Ada, a few questions") && page.body.contains("Test statement seven"));
        assert!(
            !page.body.contains("Okafor") && !page.body.contains("943 476 5919") && !page.body.contains("Sign out")
        );
        let mut answers: Vec<(String, String)> = (1..=6).map(|n| (format!("item{n}"), "2".to_owned())).collect();
        let body = |a: &[(String, String)]| a.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let missing = phone.post_form(&format!("/q/{token}"), &body(&answers)).await;
        assert_error_summary(&missing, "item7", "no score with any question unanswered");
        answers.push(("item7".into(), "3".into()));
        let done = phone.post_form(&format!("/q/{token}"), &body(&answers)).await;
        assert_eq!(done.status, StatusCode::OK);
        assert!(done.body.contains("Thank you"));
        let stored = records(&app, s.org.id, pid).await;
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].via, stored[0].recorded_by), (Via::Link, None));
        assert_eq!(stored[0].scores()[0].raw, Some(15));
        assert_eq!(stored[0].scores()[0].value, 15.84);
        // Used, unknown and expired links: the same page, the same words.
        let used = phone.get(&format!("/q/{token}")).await;
        let unknown = phone.get(&format!("/q/{}", "0".repeat(64))).await;
        let forged = phone.get("/q/not-a-token").await;
        assert_eq!(used.status, StatusCode::NOT_FOUND);
        assert_eq!(used.body, unknown.body);
        assert_eq!(used.body, forged.body);
        assert_eq!(phone.post_form(&format!("/q/{token}"), &body(&answers)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(records(&app, s.org.id, pid).await.len(), 1, "answered once");
        let r = lw
            .post_form(&format!("/episodes/{eid}/outcomes/link"), &form(&[("instrument", "ons4"), ("point", "review")]))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let second = token_sent(&app).await;
        app.clock.advance(chrono::Duration::days(15));
        let expired = phone.get(&format!("/q/{second}")).await;
        let mut lw = signed_in(&app, "lw@seacroft.test").await;
        assert_eq!((expired.status, expired.body), (StatusCode::NOT_FOUND, unknown.body.clone()));
        // The record shows the score and the links.
        let record = lw.get(&format!("/people/{pid}")).await;
        assert!(
            record.body.contains("SWEMWBS (mental wellbeing (metric score))") && record.body.contains("15.84"),
            "{}",
            section(&record.body)
        );
        assert!(record.body.contains("Answered") && record.body.contains("Expired without an answer"));
        // Opening and answering are audited as the link, with the person.
        let events = audit_of(&app, s.org.id, pid).await;
        assert!(events.iter().any(|e| e.actor == "questionnaire link" && e.action == AuditAction::View));
        assert!(events.iter().any(|e| e.actor == "questionnaire link" && e.record_type == "outcome"));
    }
);

app_test!(two_answers_to_one_link_at_once_store_one, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    lw.post_form(&format!("/episodes/{eid}/outcomes/link"), &form(&[("instrument", "ucla3"), ("point", "baseline")]))
        .await;
    let token = token_sent(&app).await;
    let answers: Vec<(String, String)> = [("companionship", "2"), ("left_out", "2"), ("isolated", "1")]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let audit = linkwork_domain::access::audit::Direct(app.store.as_ref());
    let s2 = Services { store: app.store.as_ref(), audit: &audit, clock: app.clock.as_ref() };
    let caller = Caller { actor: Actor::Link, source: None };
    let (a, b) =
        tokio::join!(uc::answer_link(s2, &caller, &token, &answers), uc::answer_link(s2, &caller, &token, &answers));
    let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    assert!([a, b].into_iter().any(|r| matches!(r, Err(Failure::NotFound))));
    assert_eq!(records(&app, s.org.id, pid).await.len(), 1);
});

app_test!(an_unanswered_link_is_reminded_once_and_the_reminder_opens_it, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, _pid, eid) = ada_accepted(&app, &s).await;
    lw.post_form(&format!("/episodes/{eid}/outcomes/link"), &form(&[("instrument", "ons4"), ("point", "baseline")]))
        .await;
    let first = token_sent(&app).await;
    let w = app.worker();
    assert_eq!(w.remind_questionnaires().await.unwrap(), 0, "not before a week");
    app.clock.advance(chrono::Duration::days(8));
    assert_eq!(w.remind_questionnaires().await.unwrap(), 1);
    assert_eq!(w.remind_questionnaires().await.unwrap(), 0, "once");
    let reminders: Vec<_> =
        app.db.store.all_messages(50).await.unwrap().into_iter().filter(|m| m.body.starts_with("Reminder")).collect();
    assert_eq!(reminders.len(), 1);
    let at = reminders[0].body.find("/q/").unwrap() + 3;
    let second = reminders[0].body[at..at + 64].to_owned();
    assert_ne!(first, second);
    let mut phone = Client::new(&app.router);
    assert_eq!(phone.get(&format!("/q/{second}")).await.status, StatusCode::OK);
    assert_eq!(phone.get(&format!("/q/{first}")).await.status, StatusCode::OK, "the first still works");
});

app_test!(failed_link_openings_are_throttled_per_address, |app: TestApp| async move {
    let mut guesser = Client::new(&app.router);
    guesser.address = Some("203.0.113.66:4000".parse().unwrap());
    for n in 0..linkwork_domain::access::throttle::LINK_LIMIT {
        let r = guesser.get(&format!("/q/{:064x}", n)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "try {n}");
    }
    assert_eq!(guesser.get(&format!("/q/{:064x}", 999)).await.status, StatusCode::TOO_MANY_REQUESTS);
    let mut other = Client::new(&app.router);
    other.address = Some("203.0.113.67:4000".parse().unwrap());
    assert_eq!(other.get(&format!("/q/{:064x}", 1)).await.status, StatusCode::NOT_FOUND, "per address");
});

app_test!(the_message_back_carries_baseline_latest_and_change_and_the_export_is_audited, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    contact(&mut lw, &app, eid).await;
    let base =
        [("instrument", "ucla3"), ("point", "baseline"), ("companionship", "3"), ("left_out", "3"), ("isolated", "2")];
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/outcomes"), &form(&base)).await.status, StatusCode::SEE_OTHER);
    app.clock.advance(chrono::Duration::days(30));
    let mut lw = signed_in(&app, "lw@seacroft.test").await;
    let end =
        [("instrument", "ucla3"), ("point", "discharge"), ("companionship", "1"), ("left_out", "2"), ("isolated", "1")];
    assert_eq!(lw.post_form(&format!("/episodes/{eid}/outcomes"), &form(&end)).await.status, StatusCode::SEE_OTHER);
    let version = app.store.get_episode(s.org.id, eid).await.unwrap().version.to_string();
    let r = lw
        .post_form(
            &format!("/episodes/{eid}/discharge"),
            &form(&[("version", &version), ("reason", "goals_met"), ("note", "Goes to the lunch club")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let json = lw.get(&format!("/episodes/{eid}/summary.json")).await.json();
    let m = &json["measures"][0];
    assert_eq!(m["scale"], "Loneliness");
    assert_eq!((m["baseline"].as_str(), m["latest"].as_str()), (Some("8"), Some("4")));
    assert_eq!(m["change"], "Down 4 (better)");
    let page = lw.get(&format!("/episodes/{eid}/summary")).await;
    assert!(page.body.contains("Outcome measures: baseline and latest") && page.body.contains("Down 4 (better)"));
    let pdf = lw.get(&format!("/episodes/{eid}/summary.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);

    // The export: managers, every score, audited naming the people in it.
    assert_eq!(lw.get("/outcomes/export.csv").await.status, StatusCode::FORBIDDEN, "link workers do not export");
    let manager = user(app.store.as_ref(), app.clock.as_ref(), &s.org, "mgr@seacroft.test", &["manager"]).await;
    app.store.add_team_member(s.team.id, manager.id).await.unwrap();
    let mut mgr = signed_in(&app, "mgr@seacroft.test").await;
    // The manager sees each worker's recording beside the team's.
    let coverage = mgr.get("/outcomes").await;
    assert_eq!(coverage.status, StatusCode::OK);
    assert_eq!(coverage.body.matches("scope=\"row\"").count(), 3, "yours, the team's and the worker's");
    assert!(coverage.body.contains(&s.worker.display_name));
    assert!(!lw.get("/outcomes").await.body.contains("Download the organisation"), "no export for link workers");
    let csv = mgr.get("/outcomes/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("record_id,episode_id,person_id,instrument"), "{}", csv.body);
    assert_eq!(csv.body.lines().filter(|l| l.contains(",ucla3,")).count(), 2);
    assert!(csv.body.contains("loneliness,8,More lonely") && csv.body.contains("loneliness,4,Less lonely"));
    let events = audit_of(&app, s.org.id, pid).await;
    assert!(events.iter().any(|e| e.action == AuditAction::Export && e.record_type == "outcomes"));
    assert_eq!(mgr.get("/outcomes/export.csv?from=2026-13-01").await.status, StatusCode::BAD_REQUEST);
});

app_test!(outcome_records_and_links_stay_in_their_tenant, |app: TestApp| async move {
    let s = setup(&app).await;
    let (mut lw, pid, eid) = ada_accepted(&app, &s).await;
    contact(&mut lw, &app, eid).await;
    lw.post_form(
        &format!("/episodes/{eid}/outcomes"),
        &form(&[("instrument", "ons4"), ("point", "baseline"), ("happy", "5")]),
    )
    .await;
    lw.post_form(&format!("/episodes/{eid}/outcomes/link"), &form(&[("instrument", "ucla3"), ("point", "baseline")]))
        .await;
    let other = crate::helpers::pcn(app.store.as_ref(), app.clock.as_ref(), "Other PCN").await;
    assert!(app.store.person_outcomes(other.id, pid).await.unwrap().is_empty());
    assert!(app.store.episode_outcomes(other.id, &[eid]).await.unwrap().is_empty());
    assert!(app.store.person_links(other.id, pid).await.unwrap().is_empty());
    let today = app.clock.now().date_naive();
    assert!(app.store.outcomes_between(other.id, today, today + chrono::Duration::days(1)).await.unwrap().is_empty());
    assert_eq!(app.store.outcomes_between(s.org.id, today, today + chrono::Duration::days(1)).await.unwrap().len(), 1);
    // A closed episode takes no measure, through the store too.
    let mut r = app.store.person_outcomes(s.org.id, pid).await.unwrap().remove(0);
    r.id = linkwork_domain::ids::OutcomeId::new();
    r.episode_id = EpisodeId::new();
    assert!(app.store.record_outcome(&r).await.is_err(), "an episode of nobody's is refused");
    // Team settings choose what falls due.
    let st = app.store.team_settings(s.org.id, s.team.id).await.unwrap();
    assert_eq!(st.outcome_instruments, vec![Instrument::Ons4, Instrument::Ucla3]);
    let mut changed = st.clone();
    changed.outcome_instruments = vec![Instrument::Swemwbs];
    changed.outcome_review_weeks = 8;
    let saved = app.store.save_team_settings(&changed).await.unwrap();
    assert_eq!((saved.outcome_instruments, saved.outcome_review_weeks), (vec![Instrument::Swemwbs], 8));
});
