//! The directory on both databases: the official Open Referral UK examples import (JSON and
//! CSV) and re-import in place; a bad feed is reported record by record with the rest imported;
//! search filters; the public `/openreferral` API validated against the official compiled
//! schemas; and the closed loop of a referral out, from a person's record to a voluntary
//! group's inbox and back, with nudges and unmet need.

use crate::helpers::{Client, PASSWORD, pcn, urlencode, user};
use axum::http::StatusCode;
use chrono::Duration;
use linkwork::directory::{Feed, import};
use linkwork_domain::Clock;
use linkwork_domain::access::organisations::Team;
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::connections::{TaskStatus, UnmetReason};
use linkwork_domain::directory::{Capacity, DirectoryQuery, NEAREST_CANDIDATES};
use linkwork_domain::ids::{ReferralId, TeamId};
use linkwork_domain::intake::referrals::Referral;
use linkwork_domain::people::Person;
use linkwork_domain::ports::{DirectoryImportStore, DirectoryStore, Store, TrustStore};
use linkwork_domain::values::Postcode;
use linkwork_testkit::{TestApp, TestDb, app_test, db_test, test_epoch};
use serde_json::{Value, json};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../share").join(rel)
}

const EXAMPLE_SERVICE: &str = "ac148810-d857-441c-9679-408f346de14b";

async fn import_examples(store: &dyn Store, clock: &dyn Clock) -> linkwork::directory::ImportReport {
    let feed = Feed::read_path(&data("oruk/examples")).unwrap();
    import(store, clock, feed, "examples").await.unwrap()
}

db_test!(oruk_examples_import_cleanly_and_again_in_place, |db: TestDb| async move {
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    let r = import_examples(&db.store, &clock).await;
    assert!(r.errors.is_empty(), "the official JSON examples import cleanly: {:?}", r.errors);
    assert_eq!((r.counts.created, r.counts.updated), (1, 0), "one service, seen in six files, is one record");
    assert!(
        r.warnings.iter().any(|w| w.message.contains("not on Earth")),
        "latitude 100 is kept but not used for distance"
    );
    let again = import_examples(&db.store, &clock).await;
    assert_eq!(
        (again.counts.created, again.counts.updated, again.counts.unchanged),
        (0, 0, 1),
        "a re-run changes nothing"
    );

    let csv = import(&db.store, &clock, Feed::read_path(&data("oruk/examples/csv")).unwrap(), "csv").await.unwrap();
    assert!(csv.errors.is_empty(), "the official CSV examples import cleanly: {:?}", csv.errors);
    assert_eq!(csv.counts.created, 0, "the CSV describes the same service, by id");
    assert_eq!(db.store.count_services().await.unwrap(), 1);

    let l = db.store.get_listing(EXAMPLE_SERVICE.parse().unwrap()).await.unwrap();
    assert_eq!(l.name, "Community Counselling");
    assert_eq!((l.minimum_age, l.maximum_age), (Some(12.0), Some(100.0)));
    assert!(l.modes.in_person && l.modes.online, "from the location type and 'in-person or remotely via video'");
    assert!(l.accessibility.contains("induction loops"));
    assert_eq!(l.capacity, Capacity::Accepting);
    let history = db.store.listing_history(l.id, 10).await.unwrap();
    assert!(history.iter().any(|h| h.what.starts_with("Imported from")), "{history:?}");

    let search = |q: DirectoryQuery| {
        let s = db.store.clone();
        async move { s.search_directory(&q, 0, 10).await.unwrap().1 }
    };
    assert_eq!(search(DirectoryQuery { text: "counsel".into(), ..Default::default() }).await, 1, "prefix of a word");
    let (past_the_end, total) = db
        .store
        .search_directory(&DirectoryQuery { text: "counsel".into(), ..Default::default() }, 10, 10)
        .await
        .unwrap();
    assert_eq!((past_the_end.len(), total), (0, 1), "a page past the end still knows the total");
    assert_eq!(search(DirectoryQuery { text: "anxiety depression".into(), ..Default::default() }).await, 1);
    assert_eq!(
        search(DirectoryQuery { text: "counselling gardening".into(), ..Default::default() }).await,
        0,
        "every word must match"
    );
    assert_eq!(search(DirectoryQuery { ages: Some((8.0, 8.0)), ..Default::default() }).await, 0, "from 12");
    assert_eq!(search(DirectoryQuery { ages: Some((40.0, 40.0)), ..Default::default() }).await, 1);
    assert_eq!(
        search(DirectoryQuery { day: Some(3), from: Some(11 * 60), ..Default::default() }).await,
        1,
        "Thursdays 10 to 6"
    );
    assert_eq!(search(DirectoryQuery { day: Some(0), ..Default::default() }).await, 0, "not Mondays");
    assert_eq!(
        search(DirectoryQuery { day: Some(4), from: Some(19 * 60), ..Default::default() }).await,
        0,
        "closed by 7pm"
    );
    assert_eq!(search(DirectoryQuery { free_only: true, ..Default::default() }).await, 0, "£35 a session");
    assert_eq!(search(DirectoryQuery { accessibility: Some("wheelchair".into()), ..Default::default() }).await, 1);
    assert_eq!(search(DirectoryQuery { phone: true, ..Default::default() }).await, 0);
    assert_eq!(search(DirectoryQuery { capacity: vec![Capacity::NotAccepting], ..Default::default() }).await, 0);
});

db_test!(a_bad_feed_is_reported_record_by_record, |db: TestDb| async move {
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    import_examples(&db.store, &clock).await;
    let org = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610";
    let good = "0193b000-0000-7000-8000-000000000001";
    let service = |id: &str, extra: Value| {
        let mut v = json!({"id": id, "name": "Walking group", "status": "active", "organization_id": org});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    };
    let mut feed = Feed::default();
    feed.add_json(
        "services.json",
        None,
        json!({"contents": [
            service(good, json!({"description": "Gentle walks", "schedules": [{"id": "0193b000-0000-7000-8000-0000000000a1", "byday": "MO", "opens_at": "10:00", "closes_at": "12:00"}]})),
            service("0193b000-0000-7000-8000-000000000002", json!({"minimum_age": "ten"})),
            service("0193b000-0000-7000-8000-000000000003", json!({"name": ""})),
            service(good, json!({})),
            service("0193b000-0000-7000-8000-000000000004", json!({"attributes": [{"id": "0193b000-0000-7000-8000-0000000000b1", "taxonomy_term_id": "0193b000-0000-7000-8000-0000000000ff"}]})),
            service("0193b000-0000-7000-8000-000000000005", json!({"schedules": [{"id": "0193b000-0000-7000-8000-0000000000a2", "byday": "MO", "opens_at": "18:00", "closes_at": "09:00"}]})),
            service("0193b000-0000-7000-8000-000000000006", json!({"organization_id": "0193b000-0000-7000-8000-0000000000cc"})),
            service("not-a-uuid", json!({})),
            service("0193b000-0000-7000-8000-000000000007", json!({"status": "open"})),
        ]}),
    );
    let r = import(&db.store, &clock, feed, "bad").await.unwrap();
    assert_eq!(r.counts.created, 1, "the one sound record is imported: {:?}", r.errors);
    let by_id = |id: &str| {
        r.errors
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.message.clone())
            .unwrap_or_else(|| panic!("no error for {id}: {:?}", r.errors))
    };
    assert!(by_id("0193b000-0000-7000-8000-000000000002").contains("invalid type"));
    assert!(by_id("0193b000-0000-7000-8000-000000000003").contains("name is required"));
    assert!(by_id(good).contains("twice in the same file"));
    assert!(by_id("0193b000-0000-7000-8000-000000000004").contains("not in the feed or the directory"));
    assert!(by_id("0193b000-0000-7000-8000-000000000005").contains("before it opens"));
    assert!(by_id("0193b000-0000-7000-8000-000000000006").contains("is not in the feed or the directory"));
    assert!(by_id("not-a-uuid").contains("UUID") || by_id("not-a-uuid").contains("invalid"));
    assert!(by_id("0193b000-0000-7000-8000-000000000007").contains("status"));
    assert_eq!(db.store.count_services().await.unwrap(), 2, "the example and the good one; nothing else written");
    // Running the same feed again is safe: the good record is unchanged, the bad still reported.
    let mut again = Feed::default();
    again.add_json("services.json", None, json!([service(good, json!({"description": "Gentle walks", "schedules": [{"id": "0193b000-0000-7000-8000-0000000000a1", "byday": "MO", "opens_at": "10:00", "closes_at": "12:00"}]}))]));
    let r2 = import(&db.store, &clock, again, "bad").await.unwrap();
    assert_eq!((r2.counts.created, r2.counts.unchanged), (0, 1));
    // A file that is not JSON at all fails alone.
    let dir = linkwork_testkit::temp_dir("oruk-bad");
    std::fs::write(dir.join("services.json"), "{ this is not json").unwrap();
    std::fs::copy(data("oruk/examples/taxonomy.json"), dir.join("taxonomy.json")).unwrap();
    let r3 = import(&db.store, &clock, Feed::read_path(&dir).unwrap(), "dir").await.unwrap();
    assert_eq!(r3.errors.len(), 1, "{:?}", r3.errors);
    assert_eq!(r3.taxonomies, 1, "the good file in the folder still imports");
});

/// Compile an official schema, checking formats (uuid, uri, email, date-time) too.
fn schema(name: &str) -> jsonschema::Validator {
    let v = inline_refs(load_schema(name));
    jsonschema::options().should_validate_formats(true).build(&v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load_schema(name: &str) -> Value {
    let text = std::fs::read_to_string(data(&format!("oruk/schema/{name}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The uncompiled schemas refer to their siblings by file name (`"$ref": "taxonomy_term.json"`):
/// put the sibling in place, as the compiled ones already are.
fn inline_refs(v: Value) -> Value {
    match v {
        Value::Object(m) => match m.get("$ref").and_then(Value::as_str) {
            Some(r) if r.ends_with(".json") && !r.contains('/') => inline_refs(load_schema(r)),
            _ => Value::Object(m.into_iter().map(|(k, v)| (k, inline_refs(v))).collect()),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(inline_refs).collect()),
        other => other,
    }
}

fn conforms(validator: &jsonschema::Validator, what: &str, instance: &Value) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not conform: {errors:?}\n{instance:#}");
}

fn page_envelope(v: &Value) -> &Vec<Value> {
    for k in ["total_items", "total_pages", "page_number", "size"] {
        assert!(v[k].is_i64(), "{k} in {v}");
    }
    for k in ["first_page", "last_page", "empty"] {
        assert!(v[k].is_boolean(), "{k} in {v}");
    }
    v["contents"].as_array().expect("contents")
}

app_test!(the_open_referral_api_conforms_to_the_official_schemas, |app: TestApp| async move {
    import_examples(app.store.as_ref(), app.clock.as_ref()).await;
    let app = app.with_demo().await;
    let mut c = Client::new(&app.router);
    let service = schema("compiled/service.json");
    let service_list = schema("compiled/service_list.json");
    let sal = schema("compiled/service_at_location.json");
    let sal_list = schema("compiled/service_at_location_list.json");
    let taxonomy = schema("taxonomy.json");
    let term = schema("taxonomy_term.json");

    let root = c.get("/openreferral").await;
    assert_eq!(root.status, StatusCode::OK);
    assert_eq!(root.header("access-control-allow-origin"), "*");
    assert_eq!(root.json()["version"], "3.0");

    let list = c.get("/openreferral/services?per_page=200").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.header("access-control-allow-origin"), "*", "open to any origin, no key");
    let body = list.json();
    let items = page_envelope(&body).clone();
    assert!(items.len() > 30, "the demo's services and the example");
    for item in &items {
        conforms(&service_list, "a /services item", item);
        let id = item["id"].as_str().unwrap();
        let full = c.get(&format!("/openreferral/services/{id}")).await;
        assert_eq!(full.status, StatusCode::OK);
        conforms(&service, "/services/{id}", &full.json());
    }
    let example = c.get(&format!("/openreferral/services/{EXAMPLE_SERVICE}")).await.json();
    assert_eq!(example["organization"]["name"], "Example Organization Inc.");
    assert_eq!(example["service_at_locations"][0]["location"]["addresses"][0]["postal_code"], "ABC 1234");
    assert_eq!(example["schedules"][0]["byday"], "TH,FR");

    let sals = c.get("/openreferral/service_at_locations?per_page=50&page=1").await.json();
    let sal_items = page_envelope(&sals).clone();
    assert!(!sal_items.is_empty());
    for item in &sal_items {
        conforms(&sal_list, "a /service_at_locations item", item);
        let one = c.get(&format!("/openreferral/service_at_locations/{}", item["id"].as_str().unwrap())).await;
        conforms(&sal, "/service_at_locations/{id}", &one.json());
    }
    let taxonomies = c.get("/openreferral/taxonomies").await.json();
    for t in page_envelope(&taxonomies).clone() {
        conforms(&taxonomy, "a taxonomy", &t);
        conforms(
            &taxonomy,
            "/taxonomies/{id}",
            &c.get(&format!("/openreferral/taxonomies/{}", t["id"].as_str().unwrap())).await.json(),
        );
    }
    let terms = c.get("/openreferral/taxonomy_terms?per_page=5").await.json();
    assert_eq!(terms["size"], 5);
    for t in page_envelope(&terms).clone() {
        conforms(&term, "a term", &t);
        conforms(
            &term,
            "/taxonomy_terms/{id}",
            &c.get(&format!("/openreferral/taxonomy_terms/{}", t["id"].as_str().unwrap())).await.json(),
        );
    }

    // The standard parameters filter.
    let found = c.get("/openreferral/services?search=counselling").await.json();
    assert_eq!(found["total_items"], 1);
    let near = c.get("/openreferral/services?postcode=LS14%201AA&proximity=3000").await.json();
    assert!(near["total_items"].as_i64().unwrap() > 0, "demo services near Seacroft");
    let far = c.get("/openreferral/services?postcode=LS21%201AA&proximity=1000").await.json();
    assert!(far["total_items"].as_i64().unwrap() < near["total_items"].as_i64().unwrap());
    let young = c.get("/openreferral/services?maximum_age=10").await.json();
    let all = c.get("/openreferral/services").await.json();
    assert!(
        young["total_items"].as_i64().unwrap() < all["total_items"].as_i64().unwrap(),
        "over-12s and adults-only left out"
    );
    let later = c.get("/openreferral/services?modified_after=2100-01-01").await.json();
    assert_eq!(later["total_items"], 0);
    let p2 = c.get("/openreferral/services?per_page=10&page=2").await.json();
    assert_eq!((p2["page_number"].as_i64(), p2["first_page"].as_bool()), (Some(2), Some(false)));

    // Bad parameters: problem details, still open to any origin.
    for bad in [
        "page=0",
        "per_page=1000",
        "taxonomy_id=nope",
        "day=Funday",
        "start_time=25:00",
        "postcode=ZZ99%209ZZ",
        "modified_after=yesterday",
    ] {
        let r = c.get(&format!("/openreferral/services?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.header("content-type"), "application/problem+json", "{bad}");
        assert_eq!(r.header("access-control-allow-origin"), "*");
    }
    assert_eq!(
        c.get("/openreferral/services/0193b000-0000-7000-8000-000000000999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.get("/openreferral/services/not-an-id").await.status, StatusCode::NOT_FOUND);
});

struct Loop {
    person: Person,
    service: String,
    worker: Client,
    partner: Client,
}

async fn closed_loop_setup(app: &TestApp) -> Loop {
    let (store, clock) = (app.store.as_ref(), app.clock.as_ref());
    let org = pcn(store, clock, "Seacroft PCN").await;
    let team = Team { id: TeamId::new(), org_id: org.id, name: "Seacroft team".into(), created_at: clock.now() };
    store.create_team(&team).await.unwrap();
    let worker = user(store, clock, &org, "lw@seacroft.test", &["link_worker"]).await;
    store.add_team_member(team.id, worker.id).await.unwrap();
    let vcse = linkwork::admin::create_org(store, clock, "Seacroft Walkers", "vcse", None, None).await.unwrap();
    store.set_org_requires_two_factor(vcse.id, false).await.unwrap();
    user(store, clock, &vcse, "val@walkers.test", &["vcse_partner"]).await;
    // The group's listing, managed by the group.
    let mut feed = Feed::default();
    let service = "0193b000-0000-7000-8000-00000000aa01";
    feed.add_json("walkers.json", None, json!({
        "id": service, "name": "Seacroft health walks", "status": "active", "email": "walks@walkers.test",
        "description": "Weekly walks", "organization": {"id": vcse.id.to_string(), "name": "Seacroft Walkers", "description": "Walks"}
    }));
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
    let person = Person {
        org_id: org.id,
        given_name: "Ada".into(),
        family_name: "Okafor".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1948, 5, 2).unwrap(),
        postcode: Some(Postcode::parse("LS14 6AB").unwrap()),
        phone: Some("07700 900123".into()),
        created_at: clock.now(),
        ..Person::default()
    };
    let referral = Referral {
        id: ReferralId::new(),
        org_id: org.id,
        person_id: person.id,
        team_id: Some(team.id),
        reason: "Lonely".into(),
        consent: true,
        received_at: clock.now(),
        ..Referral::default()
    };
    store.import_referrals(std::slice::from_ref(&person), &[referral]).await.unwrap();
    let mut w = Client::new(&app.router);
    assert_eq!(w.sign_in("lw@seacroft.test", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let mut p = Client::new(&app.router);
    assert_eq!(p.sign_in("val@walkers.test", PASSWORD).await.status, StatusCode::SEE_OTHER);
    Loop { person, service: service.into(), worker: w, partner: p }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
}

app_test!(a_referral_out_closes_the_loop, |app: TestApp| async move {
    let Loop { person, service, mut worker, mut partner } = closed_loop_setup(&app).await;
    let connect = format!("/people/{}/connect/{service}", person.id);
    // A link worker of the same PCN outside her team's caseload can neither search for her nor
    // connect her.
    let outsider_org = app.store.get_org(person.org_id).await.unwrap();
    user(app.store.as_ref(), app.clock.as_ref(), &outsider_org, "other@seacroft.test", &["link_worker"]).await;
    let mut outsider = Client::new(&app.router);
    outsider.sign_in("other@seacroft.test", PASSWORD).await;
    assert_eq!(outsider.get(&format!("/directory?for={}", person.id)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(outsider.get(&connect).await.status, StatusCode::FORBIDDEN);
    assert_eq!(worker.get(&format!("/directory?for={}", person.id)).await.status, StatusCode::OK);
    let page = worker.get(&connect).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // No consent: refused with the error summary, nothing sent.
    let r = worker
        .post_form(
            &connect,
            &form(&[("kind", "refer"), ("need", "loneliness"), ("share", "phone"), ("note", "Likes mornings")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("There is a problem") && r.body.contains("agreement to share"));
    assert!(app.store.person_connections(person.org_id, person.id).await.unwrap().is_empty());
    let r = worker
        .post_form(
            &connect,
            &form(&[
                ("kind", "refer"),
                ("need", "loneliness"),
                ("consent", "yes"),
                ("share", "phone"),
                ("note", "Likes mornings"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = app.store.person_connections(person.org_id, person.id).await.unwrap().remove(0);
    assert_eq!((c.status, c.consent_at.is_some()), (TaskStatus::Requested, true));
    assert_eq!(c.shared.phone.as_deref(), Some("07700 900123"));
    assert!(c.shared.email.is_none() && c.shared.age.is_none(), "only what was ticked leaves the record");
    let mail = app
        .db
        .store
        .all_messages(5)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == "walks@walkers.test")
        .expect("the service is told");
    assert!(!mail.body.contains("Ada"), "the email names nobody");

    // The group's inbox, and the referral with only the shared details.
    let inbox = partner.get("/partner").await;
    assert!(inbox.body.contains("Ada Okafor"), "{}", inbox.body);
    let view = partner.get(&format!("/partner/referrals/{}", c.id)).await;
    assert!(view.body.contains("07700 900123") && view.body.contains("Likes mornings"));
    assert!(!view.body.contains("LS14"), "the postcode was not shared");
    // Declining needs a reason; a stale version is a conflict; statuses follow the Task rules.
    let v = |n: i32| n.to_string();
    let r = partner
        .post_form(&format!("/partner/referrals/{}", c.id), &form(&[("status", "rejected"), ("version", &v(1))]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = partner
        .post_form(&format!("/partner/referrals/{}", c.id), &form(&[("status", "completed"), ("version", &v(1))]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "requested cannot jump to completed");
    for (status, version) in [("accepted", 1), ("in-progress", 2), ("in-progress", 3), ("completed", 4)] {
        let r = partner
            .post_form(&format!("/partner/referrals/{}", c.id), &form(&[("status", status), ("version", &v(version))]))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{status}: {}", r.body);
    }
    let r = partner
        .post_form(&format!("/partner/referrals/{}", c.id), &form(&[("status", "cancelled"), ("version", &v(1))]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "completed is final");
    use linkwork_domain::ports::ConnectionScope;
    let done = app.store.get_connection(ConnectionScope::Tenant(c.org_id), c.id).await.unwrap();
    // The tenant is in the query: another tenant, or an organisation that does not own the
    // service, finds nothing, the connection or its history.
    let stranger = linkwork_domain::ids::OrgId::new();
    for scope in
        [ConnectionScope::Tenant(stranger), ConnectionScope::Receiving(&[stranger]), ConnectionScope::Receiving(&[])]
    {
        assert!(matches!(app.store.get_connection(scope, c.id).await, Err(linkwork_domain::StoreError::NotFound)));
        assert!(matches!(app.store.connection_events(scope, c.id).await, Err(linkwork_domain::StoreError::NotFound)));
    }
    assert!(!app.store.connection_events(ConnectionScope::Tenant(c.org_id), c.id).await.unwrap().is_empty());
    assert_eq!(done.status, TaskStatus::Completed);
    assert!(done.answered_at.is_some());
    // Back on the link worker's record.
    let record = worker.get(&format!("/people/{}", person.id)).await;
    assert!(record.body.contains("Seacroft health walks") && record.body.contains("Completed"), "{}", record.body);
    // Responsiveness shows on the service.
    let page = worker.get(&format!("/directory/services/{service}")).await;
    assert!(page.body.contains("accepts 100% of 1 referrals answered"), "{}", page.body);
    // Another group cannot see it.
    let other = linkwork::admin::create_org(app.store.as_ref(), app.clock.as_ref(), "Other Group", "vcse", None, None)
        .await
        .unwrap();
    app.store.set_org_requires_two_factor(other.id, false).await.unwrap();
    user(app.store.as_ref(), app.clock.as_ref(), &other, "x@other.test", &["vcse_partner"]).await;
    let mut stranger = Client::new(&app.router);
    stranger.sign_in("x@other.test", PASSWORD).await;
    assert_eq!(stranger.get(&format!("/partner/referrals/{}", c.id)).await.status, StatusCode::NOT_FOUND);
    assert!(!stranger.get("/partner").await.body.contains("Ada"));
    // Every view of the person by the group is audited.
    let events = app.store.audit_after(0, 10_000).await.unwrap();
    let seen = |action: linkwork_domain::access::audit::AuditAction| {
        events.iter().any(|e| {
            e.entry.actor == "val@walkers.test" && e.entry.person_id == Some(person.id) && e.entry.action == action
        })
    };
    assert!(
        seen(linkwork_domain::access::audit::AuditAction::View)
            && seen(linkwork_domain::access::audit::AuditAction::Update),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.entry.actor == "val@walkers.test" && e.entry.people.contains(&person.id)),
        "the inbox list names the person"
    );
});

app_test!(unanswered_referrals_are_nudged_and_capacity_declines_are_unmet_need, |app: TestApp| async move {
    let Loop { person, service, mut worker, .. } = closed_loop_setup(&app).await;
    let connect = format!("/people/{}/connect/{service}", person.id);
    let refer = form(&[("kind", "refer"), ("need", "physical_activity"), ("consent", "yes")]);
    assert_eq!(worker.post_form(&connect, &refer).await.status, StatusCode::SEE_OTHER);
    let w = app.worker();
    assert_eq!(w.nudge_referrals().await.unwrap(), (0, 0), "not yet due");
    app.clock.advance(Duration::days(14));
    assert_eq!(w.nudge_referrals().await.unwrap(), (1, 0), "the service is reminded");
    assert_eq!(w.nudge_referrals().await.unwrap(), (0, 0), "once");
    let reminders = app
        .db
        .store
        .all_messages(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains("waiting for your answer"))
        .count();
    assert_eq!(reminders, 1);
    app.clock.advance(Duration::days(14));
    assert_eq!(w.nudge_referrals().await.unwrap(), (0, 1), "then marked not answered");
    // A month on, both sign in again (sessions have expired).
    let mut worker = Client::new(&app.router);
    worker.sign_in("lw@seacroft.test", PASSWORD).await;
    let mut partner = Client::new(&app.router);
    partner.sign_in("val@walkers.test", PASSWORD).await;
    let record = worker.get(&format!("/people/{}", person.id)).await;
    assert!(record.body.contains("Not answered"), "the link worker sees it");

    // A decline at capacity becomes unmet need; so does "no suitable service".
    let c = app.store.person_connections(person.org_id, person.id).await.unwrap().remove(0);
    let r = partner
        .post_form(
            &format!("/partner/referrals/{}", c.id),
            &form(&[("status", "rejected"), ("reason", "at_capacity"), ("version", "1")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = worker
        .post_form(
            &format!("/people/{}/unmet", person.id),
            &form(&[("need", "money"), ("note", "debt advice in Polish")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let unmet = app.store.unmet_needs(person.org_id, app.clock.now() - Duration::days(365)).await.unwrap();
    let mut reasons: Vec<(UnmetReason, NeedDomain)> = unmet.iter().map(|u| (u.reason, u.need)).collect();
    reasons.sort_by_key(|r| r.0.as_str());
    assert_eq!(
        reasons,
        vec![
            (UnmetReason::AtCapacity, NeedDomain::PhysicalActivity),
            (UnmetReason::NoSuitableService, NeedDomain::Money)
        ]
    );
    // The manager sees the counts and what was looked for, never whom; a link worker cannot.
    assert_eq!(worker.get("/team/unmet").await.status, StatusCode::FORBIDDEN);
    let org = app.store.get_org(person.org_id).await.unwrap();
    user(app.store.as_ref(), app.clock.as_ref(), &org, "mgr@seacroft.test", &["manager"]).await;
    let mut manager = Client::new(&app.router);
    manager.sign_in("mgr@seacroft.test", PASSWORD).await;
    let report = manager.get("/team/unmet").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.body.contains("debt advice in Polish"), "{}", report.body);
    assert!(!report.body.contains("Okafor"), "the report names no one");
    assert_eq!(report.body.matches("nhsuk-table__cell--numeric\">1<").count(), 2, "{}", report.body);
});

app_test!(listings_are_trusted_reported_and_edited_by_their_owners, |app: TestApp| async move {
    let Loop { service, worker, mut partner, .. } = closed_loop_setup(&app).await;
    let mut worker = worker;
    let page = worker.get(&format!("/directory/services/{service}")).await;
    assert!(
        page.body.contains("Not yet checked") && !page.body.contains("Update this listing"),
        "a link worker reads; it is not theirs"
    );
    // Anyone reports a problem; bad input gets the error summary.
    let mut public = Client::new(&app.router);
    let r = public.post_form(&format!("/directory/services/{service}/report"), &form(&[("details", "")])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = public
        .post_form(
            &format!("/directory/services/{service}/report"),
            &form(&[("kind", "contact_wrong"), ("details", "The phone number is old")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.store.service_reports(service.parse().unwrap()).await.unwrap().len(), 1);
    // The owner updates capacity and verifies; the history says who and what.
    let edit = format!("/directory/services/{service}/edit");
    assert_eq!(partner.get(&edit).await.status, StatusCode::OK);
    assert_eq!(worker.get(&edit).await.status, StatusCode::FORBIDDEN);
    let fields = |capacity: &str, version: &str| {
        form(&[
            ("capacity", capacity),
            ("name", "Seacroft health walks"),
            ("description", "Weekly walks"),
            ("status", "active"),
            ("email", "walks@walkers.test"),
            ("review_months", "6"),
            ("verified", "yes"),
            ("version", version),
        ])
    };
    let r = partner.post_form(&edit, &fields("nonsense", "1")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let version = app.store.get_listing(service.parse().unwrap()).await.unwrap().version.to_string();
    let r = partner.post_form(&edit, &fields("waitlist_1_to_3_months", &version)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stale = partner.post_form(&edit, &fields("accepting", &version)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a second edit from the same old version");
    let l = app.store.get_listing(service.parse().unwrap()).await.unwrap();
    assert_eq!(l.capacity, Capacity::WaitOneToThree);
    assert!(l.verified_by.as_deref().unwrap_or("").contains("Seacroft Walkers"));
    let history = app.store.listing_history(l.id, 10).await.unwrap();
    assert!(history[0].what.contains("capacity") && history[0].what.contains("verified"), "{history:?}");
    // Capacity shows in search and at the point of referral.
    let found = worker.get("/directory?q=walks").await;
    assert!(found.body.contains("Waiting list: 1 to 3 months"), "{}", found.body);
    // Past its review date the listing is stale and its owner is reminded once.
    app.clock.advance(Duration::days(200));
    let w = app.worker();
    assert_eq!(w.remind_reviews().await.unwrap(), 1);
    assert_eq!(w.remind_reviews().await.unwrap(), 0);
    let mut worker = Client::new(&app.router);
    worker.sign_in("lw@seacroft.test", PASSWORD).await;
    assert!(worker.get(&format!("/directory/services/{service}")).await.body.contains("Due for checking"));
});

db_test!(a_live_feed_imports_by_url_and_syncs_what_changed, |db: TestDb| async move {
    // Another linkwork serves the feed: a real Open Referral UK API over HTTP.
    let remote = TestApp::spawn(linkwork_testkit::Backend::Sqlite).await.unwrap();
    import_examples(remote.store.as_ref(), remote.clock.as_ref()).await;
    let remote = remote.with_demo().await;
    let base = format!("{}/openreferral", remote.base_url);
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    let r = linkwork::directory::import_url(&db.store, &clock, &base, None).await.unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let total = remote.store.count_services().await.unwrap();
    assert_eq!(r.counts.created, total, "every page of /services, each service in full");
    let example = db.store.get_listing(EXAMPLE_SERVICE.parse().unwrap()).await.unwrap();
    assert_eq!(example.document.schedules[0].byday.as_deref(), Some("TH,FR"), "the full form, not the list form");
    assert_eq!(db.store.service_places(&[example.id]).await.unwrap().len(), 1);
    let (_, in_search) = db
        .store
        .search_directory(&DirectoryQuery { text: "walking".into(), ..Default::default() }, 0, 5)
        .await
        .unwrap();
    assert!(in_search > 0, "imported services are searchable");

    // Remember the feed; a service changes upstream; the daily sync takes only what changed.
    db.store.save_feed(&base, Some(clock.now()), "first import").await.unwrap();
    remote.clock.advance(Duration::hours(1));
    let mut changed = remote.store.get_listing(EXAMPLE_SERVICE.parse().unwrap()).await.unwrap();
    changed.name = "Community Counselling (evenings)".into();
    let change = linkwork_domain::directory::ListingChange {
        service_id: changed.id,
        at: remote.clock.now(),
        by: None,
        who: "upstream".into(),
        what: "renamed".into(),
    };
    remote.store.update_listing(&changed, &change).await.unwrap();
    let every = linkwork::worker::FEED_SYNC_EVERY;
    assert_eq!(
        linkwork::directory::sync_feeds(&db.store, &clock, every).await.unwrap(),
        0,
        "synced less than a day ago"
    );
    clock.advance(Duration::hours(25));
    assert_eq!(linkwork::directory::sync_feeds(&db.store, &clock, every).await.unwrap(), 1);
    let local = db.store.get_listing(EXAMPLE_SERVICE.parse().unwrap()).await.unwrap();
    assert_eq!(local.name, "Community Counselling (evenings)");
    let history = db.store.listing_history(local.id, 5).await.unwrap();
    assert!(history[0].what.starts_with("Updated from http://"), "{history:?}");
    let feeds = db.store.feeds().await.unwrap();
    assert_eq!(feeds, vec![(base.clone(), Some(clock.now()))]);

    // A feed that cannot be reached is a clear error and writes nothing.
    let before = db.store.count_services().await.unwrap();
    let err =
        linkwork::directory::import_url(&db.store, &clock, "http://127.0.0.1:9/openreferral", None).await.unwrap_err();
    assert!(err.to_string().contains("could not read http://127.0.0.1:9/openreferral/services"), "{err}");
    assert!(linkwork::directory::import_url(&db.store, &clock, "ftp://example.org", None).await.is_err());
    assert_eq!(db.store.count_services().await.unwrap(), before);
});

db_test!(postcodes_locate_people_and_their_area_deprivation, |db: TestDb| async move {
    let (points, problems) = linkwork::directory::read_postcodes(&data("postcodes-sample.csv")).unwrap();
    assert!(problems.is_empty());
    let deciles = linkwork::directory::read_deciles(&data("deprivation-sample.csv")).unwrap();
    db.store.import_postcodes(&points, &deciles).await.unwrap();
    let first = &points[0];
    let (p, decile) = db.store.locate_postcode(&first.postcode.to_lowercase()).await.unwrap().unwrap();
    assert_eq!(p, (first.latitude, first.longitude), "found whatever the case and spacing");
    let expected = deciles.iter().find(|(l, _)| Some(l) == first.lsoa.as_ref()).map(|d| d.1);
    assert_eq!(decile, expected);
    let (district, none) = db.store.locate_postcode("LS14 9ZZ").await.unwrap().unwrap();
    assert!(
        (district.0 - 53.820).abs() < 0.02 && none.is_none(),
        "an unknown postcode falls back to its district's centre"
    );
    assert!(db.store.locate_postcode("ZZ99 9ZZ").await.unwrap().is_none());
    // Re-importing replaces, never duplicates.
    db.store.import_postcodes(&points, &deciles).await.unwrap();
    // Code-Point Open rows (no header, National Grid) convert to latitude and longitude.
    let dir = linkwork_testkit::temp_dir("codepoint");
    std::fs::write(
        dir.join("ls.csv"),
        "\"LS1 1UR\",10,429800,433800,E92000001,,E19000003,E18000003,E08000035,E05011393\nBAD,10,x,y\n",
    )
    .unwrap();
    let (cp, bad) = linkwork::directory::read_postcodes(&dir.join("ls.csv")).unwrap();
    assert_eq!(cp.len(), 1);
    assert_eq!(bad.len(), 1, "a row without coordinates is reported");
    assert!((cp[0].latitude - 53.80).abs() < 0.01 && (cp[0].longitude + 1.55).abs() < 0.01);
});

db_test!(a_dense_area_keeps_its_nearest_service, |db: TestDb| async move {
    // More services in the search box than a distance search weighs, all named before the
    // nearest one: the nearest still comes first, and the total says how many were weighed.
    let clock = linkwork_domain::FixedClock::new(test_epoch());
    const ORG: &str = "0193b000-0000-7000-8000-00000000c0de";
    let crowd = usize::try_from(NEAREST_CANDIDATES).unwrap() + 1;
    let place = |i: u128, lat: f64| {
        json!([{
            "id": uuid::Uuid::from_u128(0x0193_e000_0000_7000_8000_0000_0000_0000 + i).to_string(),
            "location": {
                "id": uuid::Uuid::from_u128(0x0193_f000_0000_7000_8000_0000_0000_0000 + i).to_string(),
                "location_type": "physical", "latitude": lat, "longitude": -1.55
            }
        }])
    };
    let mut services: Vec<Value> = (0..crowd)
        .map(|i| {
            json!({
                "id": uuid::Uuid::from_u128(0x0193_c000_0000_7000_8000_0000_0000_0000 + i as u128).to_string(),
                "name": format!("Aaa hall {i:05}"), "status": "active", "organization_id": ORG,
                "service_at_locations": place(i as u128, 53.809)
            })
        })
        .collect();
    services.push(json!({
        "id": uuid::Uuid::from_u128(0x0193_c000_0000_7000_8000_0000_ffff_ffff).to_string(),
        "name": "Zz round the corner", "status": "active", "organization_id": ORG,
        "service_at_locations": place(0xffff_ffff, 53.801)
    }));
    let mut feed = Feed::default();
    let org = json!([{"id": ORG, "name": "Crowded City Council for Voluntary Service", "description": "Many halls"}]);
    feed.add_json("orgs.json", Some(linkwork::directory::Kind::Organization), org);
    feed.add_json("crowd.json", None, Value::Array(services));
    let r = import(&db.store, &clock, feed, "test").await.unwrap();
    assert!(r.errors.is_empty(), "{:?}", &r.errors[..r.errors.len().min(3)]);
    let q =
        DirectoryQuery { near: Some((53.800, -1.55)), radius_km: 3.0, active_only: true, ..DirectoryQuery::default() };
    let (hits, total) = db.store.search_directory(&q, 0, 2).await.unwrap();
    assert_eq!(hits[0].listing.name, "Zz round the corner");
    assert!(hits[0].distance_km.unwrap() < 0.2 && hits[1].distance_km.unwrap() > 0.9, "{:?}", hits[1].distance_km);
    assert_eq!(total, NEAREST_CANDIDATES);
});

app_test!(item_08_the_link_worker_sees_when_a_service_answers, |app: TestApp| async move {
    // Issue 12 item 8: a service's answer shows on the caseload and the record until it is read.
    let Loop { person, service, mut worker, mut partner } = closed_loop_setup(&app).await;
    let lw = app.store.find_user_by_email("lw@seacroft.test").await.unwrap();
    let team = app.store.user_teams(lw.id).await.unwrap()[0];
    let waiting = app.store.waiting_referrals(person.org_id, &[team]).await.unwrap()[0].0.id;
    let (team_id, worker_id) = (team.to_string(), lw.id.to_string());
    let decision = form(&[("decision", "accept"), ("team_id", &team_id), ("worker_id", &worker_id)]);
    assert_eq!(
        worker.post_form(&format!("/referrals/{waiting}/triage"), &decision).await.status,
        StatusCode::SEE_OTHER
    );
    let connect = format!("/people/{}/connect/{service}", person.id);
    let refer = form(&[("kind", "refer"), ("need", "loneliness"), ("consent", "yes"), ("share", "phone")]);
    assert_eq!(worker.post_form(&connect, &refer).await.status, StatusCode::SEE_OTHER);
    let c = app.store.person_connections(person.org_id, person.id).await.unwrap().remove(0);
    let record = format!("/people/{}", person.id);
    assert!(
        !worker.get("/caseload").await.body.contains("New answer from a service"),
        "the worker's own referral is not news"
    );
    assert!(!worker.get(&record).await.body.contains("New answer"));

    // The worker asks to be emailed too.
    assert!(worker.get("/account/notifications").await.body.contains("Email me when a service answers"));
    let r = worker.post_form("/account/notifications", &form(&[("email_on_answer", "yes")])).await;
    assert_eq!(r.header("location"), "/account/notifications?done=saved");
    assert!(app.store.email_on_answer(lw.id).await.unwrap());
    app.clock.advance(Duration::minutes(20));
    let answer = form(&[("status", "accepted"), ("version", "1")]);
    assert_eq!(partner.post_form(&format!("/partner/referrals/{}", c.id), &answer).await.status, StatusCode::SEE_OTHER);
    let mail: Vec<_> = app
        .db
        .store
        .all_messages(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == "lw@seacroft.test")
        .collect();
    assert_eq!(mail.len(), 1, "one email for the answer");
    assert!(
        mail[0].subject.contains("A service has answered")
            && mail[0].body.contains(&format!("/people/{}#connections", person.id))
    );
    assert!(!mail[0].body.contains("Ada") && !mail[0].body.contains("Okafor"), "the email names nobody");
    let caseload = worker.get("/caseload").await.body;
    assert!(caseload.contains("New answer from a service"), "{caseload}");
    let group = worker.get("/caseload?show=answers").await.body;
    assert!(group.contains("1 person") && group.contains("New answers from services"), "the count opens its group");
    let page = worker.get(&record).await.body;
    assert!(page.contains("A service has answered") && page.contains("New answer"), "{page}");
    // Read once, it is no longer news.
    assert!(!worker.get(&record).await.body.contains("New answer"));
    assert!(!worker.get("/caseload").await.body.contains("New answer from a service"));
    assert!(worker.get("/caseload?show=answers").await.body.contains("Nobody in this group"));
    // Turned off, no more emails; a change the worker makes (cancelling) is not news either.
    assert_eq!(worker.post_form("/account/notifications", "").await.status, StatusCode::SEE_OTHER);
    assert!(!app.store.email_on_answer(lw.id).await.unwrap());
    let c = app.store.person_connections(person.org_id, person.id).await.unwrap().remove(0);
    let cancel = form(&[("version", &c.version.to_string())]);
    assert_eq!(worker.post_form(&format!("/connections/{}/cancel", c.id), &cancel).await.status, StatusCode::SEE_OTHER);
    assert!(!worker.get(&record).await.body.contains("New answer"));
});
