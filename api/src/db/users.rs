//! Users.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::users;
use super::DbConn;
use crate::auth::username::key as username_key;
use crate::model::{stored_uuid, User};

/// A stored user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role text.
    pub role: String,
    /// Scope.
    pub area_id: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Refused everywhere when true.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
}

impl UserRow {
    /// The user's role; an unknown stored role (impossible by CHECK) reads as volunteer,
    /// the least privileged.
    pub fn role(&self) -> sync_protocol::Role {
        parse_role(&self.role).unwrap_or(sync_protocol::Role::Volunteer)
    }

    /// The wire form.
    pub fn to_api(&self) -> User {
        User {
            id: stored_uuid(&self.id),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            area_id: self.area_id.as_deref().map(stored_uuid),
            disabled: self.disabled,
        }
    }
}

/// Parses a role's wire text.
pub fn parse_role(text: &str) -> Option<sync_protocol::Role> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// The wire text of a role.
pub fn role_text(role: sync_protocol::Role) -> String {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(text)) => text,
        _ => "volunteer".to_owned(),
    }
}

/// Stores a new user under the normalized form of its username, which the database keeps
/// unique: of two concurrent creations of `Bob` and `bob`, one fails with a unique
/// violation.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((
            row,
            users::username_key.eq(Some(username_key(&row.username))),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A user by id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// The user a login name means: the one whose normalized username equals the name's. A
/// user whose exact spelling equals the name comes first; that only matters for users kept
/// apart by [`fill_username_keys`].
pub fn find_for_login(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    let rows = users::table
        .filter(
            users::username
                .eq(username)
                .or(users::username_key.eq(username_key(username))),
        )
        .select(UserRow::as_select())
        .load(conn)?;
    let exact = rows.iter().position(|row| row.username == username);
    Ok(rows.into_iter().nth(exact.unwrap_or(0)))
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
    role: Option<&str>,
    areas: Option<&[String]>,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.to_owned()));
    }
    if let Some(areas) = areas {
        query = query.filter(users::area_id.eq_any(areas.to_vec()));
    }
    query.order(users::username.asc()).load(conn)
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
pub fn update(conn: &mut DbConn, id: Uuid, changes: &UserChanges) -> QueryResult<UserRow> {
    if changes.display_name.is_some()
        || changes.password_hash.is_some()
        || changes.disabled.is_some()
    {
        diesel::update(users::table.find(id.to_string()))
            .set(changes)
            .execute(conn)?;
    }
    users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .first(conn)
}
