//! Users.

use diesel::prelude::*;
use sync_protocol::Role;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::users;
use super::DbConn;
use crate::auth::username::key as username_key;
use crate::model::{AreaId, User, UserId};

/// A stored user, decoded.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub area_id: Option<AreaId>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Refused everywhere when true.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
}

impl UserRow {
    /// The wire form.
    pub fn to_api(&self) -> User {
        User {
            id: self.id.uuid(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            area_id: self.area_id.map(AreaId::uuid),
            disabled: self.disabled,
        }
    }
}

/// A `users` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct Stored {
    id: String,
    username: String,
    display_name: String,
    role: String,
    area_id: Option<String>,
    password_hash: String,
    disabled: bool,
    created_at: i64,
}

impl Stored {
    fn decode(self) -> Result<UserRow, CorruptRow> {
        let cells = Cells::new("users", &self.id);
        // A hash that does not parse would silently refuse every password of the user.
        if let Err(err) = argon2::password_hash::PasswordHash::new(&self.password_hash) {
            return Err(cells.corrupt("password_hash", format!("not a PHC string: {err}")));
        }
        Ok(UserRow {
            id: cells.exact("id", &self.id, "UUID")?,
            role: cells.exact("role", &self.role, "role")?,
            area_id: cells.exact_opt("area_id", self.area_id.as_deref(), "UUID")?,
            username: self.username,
            display_name: self.display_name,
            password_hash: self.password_hash,
            disabled: self.disabled,
            created_at: self.created_at,
        })
    }
}

impl From<&UserRow> for Stored {
    fn from(row: &UserRow) -> Stored {
        Stored {
            id: row.id.to_string(),
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            role: row.role.as_str().to_owned(),
            area_id: row.area_id.map(|a| a.to_string()),
            password_hash: row.password_hash.clone(),
            disabled: row.disabled,
            created_at: row.created_at,
        }
    }
}

/// Parses a role's wire text.
pub fn parse_role(text: &str) -> Option<Role> {
    text.parse().ok()
}

/// The wire text of a role.
pub fn role_text(role: Role) -> String {
    role.as_str().to_owned()
}

/// Stores a new user under the normalized form of its username, which the database keeps
/// unique: of two concurrent creations of `Bob` and `bob`, one fails with a unique
/// violation.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((
            Stored::from(row),
            users::username_key.eq(Some(username_key(&row.username))),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A user by id.
pub fn find(conn: &mut DbConn, id: UserId) -> DbResult<Option<UserRow>> {
    let row: Option<Stored> = users::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// The user a login name means: the one whose normalized username equals the name's. A
/// user whose exact spelling equals the name comes first; that only matters for users kept
/// apart by [`fill_username_keys`].
pub fn find_for_login(conn: &mut DbConn, username: &str) -> DbResult<Option<UserRow>> {
    let rows: Vec<Stored> = users::table
        .filter(
            users::username
                .eq(username)
                .or(users::username_key.eq(username_key(username))),
        )
        .select(Stored::as_select())
        .load(conn)?;
    let exact = rows.iter().position(|row| row.username == username);
    Ok(rows
        .into_iter()
        .nth(exact.unwrap_or(0))
        .map(Stored::decode)
        .transpose()?)
}

/// Whether a username is taken, after normalization.
pub fn username_taken(conn: &mut DbConn, username: &str) -> QueryResult<bool> {
    let count: i64 = users::table
        .filter(users::username_key.eq(username_key(username)))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Gives every user stored before usernames were normalized its normalized key, oldest
/// user first. When two such users share one key (`Lan` and `lan` were distinct before),
/// the older keeps it and the younger gets a key no login name can have (a space and its
/// id), so it still logs in with its exact spelling only. Returns the usernames so kept
/// apart. Idempotent, and safe when several processes start at once.
pub fn fill_username_keys(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let missing: Vec<(String, String)> = users::table
        .filter(users::username_key.is_null())
        .order((users::created_at.asc(), users::id.asc()))
        .select((users::id, users::username))
        .load(conn)?;
    let mut kept_apart = Vec::new();
    for (id, username) in missing {
        let mut key = username_key(&username);
        let taken: i64 = users::table
            .filter(users::username_key.eq(&key))
            .filter(users::id.ne(&id))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            key = format!(" {id}");
            kept_apart.push(username);
        }
        diesel::update(users::table.find(&id).filter(users::username_key.is_null()))
            .set(users::username_key.eq(Some(key)))
            .execute(conn)?;
    }
    Ok(kept_apart)
}

/// Whether any user exists (the first admin is created only on an empty database).
pub fn any(conn: &mut DbConn) -> QueryResult<bool> {
    let count: i64 = users::table.count().get_result(conn)?;
    Ok(count > 0)
}

/// Users filtered by role and by a set of areas (`None`: any area).
pub fn list(
    conn: &mut DbConn,
    role: Option<Role>,
    areas: Option<&[AreaId]>,
) -> DbResult<Vec<UserRow>> {
    let mut query = users::table.select(Stored::as_select()).into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(areas) = areas {
        let areas: Vec<String> = areas.iter().map(ToString::to_string).collect();
        query = query.filter(users::area_id.eq_any(areas));
    }
    let rows: Vec<Stored> = query.order(users::username.asc()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

/// What a PATCH may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New shown name.
    pub display_name: Option<String>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// Enable or disable.
    pub disabled: Option<bool>,
}

/// Applies a PATCH; returns the updated row.
pub fn update(conn: &mut DbConn, id: UserId, changes: &UserChanges) -> DbResult<UserRow> {
    if changes.display_name.is_some()
        || changes.password_hash.is_some()
        || changes.disabled.is_some()
    {
        diesel::update(users::table.find(id.to_string()))
            .set(changes)
            .execute(conn)?;
    }
    let row: Stored = users::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)?;
    Ok(row.decode()?)
}

/// Decodes every stored user, returning the rows that do not decode (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = users::table.select(Stored::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
