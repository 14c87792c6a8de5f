//! linkwork's storage: the domain's ports implemented on two real databases, SQLite (embedded,
//! the default) and PostgreSQL (by URL, for multi-site deployments where several stateless
//! instances share one server).
//!
//! Each backend has its own typed pool and its own migrations. Most SQL is standard enough to
//! run unchanged on both (`$1` parameters, `RETURNING`, `ON CONFLICT`), so a query is written
//! once and [`on_db!`] runs it against whichever pool is open; each arm is type-checked against
//! its own driver, so a type that one backend cannot encode fails to compile. Where the SQL must
//! differ (job claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL), the arms are written out
//! by hand. The contract tests in `tests/it/storage` run every port against both.

mod access;
pub mod backup;
mod casework;
mod connections;
mod database;
mod directory;
mod intake;
mod jobs;
mod outbox;
mod outcomes;
mod people;
mod table;

pub use access::audit::GroupCommitAudit;
pub use database::{DatabaseLocation, OpenError, redact_url};
pub use people::{EPISODE_BOUND, EPISODE_TABLES, PERSON_TABLES};

use linkwork_domain::ports::{Conflict, SchemaStatus, Store, StoreError, StoreResult};
use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqlitePool};
use std::path::PathBuf;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// An open pool of one backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run the same expression against whichever pool is open. `$pool` is bound to `&SqlitePool`
/// or `&PgPool`; the expression is compiled once per backend.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Inside a create's write transaction `$tx`: the id of what an earlier request with the same
/// idempotency key created (`Some`), or `None` for a new key. A key used before for a different
/// request returns `Conflict::IdempotencyKeyReused` from the enclosing function.
macro_rules! idempotent_replay {
    ($tx:expr, $key:expr) => {{
        let prior: Option<(String, uuid::Uuid)> =
            sqlx::query_as("SELECT request_hash, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
                .bind(&$key.scope)
                .bind(&$key.key)
                .fetch_optional(&mut *$tx)
                .await
                .map_err($crate::map_err)?;
        match prior {
            Some((hash, _)) if hash != $key.request_hash => {
                return Err(linkwork_domain::ports::StoreError::Conflict(
                    linkwork_domain::ports::Conflict::IdempotencyKeyReused,
                ));
            }
            Some((_, id)) => Some(id),
            None => None,
        }
    }};
}
pub(crate) use idempotent_replay;

/// Inside the same transaction: remember the key with what it created, so a retry replays it.
macro_rules! remember_idempotency {
    ($tx:expr, $key:expr, $resource_type:literal, $id:expr, $at:expr) => {
        sqlx::query(concat!(
            "INSERT INTO idempotency_keys (scope, key, request_hash, resource_type, resource_id, created_at) ",
            "VALUES ($1, $2, $3, '",
            $resource_type,
            "', $4, $5)"
        ))
        .bind(&$key.scope)
        .bind(&$key.key)
        .bind(&$key.request_hash)
        .bind($id)
        .bind($at)
        .execute(&mut *$tx)
        .await
        .map_err($crate::map_err)?
    };
}
pub(crate) use remember_idempotency;

/// The storage implementation: one pool, either backend.
#[derive(Clone, Debug)]
pub struct SqlStore {
    db: Db,
    /// The SQLite file, for backups before migrating.
    sqlite_path: Option<PathBuf>,
}

/// What `migrate` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrateReport {
    pub applied: Vec<i64>,
    /// A copy of the SQLite database taken before applying migrations to existing data.
    pub backup: Option<PathBuf>,
}

/// Why migrating stopped. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {0} started earlier but did not finish, so the schema is half-migrated; restore the backup taken before migrating (in the data folder) or fix the database by hand, then run `linkwork migrate` again"
    )]
    Dirty(i64),
    #[error(
        "the database has migration {0}, which this version of linkwork does not know: it was upgraded by a newer linkwork; run that version instead"
    )]
    TooNew(i64),
    #[error(
        "migration {0} applied to this database differs from the one this version of linkwork ships; the database was migrated by a different build: run that build, or restore from backup"
    )]
    Changed(i64),
    #[error("could not migrate the database: {0}")]
    Other(String),
}

impl SqlStore {
    /// Open a store (the database must be reachable; migrations are not run).
    pub async fn open(location: &DatabaseLocation) -> Result<Self, OpenError> {
        database::open(location).await
    }

    /// The pool, for tests and tools that need raw SQL (schema parity, benchmarks).
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn migrator(&self) -> &'static Migrator {
        match self.db {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Bring the schema up to date. Each migration runs in its own transaction; on SQLite, if
    /// the file already holds tables and migrations are pending, a backup copy is taken first.
    pub async fn migrate(&self, backup_stamp: &str) -> Result<MigrateReport, MigrateError> {
        let status = self.schema_status().await.map_err(|e| MigrateError::Other(e.to_string()))?;
        if let Some(v) = status.dirty {
            return Err(MigrateError::Dirty(v));
        }
        if let Some(v) = status.unknown().first() {
            return Err(MigrateError::TooNew(*v));
        }
        let pending = status.pending();
        if pending.is_empty() {
            return Ok(MigrateReport::default());
        }
        let mut report = MigrateReport { applied: pending, backup: None };
        if let (Db::Sqlite(pool), Some(path)) = (&self.db, &self.sqlite_path) {
            let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                .fetch_one(pool)
                .await
                .map_err(|e| MigrateError::Other(e.to_string()))?;
            if tables > 0 {
                let backup = path.with_file_name(format!("linkwork-before-migration-{backup_stamp}.db"));
                let target = backup.to_string_lossy().replace('\'', "''");
                sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
                    .execute(pool)
                    .await
                    .map_err(|e| MigrateError::Other(format!("could not back up before migrating: {e}")))?;
                report.backup = Some(backup);
            }
        }
        let result = on_db!(&self.db, pool => self.migrator().run(pool).await);
        result.map_err(|e| match e {
            sqlx::migrate::MigrateError::Dirty(v) => MigrateError::Dirty(v),
            sqlx::migrate::MigrateError::VersionMissing(v) => MigrateError::TooNew(v),
            sqlx::migrate::MigrateError::VersionMismatch(v) => MigrateError::Changed(v),
            other => MigrateError::Other(other.to_string()),
        })?;
        Ok(report)
    }

    /// Apply migrations only up to `version`: for upgrade tests that seed data at an older
    /// schema and then migrate the rest.
    pub async fn migrate_up_to(&self, version: i64) -> Result<(), MigrateError> {
        on_db!(&self.db, pool => self.migrator().run_to(version, pool).await)
            .map_err(|e| MigrateError::Other(e.to_string()))
    }

    /// Close the pool, waiting for connections to finish (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        on_db!(&self.db, pool => pool.close().await);
    }
}

/// Map a driver error to a port error. Unique violations become `Conflict` naming the rule.
/// A versioned update that matched nothing: someone saved in between.
pub(crate) fn stale() -> StoreError {
    StoreError::Conflict(Conflict::Version)
}

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(Conflict::Unique(d.constraint().map_or_else(|| d.message().to_owned(), str::to_owned)))
        }
        other => StoreError::Database(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()).map_err(map_err))
    }

    async fn analyze(&self) -> StoreResult<()> {
        // PostgreSQL: VACUUM also sets the visibility map, so counts can use index-only scans.
        let sql = match self.db {
            Db::Sqlite(_) => "ANALYZE",
            Db::Postgres(_) => "VACUUM (ANALYZE)",
        };
        on_db!(&self.db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()).map_err(map_err))
    }

    async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        let known: Vec<i64> =
            self.migrator().iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect();
        // The migrations table does not exist before the first migration.
        let exists: bool = match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(pool)
                .await
                .map_err(map_err)?
                    > 0
            }
            Db::Postgres(pool) => sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(pool)
                .await
                .map_err(map_err)?,
        };
        if !exists {
            return Ok(SchemaStatus { applied: vec![], known, dirty: None });
        }
        let rows: Vec<(i64, bool)> = on_db!(&self.db, pool => sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        let dirty = rows.iter().find(|(_, ok)| !ok).map(|(v, _)| *v);
        let applied = rows.into_iter().filter(|(_, ok)| *ok).map(|(v, _)| v).collect();
        Ok(SchemaStatus { applied, known, dirty })
    }
}

/// Start a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so a read-then-write transaction cannot fail half-way with "database is
/// locked" when another writer got there first; PostgreSQL's default is right as it is.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}
