//! The two backends define the same schema, and migrating never damages existing data.

use linkwork_domain::ports::{IntakeStore, OrgStore, PeopleStore, Store};
use linkwork_domain::{Clock, FixedClock};
use linkwork_storage::{Db, MigrateError, SqlStore};
use linkwork_testkit::{Backend, TestDb, db_test, test_epoch};
use std::collections::BTreeSet;

/// (table, column, not null) for every application table.
async fn columns(store: &SqlStore) -> BTreeSet<(String, String, bool)> {
    match store.db() {
        Db::Sqlite(pool) => sqlx::query_as::<_, (String, String, bool)>(
            "SELECT m.name, p.name, p.\"notnull\" OR p.pk > 0 FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as::<_, (String, String, bool)>(
            "SELECT table_name::text, column_name::text, is_nullable = 'NO' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    }
    .into_iter()
    .collect()
}

/// Names of the indexes created explicitly by migrations.
async fn indexes(store: &SqlStore) -> BTreeSet<String> {
    let names: Vec<String> = match store.db() {
        Db::Sqlite(pool) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    names.into_iter().collect()
}

#[tokio::test]
async fn both_backends_define_the_same_tables_columns_and_indexes() {
    let Some(pg) = TestDb::new(Backend::Postgres).await else { return };
    let lite = TestDb::new(Backend::Sqlite).await.unwrap();
    let (a, b) = (columns(&lite.store).await, columns(&pg.store).await);
    assert!(a.len() > 60, "schema read back: {a:?}");
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
    assert_eq!(indexes(&lite.store).await, indexes(&pg.store).await);
    assert_eq!(lite.store.schema_status().await.unwrap().known, pg.store.schema_status().await.unwrap().known);
}

async fn seed(store: &SqlStore) -> (i64, usize) {
    let clock = FixedClock::new(test_epoch());
    linkwork::demo::generate(store, &clock, &linkwork::demo::DemoOptions::default(), false).await.unwrap();
    let orgs = store.list_orgs().await.unwrap();
    let pcn = orgs.iter().find(|o| o.kind == linkwork_domain::access::organisations::OrgKind::Pcn).unwrap();
    let _ = clock.now();
    (store.count_people(pcn.id).await.unwrap() + store.count_referrals(pcn.id).await.unwrap(), orgs.len())
}

async fn execute(store: &SqlStore, sql: &'static str) {
    match store.db() {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

db_test!(migrating_a_current_seeded_database_changes_nothing, |db: TestDb| async move {
    let before = seed(&db.store).await;
    let report = db.store.migrate("again").await.unwrap();
    assert!(report.applied.is_empty() && report.backup.is_none());
    assert_eq!(seed_counts(&db.store).await, before);
});

async fn seed_counts(store: &SqlStore) -> (i64, usize) {
    let orgs = store.list_orgs().await.unwrap();
    let pcn = orgs.iter().find(|o| o.kind == linkwork_domain::access::organisations::OrgKind::Pcn).unwrap();
    (store.count_people(pcn.id).await.unwrap() + store.count_referrals(pcn.id).await.unwrap(), orgs.len())
}

db_test!(a_failing_migration_on_seeded_data_rolls_back_and_keeps_a_backup, |db: TestDb| async move {
    let before = seed(&db.store).await;
    // Pretend migration 1 was never recorded: re-applying it fails (its tables exist) half-way.
    execute(&db.store, "DELETE FROM _sqlx_migrations").await;
    let err = db.store.migrate("20261124T093000Z").await.unwrap_err();
    assert!(matches!(err, MigrateError::Other(_)), "{err}");
    assert_eq!(seed_counts(&db.store).await, before, "no data lost");
    let status = db.store.schema_status().await.unwrap();
    assert_eq!(status.dirty, None, "the failed migration left no half-applied trace");
    if let Some(dir) = &db.data_dir {
        // SQLite took a backup before touching a database that already held data.
        let backup = dir.join("linkwork-before-migration-20261124T093000Z.db");
        let copy = SqlStore::open(&linkwork_storage::DatabaseLocation::SqliteFile(backup)).await.unwrap();
        assert_eq!(seed_counts(&copy).await, before, "the backup holds the data");
        copy.close().await;
    }
});

db_test!(a_half_migrated_database_is_refused_with_a_sentence, |db: TestDb| async move {
    execute(&db.store, "UPDATE _sqlx_migrations SET success = false").await;
    let err = db.store.migrate("x").await.unwrap_err();
    assert!(matches!(err, MigrateError::Dirty(1)));
    assert!(err.to_string().contains("half-migrated"), "{err}");
    assert_eq!(db.store.schema_status().await.unwrap().dirty, Some(1));
});

db_test!(a_database_from_a_newer_linkwork_is_refused, |db: TestDb| async move {
    execute(
        &db.store,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99999999, 'future', success, checksum, execution_time FROM _sqlx_migrations WHERE version = 1",
    )
    .await;
    let err = db.store.migrate("x").await.unwrap_err();
    assert!(matches!(err, MigrateError::TooNew(99999999)), "{err}");
    assert!(err.to_string().contains("newer linkwork"));
});

db_test!(upgrading_a_seeded_database_keeps_every_row, |db: TestDb| async move {
    // Start from an empty database at schema 1 (the first release), fill it, then upgrade.
    let fresh = TestDb::empty(db.backend).await.unwrap();
    fresh.store.migrate_up_to(1).await.unwrap();
    assert_eq!(fresh.store.schema_status().await.unwrap().applied, vec![1]);
    let before = seed_schema_1(&fresh.store).await;
    let report = fresh.store.migrate("20261124T100000Z").await.unwrap();
    assert_eq!(report.applied, vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(report.backup.is_some(), db.backend == Backend::Sqlite, "SQLite files are backed up first");
    assert_eq!(seed_counts(&fresh.store).await, before);
    assert!(fresh.store.schema_status().await.unwrap().is_current());
    // Rows from the first release read through today's code, with the defaults later
    // migrations gave the columns they added.
    let pcn = fresh.store.find_org("U99999").await.unwrap();
    let recent = fresh.store.recent_referrals(pcn.id, 5).await.unwrap();
    assert_eq!(recent.len(), 5);
    assert_eq!(recent[0].1.version, 1);
    assert!(recent[0].0.needs.is_empty() && !recent[0].0.consent);
    // Migration 9's data step: the voluntary group's listings are stewarded by its ICB.
    let vcse = fresh.store.find_org("Old Befrienders").await.unwrap();
    let icb = fresh.store.find_org("QOL").await.unwrap();
    let steward: Option<uuid::Uuid> = match fresh.store.db() {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT steward_org_id FROM directory_organizations WHERE id = $1")
            .bind(vcse.id.0)
            .fetch_one(pool)
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT steward_org_id FROM directory_organizations WHERE id = $1")
            .bind(vcse.id.0)
            .fetch_one(pool)
            .await
            .unwrap(),
    };
    assert_eq!(steward, Some(icb.id.0));
    // The upgraded schema works: the new audit table accepts events.
    let e = linkwork_domain::access::audit::AuditEntry::new(
        test_epoch(),
        linkwork_domain::access::audit::AuditAction::View,
        "person",
    );
    linkwork_domain::ports::AuditStore::append_audit(&fresh.store, &[e]).await.unwrap();
});

/// Data as the first release could hold it: only what schema 1 has (organisations, teams, users,
/// people, referrals, services). Never seed an old schema with today's generator: it writes
/// tables the old schema does not have.
async fn seed_schema_1(store: &SqlStore) -> (i64, usize) {
    use linkwork_domain::access::organisations::{OrgKind, Organisation, Team};
    use linkwork_domain::ids::OrgId;
    use linkwork_domain::ids::{PersonId, ReferralId, TeamId};
    use linkwork_domain::ports::OrgStore;
    use linkwork_domain::values::OdsCode;
    let clock = FixedClock::new(test_epoch());
    // Written through the port alone: the use case would also write today's audit event, which
    // schema 1's trail cannot hold.
    let org = |name: &str, kind: OrgKind, ods: Option<&str>, parent: Option<OrgId>| Organisation {
        id: OrgId::new(),
        name: name.into(),
        kind,
        ods_code: ods.map(|c| OdsCode::parse(c).unwrap()),
        parent_id: parent,
        created_at: clock.now(),
    };
    let icb = org("Old ICB", OrgKind::Icb, Some("QOL"), None);
    store.create_org(&icb, None).await.unwrap();
    let pcn = org("Old PCN", OrgKind::Pcn, Some("U99999"), Some(icb.id));
    store.create_org(&pcn, None).await.unwrap();
    // A voluntary group under the ICB: migration 8 makes it manage its own listings, and 9 makes
    // its ICB their steward.
    store.create_org(&org("Old Befrienders", OrgKind::Vcse, None, Some(icb.id)), None).await.unwrap();
    let team = Team { id: TeamId::new(), org_id: pcn.id, name: "Old team".into(), created_at: clock.now() };
    store.create_team(&team).await.unwrap();
    linkwork::admin::create_user(
        store,
        &clock,
        "old@pcn.test",
        None,
        &["link_worker".into()],
        "U99999",
        "kettle orbit lantern",
    )
    .await
    .unwrap();
    // Rows written with schema 1's columns only: today's insert functions write columns that
    // later migrations added.
    let people: Vec<(uuid::Uuid, String)> = (0..3000).map(|i| (PersonId::new().0, format!("P{i}"))).collect();
    macro_rules! seed_rows {
        ($pool:expr) => {{
            for chunk in people.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO people (id, org_id, nhs_number, given_name, family_name, date_of_birth, postcode, created_at) ",
                );
                qb.push_values(chunk, |mut b, (id, name)| {
                    b.push_bind(*id)
                        .push_bind(pcn.id.0)
                        .push_bind(None::<String>)
                        .push_bind(name.clone())
                        .push_bind("Old")
                        .push_bind(chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap())
                        .push_bind(None::<String>)
                        .push_bind(clock.now());
                });
                qb.build().execute($pool).await.unwrap();
            }
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO referrals (id, org_id, person_id, team_id, source, reason, status, received_at) ",
            );
            qb.push_values(people.iter().take(700), |mut b, (id, _)| {
                b.push_bind(ReferralId::new().0)
                    .push_bind(pcn.id.0)
                    .push_bind(*id)
                    .push_bind(team.id.0)
                    .push_bind("gp")
                    .push_bind("Old referral")
                    .push_bind("accepted")
                    .push_bind(clock.now());
            });
            qb.build().execute($pool).await.unwrap();
        }};
    }
    match store.db() {
        Db::Sqlite(pool) => seed_rows!(pool),
        Db::Postgres(pool) => seed_rows!(pool),
    }
    // Counted in SQL: the store's own queries expect the newest schema.
    let users: i64 = match store.db() {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(pool).await.unwrap(),
    };
    assert_eq!(users, 1);
    let _ = icb;
    (
        store.count_people(pcn.id).await.unwrap() + store.count_referrals(pcn.id).await.unwrap(),
        store.list_orgs().await.unwrap().len(),
    )
}

/// A merge moves everything that names the person, and combining episodes everything in the
/// episode: every table with a `person_id` or `episode_id` column is in the lists the merge
/// walks (or named here as staying where it is, with why), so a new table cannot be forgotten.
#[tokio::test]
async fn merges_know_every_table_that_names_a_person_or_an_episode() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let cols = columns(&db.store).await;
    let with = |column: &str| -> BTreeSet<String> {
        cols.iter().filter(|(_, c, _)| c == column).map(|(t, _, _)| t.clone()).collect()
    };
    // The audit trail is append-only: it keeps naming whom it showed.
    let person_exceptions = ["audit_events", "audit_event_people"];
    for t in with("person_id") {
        assert!(
            linkwork_storage::PERSON_TABLES.contains(&t.as_str()) || person_exceptions.contains(&t.as_str()),
            "{t} names a person but merges do not move it: add it to storage::people::PERSON_TABLES"
        );
    }
    for t in with("episode_id") {
        assert!(
            linkwork_storage::EPISODE_TABLES.contains(&t.as_str())
                || linkwork_storage::EPISODE_BOUND.contains(&t.as_str()),
            "{t} belongs to an episode but combining episodes does not say what happens to it"
        );
    }
    for t in linkwork_storage::PERSON_TABLES {
        assert!(with("person_id").contains(*t), "{t} is listed but has no person_id");
    }
}
