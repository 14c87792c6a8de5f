//! tower-sessions backed by our own storage port, so sessions live in SQLite or PostgreSQL with
//! everything else: any instance can serve any request, and revoking a user's sessions is one
//! delete. The signed-in user's id is copied into its own column for that purpose.

use chrono::{DateTime, Utc};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::SessionRecord;
use linkwork_domain::ids::UserId;
use linkwork_domain::ports::Store;
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";

/// Session expiry is computed here from our [`Clock`] (now + the idle timeout on every save),
/// not from the wall-clock date tower-sessions puts in the record, so one clock rules session
/// lifetime and tests can move it.
#[derive(Clone)]
pub struct DbSessionStore {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub idle: chrono::Duration,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_time(t: DateTime<Utc>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        + time::Duration::microseconds(i64::from(t.timestamp_subsec_micros()))
}

fn to_stored(r: &Record, expires_at: DateTime<Utc>) -> Result<SessionRecord, session_store::Error> {
    let user_id = r.data.get(USER_KEY).and_then(|v| v.as_str()).and_then(|s| s.parse::<UserId>().ok());
    Ok(SessionRecord {
        id: r.id.to_string(),
        user_id,
        data: serde_json::to_string(&r.data).map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expires_at,
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id collides essentially never; if it does, draw again.
        loop {
            let stored = to_stored(record, self.clock.now() + self.idle)?;
            if self.store.create_session(&stored).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save_session(&to_stored(record, self.clock.now() + self.idle)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(s) = self.store.load_session(&id.to_string(), self.clock.now()).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&s.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date: to_time(s.expires_at) }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}
