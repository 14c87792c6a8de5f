//! Outcome measures on both backends: records with their answers, questionnaire links, and the
//! wording deployers load. Person-identifiable: every read names the tenant, except a link
//! found by its token's hash and the reminder sweep (see the port).

use crate::access::rows::corrupt;
use crate::outbox::enqueue_in;
use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::ids::{EpisodeId, OrgId, OutcomeLinkId, PersonId};
use linkwork_domain::notifications::OutboxMessage;
use linkwork_domain::outcomes::{Answer, Instrument, OutcomeLink, OutcomeRecord, Wording};
use linkwork_domain::ports::{Conflict, OutcomeStore, StoreError, StoreResult};
use uuid::Uuid;

const RECORD: &str = "SELECT id, org_id, person_id, episode_id, instrument, version, point, status, via, source, total, \
     language, completed_on, recorded_at, recorded_by FROM outcome_records";

const LINK: &str = "SELECT id, org_id, person_id, episode_id, instrument, point, token_hash, reminder_hash, channel, \
     language, created_by, created_at, expires_at, reminded_at, used_at, record_id FROM outcome_links";

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    episode_id: Uuid,
    instrument: String,
    version: String,
    point: String,
    status: String,
    via: String,
    source: Option<String>,
    total: Option<f64>,
    language: Option<String>,
    completed_on: NaiveDate,
    recorded_at: DateTime<Utc>,
    recorded_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    record_id: Uuid,
    item: String,
    value: i32,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    episode_id: Uuid,
    instrument: String,
    point: String,
    token_hash: String,
    reminder_hash: Option<String>,
    channel: String,
    language: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    reminded_at: Option<DateTime<Utc>>,
    used_at: Option<DateTime<Utc>>,
    record_id: Option<Uuid>,
}

impl TryFrom<LinkRow> for OutcomeLink {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> StoreResult<Self> {
        Ok(OutcomeLink {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            episode_id: r.episode_id.into(),
            instrument: r.instrument.parse().map_err(|e| corrupt("link instrument", e))?,
            point: r.point.parse().map_err(|e| corrupt("link point", e))?,
            token_hash: r.token_hash,
            reminder_hash: r.reminder_hash,
            channel: r.channel,
            language: r.language,
            created_by: r.created_by.into(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            reminded_at: r.reminded_at,
            used_at: r.used_at,
            record_id: r.record_id.map(Into::into),
        })
    }
}

fn record(r: RecordRow, answers: &mut Vec<AnswerRow>) -> StoreResult<OutcomeRecord> {
    let mine: Vec<Answer> = answers
        .iter()
        .filter(|a| a.record_id == r.id)
        .map(|a| Answer { item: a.item.clone(), value: a.value })
        .collect();
    answers.retain(|a| a.record_id != r.id);
    Ok(OutcomeRecord {
        id: r.id.into(),
        org_id: r.org_id.into(),
        person_id: r.person_id.into(),
        episode_id: r.episode_id.into(),
        instrument: r.instrument.parse().map_err(|e| corrupt("outcome instrument", e))?,
        version: r.version,
        point: r.point.parse().map_err(|e| corrupt("outcome point", e))?,
        status: r.status.parse().map_err(|e| corrupt("outcome status", e))?,
        via: r.via.parse().map_err(|e| corrupt("outcome via", e))?,
        source: r.source,
        answers: mine,
        total: r.total,
        language: r.language,
        completed_on: r.completed_on,
        recorded_at: r.recorded_at,
        recorded_by: r.recorded_by.map(Into::into),
    })
}

/// Insert a record and its answers inside `$tx`.
macro_rules! insert_record {
    ($tx:expr, $r:expr) => {{
        let r: &OutcomeRecord = $r;
        sqlx::query(
            "INSERT INTO outcome_records (id, org_id, person_id, episode_id, instrument, version, point, status, via, \
             source, total, language, completed_on, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(r.id.0)
        .bind(r.org_id.0)
        .bind(r.person_id.0)
        .bind(r.episode_id.0)
        .bind(r.instrument.as_str())
        .bind(&r.version)
        .bind(r.point.as_str())
        .bind(r.status.as_str())
        .bind(r.via.as_str())
        .bind(&r.source)
        .bind(r.total)
        .bind(&r.language)
        .bind(r.completed_on)
        .bind(r.recorded_at)
        .bind(r.recorded_by.map(|u| u.0))
        .execute(&mut *$tx)
        .await
        .map_err(map_err)?;
        for a in &r.answers {
            sqlx::query("INSERT INTO outcome_answers (record_id, org_id, item, value) VALUES ($1, $2, $3, $4)")
                .bind(r.id.0)
                .bind(r.org_id.0)
                .bind(&a.item)
                .bind(a.value)
                .execute(&mut *$tx)
                .await
                .map_err(map_err)?;
        }
    }};
}

impl SqlStore {
    /// Records matching `filter` (a WHERE clause over `outcome_records` with `$1` the tenant and
    /// `$2`, `$3` its other values), with their answers, oldest first.
    async fn outcome_records(
        &self,
        filter: &str,
        org: OrgId,
        a: Option<Uuid>,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> StoreResult<Vec<OutcomeRecord>> {
        let sql = format!("{RECORD} WHERE {filter} ORDER BY completed_on, recorded_at");
        let answers_sql = format!(
            "SELECT a.record_id, a.item, a.value FROM outcome_answers a WHERE a.org_id = $1 AND a.record_id IN \
             (SELECT id FROM outcome_records WHERE {filter})"
        );
        let (rows, mut answers): (Vec<RecordRow>, Vec<AnswerRow>) = on_db!(&self.db, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(org.0);
            let mut qa = sqlx::query_as(sqlx::AssertSqlSafe(answers_sql.clone())).bind(org.0);
            if let Some(a) = a {
                q = q.bind(a);
                qa = qa.bind(a);
            }
            if let Some((from, to)) = days {
                q = q.bind(from).bind(to);
                qa = qa.bind(from).bind(to);
            }
            (q.fetch_all(pool).await.map_err(map_err)?, qa.fetch_all(pool).await.map_err(map_err)?)
        });
        rows.into_iter().map(|r| record(r, &mut answers)).collect()
    }
}

#[async_trait::async_trait]
impl OutcomeStore for SqlStore {
    async fn record_outcome(&self, r: &OutcomeRecord) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let open: Option<(Option<DateTime<Utc>>,)> =
                sqlx::query_as("SELECT closed_at FROM episodes WHERE org_id = $1 AND id = $2 AND person_id = $3")
                    .bind(r.org_id.0)
                    .bind(r.episode_id.0)
                    .bind(r.person_id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            match open {
                None => return Err(StoreError::NotFound),
                Some((Some(_),)) => return Err(StoreError::Conflict(Conflict::EpisodeClosed)),
                Some((None,)) => {}
            }
            insert_record!(tx, r);
            tx.commit().await.map_err(map_err)
        })
    }

    async fn import_outcomes(&self, records: &[OutcomeRecord]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for r in records {
                insert_record!(tx, r);
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn person_outcomes(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<OutcomeRecord>> {
        self.outcome_records("org_id = $1 AND person_id = $2", org, Some(person.0), None).await
    }

    async fn episode_outcomes(&self, org: OrgId, episodes: &[EpisodeId]) -> StoreResult<Vec<OutcomeRecord>> {
        let mut out = vec![];
        // A caseload page names 25 episodes, a report a few thousand: bound lists of 500.
        for chunk in episodes.chunks(500) {
            let (rows, mut answers): (Vec<RecordRow>, Vec<AnswerRow>) = on_db!(&self.db, pool => {
                let build = |head: &str| {
                    let mut qb = sqlx::QueryBuilder::new(head);
                    qb.push_bind(org.0).push(" AND episode_id IN (");
                    let mut sep = qb.separated(", ");
                    for e in chunk {
                        sep.push_bind(e.0);
                    }
                    qb.push(")");
                    qb
                };
                let mut records = build(&format!("{RECORD} WHERE org_id = "));
                records.push(" ORDER BY completed_on, recorded_at");
                let mut answers = build(
                    "SELECT a.record_id, a.item, a.value FROM outcome_answers a JOIN outcome_records r ON r.id = a.record_id \
                     WHERE r.org_id = ",
                );
                (
                    records.build_query_as().fetch_all(pool).await.map_err(map_err)?,
                    answers.build_query_as().fetch_all(pool).await.map_err(map_err)?,
                )
            });
            for r in rows {
                out.push(record(r, &mut answers)?);
            }
        }
        Ok(out)
    }

    async fn outcomes_between(&self, org: OrgId, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<OutcomeRecord>> {
        self.outcome_records("org_id = $1 AND completed_on >= $2 AND completed_on < $3", org, None, Some((from, to)))
            .await
    }

    async fn coverage_episodes(
        &self,
        org: OrgId,
        teams: &[linkwork_domain::ids::TeamId],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(EpisodeId, Option<linkwork_domain::ids::UserId>)>> {
        if teams.is_empty() {
            return Ok(vec![]);
        }
        let rows: Vec<(Uuid, Option<Uuid>)> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, worker_id FROM episodes WHERE org_id = ");
            qb.push_bind(org.0).push(" AND (closed_at IS NULL OR closed_at >= ").push_bind(since).push(") AND team_id IN (");
            let mut sep = qb.separated(", ");
            for t in teams {
                sep.push_bind(t.0);
            }
            qb.push(") ORDER BY opened_at");
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        Ok(rows.into_iter().map(|(e, w)| (e.into(), w.map(Into::into))).collect())
    }

    async fn create_link(&self, l: &OutcomeLink, message: &OutboxMessage) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO outcome_links (id, org_id, person_id, episode_id, instrument, point, token_hash, reminder_hash, \
                 channel, language, created_by, created_at, expires_at, reminded_at, used_at, record_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(l.id.0)
            .bind(l.org_id.0)
            .bind(l.person_id.0)
            .bind(l.episode_id.0)
            .bind(l.instrument.as_str())
            .bind(l.point.as_str())
            .bind(&l.token_hash)
            .bind(&l.reminder_hash)
            .bind(&l.channel)
            .bind(&l.language)
            .bind(l.created_by.0)
            .bind(l.created_at)
            .bind(l.expires_at)
            .bind(l.reminded_at)
            .bind(l.used_at)
            .bind(l.record_id.map(|r| r.0))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            enqueue_in!(tx, message);
            tx.commit().await.map_err(map_err)
        })
    }

    async fn link_by_token(&self, hash: &str) -> StoreResult<OutcomeLink> {
        let row: LinkRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LINK} WHERE token_hash = $1 OR reminder_hash = $1"
        )))
        .bind(hash)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn person_links(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<OutcomeLink>> {
        let rows: Vec<LinkRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LINK} WHERE org_id = $1 AND person_id = $2 ORDER BY created_at"
        )))
        .bind(org.0)
        .bind(person.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn answer_link(&self, link: OutcomeLinkId, r: &OutcomeRecord, at: DateTime<Utc>) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            // The record first (the link points at it), then the link claimed: only one of two
            // answers at once finds it unused, and the other's transaction rolls back whole.
            insert_record!(tx, r);
            let n = sqlx::query(
                "UPDATE outcome_links SET used_at = $1, record_id = $2 \
                 WHERE id = $3 AND org_id = $4 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(at)
            .bind(r.id.0)
            .bind(link.0)
            .bind(r.org_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::LinkUsed));
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn links_to_remind(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutcomeLink>> {
        let rows: Vec<LinkRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LINK} WHERE used_at IS NULL AND reminded_at IS NULL AND created_at <= $1 AND expires_at > $2 \
             ORDER BY created_at LIMIT $3"
        )))
        .bind(before)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn remind_link(
        &self,
        link: OutcomeLinkId,
        hash: &str,
        at: DateTime<Utc>,
        message: &OutboxMessage,
    ) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            let n = sqlx::query(
                "UPDATE outcome_links SET reminded_at = $1, reminder_hash = $2 \
                 WHERE id = $3 AND reminded_at IS NULL AND used_at IS NULL",
            )
            .bind(at)
            .bind(hash)
            .bind(link.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(Conflict::LinkUsed));
            }
            enqueue_in!(tx, message);
            tx.commit().await.map_err(map_err)
        })
    }

    async fn save_wording(&self, w: &Wording, at: DateTime<Utc>) -> StoreResult<()> {
        let doc = serde_json::to_string(w).map_err(|e| StoreError::Database(e.to_string()))?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO instrument_wordings (instrument, language, document, loaded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instrument, language) DO UPDATE SET document = excluded.document, loaded_at = excluded.loaded_at",
        )
        .bind(w.instrument.as_str())
        .bind(&w.language)
        .bind(&doc)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(map_err))
    }

    async fn wordings(&self, instrument: Instrument) -> StoreResult<Vec<Wording>> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT document FROM instrument_wordings WHERE instrument = $1 ORDER BY language"
        )
        .bind(instrument.as_str())
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(|(d,)| serde_json::from_str(&d).map_err(|e| corrupt("instrument wording", e))).collect()
    }

    async fn loaded_wordings(&self) -> StoreResult<Vec<(Instrument, String)>> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT instrument, language FROM instrument_wordings ORDER BY instrument, language"
        )
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        rows.into_iter().map(|(i, l)| Ok((i.parse().map_err(|e| corrupt("instrument", e))?, l))).collect()
    }
}
