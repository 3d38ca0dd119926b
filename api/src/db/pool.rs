//! The connection pool and the async handle that runs blocking diesel work off the runtime.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool};
use diesel::Connection;

use super::checkpointer::Checkpointer;
use super::disk_full::DiskFull;
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
                init_tls();
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.batch_execute("SET synchronous_commit = on; SET lock_timeout = '4s'")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Pg(conn))
            }
        }
    }
}

/// Initializes OpenSSL, which libpq uses for TLS, without its exit-time cleanup; call it
/// before the first PostgreSQL connection of a process (it is idempotent). By default
/// OpenSSL frees its global state in an `atexit` handler, and a pool thread still opening
/// or closing a TLS connection as the process exits then runs on freed memory: a segfault
/// in an r2d2 worker after `canvass verify` had printed its result. The memory is the
/// operating system's to take back anyway.
pub fn init_tls() {
    openssl_sys::init();
}

fn sqlite_connection(path: &str) -> Result<DbConn, diesel::ConnectionError> {
    let mut conn = diesel::SqliteConnection::establish(path)?;
    // WAL lets readers run beside the writer; FULL makes an acknowledged commit survive a
    // power cut; busy_timeout makes a writer of another process (a CLI command) wait a
    // little instead of failing at once, but no longer than a request may wait (503 then).
    conn.batch_execute(
        "PRAGMA busy_timeout = 4000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(DbConn::Sqlite(conn))
}

/// The r2d2 manager for [`DbConn`].
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
    writer: bool,
    writer_cache_mib: u32,
}

/// The default page cache of SQLite's writer connection, in MiB (`--sqlite-cache-mib`).
///
/// The cache is most of a SQLite server's memory: it grows as transactions touch pages,
/// up to this size, and keeps them. At 256 MiB a server with a million visits held
/// 572 MiB; the cache of a push needs the upper levels of the indexes it writes, which at
/// a million visits fill a few MiB, and the leaves it misses are read from the operating
/// system's file cache, which the kernel may reclaim. A large import dirties more pages
/// than fit, and SQLite then writes some into the WAL before the commit: a 350,000-row
/// import took 24.6 s with 32 MiB, 22.5 s with 256 MiB and 30.8 s with SQLite's default
/// of 2 MiB (docs/benchmarks.md).
pub const DEFAULT_SQLITE_CACHE_MIB: u32 = 32;

/// WAL pages after which the writer's commit copies the log back into the database file
/// itself (SQLite's default is 1,000). A thread of its own copies it every 200 ms
/// (`checkpointer`); this is the backstop for when that thread falls behind, and then
/// finds most of the log copied. The log is reused from its start once every page in it is
/// copied, and grows to about 40 MiB when that never happens between two commits.
pub const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let mut conn = self
            .target
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        if self.writer && self.target.backend() == Backend::Sqlite {
            // Statement journals (one per multi-row statement inside a transaction) stay in
            // memory too instead of going through a temporary file, write by write.
            let cache_kib = u64::from(self.writer_cache_mib) * 1024;
            conn.batch_execute(&format!(
                "PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY; \
                 PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}"
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(conn)
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

/// How long a request waits for a database connection before it is answered 503
/// `unavailable`: long enough to ride out a burst, short enough that a phone is never left
/// hanging (contract §12, "Retrying").
pub const CHECKOUT_WAIT: Duration = Duration::from_secs(4);
/// The `Retry-After` of a 503 for a database that is busy or out of reach.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The shared database handle.
///
/// Readers and writers are kept apart, so that writers queued behind a long write (for
/// SQLite's one write lock, or for PostgreSQL row locks) can never take every connection
/// that reads need. On a SQLite file, WAL lets any number of readers run beside one writer:
/// reads get their own pool and every write goes through a second pool of exactly one
/// connection. On PostgreSQL each has a pool of the configured size. For `sqlite::memory:`
/// one connection is the whole database, so both are that one.
#[derive(Clone)]
pub struct Db {
    readers: Pool<Manager>,
    writer: Pool<Manager>,
    backend: Backend,
    disk_full: Arc<DiskFull>,
    /// A SQLite file's log copier, stopped when the last handle goes.
    _checkpointer: Option<Arc<Checkpointer>>,
}

impl Db {
    /// Builds the pools; `size` is ignored for `sqlite::memory:` (one connection), and
    /// `sqlite_cache_mib` (the writer's page cache) on PostgreSQL.
    pub fn open(target: &DbTarget, size: u32, sqlite_cache_mib: u32) -> Result<Db, String> {
        let pool = |size: u32, writer: bool| build_pool(target, size, writer, sqlite_cache_mib);
        let readers = match target {
            DbTarget::SqliteMemory => pool(1, true)?,
            DbTarget::SqliteFile(_) => pool(size.max(1), false)?,
            DbTarget::Postgres(_) => pool(size.max(1), false)?,
        };
        let writer = match target {
            DbTarget::SqliteFile(_) => pool(1, true)?,
            DbTarget::Postgres(_) => pool(size.max(1), true)?,
            DbTarget::SqliteMemory => readers.clone(),
        };
        let database_file = match target {
            DbTarget::SqliteFile(path) => Some(path.as_str()),
            DbTarget::SqliteMemory | DbTarget::Postgres(_) => None,
        };
        let checkpointer = database_file
            .map(Checkpointer::start)
            .transpose()
            .map_err(|err| format!("cannot start the checkpoint thread: {err}"))?;
        Ok(Db {
            readers,
            writer,
            backend: target.backend(),
            disk_full: Arc::new(DiskFull::new(database_file)),
            _checkpointer: checkpointer.map(Arc::new),
        })
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection for blocking code (CLI commands, start-up); it may write.
    pub fn get(&self) -> ApiResult<diesel::r2d2::PooledConnection<Manager>> {
        checkout(&self.writer)
    }

    /// Runs read-only work on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.readers.clone();
        run_blocking(move || {
            let mut conn = checkout(&pool)?;
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
        let pool = self.writer.clone();
        let disk_full = self.disk_full.clone();
        run_blocking(move || {
            let mut conn = checkout(&pool)?;
            let outcome = conn.write_transaction(f);
            disk_full.observe(&outcome);
            outcome
        })
        .await
    }

    /// Whether writes are refused because the database's disk is full (see
    /// [`DiskFull::still_full`]; it asks the filesystem, so it runs off the runtime).
    pub async fn disk_still_full(&self) -> bool {
        let disk_full = self.disk_full.clone();
        run_blocking(move || Ok(disk_full.still_full()))
            .await
            .unwrap_or(true)
    }
}

fn build_pool(
    target: &DbTarget,
    size: u32,
    writer: bool,
    writer_cache_mib: u32,
) -> Result<Pool<Manager>, String> {
    let mut builder = Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_WAIT);
    if *target == DbTarget::SqliteMemory {
        // The one connection is the whole database: the pool must never recycle it.
        builder = builder.idle_timeout(None).max_lifetime(None);
    }
    builder
        .build(Manager {
            target: target.clone(),
            writer,
            writer_cache_mib,
        })
        .map_err(|err| format!("cannot open the database: {err}"))
}

/// A connection within [`CHECKOUT_WAIT`], or 503 `unavailable`: the pool is drained by
/// slow work, or the database is out of reach (r2d2 keeps trying to reconnect meanwhile,
/// so the server recovers by itself once it is back).
fn checkout(pool: &Pool<Manager>) -> ApiResult<diesel::r2d2::PooledConnection<Manager>> {
    pool.get_timeout(CHECKOUT_WAIT).map_err(|err| {
        tracing::warn!(error = %err, "no database connection in time");
        ApiError::unavailable(
            "the database is busy or out of reach; retry later",
            RETRY_AFTER_SECS,
        )
    })
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
