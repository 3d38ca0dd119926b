//! Refresh tokens, stored only as SHA-256 hashes, grouped in families (one per login).

use diesel::prelude::*;

use super::schema::refresh_tokens;
use super::DbConn;

/// A stored refresh token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The login it descends from.
    pub family_id: String,
    /// Owner.
    pub user_id: String,
    /// Unix ms.
    pub expires_at: i64,
    /// Already exchanged.
    pub used: bool,
    /// Revoked by logout, reuse, a disable or a new password.
    pub revoked: bool,
    /// Unix ms.
    pub created_at: i64,
    /// When it was first exchanged (Unix ms), for the grace window.
    pub used_at: Option<i64>,
}

/// Stores a new token.
pub fn insert(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A token by hash.
pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .find(token_hash)
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a live, unexpired token used at `now`; false when it was already used, revoked or
/// expired. The check and the write are one statement, so of two concurrent exchanges of
/// one token exactly one gets true, on one process or several: PostgreSQL makes the second
/// UPDATE wait for the first's row lock and then re-check the row.
pub fn consume(conn: &mut DbConn, token_hash: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        refresh_tokens::table
            .find(token_hash)
            .filter(refresh_tokens::used.eq(false))
            .filter(refresh_tokens::revoked.eq(false))
            .filter(refresh_tokens::expires_at.gt(now)),
    )
    .set((
        refresh_tokens::used.eq(true),
        refresh_tokens::used_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes every token of a login.
pub fn revoke_family(conn: &mut DbConn, family_id: &str) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked.eq(false)),
    )
    .set(refresh_tokens::revoked.eq(true))
    .execute(conn)
    .map(|_| ())
}

/// Revokes every token of every login of a user.
pub fn revoke_user(conn: &mut DbConn, user_id: &str) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked.eq(false)),
    )
    .set(refresh_tokens::revoked.eq(true))
    .execute(conn)
    .map(|_| ())
}
