//! Login attempts in the throttling window, shared by every process on the database.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::login_attempts;
use super::DbConn;

/// Which key an attempt is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountedBy {
    /// The attempted username.
    Username,
    /// The client address.
    Client,
}

/// A stored attempt.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = login_attempts)]
pub struct AttemptRow {
    /// Random id, to forgive the attempt when the login succeeds.
    pub id: String,
    /// Hash of the normalized username.
    pub username_key: String,
    /// Hash of the client address.
    pub client_key: String,
    /// Unix ms.
    pub at: i64,
}

/// Makes every other transaction that locks one of `keys` wait until this one ends.
/// PostgreSQL takes transaction-scoped advisory locks, in sorted order so that two
/// transactions never wait for each other; on SQLite the write transaction already holds
/// the database's only write lock, so there is nothing to add.
pub fn lock_keys(conn: &mut DbConn, keys: &[&str]) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<Text, _>(key)
                .execute(pg)?;
        }
    }
    Ok(())
}

/// Attempts under `key` at or after `since`.
pub fn count_since(conn: &mut DbConn, by: CountedBy, key: &str, since: i64) -> QueryResult<i64> {
    let query = login_attempts::table
        .filter(login_attempts::at.ge(since))
        .count()
        .into_boxed();
    match by {
        CountedBy::Username => query.filter(login_attempts::username_key.eq(key)),
        CountedBy::Client => query.filter(login_attempts::client_key.eq(key)),
    }
    .get_result(conn)
}

/// The time of the `n`-th oldest (from 0) attempt under `key` at or after `since`.
pub fn nth_since(
    conn: &mut DbConn,
    by: CountedBy,
    key: &str,
    since: i64,
    n: i64,
) -> QueryResult<Option<i64>> {
    let query = login_attempts::table
        .filter(login_attempts::at.ge(since))
        .select(login_attempts::at)
        .order(login_attempts::at.asc())
        .offset(n)
        .limit(1)
        .into_boxed();
    match by {
        CountedBy::Username => query.filter(login_attempts::username_key.eq(key)),
        CountedBy::Client => query.filter(login_attempts::client_key.eq(key)),
    }
    .first(conn)
    .optional()
}

/// Stores an attempt.
pub fn insert(conn: &mut DbConn, row: &AttemptRow) -> QueryResult<()> {
    diesel::insert_into(login_attempts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Removes an attempt (a login that succeeded, or one never checked).
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(login_attempts::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// Removes every attempt older than `before`; returns how many.
pub fn prune(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    diesel::delete(login_attempts::table.filter(login_attempts::at.lt(before))).execute(conn)
}
