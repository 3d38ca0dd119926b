//! Users.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::users;
use super::DbConn;
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

/// Stores a new user.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
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

/// A user by login name.
pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
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
