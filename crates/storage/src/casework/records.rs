//! What happens in an episode, on both backends: needs, goals and reviews, contacts, holding,
//! appointments and barriers. Every query names its tenant; a nested id is checked against its
//! episode.

use crate::access::rows::corrupt;
use crate::table::Insert;
use crate::{BeginWrite, SqlStore, map_err, on_db, stale};
use chrono::NaiveDate;
use linkwork_domain::StoreError;
use linkwork_domain::casework::coding::CodedEvent;
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Barrier, Contact, EpisodeWork, Goal, GoalReview, HoldingEnd, HoldingPeriod, Need,
};
use linkwork_domain::ids::{AppointmentId, EpisodeId, GoalId, HoldingId, OrgId, UserId};
use linkwork_domain::jobs::NewJob;
use linkwork_domain::ports::{CaseworkStore, StoreResult};
use uuid::Uuid;

use super::rows::*;

#[async_trait::async_trait]
impl CaseworkStore for SqlStore {
    async fn add_need(&self, n: &Need) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            conn.insert(std::slice::from_ref(n)).await
        })
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
        on_db!(&self.db, pool => {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            conn.insert(std::slice::from_ref(g)).await
        })
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
            tx.insert(std::slice::from_ref(r)).await?;
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

    async fn add_contact(&self, c: &Contact, follow_up_on: Option<NaiveDate>, codes: &[CodedEvent]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            tx.insert(std::slice::from_ref(c)).await?;
            // Once per episode: a code already there (an earlier contact's) stays as it was.
            tx.insert_missing(codes).await?;
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
            "SELECT id, org_id, episode_id, worker_id, happened_on, happened_at, minutes, mode, location, present, notes, outside_usual, \
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
            "SELECT id, org_id, episode_id, worker_id, happened_on, happened_at, minutes, mode, location, present, notes, outside_usual, \
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
            tx.insert(std::slice::from_ref(h)).await?;
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
            tx.insert(std::slice::from_ref(a)).await?;
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
        on_db!(&self.db, pool => {
            let mut conn = pool.acquire().await.map_err(map_err)?;
            conn.insert(std::slice::from_ref(b)).await
        })
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
}
