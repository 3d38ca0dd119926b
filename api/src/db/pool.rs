//! The connection pool and the async handle that runs blocking diesel work off the runtime.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool};
use diesel::Connection;

use super::DbConn;
use crate::error::{ApiError, ApiResult};

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// `sqlite://PATH`
    SqliteFile(String),
    /// `sqlite::memory:`: one connection, nothing kept.
    SqliteMemory,
    /// `postgres://…` or `postgresql://…`
    Postgres(String),
}

impl DbTarget {
    /// Parses the URL forms the contract names (section 1).
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            Ok(DbTarget::SqliteMemory)
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://canvass.db".into());
            }
            Ok(DbTarget::SqliteFile(path.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(DbTarget::SqliteFile(path.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbTarget::Postgres(url.to_owned()))
        } else {
            Err(format!(
                "unsupported database URL {url:?}: use sqlite://PATH, sqlite::memory: or postgres://…"
            ))
        }
    }

    /// The engine behind this target.
    pub fn backend(&self) -> Backend {
        match self {
            DbTarget::SqliteFile(_) | DbTarget::SqliteMemory => Backend::Sqlite,
            DbTarget::Postgres(_) => Backend::Postgres,
        }
    }

    /// Opens one connection, with SQLite's durability and concurrency pragmas set.
    pub fn connect(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self {
            DbTarget::SqliteFile(path) => sqlite_connection(path),
            DbTarget::SqliteMemory => sqlite_connection(":memory:"),
            DbTarget::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.batch_execute("SET synchronous_commit = on; SET lock_timeout = '30s'")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Pg(conn))
            }
        }
    }
}

fn sqlite_connection(path: &str) -> Result<DbConn, diesel::ConnectionError> {
    let mut conn = diesel::SqliteConnection::establish(path)?;
    // WAL lets readers run beside the writer; FULL makes an acknowledged commit survive a
    // power cut; busy_timeout makes a second writer wait instead of failing.
    conn.batch_execute(
        "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(DbConn::Sqlite(conn))
}

/// The r2d2 manager for [`DbConn`].
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.target
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection whose transaction could not be closed (its server went away mid-way)
    /// is dropped on return instead of being handed to the next request.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// The shared database handle: a pool plus, on SQLite, one in-process writer lock so that
/// writers queue fairly instead of spinning in SQLite's busy handler.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    sqlite_writer: Arc<Mutex<()>>,
}

impl Db {
    /// Builds the pool; `size` is ignored for `sqlite::memory:` (one connection).
    pub fn open(target: &DbTarget, size: u32) -> Result<Db, String> {
        let size = match target {
            DbTarget::SqliteMemory => 1,
            _ => size.max(1),
        };
        let mut builder = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30));
        if *target == DbTarget::SqliteMemory {
            // The one connection is the whole database: the pool must never recycle it.
            builder = builder.idle_timeout(None).max_lifetime(None);
        }
        let pool = builder
            .build(Manager {
                target: target.clone(),
            })
            .map_err(|err| format!("cannot open the database: {err}"))?;
        Ok(Db {
            pool,
            backend: target.backend(),
            sqlite_writer: Arc::new(Mutex::new(())),
        })
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection for blocking code (CLI commands, start-up).
    pub fn get(&self) -> ApiResult<diesel::r2d2::PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    /// Runs read-only work on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        run_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
    }

    /// Runs `f` in one write transaction on a blocking thread; it is committed (and so
    /// durable) before this returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let writer = (self.backend == Backend::Sqlite).then(|| self.sqlite_writer.clone());
        run_blocking(move || {
            let mut conn = pool.get()?;
            let _turn = writer
                .as_ref()
                .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            conn.write_transaction(f)
        })
        .await
    }
}

/// Runs blocking work on actix's blocking pool, inside the caller's tracing span.
pub async fn run_blocking<T, F>(f: F) -> ApiResult<T>
where
    F: FnOnce() -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(f))
        .await
        .map_err(|err| ApiError::internal(format!("blocking task failed: {err}")))?
}
