//! Dashboard sessions: the SHA-256 of the cookie's token, its user and its CSRF token.

use diesel::prelude::*;

use super::schema::web_sessions;
use super::DbConn;
use crate::model::UserId;

/// A stored session.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct WebSessionRow {
    /// SHA-256 of the cookie's token, hex.
    pub token_hash: String,
    /// Who signed in (UUID text; decoded by the caller, which also checks the user).
    pub user_id: String,
    /// The token every changing form of this session carries.
    pub csrf_token: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
}

/// Stores a new session.
pub fn insert(conn: &mut DbConn, row: &WebSessionRow) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The session of a token hash, unless it has expired at `now_ms`.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now_ms: i64,
) -> QueryResult<Option<WebSessionRow>> {
    web_sessions::table
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::expires_at.gt(now_ms))
        .select(WebSessionRow::as_select())
        .first(conn)
        .optional()
}

/// Ends one session.
pub fn end(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .map(|_| ())
}

/// Ends every session of a user (disabled, new password, logout of every login).
pub fn end_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id.to_string())))
        .execute(conn)
        .map(|_| ())
}

/// Deletes sessions that expired before `now_ms`.
pub fn prune(conn: &mut DbConn, now_ms: i64) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now_ms))).execute(conn)
}
