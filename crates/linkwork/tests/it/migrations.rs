//! Every migration tested on data, on both backends: for each migration N, a database is taken
//! to N−1, every table it has is filled with realistic rows (services and voluntary groups
//! included), then it is migrated to N and checked: no table lost a row, no value a column had
//! changed, and the migration's own data steps did what they say.
//!
//! The rows are written once, as the whole of today's schema would hold them; at each older
//! schema only the columns it has are written. A column that is required at some schema and has
//! no value here fails the test with its name, so a new migration's tables get their rows.

use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::ports::Store;
use linkwork_storage::{Db, SqlStore};
use linkwork_testkit::{TestDb, db_test, test_epoch};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// One value, bound as each backend takes the column's type.
#[derive(Clone, Debug)]
enum V {
    U(Uuid),
    T(String),
    I(i64),
    B(bool),
    R(f64),
    At(DateTime<Utc>),
    D(NaiveDate),
}

fn t(s: &str) -> V {
    V::T(s.to_owned())
}

/// The ids the rows share, so foreign keys hold.
struct Ids {
    icb: Uuid,
    pcn: Uuid,
    practice: Uuid,
    vcse: Uuid,
    team: Uuid,
    worker: Uuid,
    referrer: Uuid,
    partner: Uuid,
    people: [Uuid; 3],
    referrals: [Uuid; 3],
    episode: Uuid,
    goal: Uuid,
    service: Uuid,
    term: Uuid,
    taxonomy: Uuid,
    connection: Uuid,
}

fn ids() -> Ids {
    let u = || Uuid::now_v7();
    Ids {
        icb: u(),
        pcn: u(),
        practice: u(),
        vcse: u(),
        team: u(),
        worker: u(),
        referrer: u(),
        partner: u(),
        people: [u(), u(), u()],
        referrals: [u(), u(), u()],
        episode: u(),
        goal: u(),
        service: u(),
        term: u(),
        taxonomy: u(),
        connection: u(),
    }
}

type Row = (&'static str, Vec<(&'static str, V)>);

/// Realistic rows for every table of today's schema (and the columns older schemas had), in an
/// order that keeps foreign keys satisfied.
fn rows(i: &Ids) -> Vec<Row> {
    let at = test_epoch();
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let org = |id, name: &str, kind: &str, ods: Option<&str>, parent: Option<Uuid>| -> Row {
        let mut v = vec![("id", V::U(id)), ("name", t(name)), ("kind", t(kind)), ("created_at", V::At(at))];
        if let Some(o) = ods {
            v.push(("ods_code", t(o)));
        }
        if let Some(p) = parent {
            v.push(("parent_id", V::U(p)));
        }
        v.push(("require_two_factor", V::B(true)));
        ("organisations", v)
    };
    let user = |id, org: Uuid, email: &str, name: &str| -> Row {
        (
            "users",
            vec![
                ("id", V::U(id)),
                ("org_id", V::U(org)),
                ("email", t(email)),
                ("display_name", t(name)),
                ("password_hash", t("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")),
                ("disabled", V::B(false)),
                ("is_demo", V::B(false)),
                ("created_at", V::At(at)),
                ("session_generation", V::I(2)),
            ],
        )
    };
    let role = |user: Uuid, org: Uuid, role: &str| -> Row {
        ("user_roles", vec![("user_id", V::U(user)), ("org_id", V::U(org)), ("role", t(role))])
    };
    let mut out = vec![
        org(i.icb, "West Yorkshire ICB", "icb", Some("QWO"), None),
        org(i.pcn, "Seacroft PCN", "pcn", Some("U12345"), Some(i.icb)),
        org(i.practice, "Seacroft Surgery", "practice", Some("B86001"), Some(i.pcn)),
        org(i.vcse, "Leeds Befrienders", "vcse", None, Some(i.icb)),
        (
            "teams",
            vec![
                ("id", V::U(i.team)),
                ("org_id", V::U(i.pcn)),
                ("name", t("Seacroft team")),
                ("created_at", V::At(at)),
            ],
        ),
        user(i.worker, i.pcn, "amy.lw@seacroft.test", "Amy Clarke"),
        user(i.referrer, i.practice, "dr.khan@seacroft.test", "Dr Imran Khan"),
        user(i.partner, i.vcse, "sue@befrienders.test", "Sue Porter"),
        role(i.worker, i.pcn, "link_worker"),
        role(i.referrer, i.practice, "referrer"),
        role(i.partner, i.vcse, "partner"),
        ("team_members", vec![("team_id", V::U(i.team)), ("user_id", V::U(i.worker))]),
        (
            "sessions",
            vec![
                ("id", t("c2Vzc2lvbi1pZC0x")),
                ("user_id", V::U(i.worker)),
                ("data", t(r#"{"user":"x"}"#)),
                ("expires_at", V::At(at + chrono::Duration::minutes(30))),
            ],
        ),
        (
            "sign_in_throttle",
            vec![("key", t("account:amy.lw@seacroft.test")), ("failures", V::I(2)), ("window_started_at", V::At(at))],
        ),
        (
            "user_two_factor",
            vec![
                ("user_id", V::U(i.worker)),
                ("secret", t("JBSWY3DPEHPK3PXP")),
                ("enabled_at", V::At(at)),
                ("last_step", V::I(59_000_000)),
            ],
        ),
        ("user_recovery_codes", vec![("user_id", V::U(i.worker)), ("code_hash", t("9f86d081884c7d65"))]),
        (
            "account_tokens",
            vec![
                ("token_hash", t("2c26b46b68ffc68ff99b453c1d304134")),
                ("user_id", V::U(i.referrer)),
                ("purpose", t("invite")),
                ("created_at", V::At(at)),
                ("expires_at", V::At(at + chrono::Duration::days(7))),
            ],
        ),
    ];
    let names = [("Ada", "Okafor", "9434765919"), ("Zofia", "Nowak", "4010232137"), ("Sam", "Hughes", "")];
    for (n, (given, family, nhs)) in names.iter().enumerate() {
        let mut v = vec![
            ("id", V::U(i.people[n])),
            ("org_id", V::U(i.pcn)),
            ("given_name", t(given)),
            ("family_name", t(family)),
            ("date_of_birth", V::D(NaiveDate::from_ymd_opt(1948 + n as i32 * 20, 5, 2).unwrap())),
            ("postcode", t("LS14 6AB")),
            ("created_at", V::At(at)),
            ("address", t("4 Kentmere Avenue\nLeeds")),
            ("phone", t("07700 900123")),
            ("contact_by", t("text")),
            ("language", t(if n == 1 { "Polish" } else { "English" })),
            ("interpreter", V::B(n == 1)),
            ("gender", t("female")),
            ("ethnicity", t("A")),
            ("version", V::I(1)),
            ("practice_id", V::U(i.practice)),
        ];
        if n == 0 {
            v.push(("safeguarding", t("Son has power of attorney; speak to him about money")));
        }
        if !nhs.is_empty() {
            v.push(("nhs_number", t(nhs)));
        }
        out.push(("people", v));
        out.push((
            "referrals",
            vec![
                ("id", V::U(i.referrals[n])),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[n])),
                ("team_id", V::U(i.team)),
                ("source", t("gp")),
                ("reason", t("Lonely since her husband died; stopped going out")),
                ("status", t(if n == 2 { "received" } else { "accepted" })),
                ("received_at", V::At(at - chrono::Duration::days(30))),
                ("needs", t("loneliness,bereavement")),
                ("urgency", t("routine")),
                ("consent", V::B(true)),
                ("tried", t("Church lunch club")),
                ("referred_by", V::U(i.referrer)),
                ("referrer_name", t("Dr Imran Khan")),
            ],
        ));
    }
    out.extend([
        // The foundation's services table had `org_id`; from migration 8 it is `organization_id`,
        // a directory organisation (the voluntary group's own, made by migration 8).
        (
            "directory_organizations",
            vec![
                ("id", V::U(i.vcse)),
                ("name", t("Leeds Befrienders")),
                ("description", t("Volunteers who visit and phone")),
                ("owner_org_id", V::U(i.vcse)),
                ("modified_at", V::At(at)),
                ("steward_org_id", V::U(i.icb)),
            ],
        ),
        (
            "services",
            vec![
                ("id", V::U(i.service)),
                ("org_id", V::U(i.vcse)),
                ("organization_id", V::U(i.vcse)),
                ("name", t("Tuesday lunch club")),
                ("description", t("A hot lunch and company, every Tuesday")),
                ("status", t("active")),
                ("url", t("https://befrienders.example/lunch")),
                ("email", t("lunch@befrienders.example")),
                ("created_at", V::At(at)),
                ("minimum_age", V::R(50.0)),
                ("free", V::B(true)),
                ("in_person", V::B(true)),
                ("languages", t("English")),
                ("last_modified", V::At(at)),
                ("verified_at", V::At(at)),
                ("verified_by", t("Sue Porter")),
            ],
        ),
        (
            "service_documents",
            vec![("service_id", V::U(i.service)), ("document", t(r#"{"name":"Tuesday lunch club"}"#))],
        ),
        (
            "taxonomies",
            vec![("id", V::U(i.taxonomy)), ("name", t("Needs")), ("uri", t("https://linkwork.invalid/needs"))],
        ),
        (
            "taxonomy_terms",
            vec![
                ("id", V::U(i.term)),
                ("name", t("Loneliness")),
                ("taxonomy_id", V::U(i.taxonomy)),
                ("code", t("loneliness")),
            ],
        ),
        ("service_terms", vec![("service_id", V::U(i.service)), ("term_id", V::U(i.term))]),
        ("service_words", vec![("word", t("lunch")), ("service_id", V::U(i.service)), ("weight", V::I(3))]),
        (
            "service_at_locations",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("service_id", V::U(i.service)),
                ("location_id", V::U(Uuid::now_v7())),
                ("name", t("St Richard's church hall")),
                ("postcode", t("LS14 6AB")),
                ("latitude", V::R(53.8194)),
                ("longitude", V::R(-1.4592)),
                ("document", t("{}")),
            ],
        ),
        (
            "service_hours",
            vec![("service_id", V::U(i.service)), ("day", V::I(1)), ("opens", V::I(720)), ("closes", V::I(840))],
        ),
        (
            "service_changes",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("service_id", V::U(i.service)),
                ("changed_at", V::At(at)),
                ("changed_by", V::U(i.partner)),
                ("who", t("Sue Porter")),
                ("what", t("Opening times")),
            ],
        ),
        (
            "service_reports",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("service_id", V::U(i.service)),
                ("kind", t("wrong_details")),
                ("details", t("The phone number rings out")),
                ("reported_at", V::At(at)),
            ],
        ),
        (
            "directory_claims",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("organization_id", V::U(i.vcse)),
                ("name", t("Sue Porter")),
                ("email", t("sue@befrienders.test")),
                ("role", t("Coordinator")),
                ("evidence", t("Named on the charity register")),
                ("requested_at", V::At(at)),
            ],
        ),
        (
            "postcodes",
            vec![
                ("postcode", t("LS146AB")),
                ("outward", t("LS14")),
                ("latitude", V::R(53.8194)),
                ("longitude", V::R(-1.4592)),
                ("lsoa", t("E01011352")),
            ],
        ),
        ("deprivation", vec![("lsoa", t("E01011352")), ("decile", V::I(1))]),
        (
            "directory_feeds",
            vec![
                ("url", t("https://feeds.example/openreferral")),
                ("synced_at", V::At(at)),
                ("last_result", t("12 services")),
            ],
        ),
        (
            "episodes",
            vec![
                ("id", V::U(i.episode)),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("referral_id", V::U(i.referrals[0])),
                ("team_id", V::U(i.team)),
                ("worker_id", V::U(i.worker)),
                ("work", t("both")),
                ("opened_at", V::At(at - chrono::Duration::days(29))),
                ("follow_up_on", V::D(day)),
                ("version", V::I(3)),
            ],
        ),
        (
            "coded_events",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("referral_id", V::U(i.referrals[0])),
                ("episode_id", V::U(i.episode)),
                ("code", t("871731000000106")),
                ("term", t("Referral to social prescribing service")),
                ("recorded_at", V::At(at)),
                ("recorded_by", V::U(i.worker)),
            ],
        ),
    ]);
    let in_episode = |table: &'static str, mut v: Vec<(&'static str, V)>| -> Row {
        v.splice(0..0, [("id", V::U(Uuid::now_v7())), ("org_id", V::U(i.pcn)), ("episode_id", V::U(i.episode))]);
        (table, v)
    };
    out.extend([
        in_episode(
            "needs",
            vec![
                ("domain", t("loneliness")),
                ("own_words", t("I don't see anyone all week")),
                ("recorded_at", V::At(at)),
                ("recorded_by", V::U(i.worker)),
            ],
        ),
        (
            "goals",
            vec![
                ("id", V::U(i.goal)),
                ("org_id", V::U(i.pcn)),
                ("episode_id", V::U(i.episode)),
                ("domain", t("loneliness")),
                ("own_words", t("Go to the lunch club on Tuesdays")),
                ("steps", t("Amy rings the club; Ada's son drives the first time")),
                ("status", t("in_progress")),
                ("progress", V::I(4)),
                ("created_at", V::At(at)),
                ("updated_at", V::At(at)),
                ("version", V::I(2)),
            ],
        ),
        (
            "goal_reviews",
            vec![
                ("goal_id", V::U(i.goal)),
                ("org_id", V::U(i.pcn)),
                ("status", t("in_progress")),
                ("progress", V::I(4)),
                ("note", t("Went twice")),
                ("at", V::At(at)),
                ("by_user", V::U(i.worker)),
            ],
        ),
        in_episode(
            "contacts",
            vec![
                ("worker_id", V::U(i.worker)),
                ("happened_on", V::D(day)),
                ("minutes", V::I(45)),
                ("mode", t("face_to_face")),
                ("location", t("home")),
                ("present", t("Her son")),
                ("notes", t("Talked about the club")),
                ("outside_usual", V::B(true)),
                ("created_at", V::At(at)),
            ],
        ),
        in_episode(
            "holding_periods",
            vec![
                ("reason", t("waiting")),
                ("started_on", V::D(day)),
                ("review_on", V::D(day + chrono::Duration::days(28))),
                ("note", t("Waiting for bereavement counselling")),
            ],
        ),
        in_episode(
            "appointments",
            vec![
                ("person_id", V::U(i.people[0])),
                ("worker_id", V::U(i.worker)),
                ("starts_at", V::At(at + chrono::Duration::days(2))),
                ("minutes", V::I(45)),
                ("mode", t("face_to_face")),
                ("location", t("practice")),
                ("status", t("booked")),
                ("remind", V::B(true)),
                ("created_at", V::At(at)),
            ],
        ),
        in_episode(
            "barriers",
            vec![
                ("kind", t("structural")),
                ("code", t("transport")),
                ("note", t("No bus on Tuesdays")),
                ("recorded_at", V::At(at)),
            ],
        ),
        (
            "team_settings",
            vec![
                ("team_id", V::U(i.team)),
                ("org_id", V::U(i.pcn)),
                ("accepted_needs", t("loneliness,money")),
                ("min_age", V::I(18)),
                ("areas", t("LS14")),
                ("exclusions", t("")),
                ("default_minutes", V::I(45)),
                ("default_mode", t("face_to_face")),
                ("default_location", t("practice")),
                ("usual_contacts", V::I(6)),
                ("allowed_locations", t("practice,home")),
                ("follow_up_days", V::I(14)),
                ("outcome_instruments", t("ons4,swemwbs")),
                ("outcome_review_weeks", V::I(10)),
                ("version", V::I(2)),
            ],
        ),
        (
            "connections",
            vec![
                ("id", V::U(i.connection)),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("episode_id", V::U(i.episode)),
                ("service_id", V::U(i.service)),
                ("kind", t("refer")),
                ("status", t("accepted")),
                ("need", t("loneliness")),
                ("shared", t("name,phone")),
                ("consent_at", V::At(at)),
                ("created_by", V::U(i.worker)),
                ("created_at", V::At(at)),
                ("updated_at", V::At(at)),
                ("answered_at", V::At(at)),
                ("version", V::I(2)),
            ],
        ),
        (
            "connection_events",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("connection_id", V::U(i.connection)),
                ("status", t("accepted")),
                ("note", t("See you Tuesday")),
                ("at", V::At(at)),
                ("by_user", V::U(i.partner)),
                ("by_name", t("Sue Porter")),
            ],
        ),
        (
            "unmet_needs",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[1])),
                ("need", t("money")),
                ("reason", t("no_service")),
                ("recorded_at", V::At(at)),
                ("recorded_by", V::U(i.worker)),
            ],
        ),
        (
            "jobs",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("kind", t("deliver_message")),
                ("payload", t("{}")),
                ("state", t("done")),
                ("run_at", V::At(at)),
                ("attempts", V::I(1)),
                ("max_attempts", V::I(8)),
                ("created_at", V::At(at)),
                ("finished_at", V::At(at)),
            ],
        ),
        (
            "outbox",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("channel", t("email")),
                ("recipient", t("dr.khan@seacroft.test")),
                ("subject", t("A summary is ready")),
                ("body", t("Sign in to read it.")),
                ("status", t("sent")),
                ("created_at", V::At(at)),
                ("sent_at", V::At(at)),
            ],
        ),
        (
            "idempotency_keys",
            vec![
                ("scope", t("user:1")),
                ("key", t("k-1")),
                ("request_hash", t("ab12")),
                ("resource_type", t("referral")),
                ("resource_id", V::U(i.referrals[2])),
                ("created_at", V::At(at)),
            ],
        ),
        (
            "audit_events",
            vec![
                ("seq", V::I(1)),
                ("at", V::At(at)),
                ("actor_user_id", V::U(i.worker)),
                ("actor", t("amy.lw@seacroft.test")),
                ("roles", t("link_worker")),
                ("org_id", V::U(i.pcn)),
                ("action", t("view")),
                ("record_type", t("person")),
                ("record_id", t("x")),
                ("person_id", V::U(i.people[0])),
                ("prev_hash", t("0")),
                ("hash", t("1")),
            ],
        ),
        ("audit_event_people", vec![("seq", V::I(1)), ("person_id", V::U(i.people[0]))]),
        in_episode(
            "message_backs",
            vec![
                ("version", V::I(1)),
                ("document", t(r#"{"summary":"Goes to the lunch club weekly"}"#)),
                ("sent_at", V::At(at)),
                ("sent_by", V::U(i.worker)),
            ],
        ),
        in_episode(
            "episode_reopenings",
            vec![
                ("reason", t("The GP asked for the lunch club's answer to be added")),
                ("closed_at", V::At(at - chrono::Duration::days(1))),
                ("at", V::At(at)),
                ("by_user", V::U(i.worker)),
            ],
        ),
        (
            "person_flags",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[1])),
                ("kind", t("lone_working")),
                ("action", t("raised")),
                ("text", t("Large dog in the house: visit in pairs")),
                ("at", V::At(at)),
                ("by_user", V::U(i.worker)),
            ],
        ),
    ]);
    // Migration 12: outcome measures.
    let record = Uuid::now_v7();
    out.extend([
        (
            "outcome_records",
            vec![
                ("id", V::U(record)),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("episode_id", V::U(i.episode)),
                ("instrument", t("ucla3")),
                ("version", t("ucla3-2004")),
                ("point", t("baseline")),
                ("status", t("completed")),
                ("via", t("with_worker")),
                ("language", t("English")),
                ("completed_on", V::D(at.date_naive())),
                ("recorded_at", V::At(at)),
                ("recorded_by", V::U(i.worker)),
            ],
        ),
        (
            "outcome_records",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("episode_id", V::U(i.episode)),
                ("instrument", t("pam")),
                ("version", t("imported")),
                ("point", t("baseline")),
                ("status", t("completed")),
                ("via", t("imported")),
                ("source", t("PAM portal export")),
                ("total", V::R(55.6)),
                ("completed_on", V::D(at.date_naive())),
                ("recorded_at", V::At(at)),
            ],
        ),
        (
            "outcome_answers",
            vec![("record_id", V::U(record)), ("org_id", V::U(i.pcn)), ("item", t("isolated")), ("value", V::I(2))],
        ),
        (
            "outcome_links",
            vec![
                ("id", V::U(Uuid::now_v7())),
                ("org_id", V::U(i.pcn)),
                ("person_id", V::U(i.people[0])),
                ("episode_id", V::U(i.episode)),
                ("instrument", t("ons4")),
                ("point", t("review")),
                ("token_hash", t("5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")),
                ("channel", t("sms")),
                ("language", t("English")),
                ("created_by", V::U(i.worker)),
                ("created_at", V::At(at)),
                ("expires_at", V::At(at + chrono::Duration::days(14))),
                ("used_at", V::At(at)),
                ("record_id", V::U(record)),
            ],
        ),
        (
            "instrument_wordings",
            vec![
                ("instrument", t("ucla3")),
                ("language", t("Welsh")),
                ("document", t(r#"{"instrument":"ucla3"}"#)),
                ("loaded_at", V::At(at)),
            ],
        ),
    ]);
    out
}

/// A column as a schema has it: whether a value is required (NOT NULL, no default) and, on
/// PostgreSQL, its integer width.
struct Column {
    required: bool,
    pg_type: String,
}

async fn schema(store: &SqlStore) -> BTreeMap<String, BTreeMap<String, Column>> {
    let rows: Vec<(String, String, bool, String)> = match store.db() {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name, p.\"notnull\" = 1 AND p.dflt_value IS NULL AND p.pk = 0, p.type FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text, is_nullable = 'NO' AND column_default IS NULL, data_type::text \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    let mut out: BTreeMap<String, BTreeMap<String, Column>> = BTreeMap::new();
    for (table, column, required, pg_type) in rows {
        out.entry(table).or_default().insert(column, Column { required, pg_type });
    }
    out
}

/// Write every row whose table the schema has, with the columns it has.
async fn seed(store: &SqlStore, rows: &[Row]) -> BTreeSet<String> {
    let schema = schema(store).await;
    let mut seeded = BTreeSet::new();
    for (table, values) in rows {
        let Some(columns) = schema.get(*table) else { continue };
        let values: Vec<&(&str, V)> = values.iter().filter(|(c, _)| columns.contains_key(*c)).collect();
        let missing: Vec<&String> = columns
            .iter()
            .filter(|(name, c)| c.required && !values.iter().any(|(v, _)| v == name))
            .map(|(name, _)| name)
            .collect();
        assert!(missing.is_empty(), "give the seed rows of {table} a value for {missing:?}");
        let names: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        let sql = format!("INSERT INTO {table} ({}) ", names.join(", "));
        match store.db() {
            Db::Sqlite(pool) => {
                let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(sql);
                qb.push("VALUES (");
                let mut sep = qb.separated(", ");
                for (_, v) in &values {
                    match v {
                        V::U(x) => sep.push_bind(*x),
                        V::T(x) => sep.push_bind(x.clone()),
                        V::I(x) => sep.push_bind(*x),
                        V::B(x) => sep.push_bind(*x),
                        V::R(x) => sep.push_bind(*x),
                        V::At(x) => sep.push_bind(*x),
                        V::D(x) => sep.push_bind(*x),
                    };
                }
                qb.push(")");
                qb.build().execute(pool).await.unwrap_or_else(|e| panic!("seeding {table}: {e}"));
            }
            Db::Postgres(pool) => {
                let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(sql);
                qb.push("VALUES (");
                let mut sep = qb.separated(", ");
                for (column, v) in &values {
                    match (v, columns[*column].pg_type.as_str()) {
                        (V::U(x), _) => sep.push_bind(*x),
                        (V::T(x), _) => sep.push_bind(x.clone()),
                        (V::I(x), "integer") => sep.push_bind(i32::try_from(*x).unwrap()),
                        (V::I(x), "smallint") => sep.push_bind(i16::try_from(*x).unwrap()),
                        (V::I(x), _) => sep.push_bind(*x),
                        (V::B(x), _) => sep.push_bind(*x),
                        (V::R(x), _) => sep.push_bind(*x),
                        (V::At(x), _) => sep.push_bind(*x),
                        (V::D(x), _) => sep.push_bind(*x),
                    };
                }
                qb.push(")");
                qb.build().execute(pool).await.unwrap_or_else(|e| panic!("seeding {table}: {e}"));
            }
        }
        seeded.insert((*table).to_owned());
    }
    seeded
}

/// Every row of `table`, each of `columns` as text (NULL kept apart), sorted, so row order is not
/// compared.
async fn dump(store: &SqlStore, table: &str, columns: &[&String]) -> Vec<Vec<Option<String>>> {
    use sqlx::Row;
    if columns.is_empty() {
        return vec![];
    }
    let mut rows: Vec<Vec<Option<String>>> = match store.db() {
        Db::Sqlite(pool) => {
            let cols: Vec<String> =
                columns.iter().map(|c| format!("CASE WHEN {c} IS NULL THEN NULL ELSE quote({c}) END")).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {} FROM {table}", cols.join(", "))))
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..columns.len()).map(|k| r.get::<Option<String>, _>(k)).collect())
                .collect()
        }
        Db::Postgres(pool) => {
            let cols: Vec<String> = columns.iter().map(|c| format!("{c}::text")).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {} FROM {table}", cols.join(", "))))
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..columns.len()).map(|k| r.get::<Option<String>, _>(k)).collect())
                .collect()
        }
    };
    rows.sort();
    rows
}

async fn scalar(store: &SqlStore, sql: &'static str) -> Option<Uuid> {
    match store.db() {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

db_test!(every_migration_keeps_the_data_it_finds_and_moves_it_as_it_says, |db: TestDb| async move {
    let versions = db.store.schema_status().await.unwrap().known;
    assert!(versions.len() >= 9, "every migration is walked: {versions:?}");
    for pair in versions.windows(2) {
        let (before, n) = (pair[0], pair[1]);
        let fresh = TestDb::empty(db.backend).await.unwrap();
        fresh.store.migrate_up_to(before).await.unwrap();
        let i = ids();
        let seeded = seed(&fresh.store, &rows(&i)).await;
        let old = schema(&fresh.store).await;
        assert!(
            seeded.len() == old.len(),
            "migration {n}: every table at {before} has rows: {seeded:?} of {:?}",
            old.keys()
        );
        let mut kept = BTreeMap::new();
        for (table, columns) in &old {
            let names: Vec<&String> = columns.keys().collect();
            kept.insert(table.clone(), dump(&fresh.store, table, &names).await);
        }
        fresh.store.migrate_up_to(n).await.unwrap_or_else(|e| panic!("migration {n} on seeded data: {e}"));
        let new = schema(&fresh.store).await;
        for (table, columns) in &old {
            let Some(now) = new.get(table) else { panic!("migration {n} dropped {table}") };
            let common: Vec<&String> = columns.keys().filter(|c| now.contains_key(*c)).collect();
            let before_rows: Vec<Vec<Option<String>>> = {
                let names: Vec<&String> = columns.keys().collect();
                let idx: Vec<usize> =
                    names.iter().enumerate().filter(|(_, c)| common.contains(c)).map(|(k, _)| k).collect();
                let mut r: Vec<Vec<Option<String>>> =
                    kept[table].iter().map(|row| idx.iter().map(|k| row[*k].clone()).collect()).collect();
                r.sort();
                r
            };
            assert_eq!(dump(&fresh.store, table, &common).await, before_rows, "migration {n} changed {table}");
        }
        // The data steps.
        if n == 8 {
            // The voluntary group manages its own directory listings; its service moved over.
            let owner = scalar(&fresh.store, "SELECT owner_org_id FROM directory_organizations").await;
            assert_eq!(owner, Some(i.vcse), "migration 8: the VCSE organisation owns its listings");
            let org = scalar(&fresh.store, "SELECT organization_id FROM services").await;
            assert_eq!(org, Some(i.vcse), "migration 8: the service keeps its organisation");
        }
        if n == 10 {
            let contact = scalar(&fresh.store, "SELECT id FROM contacts").await;
            let coded = scalar(&fresh.store, "SELECT contact_id FROM coded_events").await;
            assert_eq!(coded, contact, "migration 10: the referral code names the episode's first contact");
            let flagged = scalar(&fresh.store, "SELECT person_id FROM person_flags WHERE kind = 'safeguarding'").await;
            assert_eq!(
                flagged,
                Some(i.people[0]),
                "migration 10: the safeguarding banner is its history's first entry"
            );
        }
        if n == 9 {
            let steward = scalar(&fresh.store, "SELECT steward_org_id FROM directory_organizations").await;
            assert_eq!(steward, Some(i.icb), "migration 9: the owner's parent stewards the listings");
        }
    }
});
