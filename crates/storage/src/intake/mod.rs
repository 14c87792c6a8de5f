//! Referrals in and triage on both backends. Person-identifiable, so every query names its
//! tenant; a triage decision, the episode it opens and its codes are one transaction.

use crate::access::rows::corrupt;
use crate::table::{Insert, Table, Value};
use crate::{BeginWrite, SqlStore, idempotent_replay, map_err, on_db, remember_idempotency};
use chrono::{DateTime, Utc};
use linkwork_domain::StoreError;
use linkwork_domain::ids::{OrgId, PersonId, ReferralId, TeamId, UserId};
use linkwork_domain::intake::referrals::Referral;
use linkwork_domain::people::Person;
use linkwork_domain::ports::{Created, IdempotencyKey, IntakeStore, StoreResult, TriageDecision};
use linkwork_domain::vocab::parse_list;
use uuid::Uuid;

pub(crate) const REFERRAL_COLUMNS: &str = "SELECT id, org_id, person_id, team_id, source, reason, needs, urgency, consent, \
     tried, referred_by, referrer_name, status, received_at, decided_at, decided_by, decision_reason, decision_note \
     FROM referrals";

/// Codes joined for a comma-separated column.
pub(crate) fn join_codes<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    codes.collect::<Vec<_>>().join(",")
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReferralRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    team_id: Option<Uuid>,
    source: String,
    reason: String,
    needs: String,
    urgency: String,
    consent: bool,
    tried: String,
    referred_by: Option<Uuid>,
    referrer_name: String,
    status: String,
    received_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<Uuid>,
    decision_reason: Option<String>,
    decision_note: Option<String>,
}

impl TryFrom<ReferralRow> for Referral {
    type Error = StoreError;
    fn try_from(r: ReferralRow) -> Result<Self, StoreError> {
        Ok(Referral {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            team_id: r.team_id.map(Into::into),
            source: r.source.parse().map_err(|e| corrupt("referral source", e))?,
            reason: r.reason,
            needs: parse_list(&r.needs).map_err(|e| corrupt("referral needs", e))?,
            urgency: r.urgency.parse().map_err(|e| corrupt("urgency", e))?,
            consent: r.consent,
            tried: r.tried,
            referred_by: r.referred_by.map(Into::into),
            referrer_name: r.referrer_name,
            status: r.status.parse().map_err(|e| corrupt("referral status", e))?,
            received_at: r.received_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.map(Into::into),
            decision_reason: r.decision_reason,
            decision_note: r.decision_note,
        })
    }
}

/// The `referrals` table: every field of [`Referral`], once.
impl Table for Referral {
    const TABLE: &'static str = "referrals";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "org_id",
        "person_id",
        "team_id",
        "source",
        "reason",
        "needs",
        "urgency",
        "consent",
        "tried",
        "referred_by",
        "referrer_name",
        "status",
        "received_at",
        "decided_at",
        "decided_by",
        "decision_reason",
        "decision_note",
    ];
    fn values(&self) -> Vec<Value> {
        let Referral {
            id,
            org_id,
            person_id,
            team_id,
            source,
            reason,
            needs,
            urgency,
            consent,
            tried,
            referred_by,
            referrer_name,
            status,
            received_at,
            decided_at,
            decided_by,
            decision_reason,
            decision_note,
        } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(person_id.0),
            Value::uuid(team_id.map(|t| t.0)),
            Value::text(source.as_str()),
            Value::text(reason),
            Value::text(join_codes(needs.iter().map(|n| n.as_str()))),
            Value::text(urgency.as_str()),
            Value::bool(*consent),
            Value::text(tried),
            Value::uuid(referred_by.map(|u| u.0)),
            Value::text(referrer_name),
            Value::text(status.as_str()),
            Value::time(*received_at),
            Value::time(*decided_at),
            Value::uuid(decided_by.map(|u| u.0)),
            Value::opt_text(decision_reason.as_deref()),
            Value::opt_text(decision_note.as_deref()),
        ]
    }
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

fn referrals(rows: Vec<ReferralRow>) -> StoreResult<Vec<Referral>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

impl SqlStore {
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
impl IntakeStore for SqlStore {
    async fn insert_referrals(&self, referrals: &[Referral]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            tx.insert(referrals).await?;
            tx.commit().await.map_err(map_err)
        })
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
                tx.insert(std::slice::from_ref(p)).await?;
            }
            tx.insert(std::slice::from_ref(r)).await?;
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
            // Batched: one statement per table (a few on SQLite), however many rows.
            tx.insert(new_people).await?;
            tx.insert(refs).await?;
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
        let lock = matches!(self.db, crate::Db::Postgres(_));
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            // A new episode only while the person has none open: the person's row is locked
            // first on PostgreSQL, so two acceptances at once cannot both open one (SQLite's
            // write transactions are serial).
            if let Some(e) = &d.open_episode {
                crate::casework::lock_person!(tx, lock, e.org_id, e.person_id);
                let open: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM episodes WHERE org_id = $1 AND person_id = $2 AND closed_at IS NULL",
                )
                .bind(e.org_id.0)
                .bind(e.person_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                if open > 0 {
                    return Err(StoreError::Conflict(linkwork_domain::ports::Conflict::AnotherEpisodeOpen));
                }
            }
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
                return Err(StoreError::Conflict(linkwork_domain::ports::Conflict::ReferralDecided));
            }
            if let Some(e) = &d.open_episode {
                tx.insert(std::slice::from_ref(e)).await?;
            }
            for c in &d.codes {
                tx.insert(std::slice::from_ref(c)).await?;
            }
            tx.commit().await.map_err(map_err)
        })
    }
}
