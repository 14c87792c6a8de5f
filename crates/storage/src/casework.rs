//! The casework of the pathway on both backends: people's details and merging, referrals and
//! triage, episodes and what happens in them, team settings. Every query names its tenant.
//! Updates that could overwrite someone else's change compare the version the editor saw
//! (`WHERE version = $n`) and report `Conflict("version")` when nothing matched.

use crate::cases::{PERSON_COLUMNS, REFERRAL_COLUMNS, join_codes};
use crate::rows::{PersonRow, ReferralRow, corrupt};
use crate::{BeginWrite, Db, SqlStore, idempotent_replay, map_err, on_db, remember_idempotency};
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Barrier, CaseloadItem, Contact, Episode, EpisodeWork, Goal, GoalReview, HoldingEnd,
    HoldingPeriod, Need, TeamSettings,
};
use linkwork_domain::coding::CodedEvent;
use linkwork_domain::ids::{AppointmentId, EpisodeId, GoalId, HoldingId, OrgId, PersonId, ReferralId, TeamId, UserId};
use linkwork_domain::jobs::NewJob;
use linkwork_domain::people::Person;
use linkwork_domain::ports::{
    CaseworkBatch, CaseworkStore, Created, Discharge, IdempotencyKey, PeopleQuery, StoreError, StoreResult,
    TriageDecision,
};
use linkwork_domain::referrals::Referral;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::NhsNumber;
use linkwork_domain::vocab::parse_list;
use uuid::Uuid;

const INSERT_PERSON: &str = "INSERT INTO people (id, org_id, nhs_number, given_name, family_name, date_of_birth, \
     postcode, address, phone, email, contact_by, language, interpreter, gender, ethnicity, safeguarding, version, \
     created_at, practice_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $18)";

const INSERT_REFERRAL: &str = "INSERT INTO referrals (id, org_id, person_id, team_id, source, reason, needs, urgency, \
     consent, tried, referred_by, referrer_name, status, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

const EPISODE_COLUMNS: &str = "SELECT id, org_id, person_id, referral_id, team_id, worker_id, work, opened_at, \
     follow_up_on, closed_at, discharge_reason, discharge_note, version FROM episodes";

/// Bind a person's columns in `INSERT_PERSON` order.
macro_rules! bind_person {
    ($q:expr, $p:expr) => {
        $q.bind($p.id.0)
            .bind($p.org_id.0)
            .bind($p.nhs_number.as_ref().map(|n| n.as_str().to_owned()))
            .bind(&$p.given_name)
            .bind(&$p.family_name)
            .bind($p.date_of_birth)
            .bind($p.postcode.as_ref().map(|c| c.as_str().to_owned()))
            .bind(&$p.address)
            .bind(&$p.phone)
            .bind(&$p.email)
            .bind($p.contact_by.as_str())
            .bind(&$p.language)
            .bind($p.interpreter)
            .bind($p.gender.as_str())
            .bind($p.ethnicity.as_str())
            .bind(&$p.safeguarding)
            .bind($p.created_at)
            .bind($p.practice_id.map(|o| o.0))
    };
}

/// Bind a referral's columns in `INSERT_REFERRAL` order.
macro_rules! bind_referral {
    ($q:expr, $r:expr) => {
        $q.bind($r.id.0)
            .bind($r.org_id.0)
            .bind($r.person_id.0)
            .bind($r.team_id.map(|t| t.0))
            .bind($r.source.as_str())
            .bind(&$r.reason)
            .bind(join_codes($r.needs.iter().map(|n| n.as_str())))
            .bind($r.urgency.as_str())
            .bind($r.consent)
            .bind(&$r.tried)
            .bind($r.referred_by.map(|u| u.0))
            .bind(&$r.referrer_name)
            .bind($r.status.as_str())
            .bind($r.received_at)
    };
}

#[derive(sqlx::FromRow)]
struct EpisodeRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    referral_id: Uuid,
    team_id: Uuid,
    worker_id: Option<Uuid>,
    work: String,
    opened_at: DateTime<Utc>,
    follow_up_on: Option<NaiveDate>,
    closed_at: Option<DateTime<Utc>>,
    discharge_reason: Option<String>,
    discharge_note: Option<String>,
    version: i32,
}

impl TryFrom<EpisodeRow> for Episode {
    type Error = StoreError;
    fn try_from(r: EpisodeRow) -> StoreResult<Self> {
        Ok(Episode {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            referral_id: r.referral_id.into(),
            team_id: r.team_id.into(),
            worker_id: r.worker_id.map(Into::into),
            work: r.work.parse().map_err(|e| corrupt("episode work", e))?,
            opened_at: r.opened_at,
            follow_up_on: r.follow_up_on,
            closed_at: r.closed_at,
            discharge_reason: r
                .discharge_reason
                .map(|d| d.parse())
                .transpose()
                .map_err(|e| corrupt("discharge reason", e))?,
            discharge_note: r.discharge_note,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CaseloadRow {
    #[sqlx(flatten)]
    episode: EpisodeRow,
    given_name: String,
    family_name: String,
    nhs_number: Option<String>,
    safeguarding: Option<String>,
    holding_since: Option<NaiveDate>,
    holding_review_on: Option<NaiveDate>,
    contacts: i64,
    last_contact: Option<NaiveDate>,
    next_appointment: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CodedRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    referral_id: Uuid,
    episode_id: Option<Uuid>,
    code: String,
    term: String,
    recorded_at: DateTime<Utc>,
    recorded_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct NeedRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    domain: String,
    own_words: String,
    recorded_at: DateTime<Utc>,
    recorded_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct GoalRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    domain: String,
    own_words: String,
    steps: String,
    status: String,
    progress: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i32,
}

impl TryFrom<GoalRow> for Goal {
    type Error = StoreError;
    fn try_from(r: GoalRow) -> StoreResult<Self> {
        Ok(Goal {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            domain: r.domain.parse().map_err(|e| corrupt("goal domain", e))?,
            own_words: r.own_words,
            steps: r.steps,
            status: r.status.parse().map_err(|e| corrupt("goal status", e))?,
            progress: r.progress,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    goal_id: Uuid,
    org_id: Uuid,
    status: String,
    progress: i32,
    note: String,
    at: DateTime<Utc>,
    by_user: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    worker_id: Option<Uuid>,
    happened_on: NaiveDate,
    minutes: i32,
    mode: String,
    location: String,
    present: String,
    notes: String,
    outside_usual: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> StoreResult<Self> {
        Ok(Contact {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            worker_id: r.worker_id.map(Into::into),
            happened_on: r.happened_on,
            minutes: r.minutes,
            mode: r.mode.parse().map_err(|e| corrupt("contact mode", e))?,
            location: r.location.parse().map_err(|e| corrupt("contact location", e))?,
            present: r.present,
            notes: r.notes,
            outside_usual: r.outside_usual,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct HoldingRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    reason: String,
    started_on: NaiveDate,
    review_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    ended_how: Option<String>,
    note: String,
}

#[derive(sqlx::FromRow)]
struct AppointmentRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    person_id: Uuid,
    worker_id: Option<Uuid>,
    starts_at: DateTime<Utc>,
    minutes: i32,
    mode: String,
    location: String,
    status: String,
    remind: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = StoreError;
    fn try_from(r: AppointmentRow) -> StoreResult<Self> {
        Ok(Appointment {
            id: r.id.into(),
            org_id: r.org_id.into(),
            episode_id: r.episode_id.into(),
            person_id: r.person_id.into(),
            worker_id: r.worker_id.map(Into::into),
            starts_at: r.starts_at,
            minutes: r.minutes,
            mode: r.mode.parse().map_err(|e| corrupt("appointment mode", e))?,
            location: r.location.parse().map_err(|e| corrupt("appointment location", e))?,
            status: r.status.parse().map_err(|e| corrupt("appointment status", e))?,
            remind: r.remind,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BarrierRow {
    id: Uuid,
    org_id: Uuid,
    episode_id: Uuid,
    kind: String,
    code: String,
    note: String,
    recorded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    team_id: Uuid,
    org_id: Uuid,
    accepted_needs: String,
    min_age: Option<i32>,
    max_age: Option<i32>,
    areas: String,
    exclusions: String,
    default_minutes: i32,
    default_mode: String,
    default_location: String,
    usual_contacts: i32,
    allowed_locations: String,
    follow_up_days: i32,
    version: i32,
}

/// The waiting-list condition: the tenant's referrals not yet triaged, to `teams` or to no team.
fn push_waiting<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, org: OrgId, teams: &[TeamId])
where
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push("org_id = ").push_bind(org.0).push(" AND status = 'received' AND (team_id IS NULL");
    for t in teams {
        qb.push(" OR team_id = ").push_bind(t.0);
    }
    qb.push(")");
}

fn coded(r: CodedRow) -> CodedEvent {
    CodedEvent {
        id: r.id.into(),
        org_id: r.org_id.into(),
        person_id: r.person_id.into(),
        referral_id: r.referral_id.into(),
        episode_id: r.episode_id.map(Into::into),
        code: r.code,
        term: r.term,
        recorded_at: r.recorded_at,
        recorded_by: r.recorded_by.map(Into::into),
    }
}

fn split_words(s: &str) -> Vec<String> {
    s.split('\n').map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

fn people(rows: Vec<PersonRow>) -> StoreResult<Vec<Person>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

fn referrals(rows: Vec<ReferralRow>) -> StoreResult<Vec<Referral>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

fn stale() -> StoreError {
    StoreError::Conflict("version".into())
}

#[async_trait::async_trait]
impl CaseworkStore for SqlStore {
    async fn update_person(&self, p: &Person) -> StoreResult<Person> {
        let changed = on_db!(&self.db, pool => sqlx::query(
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
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        if changed == 0 {
            return Err(stale());
        }
        self.get_person_any(p.org_id, p.id).await
    }

    async fn set_safeguarding(&self, org: OrgId, person: PersonId, concern: Option<String>) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE people SET safeguarding = $1, version = version + 1 WHERE org_id = $2 AND id = $3",
        )
        .bind(concern)
        .bind(org.0)
        .bind(person.0)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
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

    async fn merge_people(&self, org: OrgId, kept: PersonId, merged: PersonId) -> StoreResult<()> {
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
            let open: i64 = sqlx::query_scalar(
                "SELECT count(DISTINCT person_id) FROM episodes WHERE org_id = $1 AND person_id IN ($2, $3) AND closed_at IS NULL",
            )
            .bind(org.0)
            .bind(kept.0)
            .bind(merged.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if open > 1 {
                return Err(StoreError::Conflict("episodes.open".into()));
            }
            for table in ["referrals", "episodes", "appointments", "coded_events"] {
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

    async fn create_referral(
        &self,
        new_person: Option<&Person>,
        r: &Referral,
        idem: Option<&IdempotencyKey>,
    ) -> StoreResult<Created<Referral>> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            if let Some(id) = match idem {
                Some(k) => idempotent_replay!(tx, k),
                None => None,
            } {
                let row: ReferralRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("{REFERRAL_COLUMNS} WHERE id = $1")))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                return Ok(Created::Replayed(row.try_into()?));
            }
            if let Some(p) = new_person {
                bind_person!(sqlx::query(INSERT_PERSON), p).execute(&mut *tx).await.map_err(map_err)?;
            }
            bind_referral!(sqlx::query(INSERT_REFERRAL), r).execute(&mut *tx).await.map_err(map_err)?;
            if let Some(k) = idem {
                remember_idempotency!(tx, k, "referral", r.id.0, r.received_at);
            }
            tx.commit().await.map_err(map_err)?;
            Ok(Created::New(r.clone()))
        })
    }

    async fn import_referrals(&self, new_people: &[Person], refs: &[Referral]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for p in new_people {
                bind_person!(sqlx::query(INSERT_PERSON), p).execute(&mut *tx).await.map_err(map_err)?;
            }
            for r in refs {
                bind_referral!(sqlx::query(INSERT_REFERRAL), r).execute(&mut *tx).await.map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_referral(&self, org: OrgId, id: ReferralId) -> StoreResult<Referral> {
        let row: ReferralRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REFERRAL_COLUMNS} WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.0)
        .bind(id.0)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn waiting_referrals(&self, org: OrgId, teams: &[TeamId]) -> StoreResult<Vec<(Referral, Person)>> {
        let rows: Vec<ReferralRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{REFERRAL_COLUMNS} WHERE "));
            push_waiting(&mut qb, org, teams);
            qb.push(" ORDER BY received_at, id LIMIT 500");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        self.with_people(org, referrals(rows)?).await
    }

    async fn count_waiting(&self, org: OrgId, teams: &[TeamId]) -> StoreResult<i64> {
        on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT count(*) FROM referrals WHERE ");
            push_waiting(&mut qb, org, teams);
            qb.build_query_scalar().fetch_one(pool).await.map_err(map_err)
        })
    }

    async fn referrals_made_by(&self, user: UserId, limit: i64) -> StoreResult<Vec<(Referral, Person)>> {
        let rows: Vec<ReferralRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REFERRAL_COLUMNS} WHERE referred_by = $1 ORDER BY received_at DESC, id DESC LIMIT $2"
        )))
        .bind(user.0)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        let refs = referrals(rows)?;
        // Referrals a user made all go to one tenant, but pair them per tenant to stay scoped.
        let mut out = vec![];
        let mut tenants: Vec<OrgId> = refs.iter().map(|r| r.org_id).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for t in tenants {
            out.extend(self.with_people(t, refs.iter().filter(|r| r.org_id == t).cloned().collect()).await?);
        }
        out.sort_by_key(|(r, _)| std::cmp::Reverse(r.received_at));
        Ok(out)
    }

    async fn decide_referral(&self, d: &TriageDecision) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let n = sqlx::query(
                "UPDATE referrals SET status = $1, decided_at = $2, decided_by = $3, decision_reason = $4, \
                 decision_note = $5, team_id = COALESCE(team_id, $6) WHERE org_id = $7 AND id = $8 AND status = 'received'",
            )
            .bind(d.status.as_str())
            .bind(d.at)
            .bind(d.by.0)
            .bind(&d.reason)
            .bind(&d.note)
            .bind(d.open_episode.as_ref().map(|e| e.team_id.0))
            .bind(d.org_id.0)
            .bind(d.referral_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("referral.decided".into()));
            }
            if let Some(e) = &d.open_episode {
                sqlx::query(
                    "INSERT INTO episodes (id, org_id, person_id, referral_id, team_id, worker_id, work, opened_at, \
                     follow_up_on, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)",
                )
                .bind(e.id.0)
                .bind(e.org_id.0)
                .bind(e.person_id.0)
                .bind(e.referral_id.0)
                .bind(e.team_id.0)
                .bind(e.worker_id.map(|w| w.0))
                .bind(e.work.as_str())
                .bind(e.opened_at)
                .bind(e.follow_up_on)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            for c in &d.codes {
                sqlx::query(
                    "INSERT INTO coded_events (id, org_id, person_id, referral_id, episode_id, code, term, recorded_at, \
                     recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(c.id.0)
                .bind(c.org_id.0)
                .bind(c.person_id.0)
                .bind(c.referral_id.0)
                .bind(c.episode_id.map(|e| e.0))
                .bind(&c.code)
                .bind(&c.term)
                .bind(c.recorded_at)
                .bind(c.recorded_by.map(|u| u.0))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn coded_events(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<CodedEvent>> {
        let rows: Vec<CodedRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, person_id, referral_id, episode_id, code, term, recorded_at, recorded_by \
             FROM coded_events WHERE org_id = $1 AND person_id = $2 ORDER BY recorded_at, id",
        )
        .bind(org.0)
        .bind(person.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        Ok(rows.into_iter().map(coded).collect())
    }

    async fn coded_events_between(
        &self,
        org: OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(CodedEvent, Person)>> {
        let rows: Vec<CodedRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, person_id, referral_id, episode_id, code, term, recorded_at, recorded_by \
             FROM coded_events WHERE org_id = $1 AND recorded_at >= $2 AND recorded_at < $3 ORDER BY recorded_at, id LIMIT 100000",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        let ids: Vec<PersonId> = rows.iter().map(|r| r.person_id.into()).collect();
        let people = self.people_by_id(org, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let person = people.get(&r.person_id.into())?.clone();
                Some((coded(r), person))
            })
            .collect())
    }

    async fn get_episode(&self, org: OrgId, id: EpisodeId) -> StoreResult<Episode> {
        let row: EpisodeRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EPISODE_COLUMNS} WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.0)
        .bind(id.0)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn person_episodes(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<Episode>> {
        let rows: Vec<EpisodeRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EPISODE_COLUMNS} WHERE org_id = $1 AND person_id = $2 ORDER BY opened_at DESC, id DESC"
        )))
        .bind(org.0)
        .bind(person.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_episode(&self, e: &Episode) -> StoreResult<Episode> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE episodes SET work = $1, follow_up_on = $2, worker_id = $3, version = version + 1 \
             WHERE org_id = $4 AND id = $5 AND version = $6 AND closed_at IS NULL",
        )
        .bind(e.work.as_str())
        .bind(e.follow_up_on)
        .bind(e.worker_id.map(|w| w.0))
        .bind(e.org_id.0)
        .bind(e.id.0)
        .bind(e.version)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        if n == 0 {
            return Err(stale());
        }
        self.get_episode(e.org_id, e.id).await
    }

    async fn discharge(&self, d: &Discharge) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let n = sqlx::query(
                "UPDATE episodes SET closed_at = $1, discharge_reason = $2, discharge_note = $3, follow_up_on = NULL, \
                 version = version + 1 WHERE org_id = $4 AND id = $5 AND version = $6 AND closed_at IS NULL",
            )
            .bind(d.at)
            .bind(d.reason.as_str())
            .bind(&d.note)
            .bind(d.org_id.0)
            .bind(d.episode_id.0)
            .bind(d.version)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n == 0 {
                return Err(stale());
            }
            sqlx::query(
                "UPDATE holding_periods SET ended_on = $1, ended_how = $2 WHERE org_id = $3 AND episode_id = $4 AND ended_on IS NULL",
            )
            .bind(d.at.uk_date())
            .bind(HoldingEnd::Closed.as_str())
            .bind(d.org_id.0)
            .bind(d.episode_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "UPDATE appointments SET status = 'cancelled' WHERE org_id = $1 AND episode_id = $2 AND status = 'booked' AND starts_at > $3",
            )
            .bind(d.org_id.0)
            .bind(d.episode_id.0)
            .bind(d.at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }

    async fn caseload(
        &self,
        org: OrgId,
        teams: &[TeamId],
        worker: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseloadItem>> {
        if teams.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<CaseloadRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT e.id, e.org_id, e.person_id, e.referral_id, e.team_id, e.worker_id, e.work, e.opened_at, \
                 e.follow_up_on, e.closed_at, e.discharge_reason, e.discharge_note, e.version, \
                 p.given_name, p.family_name, p.nhs_number, p.safeguarding, \
                 (SELECT min(h.started_on) FROM holding_periods h WHERE h.episode_id = e.id AND h.ended_on IS NULL) AS holding_since, \
                 (SELECT min(h.review_on) FROM holding_periods h WHERE h.episode_id = e.id AND h.ended_on IS NULL) AS holding_review_on, \
                 (SELECT count(*) FROM contacts c WHERE c.episode_id = e.id) AS contacts, \
                 (SELECT max(c.happened_on) FROM contacts c WHERE c.episode_id = e.id) AS last_contact, \
                 (SELECT min(a.starts_at) FROM appointments a WHERE a.episode_id = e.id AND a.status = 'booked' AND a.starts_at >= ",
            );
            qb.push_bind(now);
            qb.push(") AS next_appointment FROM episodes e JOIN people p ON p.id = e.person_id AND p.org_id = e.org_id WHERE e.org_id = ");
            qb.push_bind(org.0).push(" AND e.closed_at IS NULL AND e.team_id IN (");
            let mut sep = qb.separated(", ");
            for t in teams {
                sep.push_bind(t.0);
            }
            qb.push(")");
            if let Some(w) = worker {
                qb.push(" AND e.worker_id = ").push_bind(w.0);
            }
            qb.push(" ORDER BY e.opened_at, e.id LIMIT 2000");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        rows.into_iter()
            .map(|r| {
                Ok(CaseloadItem {
                    episode: r.episode.try_into()?,
                    person_name: format!("{} {}", r.given_name, r.family_name),
                    nhs_number: r.nhs_number,
                    safeguarding: r.safeguarding.is_some(),
                    holding_since: r.holding_since,
                    holding_review_on: r.holding_review_on,
                    contacts: r.contacts,
                    last_contact: r.last_contact,
                    next_appointment: r.next_appointment,
                })
            })
            .collect()
    }

    async fn add_need(&self, n: &Need) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO needs (id, org_id, episode_id, domain, own_words, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(n.id.0)
        .bind(n.org_id.0)
        .bind(n.episode_id.0)
        .bind(n.domain.as_str())
        .bind(&n.own_words)
        .bind(n.recorded_at)
        .bind(n.recorded_by.map(|u| u.0))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn needs(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Need>> {
        let rows: Vec<NeedRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, domain, own_words, recorded_at, recorded_by FROM needs \
             WHERE org_id = $1 AND episode_id = $2 ORDER BY recorded_at, id",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter()
            .map(|r| {
                Ok(Need {
                    id: r.id.into(),
                    org_id: r.org_id.into(),
                    episode_id: r.episode_id.into(),
                    domain: r.domain.parse().map_err(|e| corrupt("need domain", e))?,
                    own_words: r.own_words,
                    recorded_at: r.recorded_at,
                    recorded_by: r.recorded_by.map(Into::into),
                })
            })
            .collect()
    }

    async fn add_goal(&self, g: &Goal) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO goals (id, org_id, episode_id, domain, own_words, steps, status, progress, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)",
        )
        .bind(g.id.0)
        .bind(g.org_id.0)
        .bind(g.episode_id.0)
        .bind(g.domain.as_str())
        .bind(&g.own_words)
        .bind(&g.steps)
        .bind(g.status.as_str())
        .bind(g.progress)
        .bind(g.created_at)
        .bind(g.updated_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn get_goal(&self, org: OrgId, id: GoalId) -> StoreResult<Goal> {
        let row: GoalRow = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, domain, own_words, steps, status, progress, created_at, updated_at, version \
             FROM goals WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn review_goal(&self, r: &GoalReview, version: i32) -> StoreResult<Goal> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let n = sqlx::query(
                "UPDATE goals SET status = $1, progress = $2, updated_at = $3, version = version + 1 \
                 WHERE org_id = $4 AND id = $5 AND version = $6",
            )
            .bind(r.status.as_str())
            .bind(r.progress)
            .bind(r.at)
            .bind(r.org_id.0)
            .bind(r.goal_id.0)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n == 0 {
                return Err(stale());
            }
            sqlx::query(
                "INSERT INTO goal_reviews (goal_id, org_id, status, progress, note, at, by_user) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.goal_id.0)
            .bind(r.org_id.0)
            .bind(r.status.as_str())
            .bind(r.progress)
            .bind(&r.note)
            .bind(r.at)
            .bind(r.by.map(|u| u.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
        });
        self.get_goal(r.org_id, r.goal_id).await
    }

    async fn goals(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Goal>> {
        let rows: Vec<GoalRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, domain, own_words, steps, status, progress, created_at, updated_at, version \
             FROM goals WHERE org_id = $1 AND episode_id = $2 ORDER BY created_at, id",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn goal_reviews(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<GoalReview>> {
        let rows: Vec<ReviewRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT r.goal_id, r.org_id, r.status, r.progress, r.note, r.at, r.by_user FROM goal_reviews r \
             JOIN goals g ON g.id = r.goal_id WHERE r.org_id = $1 AND g.episode_id = $2 ORDER BY r.at",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter()
            .map(|r| {
                Ok(GoalReview {
                    goal_id: r.goal_id.into(),
                    org_id: r.org_id.into(),
                    status: r.status.parse().map_err(|e| corrupt("goal status", e))?,
                    progress: r.progress,
                    note: r.note,
                    at: r.at,
                    by: r.by_user.map(Into::into),
                })
            })
            .collect()
    }

    async fn add_contact(&self, c: &Contact, follow_up_on: Option<NaiveDate>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO contacts (id, org_id, episode_id, worker_id, happened_on, minutes, mode, location, present, \
                 notes, outside_usual, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(c.id.0)
            .bind(c.org_id.0)
            .bind(c.episode_id.0)
            .bind(c.worker_id.map(|u| u.0))
            .bind(c.happened_on)
            .bind(c.minutes)
            .bind(c.mode.as_str())
            .bind(c.location.as_str())
            .bind(&c.present)
            .bind(&c.notes)
            .bind(c.outside_usual)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if follow_up_on.is_some() {
                sqlx::query("UPDATE episodes SET follow_up_on = $1 WHERE org_id = $2 AND id = $3")
                    .bind(follow_up_on)
                    .bind(c.org_id.0)
                    .bind(c.episode_id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn contacts(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Contact>> {
        let rows: Vec<ContactRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, worker_id, happened_on, minutes, mode, location, present, notes, outside_usual, \
             created_at FROM contacts WHERE org_id = $1 AND episode_id = $2 ORDER BY happened_on DESC, created_at DESC",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn worker_contacts(&self, org: OrgId, worker: UserId, since: NaiveDate) -> StoreResult<Vec<Contact>> {
        let rows: Vec<ContactRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, worker_id, happened_on, minutes, mode, location, present, notes, outside_usual, \
             created_at FROM contacts WHERE org_id = $1 AND worker_id = $2 AND happened_on >= $3 ORDER BY happened_on",
        )
        .bind(org.0)
        .bind(worker.0)
        .bind(since)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn start_holding(&self, h: &HoldingPeriod) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO holding_periods (id, org_id, episode_id, reason, started_on, review_on, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(h.id.0)
            .bind(h.org_id.0)
            .bind(h.episode_id.0)
            .bind(h.reason.as_str())
            .bind(h.started_on)
            .bind(h.review_on)
            .bind(&h.note)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "UPDATE episodes SET work = CASE WHEN work = $1 THEN $2 ELSE work END, version = version + 1 \
                 WHERE org_id = $3 AND id = $4",
            )
            .bind(EpisodeWork::Connecting.as_str())
            .bind(EpisodeWork::Both.as_str())
            .bind(h.org_id.0)
            .bind(h.episode_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)
        })
    }

    async fn end_holding(
        &self,
        org: OrgId,
        episode: EpisodeId,
        id: HoldingId,
        on: NaiveDate,
        how: HoldingEnd,
    ) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE holding_periods SET ended_on = $1, ended_how = $2 \
             WHERE org_id = $3 AND episode_id = $4 AND id = $5 AND ended_on IS NULL",
        )
        .bind(on)
        .bind(how.as_str())
        .bind(org.0)
        .bind(episode.0)
        .bind(id.0)
        .execute(pool)
        .await
        .map_err(map_err)?
        .rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn holdings(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<HoldingPeriod>> {
        let rows: Vec<HoldingRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, reason, started_on, review_on, ended_on, ended_how, note FROM holding_periods \
             WHERE org_id = $1 AND episode_id = $2 ORDER BY started_on DESC, id DESC",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter()
            .map(|r| {
                Ok(HoldingPeriod {
                    id: r.id.into(),
                    org_id: r.org_id.into(),
                    episode_id: r.episode_id.into(),
                    reason: r.reason.parse().map_err(|e| corrupt("holding reason", e))?,
                    started_on: r.started_on,
                    review_on: r.review_on,
                    ended_on: r.ended_on,
                    ended_how: r.ended_how.map(|h| h.parse()).transpose().map_err(|e| corrupt("holding end", e))?,
                    note: r.note,
                })
            })
            .collect()
    }

    async fn add_appointment(&self, a: &Appointment, reminder: Option<&NewJob>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO appointments (id, org_id, episode_id, person_id, worker_id, starts_at, minutes, mode, location, \
                 status, remind, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(a.id.0)
            .bind(a.org_id.0)
            .bind(a.episode_id.0)
            .bind(a.person_id.0)
            .bind(a.worker_id.map(|u| u.0))
            .bind(a.starts_at)
            .bind(a.minutes)
            .bind(a.mode.as_str())
            .bind(a.location.as_str())
            .bind(a.status.as_str())
            .bind(a.remind)
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(job) = reminder {
                sqlx::query(
                    "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, dedupe_key, created_at) \
                     VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(Uuid::now_v7())
                .bind(&job.kind)
                .bind(&job.payload)
                .bind(job.run_at)
                .bind(job.max_attempts)
                .bind(&job.dedupe_key)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_appointment(&self, org: OrgId, id: AppointmentId) -> StoreResult<Appointment> {
        let row: AppointmentRow = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, person_id, worker_id, starts_at, minutes, mode, location, status, remind, \
             created_at FROM appointments WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn set_appointment_status(
        &self,
        org: OrgId,
        episode: EpisodeId,
        id: AppointmentId,
        status: AppointmentStatus,
    ) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query("UPDATE appointments SET status = $1 WHERE org_id = $2 AND episode_id = $3 AND id = $4")
            .bind(status.as_str())
            .bind(org.0)
            .bind(episode.0)
            .bind(id.0)
            .execute(pool)
            .await
            .map_err(map_err)?
            .rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn appointments(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Appointment>> {
        let rows: Vec<AppointmentRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, person_id, worker_id, starts_at, minutes, mode, location, status, remind, \
             created_at FROM appointments WHERE org_id = $1 AND episode_id = $2 ORDER BY starts_at DESC",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn add_barrier(&self, b: &Barrier) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO barriers (id, org_id, episode_id, kind, code, note, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(b.id.0)
        .bind(b.org_id.0)
        .bind(b.episode_id.0)
        .bind(b.kind.as_str())
        .bind(b.code.as_str())
        .bind(&b.note)
        .bind(b.recorded_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn barriers(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Barrier>> {
        let rows: Vec<BarrierRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, episode_id, kind, code, note, recorded_at FROM barriers WHERE org_id = $1 AND episode_id = $2 \
             ORDER BY recorded_at, id",
        )
        .bind(org.0)
        .bind(episode.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter()
            .map(|r| {
                Ok(Barrier {
                    id: r.id.into(),
                    org_id: r.org_id.into(),
                    episode_id: r.episode_id.into(),
                    kind: r.kind.parse().map_err(|e| corrupt("barrier kind", e))?,
                    code: r.code.parse().map_err(|e| corrupt("barrier code", e))?,
                    note: r.note,
                    recorded_at: r.recorded_at,
                })
            })
            .collect()
    }

    async fn insert_casework(&self, b: &CaseworkBatch) -> StoreResult<()> {
        // Multi-row VALUES in chunks, the same SQL on both backends (well under SQLite's 32,766
        // and PostgreSQL's 65,535 bound parameters per statement).
        const ROWS: usize = 200;
        // SQLite: chunked multi-row VALUES. PostgreSQL: one UNNEST statement of column arrays per
        // table (parsing thousands of bound VALUES is what makes bulk loads slow there).
        macro_rules! common {
            ($tx:expr) => {
            for chunk in b.episodes.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO episodes (id, org_id, person_id, referral_id, team_id, worker_id, work, opened_at, follow_up_on, \
                     closed_at, discharge_reason, discharge_note, version) ",
                );
                qb.push_values(chunk, |mut q, e| {
                    q.push_bind(e.id.0).push_bind(e.org_id.0).push_bind(e.person_id.0).push_bind(e.referral_id.0)
                        .push_bind(e.team_id.0).push_bind(e.worker_id.map(|w| w.0)).push_bind(e.work.as_str())
                        .push_bind(e.opened_at).push_bind(e.follow_up_on).push_bind(e.closed_at)
                        .push_bind(e.discharge_reason.map(|r| r.as_str())).push_bind(e.discharge_note.clone()).push_bind(e.version);
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            for chunk in b.codes.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO coded_events (id, org_id, person_id, referral_id, episode_id, code, term, recorded_at, recorded_by) ",
                );
                qb.push_values(chunk, |mut q, c| {
                    q.push_bind(c.id.0).push_bind(c.org_id.0).push_bind(c.person_id.0).push_bind(c.referral_id.0)
                        .push_bind(c.episode_id.map(|e| e.0)).push_bind(c.code.clone()).push_bind(c.term.clone())
                        .push_bind(c.recorded_at).push_bind(c.recorded_by.map(|u| u.0));
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            for chunk in b.needs.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO needs (id, org_id, episode_id, domain, own_words, recorded_at, recorded_by) ",
                );
                qb.push_values(chunk, |mut q, n| {
                    q.push_bind(n.id.0).push_bind(n.org_id.0).push_bind(n.episode_id.0).push_bind(n.domain.as_str())
                        .push_bind(n.own_words.clone()).push_bind(n.recorded_at).push_bind(n.recorded_by.map(|u| u.0));
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            for chunk in b.goals.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO goals (id, org_id, episode_id, domain, own_words, steps, status, progress, created_at, updated_at, version) ",
                );
                qb.push_values(chunk, |mut q, g| {
                    q.push_bind(g.id.0).push_bind(g.org_id.0).push_bind(g.episode_id.0).push_bind(g.domain.as_str())
                        .push_bind(g.own_words.clone()).push_bind(g.steps.clone()).push_bind(g.status.as_str())
                        .push_bind(g.progress).push_bind(g.created_at).push_bind(g.updated_at).push_bind(g.version);
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            for chunk in b.holdings.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO holding_periods (id, org_id, episode_id, reason, started_on, review_on, ended_on, ended_how, note) ",
                );
                qb.push_values(chunk, |mut q, h| {
                    q.push_bind(h.id.0).push_bind(h.org_id.0).push_bind(h.episode_id.0).push_bind(h.reason.as_str())
                        .push_bind(h.started_on).push_bind(h.review_on).push_bind(h.ended_on)
                        .push_bind(h.ended_how.map(|x| x.as_str())).push_bind(h.note.clone());
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            for chunk in b.appointments.chunks(ROWS) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO appointments (id, org_id, episode_id, person_id, worker_id, starts_at, minutes, mode, location, \
                     status, remind, created_at) ",
                );
                qb.push_values(chunk, |mut q, a| {
                    q.push_bind(a.id.0).push_bind(a.org_id.0).push_bind(a.episode_id.0).push_bind(a.person_id.0)
                        .push_bind(a.worker_id.map(|u| u.0)).push_bind(a.starts_at).push_bind(a.minutes).push_bind(a.mode.as_str())
                        .push_bind(a.location.as_str()).push_bind(a.status.as_str()).push_bind(a.remind).push_bind(a.created_at);
                });
                qb.build().execute(&mut *$tx).await.map_err(map_err)?;
            }
            };
        }
        match &self.db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                common!(tx);
                for chunk in b.contacts.chunks(ROWS) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO contacts (id, org_id, episode_id, worker_id, happened_on, minutes, mode, location, present, notes, \
                         outside_usual, created_at) ",
                    );
                    qb.push_values(chunk, |mut q, c| {
                        q.push_bind(c.id.0)
                            .push_bind(c.org_id.0)
                            .push_bind(c.episode_id.0)
                            .push_bind(c.worker_id.map(|u| u.0))
                            .push_bind(c.happened_on)
                            .push_bind(c.minutes)
                            .push_bind(c.mode.as_str())
                            .push_bind(c.location.as_str())
                            .push_bind(c.present.clone())
                            .push_bind(c.notes.clone())
                            .push_bind(c.outside_usual)
                            .push_bind(c.created_at);
                    });
                    qb.build().execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                let e = &b.episodes;
                sqlx::query(
                    "INSERT INTO episodes (id, org_id, person_id, referral_id, team_id, worker_id, work, opened_at, follow_up_on, \
                     closed_at, discharge_reason, discharge_note, version) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], \
                     $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::timestamptz[], $9::date[], \
                     $10::timestamptz[], $11::text[], $12::text[], $13::int[])",
                )
                .bind(e.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.person_id.0).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.referral_id.0).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.team_id.0).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.worker_id.map(|w| w.0)).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.work.as_str()).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.opened_at).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.follow_up_on).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.closed_at).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.discharge_reason.map(|r| r.as_str())).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.discharge_note.clone()).collect::<Vec<_>>())
                .bind(e.iter().map(|x| x.version).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let k = &b.codes;
                sqlx::query(
                    "INSERT INTO coded_events (id, org_id, person_id, referral_id, episode_id, code, term, recorded_at, recorded_by) \
                     SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], \
                     $8::timestamptz[], $9::uuid[])",
                )
                .bind(k.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.person_id.0).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.referral_id.0).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.episode_id.map(|e| e.0)).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.code.clone()).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.term.clone()).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.recorded_at).collect::<Vec<_>>())
                .bind(k.iter().map(|x| x.recorded_by.map(|u| u.0)).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let n = &b.needs;
                sqlx::query(
                    "INSERT INTO needs (id, org_id, episode_id, domain, own_words, recorded_at, recorded_by) SELECT * FROM \
                     UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::uuid[])",
                )
                .bind(n.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.episode_id.0).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.domain.as_str()).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.own_words.clone()).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.recorded_at).collect::<Vec<_>>())
                .bind(n.iter().map(|x| x.recorded_by.map(|u| u.0)).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let g = &b.goals;
                sqlx::query(
                    "INSERT INTO goals (id, org_id, episode_id, domain, own_words, steps, status, progress, created_at, updated_at, \
                     version) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], \
                     $7::text[], $8::int[], $9::timestamptz[], $10::timestamptz[], $11::int[])",
                )
                .bind(g.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.episode_id.0).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.domain.as_str()).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.own_words.clone()).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.steps.clone()).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.status.as_str()).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.progress).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.created_at).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.updated_at).collect::<Vec<_>>())
                .bind(g.iter().map(|x| x.version).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let h = &b.holdings;
                sqlx::query(
                    "INSERT INTO holding_periods (id, org_id, episode_id, reason, started_on, review_on, ended_on, ended_how, note) \
                     SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::date[], $6::date[], $7::date[], \
                     $8::text[], $9::text[])",
                )
                .bind(h.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.episode_id.0).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.started_on).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.review_on).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.ended_on).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.ended_how.map(|e| e.as_str())).collect::<Vec<_>>())
                .bind(h.iter().map(|x| x.note.clone()).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let a = &b.appointments;
                sqlx::query(
                    "INSERT INTO appointments (id, org_id, episode_id, person_id, worker_id, starts_at, minutes, mode, location, \
                     status, remind, created_at) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], \
                     $6::timestamptz[], $7::int[], $8::text[], $9::text[], $10::text[], $11::boolean[], $12::timestamptz[])",
                )
                .bind(a.iter().map(|x| x.id.0).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.org_id.0).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.episode_id.0).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.person_id.0).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.worker_id.map(|u| u.0)).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.starts_at).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.minutes).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.mode.as_str()).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.location.as_str()).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.status.as_str()).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.remind).collect::<Vec<_>>())
                .bind(a.iter().map(|x| x.created_at).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let c = &b.contacts;
                sqlx::query(
                    "INSERT INTO contacts (id, org_id, episode_id, worker_id, happened_on, minutes, mode, location, present, notes, \
                     outside_usual, created_at) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::date[], \
                     $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[], $12::timestamptz[])",
                )
                .bind(c.iter().map(|c| c.id.0).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.org_id.0).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.episode_id.0).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.worker_id.map(|u| u.0)).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.happened_on).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.minutes).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.mode.as_str()).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.location.as_str()).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.present.clone()).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.notes.clone()).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.outside_usual).collect::<Vec<_>>())
                .bind(c.iter().map(|c| c.created_at).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }
        }
    }

    async fn team_settings(&self, org: OrgId, team: TeamId) -> StoreResult<TeamSettings> {
        let row: Option<SettingsRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT team_id, org_id, accepted_needs, min_age, max_age, areas, exclusions, default_minutes, default_mode, \
             default_location, usual_contacts, allowed_locations, follow_up_days, version FROM team_settings \
             WHERE org_id = $1 AND team_id = $2",
        )
        .bind(org.0)
        .bind(team.0)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?);
        let Some(r) = row else {
            return Ok(TeamSettings::defaults(team, org));
        };
        Ok(TeamSettings {
            team_id: r.team_id.into(),
            org_id: r.org_id.into(),
            accepted_needs: parse_list(&r.accepted_needs).map_err(|e| corrupt("accepted needs", e))?,
            min_age: r.min_age,
            max_age: r.max_age,
            areas: r.areas.split(',').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
            exclusions: split_words(&r.exclusions),
            default_minutes: r.default_minutes,
            default_mode: r.default_mode.parse().map_err(|e| corrupt("default mode", e))?,
            default_location: r.default_location.parse().map_err(|e| corrupt("default location", e))?,
            usual_contacts: r.usual_contacts,
            allowed_locations: parse_list(&r.allowed_locations).map_err(|e| corrupt("allowed locations", e))?,
            follow_up_days: r.follow_up_days,
            version: r.version,
        })
    }

    async fn save_team_settings(&self, s: &TeamSettings) -> StoreResult<TeamSettings> {
        let needs = join_codes(s.accepted_needs.iter().map(|n| n.as_str()));
        let locations = join_codes(s.allowed_locations.iter().map(|l| l.as_str()));
        let areas = s.areas.join(",");
        let exclusions = s.exclusions.join("\n");
        // Version 0 means "never saved": insert, failing as stale if someone saved first.
        let n = on_db!(&self.db, pool => {
            let q = if s.version == 0 {
                sqlx::query(
                    "INSERT INTO team_settings (accepted_needs, min_age, max_age, areas, exclusions, default_minutes, \
                     default_mode, default_location, usual_contacts, allowed_locations, follow_up_days, org_id, team_id, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) ON CONFLICT (team_id) DO NOTHING",
                )
            } else {
                sqlx::query(
                    "UPDATE team_settings SET accepted_needs = $1, min_age = $2, max_age = $3, areas = $4, exclusions = $5, \
                     default_minutes = $6, default_mode = $7, default_location = $8, usual_contacts = $9, \
                     allowed_locations = $10, follow_up_days = $11, version = version + 1 \
                     WHERE org_id = $12 AND team_id = $13 AND version = $14",
                )
            };
            let q = q
                .bind(&needs)
                .bind(s.min_age)
                .bind(s.max_age)
                .bind(&areas)
                .bind(&exclusions)
                .bind(s.default_minutes)
                .bind(s.default_mode.as_str())
                .bind(s.default_location.as_str())
                .bind(s.usual_contacts)
                .bind(&locations)
                .bind(s.follow_up_days)
                .bind(s.org_id.0)
                .bind(s.team_id.0);
            let q = if s.version == 0 { q } else { q.bind(s.version) };
            q.execute(pool).await.map_err(map_err)?.rows_affected()
        });
        if n == 0 {
            return Err(stale());
        }
        self.team_settings(s.org_id, s.team_id).await
    }
}

impl SqlStore {
    /// A person by id within the tenant, merged or not.
    async fn get_person_any(&self, org: OrgId, id: PersonId) -> StoreResult<Person> {
        let row: PersonRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PERSON_COLUMNS} WHERE org_id = $1 AND id = $2"
        )))
        .bind(org.0)
        .bind(id.0)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }
}
