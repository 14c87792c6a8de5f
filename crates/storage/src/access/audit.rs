//! The audit trail's storage, and the group-commit writer that batches concurrent events into
//! one transaction (one fsync) while still answering each caller only after its event is
//! durable.

use crate::{BeginWrite, Db, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::access::audit::{
    AuditAction, AuditEntry, AuditError, AuditEvent, AuditFilter, AuditLog, GENESIS, chain_hash,
};
use linkwork_domain::ports::{AuditStore, StoreError, StoreResult};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The advisory lock that serialises appends on PostgreSQL ("audit" in ASCII).
const PG_AUDIT_LOCK: &str = "SELECT pg_advisory_xact_lock(1635083369)";

const LAST_EVENT: &str = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";

const INSERT_EVENTS: &str = "INSERT INTO audit_events (seq, at, actor_user_id, actor, roles, org_id, action, record_type, \
     record_id, person_id, source, reason, prev_hash, hash) ";

/// Chain `entries` after the last stored event: (seq, entry, previous hash, hash). Each entry's
/// people are put in their stored order (sorted, no repeats) before hashing, so the hash
/// recomputes from what is read back.
fn chain(last: Option<(i64, String)>, entries: &[AuditEntry]) -> Vec<(i64, AuditEntry, String, String)> {
    let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_owned()));
    entries
        .iter()
        .map(|e| {
            seq += 1;
            let mut e = e.clone();
            e.people.sort_unstable();
            e.people.dedup();
            let hash = chain_hash(seq, &prev, &e);
            (seq, e, std::mem::replace(&mut prev, hash.clone()), hash)
        })
        .collect()
}

/// The (seq, person) rows of list views in a chained batch.
fn people_rows(rows: &[(i64, AuditEntry, String, String)]) -> Vec<(i64, Uuid)> {
    rows.iter().flat_map(|(seq, e, _, _)| e.people.iter().map(move |p| (*seq, p.0))).collect()
}

const AUDIT_COLUMNS: &str = "SELECT seq, at, actor_user_id, actor, roles, org_id, action, record_type, record_id, \
     person_id, source, reason, prev_hash, hash FROM audit_events";

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_user_id: Option<Uuid>,
    actor: String,
    roles: String,
    org_id: Option<Uuid>,
    action: String,
    record_type: String,
    record_id: Option<String>,
    person_id: Option<Uuid>,
    source: Option<String>,
    reason: Option<String>,
    prev_hash: String,
    hash: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEvent {
            seq: r.seq,
            entry: AuditEntry {
                at: r.at,
                actor_user_id: r.actor_user_id.map(Into::into),
                actor: r.actor,
                roles: r.roles,
                org_id: r.org_id.map(Into::into),
                action: AuditAction::parse(&r.action)
                    .ok_or_else(|| StoreError::Database(format!("stored audit action is invalid: {}", r.action)))?,
                record_type: r.record_type,
                record_id: r.record_id,
                person_id: r.person_id.map(Into::into),
                people: vec![],
                source: r.source,
                reason: r.reason,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        match &self.db {
            // BEGIN IMMEDIATE holds SQLite's write lock: nobody else can chain meanwhile.
            Db::Sqlite(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                let last = sqlx::query_as(LAST_EVENT).fetch_optional(&mut *tx).await.map_err(map_err)?;
                let rows = chain(last, entries);
                for chunk in rows.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::new(INSERT_EVENTS);
                    qb.push_values(chunk, |mut b, (seq, e, prev, hash)| {
                        b.push_bind(*seq)
                            .push_bind(e.at)
                            .push_bind(e.actor_user_id.map(|u| u.0))
                            .push_bind(e.actor.clone())
                            .push_bind(e.roles.clone())
                            .push_bind(e.org_id.map(|o| o.0))
                            .push_bind(e.action.as_str())
                            .push_bind(e.record_type.clone())
                            .push_bind(e.record_id.clone())
                            .push_bind(e.person_id.map(|p| p.0))
                            .push_bind(e.source.clone())
                            .push_bind(e.reason.clone())
                            .push_bind(prev.clone())
                            .push_bind(hash.clone());
                    });
                    qb.build().execute(&mut *tx).await.map_err(map_err)?;
                }
                for chunk in people_rows(&rows).chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::new("INSERT INTO audit_event_people (seq, person_id) ");
                    qb.push_values(chunk, |mut b, (seq, person)| {
                        b.push_bind(*seq).push_bind(*person);
                    });
                    qb.build().execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
            // PostgreSQL: an advisory lock so two instances never chain to the same predecessor,
            // and one statement of column arrays whatever the batch size (planned once, unlike a
            // multi-row VALUES statement per batch size).
            Db::Postgres(pool) => {
                let mut tx = pool.begin_write().await.map_err(map_err)?;
                sqlx::query(PG_AUDIT_LOCK).execute(&mut *tx).await.map_err(map_err)?;
                let last = sqlx::query_as(LAST_EVENT).fetch_optional(&mut *tx).await.map_err(map_err)?;
                let rows = chain(last, entries);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{INSERT_EVENTS} SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], \
                     $6::uuid[], $7::text[], $8::text[], $9::text[], $10::uuid[], $11::text[], $12::text[], $13::text[], $14::text[])"
                )))
                .bind(rows.iter().map(|r| r.0).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.1.at).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.actor_user_id.map(|u| u.0)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.actor.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.roles.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.org_id.map(|o| o.0)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.action.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.record_type.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.record_id.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.person_id.map(|p| p.0)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.source.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.1.reason.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let people = people_rows(&rows);
                if !people.is_empty() {
                    sqlx::query(
                        "INSERT INTO audit_event_people (seq, person_id) SELECT * FROM UNNEST($1::bigint[], $2::uuid[])",
                    )
                    .bind(people.iter().map(|p| p.0).collect::<Vec<_>>())
                    .bind(people.iter().map(|p| p.1).collect::<Vec<_>>())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
        }
    }

    async fn audit_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{AUDIT_COLUMNS} WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        let mut events: Vec<AuditEvent> = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
        // A contiguous run: its people in one range read of the primary key.
        if let (Some(first), Some(last)) = (events.first().map(|e| e.seq), events.last().map(|e| e.seq)) {
            let people: Vec<(i64, Uuid)> = on_db!(&self.db, pool => sqlx::query_as(
                "SELECT seq, person_id FROM audit_event_people WHERE seq >= $1 AND seq <= $2 ORDER BY seq, person_id",
            )
            .bind(first)
            .bind(last)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
            attach(&mut events, people);
        }
        Ok(events)
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        on_db!(&self.db, pool => sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool)
            .await
            .map_err(map_err))
    }

    async fn audited(&self, action: AuditAction, record_type: &str, record_id: &str) -> StoreResult<bool> {
        let found: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT seq FROM audit_events WHERE record_type = $1 AND record_id = $2 AND action = $3 LIMIT 1",
        )
        .bind(record_type)
        .bind(record_id)
        .bind(action.as_str())
        .fetch_optional(pool)
        .await
        .map_err(map_err)?);
        Ok(found.is_some())
    }

    async fn search_audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = on_db!(&self.db, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("{AUDIT_COLUMNS} WHERE 1 = 1"));
            if let Some(org) = f.org_id {
                qb.push(" AND org_id = ").push_bind(org.0);
            }
            if let Some(actor) = f.actor.as_ref().map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()) {
                qb.push(" AND actor = ").push_bind(actor);
            }
            if let Some(action) = f.action {
                qb.push(" AND action = ").push_bind(action.as_str());
            }
            if let Some(person) = f.person_id {
                // Events about the person, and list views that showed them.
                qb.push(" AND (person_id = ").push_bind(person.0);
                qb.push(" OR seq IN (SELECT seq FROM audit_event_people WHERE person_id = ").push_bind(person.0).push("))");
            }
            if let Some(from) = f.from {
                qb.push(" AND at >= ").push_bind(from);
            }
            if let Some(to) = f.to {
                qb.push(" AND at < ").push_bind(to);
            }
            if let Some(before) = f.before_seq {
                qb.push(" AND seq < ").push_bind(before);
            }
            qb.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit.clamp(1, 1000));
            qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
        });
        let mut events: Vec<AuditEvent> = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
        if !events.is_empty() {
            let people: Vec<(i64, Uuid)> = on_db!(&self.db, pool => {
                let mut qb = sqlx::QueryBuilder::new("SELECT seq, person_id FROM audit_event_people WHERE seq IN (");
                let mut seqs = qb.separated(", ");
                for e in &events {
                    seqs.push_bind(e.seq);
                }
                qb.push(") ORDER BY seq, person_id");
                qb.build_query_as().fetch_all(pool).await.map_err(map_err)?
            });
            attach(&mut events, people);
        }
        Ok(events)
    }
}

/// Give each event its people, from (seq, person) rows in person order.
fn attach(events: &mut [AuditEvent], people: Vec<(i64, Uuid)>) {
    let mut by_seq: std::collections::HashMap<i64, Vec<linkwork_domain::ids::PersonId>> =
        std::collections::HashMap::new();
    for (seq, person) in people {
        by_seq.entry(seq).or_default().push(person.into());
    }
    for e in events {
        if let Some(p) = by_seq.remove(&e.seq) {
            e.entry.people = p;
        }
    }
}

struct Pending {
    entries: Vec<AuditEntry>,
    done: oneshot::Sender<Result<(), AuditError>>,
}

/// Group commit: callers queue their entries and wait; one task writes everything queued so far
/// in a single transaction, then answers every caller in the batch. Under load, batches grow and
/// the cost of each commit is shared; when idle, an event is written at once.
#[derive(Clone)]
pub struct GroupCommitAudit {
    sender: mpsc::Sender<Pending>,
}

/// Most entries written in one transaction.
const MAX_BATCH: usize = 1000;

impl GroupCommitAudit {
    /// Start the writer task on the current tokio runtime.
    pub fn start(store: Arc<dyn AuditStore>) -> Self {
        let (sender, mut queue) = mpsc::channel::<Pending>(8192);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                let mut count = batch[0].entries.len();
                while count < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(p) => {
                            count += p.entries.len();
                            batch.push(p);
                        }
                        Err(_) => break,
                    }
                }
                let entries: Vec<AuditEntry> = batch.iter().flat_map(|p| p.entries.iter().cloned()).collect();
                let result = store.append_audit(&entries).await.map_err(AuditError::Store);
                if let Err(e) = &result {
                    tracing::error!(cause = %e, events = entries.len(), "could not write audit events");
                }
                for p in batch {
                    let _ = p.done.send(result.clone());
                }
            }
        });
        Self { sender }
    }
}

#[async_trait::async_trait]
impl AuditLog for GroupCommitAudit {
    async fn record(&self, entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        let (done, answer) = oneshot::channel();
        self.sender.send(Pending { entries, done }).await.map_err(|_| AuditError::Stopped)?;
        answer.await.map_err(|_| AuditError::Stopped)?
    }
}
