//! Refresh tokens, stored only as SHA-256 hashes, grouped in families (one per login).

use diesel::prelude::*;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::refresh_tokens;
use super::DbConn;
use crate::model::UserId;

/// A stored refresh token, decoded.
#[derive(Debug, Clone)]
pub struct RefreshTokenRow {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The login it descends from.
    pub family_id: String,
    /// Owner.
    pub user_id: UserId,
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

/// A `refresh_tokens` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct Stored {
    token_hash: String,
    family_id: String,
    user_id: String,
    expires_at: i64,
    used: bool,
    revoked: bool,
    created_at: i64,
    used_at: Option<i64>,
}

impl Stored {
    fn decode(self) -> Result<RefreshTokenRow, CorruptRow> {
        // The hash names the row: it is not the token, so it may be logged.
        let cells = Cells::new("refresh_tokens", &self.token_hash);
        Ok(RefreshTokenRow {
            user_id: cells.exact("user_id", &self.user_id, "UUID")?,
            token_hash: self.token_hash,
            family_id: self.family_id,
            expires_at: self.expires_at,
            used: self.used,
            revoked: self.revoked,
            created_at: self.created_at,
            used_at: self.used_at,
        })
    }
}

impl From<&RefreshTokenRow> for Stored {
    fn from(row: &RefreshTokenRow) -> Stored {
        Stored {
            token_hash: row.token_hash.clone(),
            family_id: row.family_id.clone(),
            user_id: row.user_id.to_string(),
            expires_at: row.expires_at,
            used: row.used,
            revoked: row.revoked,
            created_at: row.created_at,
            used_at: row.used_at,
        }
    }
}

/// Stores a new token.
pub fn insert(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(Stored::from(row))
        .execute(conn)
        .map(|_| ())
}

/// A token by hash.
pub fn find(conn: &mut DbConn, token_hash: &str) -> DbResult<Option<RefreshTokenRow>> {
    let row: Option<Stored> = refresh_tokens::table
        .find(token_hash)
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
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
pub fn revoke_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id.to_string()))
            .filter(refresh_tokens::revoked.eq(false)),
    )
    .set(refresh_tokens::revoked.eq(true))
    .execute(conn)
    .map(|_| ())
}

/// Decodes every stored refresh token, returning the rows that do not decode
/// (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = refresh_tokens::table
        .select(Stored::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
