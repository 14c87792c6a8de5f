//! Opening a database: the embedded SQLite file in the data folder, or PostgreSQL by URL.
//! Durability settings live here: SQLite in WAL mode with `synchronous=FULL` (a commit is on disk
//! before it is acknowledged, surviving power loss), PostgreSQL with `synchronous_commit=on`.

use crate::{Db, SqlStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// An SQLite file, created if missing (its folder too).
    SqliteFile(PathBuf),
    /// A database URL: `postgres://…`, `postgresql://…` or `sqlite:…`.
    Url(String),
}

/// Why the database could not be opened. Each message is one sentence saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL {url} is not valid ({reason}); use the form postgres://USER:PASSWORD@HOST:5432/DATABASE")]
    BadUrl { url: String, reason: String },
    #[error("the database URL {0} is not supported; it must start with postgres://, postgresql:// or sqlite:")]
    UnknownScheme(String),
    #[error(
        "the data folder {path} cannot be written ({reason}); choose another with --data or LINKWORK_DATA, or fix its permissions"
    )]
    DataFolder { path: String, reason: String },
    #[error(
        "cannot open the database at {url} ({reason}); check that the server is running and the URL, user and password are right"
    )]
    Unreachable { url: String, reason: String },
}

/// Hide the password in a database URL before it is shown or logged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

fn check_writable(dir: &Path) -> Result<(), OpenError> {
    let err = |e: std::io::Error| OpenError::DataFolder { path: dir.display().to_string(), reason: e.to_string() };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(".linkwork-write-test");
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

fn sqlite_options(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}

async fn open_sqlite(opts: SqliteConnectOptions, shown: String) -> Result<SqlStore, OpenError> {
    let path = opts.get_filename().to_path_buf();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        check_writable(dir)?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(sqlite_options(opts))
        .await
        .map_err(|e| OpenError::Unreachable { url: shown, reason: e.to_string() })?;
    Ok(SqlStore { db: Db::Sqlite(pool), sqlite_path: Some(path) })
}

pub(crate) async fn open(location: &DatabaseLocation) -> Result<SqlStore, OpenError> {
    match location {
        DatabaseLocation::SqliteFile(path) => {
            let shown = path.display().to_string();
            open_sqlite(SqliteConnectOptions::new().filename(path), shown).await
        }
        DatabaseLocation::Url(url) => {
            let shown = redact_url(url);
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                let opts = PgConnectOptions::from_str(url)
                    .map_err(|e| OpenError::BadUrl { url: shown.clone(), reason: e.to_string() })?
                    .options([("synchronous_commit", "on")]);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(|e| OpenError::Unreachable { url: shown, reason: e.to_string() })?;
                Ok(SqlStore { db: Db::Postgres(pool), sqlite_path: None })
            } else if url.starts_with("sqlite:") {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| OpenError::BadUrl { url: shown.clone(), reason: e.to_string() })?;
                open_sqlite(opts, shown).await
            } else {
                Err(OpenError::UnknownScheme(shown))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://lw:s3cret@db:5432/lw"), "postgres://lw:***@db:5432/lw");
        assert_eq!(redact_url("postgres://lw@db/lw"), "postgres://lw@db/lw");
        assert_eq!(redact_url("sqlite:data/x.db"), "sqlite:data/x.db");
        assert_eq!(redact_url("postgres://a:b:c@d@h/x"), "postgres://a:***@h/x");
    }
}
