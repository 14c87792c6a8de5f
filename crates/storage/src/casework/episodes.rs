//! Episodes on both backends: opening (with triage), the episode's work, discharge, the
//! caseload, codes, team settings and casework written in bulk.

use crate::access::rows::corrupt;
use crate::table::Insert;
use crate::{BeginWrite, SqlStore, map_err, on_db, stale};
use chrono::{DateTime, Utc};
use linkwork_domain::casework::coding::{CodedContact, CodedEvent};
use linkwork_domain::casework::message_back::{Reopening, SentMessageBack};
use linkwork_domain::casework::{CaseloadItem, Episode, HoldingEnd, TeamSettings};
use linkwork_domain::ids::{EpisodeId, OrgId, PersonId, TeamId, UserId};
use linkwork_domain::people::Person;
use linkwork_domain::ports::{CaseworkBatch, Discharge, EpisodeStore, StoreResult};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::vocab::parse_list;

use super::rows::*;
use crate::intake::join_codes;

#[async_trait::async_trait]
impl EpisodeStore for SqlStore {
    async fn coded_events(&self, org: OrgId, person: PersonId) -> StoreResult<Vec<CodedEvent>> {
        let rows: Vec<CodedRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, person_id, referral_id, episode_id, contact_id, code, term, recorded_at, recorded_by \
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
    ) -> StoreResult<Vec<(CodedEvent, Person, Option<CodedContact>)>> {
        let rows: Vec<CodedAtRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT k.id, k.org_id, k.person_id, k.referral_id, k.episode_id, k.contact_id, k.code, k.term, k.recorded_at, \
             k.recorded_by, c.happened_on AS contact_on, c.happened_at AS contact_at, c.mode AS contact_mode \
             FROM coded_events k LEFT JOIN contacts c ON c.id = k.contact_id AND c.org_id = k.org_id \
             WHERE k.org_id = $1 AND k.recorded_at >= $2 AND k.recorded_at < $3 ORDER BY k.recorded_at, k.id LIMIT 100000",
        )
        .bind(org.0)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        let ids: Vec<PersonId> = rows.iter().map(|r| r.coded.person_id.into()).collect();
        let people = self.people_by_id(org, &ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(person) = people.get(&r.coded.person_id.into()).cloned() else { continue };
            let contact = match (r.contact_on, r.contact_mode) {
                (Some(happened_on), Some(mode)) => Some(CodedContact {
                    happened_on,
                    happened_at: r.contact_at,
                    mode: mode.parse().map_err(|e| corrupt("contact mode", e))?,
                }),
                _ => None,
            };
            out.push((coded(r.coded), person, contact));
        }
        Ok(out)
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
            tx.insert(std::slice::from_ref(&d.message_back)).await?;
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

    async fn message_backs(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<SentMessageBack>> {
        self.sent_message_backs(org, episode).await
    }

    async fn reopen(&self, r: &Reopening) -> StoreResult<()> {
        self.reopen_episode(r).await
    }

    async fn reopenings(&self, org: OrgId, episode: EpisodeId) -> StoreResult<Vec<Reopening>> {
        self.episode_reopenings(org, episode).await
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
                 p.given_name, p.family_name, p.nhs_number, p.safeguarding, p.lone_working, \
                 (SELECT min(h.started_on) FROM holding_periods h WHERE h.episode_id = e.id AND h.ended_on IS NULL) AS holding_since, \
                 (SELECT min(h.review_on) FROM holding_periods h WHERE h.episode_id = e.id AND h.ended_on IS NULL) AS holding_review_on, \
                 (SELECT count(*) FROM contacts c WHERE c.episode_id = e.id) AS contacts, \
                 (SELECT max(c.happened_on) FROM contacts c WHERE c.episode_id = e.id) AS last_contact, \
                 (SELECT min(c.happened_on) FROM contacts c WHERE c.episode_id = e.id) AS first_contact, \
                 (SELECT count(*) FROM connections k WHERE k.org_id = e.org_id AND k.person_id = e.person_id \
                   AND k.service_said_at IS NOT NULL AND (k.seen_at IS NULL OR k.seen_at < k.service_said_at)) AS new_answers, \
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
                    lone_working: r.lone_working.is_some(),
                    new_answers: r.new_answers,
                    holding_since: r.holding_since,
                    holding_review_on: r.holding_review_on,
                    contacts: r.contacts,
                    last_contact: r.last_contact,
                    first_contact: r.first_contact,
                    next_appointment: r.next_appointment,
                })
            })
            .collect()
    }

    async fn insert_casework(&self, b: &CaseworkBatch) -> StoreResult<()> {
        let CaseworkBatch { episodes, message_backs, codes, needs, goals, contacts, holdings, appointments } = b;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            tx.insert(episodes).await?;
            tx.insert(message_backs).await?;
            tx.insert(needs).await?;
            tx.insert(goals).await?;
            tx.insert(contacts).await?;
            // After the contacts: a code names the contact it was recorded at.
            tx.insert(codes).await?;
            tx.insert(holdings).await?;
            tx.insert(appointments).await?;
            tx.commit().await.map_err(map_err)
        })
    }

    async fn team_settings(&self, org: OrgId, team: TeamId) -> StoreResult<TeamSettings> {
        let row: Option<SettingsRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT team_id, org_id, accepted_needs, min_age, max_age, areas, exclusions, default_minutes, default_mode, \
             default_location, usual_contacts, allowed_locations, follow_up_days, outcome_instruments, outcome_review_weeks, \
             version FROM team_settings \
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
            outcome_instruments: parse_list(&r.outcome_instruments).map_err(|e| corrupt("outcome instruments", e))?,
            outcome_review_weeks: r.outcome_review_weeks,
            version: r.version,
        })
    }

    async fn save_team_settings(&self, s: &TeamSettings) -> StoreResult<TeamSettings> {
        let needs = join_codes(s.accepted_needs.iter().map(|n| n.as_str()));
        let locations = join_codes(s.allowed_locations.iter().map(|l| l.as_str()));
        let areas = s.areas.join(",");
        let exclusions = s.exclusions.join("\n");
        let instruments = join_codes(s.outcome_instruments.iter().map(|i| i.as_str()));
        // Version 0 means "never saved": insert, failing as stale if someone saved first.
        let n = on_db!(&self.db, pool => {
            let q = if s.version == 0 {
                sqlx::query(
                    "INSERT INTO team_settings (accepted_needs, min_age, max_age, areas, exclusions, default_minutes, \
                     default_mode, default_location, usual_contacts, allowed_locations, follow_up_days, outcome_instruments, \
                     outcome_review_weeks, org_id, team_id, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1) ON CONFLICT (team_id) DO NOTHING",
                )
            } else {
                sqlx::query(
                    "UPDATE team_settings SET accepted_needs = $1, min_age = $2, max_age = $3, areas = $4, exclusions = $5, \
                     default_minutes = $6, default_mode = $7, default_location = $8, usual_contacts = $9, \
                     allowed_locations = $10, follow_up_days = $11, outcome_instruments = $12, outcome_review_weeks = $13, \
                     version = version + 1 WHERE org_id = $14 AND team_id = $15 AND version = $16",
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
                .bind(&instruments)
                .bind(s.outcome_review_weeks)
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
