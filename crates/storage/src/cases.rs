//! People and referrals: person-identifiable, so every query names its tenant.

use crate::rows::{PersonRow, ReferralRow};
use crate::{BeginWrite, Db, SqlStore, map_err, on_db};
use linkwork_domain::ids::{OrgId, PersonId};
use linkwork_domain::people::Person;
use linkwork_domain::ports::{CaseStore, StoreResult};
use linkwork_domain::referrals::Referral;
use std::collections::HashMap;

/// Codes joined for a comma-separated column.
pub(crate) fn join_codes<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    codes.collect::<Vec<_>>().join(",")
}

/// Rows per multi-row INSERT on SQLite: well under its 32,766 bound parameters.
const CHUNK: usize = 250;

pub(crate) const PERSON_COLUMNS: &str = "SELECT id, org_id, nhs_number, given_name, family_name, date_of_birth, postcode, \
     practice_id, address, phone, email, contact_by, language, interpreter, gender, ethnicity, safeguarding, merged_into, version, \
     created_at FROM people";
pub(crate) const REFERRAL_COLUMNS: &str = "SELECT id, org_id, person_id, team_id, source, reason, needs, urgency, consent, \
     tried, referred_by, referrer_name, status, received_at, decided_at, decided_by, decision_reason, decision_note \
     FROM referrals";

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

    /// Pair referrals with their people in one query (never one per referral).
    pub(crate) async fn with_people(
        &self,
        org: OrgId,
        referrals: Vec<Referral>,
    ) -> StoreResult<Vec<(Referral, Person)>> {
        if referrals.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<PersonId> = referrals.iter().map(|r| r.person_id).collect();
        let by_id = self.people_by_id(org, &ids).await?;
        Ok(referrals.into_iter().filter_map(|r| by_id.get(&r.person_id).cloned().map(|p| (r, p))).collect())
    }
}

#[async_trait::async_trait]
impl CaseStore for SqlStore {
    async fn insert_people(&self, people: &[Person]) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                for chunk in people.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO people (id, org_id, nhs_number, given_name, family_name, date_of_birth, postcode, created_at, gender, ethnicity, address, phone, email, contact_by, language, interpreter, practice_id) ",
                    );
                    qb.push_values(chunk, |mut b, p| {
                        b.push_bind(p.id.0)
                            .push_bind(p.org_id.0)
                            .push_bind(p.nhs_number.as_ref().map(|n| n.as_str().to_owned()))
                            .push_bind(p.given_name.clone())
                            .push_bind(p.family_name.clone())
                            .push_bind(p.date_of_birth)
                            .push_bind(p.postcode.as_ref().map(|c| c.as_str().to_owned()))
                            .push_bind(p.created_at)
                            .push_bind(p.gender.as_str())
                            .push_bind(p.ethnicity.as_str())
                            .push_bind(p.address.clone())
                            .push_bind(p.phone.clone())
                            .push_bind(p.email.clone())
                            .push_bind(p.contact_by.as_str())
                            .push_bind(p.language.clone())
                            .push_bind(p.interpreter)
                            .push_bind(p.practice_id.map(|o| o.0));
                    });
                    qb.build().execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
            // PostgreSQL: one statement with a column array per field. Much faster than thousands
            // of bound VALUES, and one round trip however many rows.
            Db::Postgres(pool) => sqlx::query(
                "INSERT INTO people (id, org_id, nhs_number, given_name, family_name, date_of_birth, postcode, created_at, gender, ethnicity, address, phone, email, contact_by, language, interpreter, practice_id) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::boolean[], $17::uuid[])",
            )
            .bind(people.iter().map(|p| p.id.0).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.org_id.0).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.nhs_number.as_ref().map(|n| n.as_str().to_owned())).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.given_name.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.family_name.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.date_of_birth).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.postcode.as_ref().map(|c| c.as_str().to_owned())).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.created_at).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.gender.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.ethnicity.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.address.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.phone.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.email.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.contact_by.as_str()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.language.clone()).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.interpreter).collect::<Vec<_>>())
            .bind(people.iter().map(|p| p.practice_id.map(|o| o.0)).collect::<Vec<_>>())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err),
        }
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

    async fn insert_referrals(&self, referrals: &[Referral]) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                for chunk in referrals.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO referrals (id, org_id, person_id, team_id, source, reason, status, received_at, needs, urgency, consent) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id.0)
                            .push_bind(r.org_id.0)
                            .push_bind(r.person_id.0)
                            .push_bind(r.team_id.map(|t| t.0))
                            .push_bind(r.source.as_str())
                            .push_bind(r.reason.clone())
                            .push_bind(r.status.as_str())
                            .push_bind(r.received_at)
                            .push_bind(join_codes(r.needs.iter().map(|n| n.as_str())))
                            .push_bind(r.urgency.as_str())
                            .push_bind(r.consent);
                    });
                    qb.build().execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
            Db::Postgres(pool) => sqlx::query(
                "INSERT INTO referrals (id, org_id, person_id, team_id, source, reason, status, received_at, needs, urgency, consent) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::boolean[])",
            )
            .bind(referrals.iter().map(|r| r.id.0).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.org_id.0).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.person_id.0).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.team_id.map(|t| t.0)).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.received_at).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| join_codes(r.needs.iter().map(|n| n.as_str()))).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.urgency.as_str()).collect::<Vec<_>>())
            .bind(referrals.iter().map(|r| r.consent).collect::<Vec<_>>())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err),
        }
    }

    async fn recent_referrals(&self, org: OrgId, limit: i64) -> StoreResult<Vec<(Referral, Person)>> {
        let rows: Vec<ReferralRow> = on_db!(&self.db, pool => sqlx::query_as(
            sqlx::AssertSqlSafe(format!("{REFERRAL_COLUMNS} WHERE org_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2")),
        )
        .bind(org.0)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        let referrals: Vec<Referral> = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
        self.with_people(org, referrals).await
    }

    async fn count_referrals(&self, org: OrgId) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT count(*) FROM referrals WHERE org_id = $1")
            .bind(org.0)
            .fetch_one(pool)
            .await
            .map_err(map_err))
    }

    async fn person_referrals(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Referral>> {
        let rows: Vec<ReferralRow> = on_db!(&self.db, pool => sqlx::query_as(
            sqlx::AssertSqlSafe(format!("{REFERRAL_COLUMNS} WHERE org_id = $1 AND person_id = $2 ORDER BY received_at DESC, id DESC")),
        )
        .bind(org.0)
        .bind(person.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn team_referrals(
        &self,
        org: OrgId,
        teams: &[linkwork_domain::ids::TeamId],
        limit: i64,
    ) -> StoreResult<Vec<(Referral, Person)>> {
        if teams.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<ReferralRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{REFERRAL_COLUMNS} WHERE org_id = "));
            qb.push_bind(org.0).push(" AND team_id IN (");
            let mut ids = qb.separated(", ");
            for t in teams {
                ids.push_bind(t.0);
            }
            qb.push(") ORDER BY received_at DESC, id DESC LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        let referrals: Vec<Referral> = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
        self.with_people(org, referrals).await
    }
}
