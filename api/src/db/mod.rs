//! Storage: one diesel connection type over SQLite and PostgreSQL, a pool, embedded
//! migrations, and the query modules, each taking `&mut DbConn`. Rows are decoded here, at
//! the edge, into typed domain values (ids, roles, levels, dates, record states); a stored
//! value that does not decode is a [`DbError::Corrupt`] naming its row, never a default.

/// Runs `$body` with `$c` bound to the concrete connection. Diesel's `MultiBackend` cannot
/// express batch inserts or `ON CONFLICT`, although both backends have them with the same
/// syntax, so those statements are compiled once per backend from one source.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}

pub mod areas;
pub mod assignments;
pub mod campaigns;
mod checkpointer;
pub mod counters;
mod decode;
pub mod disk_full;
pub mod error;
pub mod history;
pub mod login_attempts;
mod multi_row;
pub mod pool;
pub mod progress_visits;
pub mod records;
pub mod schema;
pub mod server_settings;
pub mod sqlite_lock;
pub mod streets;
pub mod tokens;
pub mod users;
pub mod visit_list;
pub mod web_sessions;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

pub use error::{CorruptRow, DbError, DbResult};
pub use pool::{Backend, Db, DbTarget};

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// The embedded default.
    Sqlite(diesel::SqliteConnection),
    /// The scale backend.
    Pg(diesel::PgConnection),
}

/// The PostgreSQL advisory lock key held while migrating ("canvass" in ASCII, then 1).
const MIGRATION_LOCK_KEY: i64 = 0x6361_6e76_6173_7301;

/// Migrations, embedded in the binary, one folder per backend with equal names.
pub const SQLITE_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/postgres");

impl DbConn {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Pg(_) => Backend::Postgres,
        }
    }

    /// For the rest of this transaction, plans each statement for the values it is given.
    ///
    /// A bulk transaction (an import of 500,000 households) runs each of its statements a
    /// thousand times. After five runs PostgreSQL may switch a prepared statement to its
    /// generic plan, made for a table as its statistics last saw it: right after an
    /// earlier import, before autovacuum analyzed it, "empty", and so a scan of the whole
    /// table for every 500 ids looked up. The benchmark's second import of the national
    /// world took over 300 s in those scans, and about 50 s planned each time. SQLite
    /// plans from its indexes alone and needs nothing.
    pub fn plan_each_statement(&mut self) -> QueryResult<()> {
        match self {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(c) => {
                use diesel::connection::SimpleConnection;
                c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")
            }
        }
    }

    /// Runs `f` in a write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so a
    /// writer waits for the write lock up front (busy_timeout) instead of failing when it
    /// later upgrades a read lock.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConn::Sqlite(conn) => {
                AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE")?
            }
            DbConn::Pg(conn) => AnsiTransactionManager::begin_transaction(conn)?,
        }
        match f(self) {
            Ok(value) => {
                if let Err(commit_err) =
                    <DbConn as Connection>::TransactionManager::commit_transaction(self)
                {
                    let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(self);
                    return Err(commit_err.into());
                }
                Ok(value)
            }
            Err(err) => {
                // A rollback that fails means the connection is gone (and the transaction
                // with it): the error that stopped the work is the one to answer with.
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(self);
                Err(err)
            }
        }
    }

    /// Runs all pending migrations of this backend; returns how many ran.
    ///
    /// On PostgreSQL several processes may start at once: a session advisory lock lets one
    /// migrate while the others wait, then find nothing left to run. (SQLite's migration
    /// transaction is already exclusive.)
    pub fn migrate(&mut self) -> Result<usize, String> {
        use diesel::connection::SimpleConnection;
        use diesel_migrations::MigrationHarness;
        let done = match self {
            DbConn::Sqlite(conn) => conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|d| d.len()),
            DbConn::Pg(conn) => {
                let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})");
                conn.batch_execute(&lock)
                    .map_err(|e| format!("cannot take the migration lock: {e}"))?;
                let done = conn
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|d| d.len());
                let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})");
                conn.batch_execute(&unlock)
                    .map_err(|e| format!("cannot release the migration lock: {e}"))?;
                done
            }
        };
        done.map_err(|err| err.to_string())
    }

    /// Reverts every migration (the schema round-trip test uses it).
    pub fn revert_all(&mut self) -> Result<usize, String> {
        use diesel_migrations::MigrationHarness;
        let done = match self {
            DbConn::Sqlite(conn) => conn
                .revert_all_migrations(SQLITE_MIGRATIONS)
                .map(|d| d.len()),
            DbConn::Pg(conn) => conn
                .revert_all_migrations(POSTGRES_MIGRATIONS)
                .map(|d| d.len()),
        };
        done.map_err(|err| err.to_string())
    }
}
