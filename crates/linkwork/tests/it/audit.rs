//! The audit trail: chained, append-only, verified, written before the page is returned, shared
//! between concurrent requests and between instances, searchable by administrators of the same
//! organisation only.

use crate::helpers::{Client, PASSWORD, pcn, user};
use axum::http::StatusCode;
use chrono::Duration;
use linkwork::admin::{Verified, verify_audit};
use linkwork_domain::Clock;
use linkwork_domain::access::audit::{AuditAction, AuditEntry, AuditFilter, AuditLog};
use linkwork_domain::ids::PersonId;
use linkwork_domain::ports::AuditStore;
use linkwork_storage::{Db, GroupCommitAudit, SqlStore};
use linkwork_testkit::{TestApp, TestDb, app_test, db_test, test_epoch};
use std::sync::Arc;

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        actor: format!("worker{i}@test.nhs.uk"),
        person_id: Some(PersonId::new()),
        ..AuditEntry::new(test_epoch() + Duration::milliseconds(i as i64), AuditAction::View, "person")
    }
}

async fn all_events(store: &SqlStore) -> Vec<linkwork_domain::access::audit::AuditEvent> {
    store.audit_after(0, 100_000).await.unwrap()
}

db_test!(concurrent_events_share_commits_and_keep_one_chain, |db: TestDb| async move {
    let writer = GroupCommitAudit::start(Arc::new(db.store.clone()));
    // A second instance: its own pool and writer on the same database.
    let other_store = SqlStore::open(&db.location).await.unwrap();
    let other = GroupCommitAudit::start(Arc::new(other_store.clone()));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let w = if i % 2 == 0 { writer.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move { w.record(vec![entry(i)]).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let events = all_events(&db.store).await;
    assert_eq!(events.len(), 200);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=200).collect::<Vec<_>>());
    assert_eq!(
        verify_audit(&db.store).await.unwrap(),
        Verified::Intact { events: 200, last_hash: events[199].hash.clone() }
    );
    other_store.close().await;
});

db_test!(events_are_append_only, |db: TestDb| async move {
    db.store.append_audit(&[entry(1), entry(2)]).await.unwrap();
    let (update, delete) = match db.store.db() {
        Db::Sqlite(p) => (
            sqlx::query("UPDATE audit_events SET actor = 'x'").execute(p).await.err().map(|e| e.to_string()),
            sqlx::query("DELETE FROM audit_events").execute(p).await.err().map(|e| e.to_string()),
        ),
        Db::Postgres(p) => (
            sqlx::query("UPDATE audit_events SET actor = 'x'").execute(p).await.err().map(|e| e.to_string()),
            sqlx::query("DELETE FROM audit_events").execute(p).await.err().map(|e| e.to_string()),
        ),
    };
    assert!(update.unwrap().contains("append-only"));
    assert!(delete.unwrap().contains("append-only"));
    assert_eq!(all_events(&db.store).await.len(), 2);
});

db_test!(verification_finds_the_first_tampered_event, |db: TestDb| async move {
    db.store.append_audit(&(1..=6).map(entry).collect::<Vec<_>>()).await.unwrap();
    // Someone with direct database access removes the protection and edits event 4.
    match db.store.db() {
        Db::Sqlite(p) => {
            sqlx::query("DROP TRIGGER audit_events_no_update").execute(p).await.unwrap();
            sqlx::query("UPDATE audit_events SET actor = 'nobody@test' WHERE seq = 4").execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query("DROP TRIGGER audit_events_no_update ON audit_events").execute(p).await.unwrap();
            sqlx::query("UPDATE audit_events SET actor = 'nobody@test' WHERE seq = 4").execute(p).await.unwrap();
        }
    }
    match verify_audit(&db.store).await.unwrap() {
        Verified::Broken(b) => {
            assert_eq!(b.seq, 4);
            assert!(b.reason.contains("changed"), "{b}");
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
});

db_test!(list_views_are_one_event_that_names_everyone_shown, |db: TestDb| async move {
    let (a, b, c) = (PersonId::new(), PersonId::new(), PersonId::new());
    let list =
        AuditEntry { actor: "lw@test.nhs.uk".into(), ..AuditEntry::new(test_epoch(), AuditAction::View, "caseload") }
            .listing([c, a, b, a]);
    // Written out of order on purpose: the store keeps (and hashes) people sorted.
    let unsorted = AuditEntry { people: vec![c, b], ..list.clone() };
    db.store.append_audit(&[entry(1), list, unsorted, entry(2)]).await.unwrap();
    let events = all_events(&db.store).await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[1].entry.people.len(), 3, "read back with its people");
    assert!(events[2].entry.people.windows(2).all(|w| w[0] < w[1]));
    assert!(matches!(verify_audit(&db.store).await.unwrap(), Verified::Intact { events: 4, .. }));
    for p in [a, b, c] {
        let found =
            db.store.search_audit(&AuditFilter { person_id: Some(p), limit: 10, ..Default::default() }).await.unwrap();
        assert!(found.iter().any(|e| e.entry.record_type == "caseload"), "a subject access report finds the list");
    }
    assert_eq!(
        db.store
            .search_audit(&AuditFilter { person_id: Some(a), limit: 10, ..Default::default() })
            .await
            .unwrap()
            .len(),
        1
    );
    // The people are append-only too, and part of the hash: removing one is found.
    let refused = match db.store.db() {
        Db::Sqlite(p) => sqlx::query("DELETE FROM audit_event_people").execute(p).await.err().map(|e| e.to_string()),
        Db::Postgres(p) => sqlx::query("DELETE FROM audit_event_people").execute(p).await.err().map(|e| e.to_string()),
    };
    assert!(refused.unwrap_or_default().contains("append-only"));
    match db.store.db() {
        Db::Sqlite(p) => {
            sqlx::query("DROP TRIGGER audit_event_people_no_delete").execute(p).await.unwrap();
            sqlx::query("DELETE FROM audit_event_people WHERE seq = 2 AND person_id = (SELECT min(person_id) FROM audit_event_people WHERE seq = 2)")
                .execute(p)
                .await
                .unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query("DROP TRIGGER audit_event_people_no_delete ON audit_event_people").execute(p).await.unwrap();
            sqlx::query("DELETE FROM audit_event_people WHERE seq = 2 AND person_id = (SELECT min(person_id::text)::uuid FROM audit_event_people WHERE seq = 2)")
                .execute(p)
                .await
                .unwrap();
        }
    }
    match verify_audit(&db.store).await.unwrap() {
        Verified::Broken(b) => assert_eq!(b.seq, 2, "{b}"),
        other => panic!("tampering went unnoticed: {other:?}"),
    }
});

db_test!(search_filters_and_is_scoped, |db: TestDb| async move {
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    let a = pcn(&db.store, &clock, "Alpha PCN").await;
    let b = pcn(&db.store, &clock, "Beta PCN").await;
    let person = PersonId::new();
    let mk = |org, actor: &str, action, p: Option<PersonId>, mins| AuditEntry {
        org_id: Some(org),
        actor: actor.into(),
        person_id: p,
        ..AuditEntry::new(test_epoch() + Duration::minutes(mins), action, "person")
    };
    // Creating the organisations was audited too; what follows counts on top of that.
    let base = AuditFilter { org_id: Some(a.id), limit: 100, ..Default::default() };
    let before = db.store.search_audit(&base).await.unwrap().len();
    db.store
        .append_audit(&[
            mk(a.id, "amy@a.test", AuditAction::View, Some(person), 1),
            mk(a.id, "bob@a.test", AuditAction::View, Some(person), 2),
            mk(a.id, "amy@a.test", AuditAction::Update, None, 3),
            mk(b.id, "cat@b.test", AuditAction::View, Some(person), 4),
        ])
        .await
        .unwrap();
    assert_eq!(
        db.store.search_audit(&base).await.unwrap().len(),
        before + 3,
        "another organisation's events are not included"
    );
    let report = db.store.search_audit(&AuditFilter { person_id: Some(person), ..base.clone() }).await.unwrap();
    assert_eq!(report.iter().map(|e| e.entry.actor.as_str()).collect::<Vec<_>>(), ["bob@a.test", "amy@a.test"]);
    let amy = AuditFilter { actor: Some(" AMY@a.test ".into()), action: Some(AuditAction::Update), ..base.clone() };
    assert_eq!(db.store.search_audit(&amy).await.unwrap().len(), 1);
    let window = AuditFilter {
        from: Some(test_epoch() + Duration::minutes(2)),
        to: Some(test_epoch() + Duration::minutes(3)),
        ..base
    };
    assert_eq!(db.store.search_audit(&window).await.unwrap()[0].entry.actor, "bob@a.test");
});

app_test!(sign_ins_refusals_and_searches_are_audited_before_the_answer, |app: TestApp| async move {
    let org = pcn(app.store.as_ref(), app.clock.as_ref(), "Headingley PCN").await;
    let admin = user(app.store.as_ref(), app.clock.as_ref(), &org, "admin@headingley.test", &["administrator"]).await;
    user(app.store.as_ref(), app.clock.as_ref(), &org, "worker@headingley.test", &["link_worker"]).await;
    let other = pcn(app.store.as_ref(), app.clock.as_ref(), "Elsewhere PCN").await;
    user(app.store.as_ref(), app.clock.as_ref(), &other, "admin@elsewhere.test", &["administrator"]).await;

    let mut c = Client::new(&app.router);
    c.sign_in("worker@headingley.test", "wrong password").await;
    let failed = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::SignInFailed), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "written before the response came back");
    assert_eq!(failed[0].entry.actor, "worker@headingley.test");
    assert_eq!(failed[0].entry.org_id, Some(org.id));
    assert_eq!(failed[0].entry.reason.as_deref(), Some("wrong password"));
    c.sign_in("ghost@nowhere.test", "whatever").await;

    c.sign_in("worker@headingley.test", PASSWORD).await;
    assert_eq!(c.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
    let denied = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::AccessDenied), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(denied[0].entry.record_id.as_deref(), Some("GET /admin/audit"));
    assert_eq!(denied[0].entry.roles, "link_worker");

    let mut a = Client::new(&app.router);
    a.sign_in("admin@headingley.test", PASSWORD).await;
    let page = a.get("/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "<td class=\"nhsuk-table__cell\">sign_in_failed</td>",
        "GET /admin/audit",
        "worker@headingley.test",
        "wrong password",
    ] {
        assert!(page.body.contains(expected), "{expected} listed");
    }
    assert!(!page.body.contains("ghost@nowhere.test"), "attempts on no account belong to no organisation's trail");
    let filtered = a.post_form("/admin/audit", "action=sign_in&actor=admin%40headingley.test").await;
    let cell = |action: &str| format!("<td class=\"nhsuk-table__cell\">{action}</td>");
    assert!(filtered.body.contains(&cell("sign_in")) && !filtered.body.contains(&cell("access_denied")));
    let bad = a.post_form("/admin/audit", "person=not-an-id&from=2026-02-30").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("There is a problem")
            && bad.body.contains("href=\"#person\"")
            && bad.body.contains("href=\"#from\"")
    );
    assert!(bad.body.contains("value=\"not-an-id\""), "what was typed is kept");
    let searches = app
        .store
        .search_audit(&AuditFilter { action: Some(AuditAction::Search), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(searches.len(), 2, "each successful search is itself recorded");
    let log_all = app.store.search_audit(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
    assert!(
        log_all.iter().all(|e| !e.entry.record_id.as_deref().unwrap_or("").contains('@')),
        "no email in recorded paths"
    );
    assert_eq!(searches[0].entry.actor_user_id, Some(admin.id));

    let mut e = Client::new(&app.router);
    e.sign_in("admin@elsewhere.test", PASSWORD).await;
    let theirs = e.get("/admin/audit").await;
    assert!(!theirs.body.contains("headingley"), "tenant isolation: {}", theirs.body);
    let _ = app.clock.now();
});
