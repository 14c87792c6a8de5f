//! People's records on both backends: details, duplicates, search and merging. Person-
//! identifiable, so every query names its tenant; a stale save is `Conflict::Version`.

mod flags;

use crate::access::rows::corrupt;
use crate::table::{Insert, Table, Value};
use crate::{BeginWrite, Db, SqlStore, map_err, on_db, stale};
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::StoreError;
use linkwork_domain::ids::{OrgId, PersonId};
use linkwork_domain::people::{FlagChange, Person};
use linkwork_domain::ports::{MergePlan, OpenEpisodes, PeopleQuery, PeopleStore, StoreResult};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::{NhsNumber, Postcode};
use std::collections::HashMap;
use uuid::Uuid;

/// Every table whose rows name a person (`person_id`), which a merge moves to the kept
/// record. `tests/it/schema.rs` checks the schema against it, so a new table naming people
/// cannot be forgotten by merges.
pub const PERSON_TABLES: &[&str] = &[
    "referrals",
    "episodes",
    "appointments",
    "coded_events",
    "connections",
    "unmet_needs",
    "person_flags",
    "outcome_records",
    "outcome_links",
];

/// Every table whose rows belong to an episode (`episode_id`) and move when two open episodes
/// are combined; checked against the schema like [`PERSON_TABLES`]. Codes, message backs and
/// reopenings stay with the episode they were recorded in.
pub const EPISODE_TABLES: &[&str] = &[
    "needs",
    "goals",
    "contacts",
    "holding_periods",
    "appointments",
    "barriers",
    "connections",
    "outcome_records",
    "outcome_links",
];

/// Tables with an `episode_id` that stay with their episode when episodes are combined.
pub const EPISODE_BOUND: &[&str] = &["coded_events", "message_backs", "episode_reopenings"];

/// Save a person's details (everything a worker edits; not flags, not merges) at the version
/// they read, through `$exec` (a pool or a transaction): the rows changed, 0 when stale.
macro_rules! update_details {
    ($exec:expr, $p:expr) => {{
        let p: &Person = $p;
        sqlx::query(
            "UPDATE people SET nhs_number = $1, given_name = $2, family_name = $3, date_of_birth = $4, postcode = $5, \
             address = $6, phone = $7, email = $8, contact_by = $9, language = $10, interpreter = $11, gender = $12, \
             ethnicity = $13, practice_id = $17, version = version + 1 WHERE org_id = $14 AND id = $15 AND version = $16",
        )
        .bind(p.nhs_number.as_ref().map(|n| n.as_str().to_owned()))
        .bind(&p.given_name)
        .bind(&p.family_name)
        .bind(p.date_of_birth)
        .bind(p.postcode.as_ref().map(|c| c.as_str().to_owned()))
        .bind(&p.address)
        .bind(&p.phone)
        .bind(&p.email)
        .bind(p.contact_by.as_str())
        .bind(&p.language)
        .bind(p.interpreter)
        .bind(p.gender.as_str())
        .bind(p.ethnicity.as_str())
        .bind(p.org_id.0)
        .bind(p.id.0)
        .bind(p.version)
        .bind(p.practice_id.map(|o| o.0))
        .execute($exec)
        .await
        .map_err(map_err)?
        .rows_affected()
    }};
}

pub(crate) const PERSON_COLUMNS: &str = "SELECT id, org_id, nhs_number, given_name, family_name, date_of_birth, postcode, \
     practice_id, address, phone, email, contact_by, language, interpreter, gender, ethnicity, safeguarding, lone_working, \
     staff_risk, merged_into, version, created_at FROM people";

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: Uuid,
    org_id: Uuid,
    nhs_number: Option<String>,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    postcode: Option<String>,
    practice_id: Option<Uuid>,
    address: String,
    phone: Option<String>,
    email: Option<String>,
    contact_by: String,
    language: String,
    interpreter: bool,
    gender: String,
    ethnicity: String,
    safeguarding: Option<String>,
    lone_working: Option<String>,
    staff_risk: Option<String>,
    merged_into: Option<Uuid>,
    version: i32,
    created_at: DateTime<Utc>,
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;
    fn try_from(r: PersonRow) -> Result<Self, StoreError> {
        Ok(Person {
            id: r.id.into(),
            org_id: r.org_id.into(),
            nhs_number: r.nhs_number.map(|n| NhsNumber::parse(&n)).transpose().map_err(|e| corrupt("NHS number", e))?,
            given_name: r.given_name,
            family_name: r.family_name,
            date_of_birth: r.date_of_birth,
            postcode: r.postcode.map(|p| Postcode::parse(&p)).transpose().map_err(|e| corrupt("postcode", e))?,
            practice_id: r.practice_id.map(Into::into),
            address: r.address,
            phone: r.phone,
            email: r.email,
            contact_by: r.contact_by.parse().map_err(|e| corrupt("contact channel", e))?,
            language: r.language,
            interpreter: r.interpreter,
            gender: r.gender.parse().map_err(|e| corrupt("gender", e))?,
            ethnicity: r.ethnicity.parse().map_err(|e| corrupt("ethnicity", e))?,
            safeguarding: r.safeguarding,
            lone_working: r.lone_working,
            staff_risk: r.staff_risk,
            merged_into: r.merged_into.map(Into::into),
            version: r.version,
            created_at: r.created_at,
        })
    }
}

/// The `people` table: every field of [`Person`], once.
impl Table for Person {
    const TABLE: &'static str = "people";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
        "practice_id",
        "address",
        "phone",
        "email",
        "contact_by",
        "language",
        "interpreter",
        "gender",
        "ethnicity",
        "safeguarding",
        "lone_working",
        "staff_risk",
        "merged_into",
        "version",
        "created_at",
    ];
    fn values(&self) -> Vec<Value> {
        let Person {
            id,
            org_id,
            nhs_number,
            given_name,
            family_name,
            date_of_birth,
            postcode,
            practice_id,
            address,
            phone,
            email,
            contact_by,
            language,
            interpreter,
            gender,
            ethnicity,
            safeguarding,
            lone_working,
            staff_risk,
            merged_into,
            version,
            created_at,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::opt_text(nhs_number.as_ref().map(|n| n.as_str())),
            Value::text(given_name),
            Value::text(family_name),
            Value::date(*date_of_birth),
            Value::opt_text(postcode.as_ref().map(|c| c.as_str())),
            Value::uuid(practice_id.map(|o| o.0)),
            Value::text(address),
            Value::opt_text(phone.as_deref()),
            Value::opt_text(email.as_deref()),
            Value::text(contact_by.as_str()),
            Value::text(language),
            Value::bool(*interpreter),
            Value::text(gender.as_str()),
            Value::text(ethnicity.as_str()),
            Value::opt_text(safeguarding.as_deref()),
            Value::opt_text(lone_working.as_deref()),
            Value::opt_text(staff_risk.as_deref()),
            Value::uuid(merged_into.map(|p| p.0)),
            Value::int(*version),
            Value::time(*created_at),
        ]
    }
}

pub(crate) fn people(rows: Vec<PersonRow>) -> StoreResult<Vec<Person>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

impl SqlStore {
    /// People of a tenant by id, in one query per thousand.
    pub(crate) async fn people_by_id(&self, org: OrgId, ids: &[PersonId]) -> StoreResult<HashMap<PersonId, Person>> {
        let mut by_id: HashMap<PersonId, Person> = HashMap::new();
        for chunk in ids.chunks(1000) {
            let people: Vec<PersonRow> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new(format!("{PERSON_COLUMNS} WHERE org_id = "));
                qb.push_bind(org.0).push(" AND id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.0);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            for p in people {
                let p: Person = p.try_into()?;
                by_id.insert(p.id, p);
            }
        }
        Ok(by_id)
    }
}

#[async_trait::async_trait]
impl PeopleStore for SqlStore {
    async fn insert_people(&self, people: &[Person]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            tx.insert(people).await?;
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_person(&self, org: OrgId, id: PersonId) -> StoreResult<Person> {
        let row: PersonRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{PERSON_COLUMNS} WHERE org_id = $1 AND id = $2")))
            .bind(org.0)
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(map_err)?);
        row.try_into()
    }

    async fn count_people(&self, org: OrgId) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT count(*) FROM people WHERE org_id = $1")
            .bind(org.0)
            .fetch_one(pool)
            .await
            .map_err(map_err))
    }

    async fn update_person(&self, p: &Person) -> StoreResult<Person> {
        let changed = on_db!(&self.db, pool => update_details!(pool, p));
        if changed == 0 {
            return Err(stale());
        }
        self.get_person(p.org_id, p.id).await
    }

    async fn change_flag(&self, c: &FlagChange) -> StoreResult<()> {
        flags::change(self, c).await
    }

    async fn flag_history(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<FlagChange>> {
        flags::history(self, org, person).await
    }

    async fn duplicate_candidates(
        &self,
        org: OrgId,
        nhs: Option<&NhsNumber>,
        born: NaiveDate,
    ) -> StoreResult<Vec<Person>> {
        let rows: Vec<PersonRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PERSON_COLUMNS} WHERE org_id = $1 AND merged_into IS NULL AND (date_of_birth = $2 OR nhs_number = $3) \
             ORDER BY created_at LIMIT 200"
        )))
        .bind(org.0)
        .bind(born)
        .bind(nhs.map(|n| n.as_str().to_owned()))
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        people(rows)
    }

    async fn search_people(&self, org: OrgId, q: &PeopleQuery, limit: i64) -> StoreResult<Vec<Person>> {
        // Byte-order comparison: PostgreSQL's default collation may not be.
        let c = match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " COLLATE \"C\"",
        };
        let rows: Vec<PersonRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{PERSON_COLUMNS} WHERE org_id = "));
            qb.push_bind(org.0).push(" AND merged_into IS NULL");
            if let Some(n) = &q.nhs_number {
                qb.push(" AND nhs_number = ").push_bind(n.as_str().to_owned());
            }
            if let Some(d) = q.date_of_birth {
                qb.push(" AND date_of_birth = ").push_bind(d);
            }
            if let Some(name) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                // A case-insensitive prefix as a range on the name-key indexes: [lower(p),
                // lower(p + U+10FFFD)) in byte order takes every name that starts with p. A
                // name with a space is the start of the given name and the start of the family
                // name ("margaret o'b"); otherwise either may match.
                let range = |qb: &mut sqlx::QueryBuilder<_>, column: &str, prefix: &str| {
                    qb.push(format!("(lower({column}){c} >= lower(")).push_bind(prefix.to_owned());
                    qb.push(format!("){c} AND lower({column}){c} < lower(")).push_bind(format!("{prefix}{}", '\u{10FFFD}'));
                    qb.push(format!("){c})"));
                };
                match name.split_once(' ') {
                    Some((given, family)) if !family.trim().is_empty() => {
                        qb.push(" AND ");
                        range(&mut qb, "given_name", given);
                        qb.push(" AND ");
                        range(&mut qb, "family_name", family.trim());
                    }
                    _ => {
                        qb.push(" AND (");
                        range(&mut qb, "family_name", name);
                        qb.push(" OR ");
                        range(&mut qb, "given_name", name);
                        qb.push(")");
                    }
                }
            }
            qb.push(" ORDER BY family_name, given_name, date_of_birth LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        people(rows)
    }

    async fn merge_people(&self, plan: &MergePlan) -> StoreResult<()> {
        let (org, kept, merged) = (plan.kept.org_id, plan.kept.id, plan.merged);
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let present: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM people WHERE org_id = $1 AND id IN ($2, $3) AND merged_into IS NULL",
            )
            .bind(org.0)
            .bind(kept.0)
            .bind(merged.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if present != 2 || kept == merged {
                return Err(StoreError::NotFound);
            }
            let open: Vec<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT id, person_id FROM episodes WHERE org_id = $1 AND person_id IN ($2, $3) AND closed_at IS NULL",
            )
            .bind(org.0)
            .bind(kept.0)
            .bind(merged.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            let kept_open = open.iter().find(|(_, p)| *p == kept.0).map(|(e, _)| *e);
            let merged_open = open.iter().find(|(_, p)| *p == merged.0).map(|(e, _)| *e);
            if let (Some(into), Some(other)) = (kept_open, merged_open) {
                let how = plan.open_episodes.ok_or(StoreError::Conflict(linkwork_domain::ports::Conflict::BothEpisodesOpen))?;
                if how == OpenEpisodes::Combine {
                    for table in EPISODE_TABLES {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE {table} SET episode_id = $1 WHERE org_id = $2 AND episode_id = $3"
                        )))
                        .bind(into)
                        .bind(org.0)
                        .bind(other)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    }
                } else {
                    sqlx::query(
                        "UPDATE holding_periods SET ended_on = $1, ended_how = 'closed' WHERE org_id = $2 AND episode_id = $3 AND ended_on IS NULL",
                    )
                    .bind(plan.at.uk_date())
                    .bind(org.0)
                    .bind(other)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                    sqlx::query(
                        "UPDATE appointments SET status = 'cancelled' WHERE org_id = $1 AND episode_id = $2 AND status = 'booked' AND starts_at > $3",
                    )
                    .bind(org.0)
                    .bind(other)
                    .bind(plan.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                let note = if how == OpenEpisodes::Combine {
                    "Combined into the other record's open episode when duplicate records were merged"
                } else {
                    "Closed as a duplicate when duplicate records were merged"
                };
                sqlx::query(
                    "UPDATE episodes SET closed_at = $1, discharge_reason = 'other', discharge_note = $2, follow_up_on = NULL, \
                     version = version + 1 WHERE org_id = $3 AND id = $4",
                )
                .bind(plan.at)
                .bind(note)
                .bind(org.0)
                .bind(other)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            // The kept record takes the details chosen, unless someone changed it meanwhile.
            let p = &plan.kept;
            let done = update_details!(&mut *tx, p);
            if done == 0 {
                return Err(stale());
            }
            // Everything that names the person follows them: the casework, the connections to
            // services and the needs no service met, and the flags' history.
            for table in PERSON_TABLES {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET person_id = $1 WHERE org_id = $2 AND person_id = $3"
                )))
                .bind(kept.0)
                .bind(org.0)
                .bind(merged.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            // A flag the kept record lacks is carried over: a safeguarding concern is never lost
            // to a merge.
            sqlx::query(
                "UPDATE people SET \
                 safeguarding = COALESCE(safeguarding, (SELECT m.safeguarding FROM people m WHERE m.org_id = $2 AND m.id = $3)), \
                 lone_working = COALESCE(lone_working, (SELECT m.lone_working FROM people m WHERE m.org_id = $2 AND m.id = $3)), \
                 staff_risk = COALESCE(staff_risk, (SELECT m.staff_risk FROM people m WHERE m.org_id = $2 AND m.id = $3)) \
                 WHERE org_id = $2 AND id = $1",
            )
            .bind(kept.0)
            .bind(org.0)
            .bind(merged.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query("UPDATE people SET merged_into = $1, version = version + 1 WHERE org_id = $2 AND id = $3")
                .bind(kept.0)
                .bind(org.0)
                .bind(merged.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }
}
