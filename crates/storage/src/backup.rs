//! Online backups. SQLite: `VACUUM INTO` writes a consistent copy of the live database (one
//! read transaction, so writes in flight are either wholly in it or not), then the copy's
//! integrity is checked before it is called a backup. PostgreSQL: `pg_dump` or the provider's
//! backups are the tool; here the server is only reached and its version reported.

use crate::{Db, SqlStore};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub bytes: u64,
    pub tables: usize,
    pub millis: u128,
}

/// Why a backup could not be made: one sentence saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "linkwork does not copy PostgreSQL databases: use pg_dump (pg_dump -Fc -f linkwork.dump DATABASE) or your provider's backups; the server answered as {0}"
    )]
    Postgres(String),
    #[error("{0} already exists: back up to a new file")]
    Exists(String),
    #[error("the backup could not be written: {0}")]
    Write(String),
    #[error("the copy failed its integrity check ({0}); it has been removed: try again, and check the disk")]
    Corrupt(String),
}

impl SqlStore {
    /// Write a consistent copy of the live SQLite database to `dest` and check it.
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupReport, BackupError> {
        let started = std::time::Instant::now();
        let pool = match &self.db {
            Db::Sqlite(pool) => pool,
            Db::Postgres(pool) => {
                let version: String = sqlx::query_scalar("SELECT version()")
                    .fetch_one(pool)
                    .await
                    .map_err(|e| BackupError::Write(e.to_string()))?;
                return Err(BackupError::Postgres(version));
            }
        };
        if dest.exists() {
            return Err(BackupError::Exists(dest.display().to_string()));
        }
        let target = dest.to_string_lossy().replace('\'', "''");
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
            .execute(pool)
            .await
            .map_err(|e| BackupError::Write(e.to_string()))?;
        let tables = match check_file(dest).await {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                return Err(BackupError::Corrupt(e));
            }
        };
        let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        Ok(BackupReport { bytes, tables, millis: started.elapsed().as_millis() })
    }

    /// A digest of every table's content (every row, every column, in a fixed order), for
    /// checking that a copy holds what its source held.
    pub async fn table_digests(&self) -> Result<BTreeMap<String, String>, String> {
        match &self.db {
            Db::Sqlite(pool) => digests(pool).await,
            Db::Postgres(_) => Err("table digests are computed on SQLite copies".into()),
        }
    }
}

/// Open an SQLite file read-only: `PRAGMA integrity_check` must say ok. The tables it holds.
pub async fn check_file(path: &Path) -> Result<usize, String> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .map_err(|e| e.to_string())?;
    let verdict: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&pool).await.map_err(|e| e.to_string())?;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool)
        .await
        .map_err(|e| e.to_string())?;
    pool.close().await;
    if verdict != ["ok"] {
        return Err(verdict.join("; "));
    }
    Ok(usize::try_from(tables).unwrap_or(0))
}

/// The table digests of an SQLite file, opened read-only.
pub async fn file_digests(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .map_err(|e| e.to_string())?;
    let d = digests(&pool).await;
    pool.close().await;
    d
}

async fn digests(pool: &sqlx::SqlitePool) -> Result<BTreeMap<String, String>, String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for t in tables {
        let cols: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{t}')")))
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?;
        // Table and column names come from the schema itself, quoted as identifiers.
        let row = cols.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
        // Ordered by the rendered row itself: the same content gives the same digest whatever
        // order the pages hold it in.
        let rows: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {row} FROM \"{t}\" ORDER BY 1")))
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?;
        let mut h = Sha256::new();
        for r in &rows {
            h.update(r.as_bytes());
            h.update(b"\n");
        }
        out.insert(t, format!("{} rows {:x}", rows.len(), h.finalize()));
    }
    Ok(out)
}
